"""Value objects of the detector stage and the Protocol every detector keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge.labels import Label


@dataclass(frozen=True, slots=True)
class Detection:
    """One object in one frame, already mapped to a canonical label."""

    label: Label
    confidence: float
    xyxy: tuple[float, float, float, float]
    source_class: str  # the weights' own class name, kept for logs and evidence

    @property
    def centre_xy(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.xyxy
        return (x0 + x1) / 2, (y0 + y1) / 2


class Detector(Protocol):
    """Anything that turns a BGR frame into canonical detections."""

    @property
    def model_id(self) -> str:
        """Name and short hash of the weights, carried by every event."""
        ...

    def detect(self, frame_bgr: np.ndarray) -> list[Detection]:
        ...
