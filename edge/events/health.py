"""`edge.status/1` (retained, last will) and `edge.stats/1` (periodic health) of a worker."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, model_validator

from edge.events.base import CameraPayload, Count, Instant

STATUS_SCHEMA: Final = "edge.status/1"
STATS_SCHEMA: Final = "edge.stats/1"

WorkerState = Literal["online", "offline", "stopped"]

# Clock jitter between the frame clock and the interval ends.
_COVER_SLACK_S = 1.0


class StatusEvent(CameraPayload):
    """Whether a camera's worker runs: `offline` is its last will, `stopped` a clean exit."""

    schema_id: Literal["edge.status/1"] = Field(default=STATUS_SCHEMA, alias="schema")
    state: WorkerState
    details: str = Field(default="", max_length=1024)


class StatsEvent(CameraPayload):
    """Health over one interval; counters count within the interval, not since start."""

    schema_id: Literal["edge.stats/1"] = Field(default=STATS_SCHEMA, alias="schema")
    interval_start: Instant
    interval_end: Instant
    covered_s: float = Field(ge=0.0, le=7 * 86400.0)  # seconds of video analysed in the interval
    fps_in: float = Field(ge=0.0, le=1000.0)
    fps_out: float = Field(ge=0.0, le=1000.0)
    dropped_frames: Count
    inference_ms: float = Field(ge=0.0, le=600_000.0)  # mean per analysed frame
    outbox_depth: Count
    reconnects: Count
    shed_events: Count = 0  # helmet events dropped oldest-first at the outbox cap (DESIGN.md 6)

    @model_validator(mode="after")
    def _interval(self) -> StatsEvent:
        span_s = (self.interval_end - self.interval_start).total_seconds()
        if span_s < 0:
            raise ValueError("interval_end is before interval_start")
        if self.covered_s > span_s + _COVER_SLACK_S:
            raise ValueError(f"covered_s ({self.covered_s}) exceeds the interval ({span_s} s)")
        return self
