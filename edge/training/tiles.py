"""Inference-scale tiles cut from a YOLO dataset, so a CPU trains on 4x fewer pixels.

The detector sees a 1280x720 frame shrunk to 640 px wide, where a head is 10-12 px tall.
Training on whole frames at 640 spends most of its pixels on road and sky; training on
320x320 tiles of the frame *at that same shrunken scale* keeps every object at the size
it has at inference time, for a quarter of the compute per sample. A YOLO network is
fully convolutional, so weights trained on tiles at imgsz 320 run unchanged at imgsz 640.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import yaml
from numpy.typing import NDArray
from tqdm import tqdm

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp")
# A box cut by a tile edge stays labelled if this much of it is inside; less than that and
# it is dropped, as ultralytics' own augmentation does with boxes cropped below ~10-50%.
MIN_KEPT_FRACTION = 0.5
MIN_SIDE_PX = 3.0


@dataclass(frozen=True)
class TileSpec:
    """Tiles of `size` px from frames scaled so their long side is `infer_imgsz` px."""

    data: Path
    out: Path
    infer_imgsz: int = 640
    size: int = 320
    empty_keep: float = 0.2  # share of object-free tiles kept, as background examples
    seed: int = 0
    every: int = 1  # tile every n-th frame: neighbouring frames of a clip are near duplicates


@dataclass(frozen=True)
class Box:
    cls: int
    xyxy: tuple[float, float, float, float]


def read_labels(path: Path, width: int, height: int) -> list[Box]:
    """YOLO label lines of one image as pixel boxes (an absent file means no objects)."""
    boxes: list[Box] = []
    if not path.exists():
        return boxes
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip():
            continue
        c, cx, cy, w, h = line.split()[:5]
        x, y, bw, bh = float(cx) * width, float(cy) * height, float(w) * width, float(h) * height
        boxes.append(Box(int(c), (x - bw / 2, y - bh / 2, x + bw / 2, y + bh / 2)))
    return boxes


def label_path(image: Path) -> Path:
    """YOLO's convention: the labels folder is the images folder's last `images` renamed."""
    return Path("/labels".join(str(image.parent).rsplit("/images", 1))) / f"{image.stem}.txt"


def read_data(data: Path) -> tuple[dict[str, Any], Path]:
    """A YOLO data.yaml and the folder its split paths are relative to."""
    if not data.exists():
        raise FileNotFoundError(f"dataset file not found: {data}")
    info = yaml.safe_load(data.read_text(encoding="utf-8"))
    return info, Path(info.get("path") or data.parent)


def split_images(info: dict[str, Any], root: Path, split: str, every: int = 1) -> list[Path]:
    """Images of one split (a folder or a list of them): each folder's every n-th, sorted."""
    folders = info.get(split) or []
    images: list[Path] = []
    for folder in folders if isinstance(folders, list) else [folders]:
        found = sorted(p for p in (root / folder).iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
        images += found[::every]
    return images


def tile_origins(width: int, height: int, size: int,
                 rng: np.random.Generator) -> list[tuple[int, int]]:
    """Top-left corners of tiles overlapping by at least half, covering the image.

    Along an axis that is at most a quarter tile longer than the tile (360 px of a 640x360
    frame), one tile at a random offset is cheaper than two nearly identical ones.
    """

    def starts(extent: int) -> list[int]:
        if extent <= size:
            return [0]
        if extent - size <= size // 4:
            return [int(rng.integers(0, extent - size + 1))]
        n = int(np.ceil((extent - size) / (size / 2))) + 1
        return [round(v) for v in np.linspace(0, extent - size, n)]

    return [(x, y) for y in starts(height) for x in starts(width)]


def crop_boxes(boxes: list[Box], x0: int, y0: int, size: int) -> list[Box]:
    """Boxes moved into a tile's coordinates; those mostly outside it are dropped."""
    kept = []
    for b in boxes:
        bx0, by0, bx1, by1 = b.xyxy
        cx0, cy0 = max(bx0 - x0, 0.0), max(by0 - y0, 0.0)
        cx1, cy1 = min(bx1 - x0, float(size)), min(by1 - y0, float(size))
        if cx1 - cx0 < MIN_SIDE_PX or cy1 - cy0 < MIN_SIDE_PX:
            continue
        area = (bx1 - bx0) * (by1 - by0)
        if area <= 0 or (cx1 - cx0) * (cy1 - cy0) / area < MIN_KEPT_FRACTION:
            continue
        kept.append(Box(b.cls, (cx0, cy0, cx1, cy1)))
    return kept


def yolo_text(boxes: list[Box], size: int) -> str:
    lines = [f"{b.cls} {(b.xyxy[0] + b.xyxy[2]) / 2 / size:.6f} "
             f"{(b.xyxy[1] + b.xyxy[3]) / 2 / size:.6f} {(b.xyxy[2] - b.xyxy[0]) / size:.6f} "
             f"{(b.xyxy[3] - b.xyxy[1]) / size:.6f}" for b in boxes]
    return "\n".join(lines) + ("\n" if lines else "")


def tiles_of(image: NDArray[np.uint8], boxes: list[Box], spec: TileSpec,
             rng: np.random.Generator) -> Iterator[tuple[NDArray[np.uint8], list[Box]]]:
    """The kept tiles of one full-size image, with their boxes."""
    height, width = image.shape[:2]
    scale = spec.infer_imgsz / max(width, height)
    small = cv2.resize(image, (round(width * scale), round(height * scale)),
                       interpolation=cv2.INTER_AREA).astype(np.uint8, copy=False)
    scaled = [Box(b.cls, (b.xyxy[0] * scale, b.xyxy[1] * scale, b.xyxy[2] * scale,
                          b.xyxy[3] * scale)) for b in boxes]
    sh, sw = small.shape[:2]
    if sh < spec.size or sw < spec.size:  # pad a frame smaller than a tile with YOLO's grey
        padded = np.full((max(sh, spec.size), max(sw, spec.size), 3), 114, np.uint8)
        padded[:sh, :sw] = small
        small = padded
    for x0, y0 in tile_origins(small.shape[1], small.shape[0], spec.size, rng):
        inside = crop_boxes(scaled, x0, y0, spec.size)
        if not inside and rng.random() >= spec.empty_keep:
            continue
        yield small[y0:y0 + spec.size, x0:x0 + spec.size], inside


def write_tiles(spec: TileSpec, progress: bool = True) -> Path:
    """Tile every split of `spec.data` into `spec.out`; returns the new data.yaml."""
    data, root = read_data(spec.data)
    rng = np.random.default_rng(spec.seed)
    out_data = {"path": str(spec.out.resolve()), "names": data["names"]}
    for split in ("train", "val"):
        if split not in data:
            continue
        images = split_images(data, root, split, spec.every)
        (spec.out / "images" / split).mkdir(parents=True, exist_ok=True)
        (spec.out / "labels" / split).mkdir(parents=True, exist_ok=True)
        written = 0
        for path in tqdm(images, desc=f"tiles {split}", unit="img", disable=not progress):
            read = cv2.imread(str(path))
            if read is None:
                log.warning("skipping unreadable image %s", path)
                continue
            image = read.astype(np.uint8, copy=False)
            boxes = read_labels(label_path(path), image.shape[1], image.shape[0])
            for k, (tile, inside) in enumerate(tiles_of(image, boxes, spec, rng)):
                stem = f"{path.stem}_t{k}"
                cv2.imwrite(str(spec.out / "images" / split / f"{stem}.jpg"), tile,
                            [cv2.IMWRITE_JPEG_QUALITY, 92])
                (spec.out / "labels" / split / f"{stem}.txt").write_text(
                    yolo_text(inside, spec.size), encoding="utf-8")
                written += 1
        out_data[split] = f"images/{split}"
        log.info("%s: %d images -> %d tiles", split, len(images), written)
    data_yaml = spec.out / "data.yaml"
    data_yaml.write_text(yaml.safe_dump(out_data, sort_keys=False), encoding="utf-8")
    return data_yaml
