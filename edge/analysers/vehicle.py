"""The rider counter's values: its settings, what it reports, and its state per vehicle."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from edge.analysers.geometry import XYXY
from edge.analysers.occupants import OccupantVerdict, Seats
from edge.labels import Verdict


@dataclass(frozen=True, slots=True)
class CounterSettings:
    """Timing and geometry of counting; seconds are recording time."""

    band_fraction: float = 0.08  # hysteresis half-width, as a fraction of the vehicle box height
    min_band_px: float = 2.0
    report_after_s: float = 3.0  # longest wait for more head views after a crossing
    lost_after_s: float = 1.0  # a track unseen this long has ended (the tracker's own buffer)
    switch_window_s: float = 1.0  # a new id this soon, where a track vanished, continues that track
    # A vehicle entering or leaving the view sideways this close (in time) to the line crossed it.
    exit_extrapolate_s: float = 0.5
    # Ridden two-wheelers move at least ~0.7 of their box height per second in the samples (a
    # walker ~0.5, whatever the distance): slower tracks are not counted, once seen this long.
    min_speed_heights_s: float = 0.55
    speed_window_s: float = 0.5
    border_margin_px: float = 4.0


@dataclass(frozen=True, slots=True, eq=False)
class RiderCrossing:
    """One counted two-wheeler: where and when it crossed, who rode it, and the frame that shows it best."""

    track_id: int
    direction: str
    crossed_at: datetime
    occupants: tuple[OccupantVerdict, ...]
    confidence: float  # mean detector confidence of the vehicle over its track
    hits: int
    evidence_image: np.ndarray | None  # the best frame (BGR), not copied
    evidence_xyxy: XYXY
    evidence_at: datetime

    @property
    def violation(self) -> bool:
        return any(o.verdict == Verdict.NO_HELMET for o in self.occupants)


@dataclass
class Vehicle:
    """What the counter knows of one vehicle, across the tracker ids it has had."""

    key: int  # the counter's own serial number
    track_id: int  # the first tracker id: the one events carry
    last_t: float
    last_at: datetime
    xyxy: XYXY
    velocity_px_s: tuple[float, float] = (0.0, 0.0)
    place: XYXY | None = None  # its first box
    clipped: bool = False  # its last box was cut by the image edge
    path_heights: float = 0.0  # distance travelled in unclipped frames, in box heights ...
    path_s: float = 0.0  # ... over this long
    parked: int = 0  # frames it has stood at `place`; -1 once it moved
    exiting: bool = False  # at the image edge and moving out through it
    at_side: bool = False  # cut by the left or right image edge
    first_t: float = 0.0
    entered_sideways: bool = False  # first seen cut by the left or right image edge
    entry_checked: bool = False
    hits: int = 0
    conf_sum: float = 0.0
    origin: int = 0  # -1 / +1: the side of the line it came from; 0 until known
    prev: tuple[float, float] | None = None  # (t, signed distance) of the previous frame
    ground: list[tuple[float, float]] = field(default_factory=list)  # unclipped (t, distance), last three
    band_px: float = 0.0
    flip_t: float | None = None
    crossing: tuple[str, float] | None = None  # direction, t
    counted: bool = False
    settled: bool = False  # crossed in a direction that is not counted: never counts
    reported: bool = False
    seats: Seats = field(default_factory=Seats)
    best: tuple[float, np.ndarray | None, XYXY, datetime] | None = None


def steady_speeds(points: list[tuple[float, float]]) -> tuple[float, float] | None:
    """The two speeds (px/s) between three (t, distance) points, or None when there are fewer or
    they have opposite signs: a track whose id jumped to another vehicle is not extrapolated."""
    if len(points) < 3:
        return None
    (t0, d0), (t1, d1), (t2, d2) = points
    if not t0 < t1 < t2:
        return None
    a, b = (d1 - d0) / (t1 - t0), (d2 - d1) / (t2 - t1)
    return (a, b) if a * b > 0 else None
