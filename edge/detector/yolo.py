"""Ultralytics YOLO behind the Detector protocol; `.pt`, ONNX and OpenVINO alike.

The ultralytics `Results` object is converted here and never leaves this module.
"""

from __future__ import annotations

import hashlib
import logging
import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from edge.detector.classmap import ClassMap, resolve_class_map
from edge.detector.rivals import suppress_rivals
from edge.detector.types import Detection
from edge.labels import Label

log = logging.getLogger(__name__)


def weights_sha256(path: Path) -> str:
    """Hash of a weights file, or of the files of an exported model folder, in name order."""
    h = hashlib.sha256()
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    for file in files:
        with file.open("rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


def load_yolo(weights: Path) -> Any:
    """Load weights offline; ultralytics picks the backend from the path (.pt/.onnx/_openvino_model)."""
    if not weights.exists():
        raise FileNotFoundError(f"weights not found: {weights}")
    # Never let ultralytics reach for the network or pip at run time.
    os.environ.setdefault("YOLO_OFFLINE", "1")
    os.environ.setdefault("YOLO_AUTOINSTALL", "False")
    from ultralytics import YOLO

    return YOLO(str(weights), task="detect")


def static_input_hw(weights: Path) -> tuple[int, int] | None:
    """The fixed (height, width) an exported model takes; None for `.pt`, which takes any size.

    A static OpenVINO or ONNX graph must be fed exactly its input shape, which need not be
    square: a 544x960 export of a 16:9 camera costs 40% less than a 960x960 one.
    """
    if weights.is_dir():  # an OpenVINO folder: ultralytics writes metadata.yaml beside the graph
        meta = weights / "metadata.yaml"
        size = yaml.safe_load(meta.read_text(encoding="utf-8")).get("imgsz") if meta.exists() else None
        return (int(size[0]), int(size[1])) if isinstance(size, list) and len(size) == 2 else None
    if weights.suffix.lower() == ".onnx":
        import onnx

        graph_input = onnx.load(str(weights), load_external_data=False).graph.input[0]
        dims = [d.dim_value for d in graph_input.type.tensor_type.shape.dim]
        return (dims[2], dims[3]) if len(dims) == 4 and dims[2] > 0 and dims[3] > 0 else None
    return None


class YoloDetector:
    """Runs one YOLO model on BGR frames and returns canonical-label detections."""

    def __init__(self, weights: Path, class_map: dict[str, Label | None], *, imgsz: int = 640,
                 conf: float = 0.25, iou: float = 0.5, thresholds: dict[Label, float] | None = None,
                 required: frozenset[Label] = frozenset(), device: str = "cpu") -> None:
        self.weights = weights
        self._model = load_yolo(weights)
        names: dict[int, str] = dict(self._model.names)
        self.class_map: ClassMap = resolve_class_map(names, class_map, conf, thresholds or {},
                                                     required, weights=str(weights))
        self.imgsz, self.iou, self.device = imgsz, iou, device
        static = static_input_hw(weights)
        if static is not None and max(static) != imgsz:
            log.warning("%s was exported for %dx%d input; running at that size, not imgsz %d",
                        weights, static[1], static[0], imgsz)
        # What predict() is given: the export's own shape, or the long side for .pt (ultralytics
        # then letterboxes to the frame's aspect, e.g. 1280x720 -> 960x544 at imgsz 960).
        self.input_size: int | tuple[int, int] = static if static is not None else imgsz
        self._model_id = f"{weights.stem}@{weights_sha256(weights)[:12]}"
        self.last_inference_ms = 0.0

    @classmethod
    def from_config(cls, config: Any, required: frozenset[Label] = frozenset()) -> YoloDetector:
        """Build from an `edge.config.ModelConfig`."""
        return cls(Path(config.weights), dict(config.class_map), imgsz=config.imgsz,
                   conf=config.conf, iou=config.iou, thresholds=dict(config.thresholds),
                   required=required, device=config.device)

    @property
    def model_id(self) -> str:
        return self._model_id

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        start = time.perf_counter()
        results = self._model.predict(frame_bgr, imgsz=self.input_size, conf=self.class_map.min_confidence,
                                      iou=self.iou, classes=self.class_map.indices, device=self.device,
                                      verbose=False)
        self.last_inference_ms = (time.perf_counter() - start) * 1000
        return suppress_rivals(self._convert(results[0]), self.iou)

    def _convert(self, result: Any) -> list[Detection]:
        boxes = result.boxes
        if boxes is None or len(boxes) == 0:
            return []
        xyxy = boxes.xyxy.cpu().numpy().astype(float)
        confs = boxes.conf.cpu().numpy().astype(float)
        classes = boxes.cls.cpu().numpy().astype(int)
        out = []
        for (x0, y0, x1, y1), c, k in zip(xyxy, confs, classes, strict=True):
            label = self.class_map.labels.get(int(k))
            if label is None or c < self.class_map.thresholds[label]:
                continue
            out.append(Detection(label, float(c), (float(x0), float(y0), float(x1), float(y1)),
                                 self.class_map.names[int(k)]))
        return out
