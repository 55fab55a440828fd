"""H.264 writing through the ffmpeg binary (DESIGN.md 8: ffmpeg writes, OpenCV reads)."""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path
from types import TracebackType

import numpy as np

log = logging.getLogger(__name__)


class FfmpegMissingError(RuntimeError):
    """Raised when the ffmpeg binary is not installed."""


class H264Writer:
    """Pipes BGR frames into ffmpeg/libx264 and writes a seekable MP4.

    x264 runs single-threaded with `-bitexact` so that the same frames always give the same
    bytes: the same seed must give the same files.
    """

    def __init__(self, path: Path, width: int, height: int, fps: float, crf: int = 28) -> None:
        exe = shutil.which("ffmpeg")
        if exe is None:
            raise FfmpegMissingError("ffmpeg not found on PATH; install it (Debian: apt-get install ffmpeg)")
        self.path = path
        self.width = width
        self.height = height
        self.frames_written = 0
        cmd = [
            exe, "-hide_banner", "-loglevel", "error", "-y",
            "-f", "rawvideo", "-pix_fmt", "bgr24", "-s", f"{width}x{height}", "-r", f"{fps:g}",
            "-i", "-",
            "-c:v", "libx264", "-preset", "veryfast", "-crf", str(crf), "-pix_fmt", "yuv420p",
            "-threads", "1", "-x264-params", "threads=1:sliced-threads=0",
            "-g", str(max(1, round(fps * 2))),
            "-fflags", "+bitexact", "-flags:v", "+bitexact", "-map_metadata", "-1",
            "-movflags", "+faststart",
            str(path),
        ]
        self._proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stderr=subprocess.PIPE)

    def write(self, frame_bgr: np.ndarray) -> None:
        if frame_bgr.shape != (self.height, self.width, 3) or frame_bgr.dtype != np.uint8:
            raise ValueError(f"frame must be uint8 {self.height}x{self.width}x3, got {frame_bgr.shape}")
        assert self._proc.stdin is not None
        self._proc.stdin.write(np.ascontiguousarray(frame_bgr).tobytes())
        self.frames_written += 1

    def close(self) -> None:
        assert self._proc.stdin is not None
        self._proc.stdin.close()
        err = self._proc.stderr.read().decode(errors="replace") if self._proc.stderr else ""
        if self._proc.wait() != 0:
            raise RuntimeError(f"ffmpeg failed writing {self.path}: {err.strip()}")

    def __enter__(self) -> H264Writer:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if exc_type is None:
            self.close()
        else:
            self._proc.kill()
            self._proc.wait()
