"""`edge eval`: per-class accuracy on a held-out set, and speed per format on this machine."""

from __future__ import annotations

import itertools
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np

from edge.detector.yolo import load_yolo, static_input_hw
from edge.training.tiles import label_path, read_data, read_labels, split_images

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
class HeightBand:
    """Recall of one class for truth boxes whose height (frame pixels) is in [low_px, high_px)."""

    name: str
    low_px: float
    high_px: float
    boxes: int
    found: int

    @property
    def recall(self) -> float:
        return self.found / self.boxes if self.boxes else float("nan")


# Where recall of small objects changes on 1280x720 frames: under 12 px a nano model at
# imgsz 960 has about one stride-8 cell for the object; heads are 12-40 px; plumes grow
# from a few px to hundreds.
DEFAULT_BANDS_PX = (12.0, 20.0, 40.0, 80.0)


@dataclass(frozen=True)
class SpeedScore:
    weights: str
    frames: int
    frame_wh: tuple[int, int]
    ms_per_frame: float
    # A .pt runs on torch's intra-op threads, which ultralytics sets to cores - 1 on CPU;
    # an export runs on its runtime's own (OpenVINO takes every core): None there.
    torch_threads: int | None = None


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


def found_truths(truth_xyxy: np.ndarray, truth_cls: np.ndarray, pred_xyxy: np.ndarray,
                 pred_cls: np.ndarray, iou_min: float = 0.5) -> np.ndarray:
    """Which truth boxes a prediction of the same class overlaps by at least `iou_min`."""
    import torch
    from ultralytics.utils.metrics import box_iou

    if len(truth_xyxy) == 0 or len(pred_xyxy) == 0:
        return np.zeros(len(truth_xyxy), dtype=bool)
    ious = box_iou(torch.as_tensor(truth_xyxy, dtype=torch.float32),
                   torch.as_tensor(pred_xyxy, dtype=torch.float32)).numpy()
    same = truth_cls[:, None] == pred_cls[None, :]
    return np.asarray(((ious >= iou_min) & same).any(axis=1))


def band_recall(names: dict[int, str], heights_px: np.ndarray, classes: np.ndarray,
                found: np.ndarray, bands_px: tuple[float, ...] = DEFAULT_BANDS_PX
                ) -> list[HeightBand]:
    """Group truth boxes by class and height band; empty bands are left out."""
    edges = (0.0, *bands_px, float("inf"))
    out = []
    for cls in sorted(set(int(c) for c in classes)):
        for low, high in itertools.pairwise(edges):
            sel = (classes == cls) & (heights_px >= low) & (heights_px < high)
            if sel.any():
                out.append(HeightBand(names[cls], low, high, int(sel.sum()),
                                      int(found[sel].sum())))
    return out


def recall_by_height(weights: Path, data: Path, imgsz: int = 640, conf: float = 0.25,
                     split: str = "val", bands_px: tuple[float, ...] = DEFAULT_BANDS_PX
                     ) -> list[HeightBand]:
    """Recall per class and truth height on a dataset split: what size must an object be?

    mAP says how often a model is right; this says which objects it cannot see, which is
    what a site needs to know to place a camera (a head or a plume must be so many pixels).
    """
    info, root = read_data(data)
    images = split_images(info, root, split)
    if not images:
        raise FileNotFoundError(f"no images in the {split} split of {data}")
    names = info["names"]
    model = load_yolo(weights)
    heights, classes, found = [], [], []
    for image in images:
        frame = cv2.imread(str(image))
        if frame is None:
            log.warning("skipping unreadable image %s", image)
            continue
        truth = read_labels(label_path(image), frame.shape[1], frame.shape[0])
        if not truth:  # no object here: nothing whose recall to measure
            continue
        boxes = model.predict(frame, imgsz=imgsz, conf=conf, device="cpu", verbose=False)[0].boxes
        truth_xyxy = np.array([b.xyxy for b in truth])
        truth_cls = np.array([b.cls for b in truth])
        found.append(found_truths(truth_xyxy, truth_cls, boxes.xyxy.numpy(),
                                  boxes.cls.numpy().astype(int)))
        heights.append(truth_xyxy[:, 3] - truth_xyxy[:, 1])
        classes.append(truth_cls)
    if not heights:
        return []
    return band_recall(dict(enumerate(names)) if isinstance(names, list) else names,
                       np.concatenate(heights), np.concatenate(classes), np.concatenate(found),
                       bands_px)


def format_bands(bands: list[HeightBand]) -> str:
    head = f"{'class':<16}{'height px':>12}{'boxes':>8}{'found':>8}{'recall':>8}"
    rows = []
    for b in bands:
        span = f"{b.low_px:.0f}-{b.high_px:.0f}" if b.high_px != float("inf") else f">={b.low_px:.0f}"
        rows.append(f"{b.name:<16}{span:>12}{b.boxes:>8}{b.found:>8}{b.recall:>8.2f}")
    return "\n".join([head, *rows])


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
    threads = None
    if weights.suffix == ".pt":
        import torch

        threads = torch.get_num_threads()
    return SpeedScore(str(weights), len(frames), (w, h), elapsed / len(frames) * 1000, threads)


def format_accuracy(scores: list[ClassScore]) -> str:
    head = f"{'class':<16}{'images':>8}{'boxes':>8}{'P':>8}{'R':>8}{'mAP50':>8}{'mAP50-95':>10}"
    rows = [f"{s.name:<16}{s.images:>8}{s.instances:>8}{s.precision:>8.3f}{s.recall:>8.3f}"
            f"{s.map50:>8.3f}{s.map50_95:>10.3f}" for s in scores]
    return "\n".join([head, *rows])
