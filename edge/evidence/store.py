"""Evidence JPEGs under one folder, with retention by age and a size cap (oldest deleted first).

Events carry a reference (path + sha256), never the image (DESIGN.md 4). Names come from the
event, so a replay writes the same files with the same hashes. Age is judged by when a file was
written, not by the capture time, so a replay of an old recording keeps its evidence.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import cv2
import numpy as np

log = logging.getLogger(__name__)

XYXY = tuple[float, float, float, float]
JPEG_QUALITY = 85
CROP_MARGIN = 0.2  # context around the box in the crop, as a fraction of its size
BOX_BGR = (0, 0, 255)
_STEM_RE = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
_AGE_CHECK_EVERY_S = 60.0


@dataclass(frozen=True, slots=True)
class EvidenceRef:
    """Where the frame and crop JPEGs lie, and their sha256."""

    path: Path
    sha256: str
    crop_path: Path
    crop_sha256: str

    @property
    def uri(self) -> str:
        return str(self.path)


class EvidenceStore:
    """Writes evidence and keeps the folder within `max_age_days` and `max_bytes`."""

    def __init__(self, root: Path, *, max_age_days: float = 30.0, max_bytes: int = 2 << 30) -> None:
        self.root = root.resolve()
        self.max_age_s, self.max_bytes = max_age_days * 86400.0, max_bytes
        self._files: dict[Path, tuple[float, int]] = {}  # path -> (mtime, size)
        self._last_age_check = float("-inf")
        if self.root.is_dir():
            for path in self.root.rglob("*.jpg"):
                st = path.stat()
                self._files[path] = (st.st_mtime, st.st_size)
        self.deleted = 0

    @property
    def total_bytes(self) -> int:
        return sum(size for _, size in self._files.values())

    def save(self, stem: str, image: np.ndarray, box_xyxy: XYXY, captured_at: datetime) -> EvidenceRef:
        """Write `<root>/<capture date>/<stem>.jpg` (box drawn) and `<stem>-crop.jpg`."""
        if not _STEM_RE.match(stem):
            raise ValueError(f"evidence name {stem!r} is not a safe file name")
        folder = self.root / captured_at.strftime("%Y-%m-%d")
        folder.mkdir(parents=True, exist_ok=True)
        marked = image.copy()
        x0, y0, x1, y1 = (round(v) for v in box_xyxy)
        cv2.rectangle(marked, (x0, y0), (x1, y1), BOX_BGR, 2)
        path, sha = self._write(folder / f"{stem}.jpg", marked)
        crop_path, crop_sha = self._write(folder / f"{stem}-crop.jpg", _crop(image, box_xyxy))
        self.prune()
        return EvidenceRef(path, sha, crop_path, crop_sha)

    def _write(self, path: Path, image: np.ndarray) -> tuple[Path, str]:
        ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, JPEG_QUALITY])
        if not ok:
            raise OSError(f"could not encode {path.name} as JPEG")
        data = buf.tobytes()
        tmp = path.with_suffix(".jpg.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)  # readers never see half a file
        self._files[path] = (path.stat().st_mtime, len(data))
        return path, hashlib.sha256(data).hexdigest()

    def prune(self, now: float | None = None) -> int:
        """Delete files past the age limit, then the oldest until under the size cap; returns how many."""
        now = time.time() if now is None else now
        doomed: list[Path] = []
        if now - self._last_age_check >= _AGE_CHECK_EVERY_S:
            self._last_age_check = now
            doomed = [p for p, (mtime, _) in self._files.items() if now - mtime > self.max_age_s]
        total = self.total_bytes - sum(self._files[p][1] for p in doomed)
        if total > self.max_bytes:
            for path, (_, size) in sorted(self._files.items(), key=lambda item: (item[1][0], str(item[0]))):
                if total <= self.max_bytes:
                    break
                if path not in doomed:
                    doomed.append(path)
                    total -= size
        for path in doomed:
            path.unlink(missing_ok=True)
            del self._files[path]
        if doomed:
            self.deleted += len(doomed)
            log.info("evidence: deleted %d old file(s) under %s", len(doomed), self.root)
        return len(doomed)


def _crop(image: np.ndarray, box: XYXY) -> np.ndarray:
    height, width = image.shape[:2]
    mx, my = (box[2] - box[0]) * CROP_MARGIN, (box[3] - box[1]) * CROP_MARGIN
    x0, y0 = max(0, int(box[0] - mx)), max(0, int(box[1] - my))
    x1, y1 = min(width, int(np.ceil(box[2] + mx))), min(height, int(np.ceil(box[3] + my)))
    if x1 <= x0 or y1 <= y0:
        return image
    return image[y0:y1, x0:x1]
