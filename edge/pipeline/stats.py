"""Worker health over fixed intervals of recording time (DESIGN.md 4: the `stats` topic)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

# A gap between frames longer than this is the camera being away, not video covered.
MAX_COVERED_GAP_S = 2.0
# Within this much of its due time a frame is on time (float noise in timestamps).
_ON_TIME_S = 1e-3


class RateGate:
    """Picks frames for analysis at `fps` by capture time, on a fixed grid: a 15 fps stream
    analysed at 10 fps gives 10 frames a second, not every second frame."""

    def __init__(self, fps: float) -> None:
        self.period_s = 1.0 / fps
        self._next: float | None = None

    def due(self, t: float) -> bool:
        due_t = self._next
        if due_t is not None and due_t - self.period_s - _ON_TIME_S <= t < due_t - _ON_TIME_S:
            return False
        # Stay on the grid when on time; re-anchor after a stall or when the clock jumped back.
        on_grid = due_t is not None and -_ON_TIME_S <= t - due_t < self.period_s
        self._next = due_t + self.period_s if on_grid and due_t is not None else t + self.period_s
        return True


def _counter(obj: Any, *names: str) -> int:
    """A cumulative counter another stage may expose (0 when it does not)."""
    for name in names:
        value = getattr(obj, name, None)
        if callable(value):
            value = value()
        if isinstance(value, int):
            return value
    return 0


@dataclass
class StatsFigures:
    interval_start: datetime
    interval_end: datetime
    covered_s: float
    fps_in: float
    fps_out: float
    dropped_frames: int
    inference_ms: float
    outbox_depth: int
    reconnects: int
    shed_events: int


class StatsWindow:
    """Accumulates one interval; `take` closes it and starts the next where it ended."""

    def __init__(self, interval_s: float, source: Any, sink: Any,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s, self._source, self._sink, self._clock = interval_s, source, sink, clock
        self._start: datetime | None = None
        self._last: datetime | None = None
        self._wall0 = clock()
        self._frames_in = self._frames_out = 0
        self._covered_s = self._inference_ms = 0.0
        self._seen = {"dropped": 0, "reconnects": 0, "shed": 0}
        self.total_covered_s = 0.0

    def frame_in(self, captured_at: datetime) -> None:
        if self._start is None:
            self._start = captured_at
        if self._last is not None:
            gap_s = (captured_at - self._last).total_seconds()
            if 0 < gap_s <= MAX_COVERED_GAP_S:
                self._covered_s += gap_s
                self.total_covered_s += gap_s
        self._last = captured_at
        self._frames_in += 1

    def frame_out(self, inference_ms: float) -> None:
        self._frames_out += 1
        self._inference_ms += inference_ms

    def due(self) -> bool:
        return (self._start is not None and self._last is not None
                and (self._last - self._start).total_seconds() >= self.interval_s)

    def take(self) -> StatsFigures | None:
        """The figures of the interval so far, or None when no frame arrived in it."""
        if self._start is None or self._last is None or self._frames_in == 0:
            return None
        now = self._clock()
        wall_s = max(now - self._wall0, 1e-6)
        cumulative = {"dropped": _counter(self._source, "dropped_frames", "dropped"),
                      "reconnects": _counter(self._source, "reconnects"),
                      "shed": _counter(self._sink, "shed_events", "shed")}
        delta = {k: max(0, v - self._seen[k]) for k, v in cumulative.items()}
        self._seen = cumulative
        figures = StatsFigures(
            interval_start=self._start, interval_end=self._last, covered_s=self._covered_s,
            fps_in=self._frames_in / wall_s, fps_out=self._frames_out / wall_s,
            dropped_frames=delta["dropped"],
            inference_ms=self._inference_ms / self._frames_out if self._frames_out else 0.0,
            outbox_depth=_counter(self._sink, "depth", "outbox_depth", "pending"),
            reconnects=delta["reconnects"], shed_events=delta["shed"])
        self._start, self._wall0 = self._last, now
        self._frames_in = self._frames_out = 0
        self._covered_s = self._inference_ms = 0.0
        return figures
