"""Value objects of the tracker stage and the Protocol every tracker keeps."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

import numpy as np

from edge.detector import Detection
from edge.labels import Label


@dataclass(frozen=True, slots=True)
class Track:
    """One tracked object as seen in the current frame.

    `xyxy`, `label` and `confidence` are this frame's detection (not the Kalman estimate), so
    counting and voting see exactly what the detector saw; `hits` counts the frames the track
    was matched in, `age_frames` the updates since it first appeared.
    """

    track_id: int
    label: Label
    xyxy: tuple[float, float, float, float]
    confidence: float
    hits: int
    age_frames: int
    source_class: str = ""

    @property
    def centre_xy(self) -> tuple[float, float]:
        x0, y0, x1, y1 = self.xyxy
        return (x0 + x1) / 2, (y0 + y1) / 2

    @property
    def bottom_centre_xy(self) -> tuple[float, float]:
        """Where a vehicle touches the road: the point that crosses a counting line."""
        x0, _, x1, y1 = self.xyxy
        return (x0 + x1) / 2, y1


class Tracker(Protocol):
    """Turns each frame's detections into tracks with ids that stay stable across frames."""

    def update(self, detections: list[Detection], frame_bgr: np.ndarray | None = None) -> list[Track]:
        """Tracks matched in this frame (lost tracks are not returned)."""
        ...

    def reset(self) -> None:
        """Forget every track, as after a gap in the video."""
        ...
