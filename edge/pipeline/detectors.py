"""What the worker runs on a frame: a model through the `Detector` protocol, or ground-truth boxes.

Ground-truth detection replays a synthetic clip's own labels as if a perfect model had seen
them; it isolates tracking and counting from the model in tests and benchmarks.
"""

from __future__ import annotations

import hashlib
import logging
import time
from pathlib import Path
from typing import Protocol

from edge.config import CheckpointCamera, SiteConfig, SmokeCamera
from edge.detector import Detection, Detector
from edge.events import ModelRef
from edge.labels import Label
from edge.source import Frame
from edge.synth.truth import SceneTruth

log = logging.getLogger(__name__)

# Boxes hidden more than this are not labelled for training either (edge.synth.dataset).
TRUTH_MIN_VISIBLE = 0.35
TRUTH_CONFIDENCE = 0.9


class FrameDetector(Protocol):
    """Detections for one frame, and the reference to the model behind them for events."""

    @property
    def model(self) -> ModelRef: ...

    @property
    def last_inference_ms(self) -> float: ...

    def detect_frame(self, frame: Frame) -> list[Detection]: ...


class ModelDetector:
    """A `Detector` (YOLO) applied to the frame image, timed."""

    def __init__(self, detector: Detector, model: ModelRef) -> None:
        self._detector, self._model = detector, model
        self._last_ms = 0.0

    @property
    def model(self) -> ModelRef:
        return self._model

    @property
    def last_inference_ms(self) -> float:
        return self._last_ms

    def detect_frame(self, frame: Frame) -> list[Detection]:
        start = time.perf_counter()
        out = self._detector.detect(frame.image)
        self._last_ms = (time.perf_counter() - start) * 1000.0
        return out

    @classmethod
    def for_camera(cls, site: SiteConfig, camera: CheckpointCamera | SmokeCamera) -> ModelDetector:
        """The camera's configured weights (offline), referenced by model key and weights hash."""
        from edge.detector.yolo import YoloDetector, weights_sha256

        config = site.model_for(camera)
        detector = YoloDetector.from_config(config, required=camera.required_labels)
        return cls(detector, ModelRef(id=camera.model, sha256=weights_sha256(Path(config.weights))))


class TruthDetector:
    """The clip's ground-truth boxes for the frame's index, as detections with fixed confidence."""

    def __init__(self, truth_path: Path, labels: frozenset[Label], *,
                 min_visible: float = TRUTH_MIN_VISIBLE, confidence: float = TRUTH_CONFIDENCE) -> None:
        truth = SceneTruth.read(truth_path)
        self._frames = {
            f.index: [Detection(b.label, confidence, b.xyxy, f"truth:{b.track_id}")
                      for b in f.boxes if b.label in labels and b.visible >= min_visible]
            for f in truth.frames}
        digest = hashlib.sha256(truth_path.read_bytes()).hexdigest()
        self._model = ModelRef(id="ground-truth", sha256=digest)

    @property
    def model(self) -> ModelRef:
        return self._model

    @property
    def last_inference_ms(self) -> float:
        return 0.0

    def detect_frame(self, frame: Frame) -> list[Detection]:
        return list(self._frames.get(frame.index, []))
