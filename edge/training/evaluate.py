"""`edge eval`: per-class accuracy on a held-out set, and speed per format on this machine."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.detector.yolo import load_yolo, static_input_hw

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ClassScore:
    name: str
    images: int
    instances: int
    precision: float
    recall: float
    map50: float
    map50_95: float


@dataclass(frozen=True)
class SpeedScore:
    weights: str
    frames: int
    frame_wh: tuple[int, int]
    ms_per_frame: float


def accuracy(weights: Path, data: Path, imgsz: int = 640, split: str = "val") -> list[ClassScore]:
    """Validate `weights` on `data` (a YOLO data.yaml) and return one score per class."""
    model = load_yolo(weights)
    metrics = model.val(data=str(data), imgsz=imgsz, split=split, plots=False, device="cpu",
                        verbose=False, batch=8, workers=0)
    box = metrics.box
    names = metrics.names
    nt = getattr(metrics, "nt_per_class", None)
    ni = getattr(metrics, "nt_per_image", None)
    scores = []
    for i, cls in enumerate(box.ap_class_index):
        p, r, ap50, ap = box.class_result(i)
        scores.append(ClassScore(names[int(cls)], int(ni[cls]) if ni is not None else -1,
                                 int(nt[cls]) if nt is not None else -1,
                                 float(p), float(r), float(ap50), float(ap)))
    return scores


def read_frames(video: Path, count: int) -> list[np.ndarray]:
    """The first `count` frames of a clip (speed is measured on real decoded frames)."""
    cap = cv2.VideoCapture(str(video))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot open video {video}")
    frames: list[np.ndarray] = []
    while len(frames) < count:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise ValueError(f"no frames in {video}")
    return frames


def speed(weights: Path, frames: list[np.ndarray], imgsz: int = 640, warmup: int = 3) -> SpeedScore:
    """Mean wall time of predict() per frame, preprocessing and NMS included."""
    model = load_yolo(weights)
    size = static_input_hw(weights) or imgsz  # an export runs at the shape it was written for
    for frame in frames[:warmup]:
        model.predict(frame, imgsz=size, device="cpu", verbose=False)
    start = time.perf_counter()
    for frame in frames:
        model.predict(frame, imgsz=size, device="cpu", verbose=False)
    elapsed = time.perf_counter() - start
    h, w = frames[0].shape[:2]
    return SpeedScore(str(weights), len(frames), (w, h), elapsed / len(frames) * 1000)


def format_accuracy(scores: list[ClassScore]) -> str:
    head = f"{'class':<16}{'images':>8}{'boxes':>8}{'P':>8}{'R':>8}{'mAP50':>8}{'mAP50-95':>10}"
    rows = [f"{s.name:<16}{s.images:>8}{s.instances:>8}{s.precision:>8.3f}{s.recall:>8.3f}"
            f"{s.map50:>8.3f}{s.map50_95:>10.3f}" for s in scores]
    return "\n".join([head, *rows])
