"""Which sample clip plays as which camera, and when it was "recorded".

The capture times are fixed so that every demo run produces the same events, ids and report:
all clips fall in ISO week 2026-W48 of the site's time zone (Asia/Shanghai in configs/).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from edge.labels import Verdict
from edge.synth.truth import SceneTruth

#: Monday of the demo week; the clips are placed on its first two days.
DEMO_MONDAY = "2026-11-23"


@dataclass(frozen=True, slots=True)
class DemoClip:
    """One recording replayed as `camera`, its first frame captured at `start`."""

    camera: str
    video: Path
    start: datetime


@dataclass(frozen=True, slots=True)
class ClipTruth:
    """What the renderer put in a clip, for the demo's "counted vs truth" lines."""

    vehicles: int  # two-wheelers crossing the counting line
    occupants: int
    no_helmet: int
    smoke_onset_s: float | None

    @classmethod
    def read(cls, video: Path) -> ClipTruth | None:
        path = video.with_suffix(".json")
        if not path.is_file():
            return None
        truth = SceneTruth.read(path)
        crossing = [r for r in truth.riders if r.crossing_frame is not None]
        occupants = [o for r in crossing for o in r.occupants]
        return cls(vehicles=len(crossing), occupants=len(occupants),
                   no_helmet=sum(1 for o in occupants if o.verdict == Verdict.NO_HELMET),
                   smoke_onset_s=truth.smoke[0].onset_t_s if truth.smoke else None)


def sample_plan(samples: Path, checkpoint: str, smoke: str | None, timezone: str) -> list[DemoClip]:
    """The shipped samples as a Monday's day and night traffic and a Tuesday's smoke watch."""
    zone = ZoneInfo(timezone)
    monday = datetime.combine(datetime.fromisoformat(DEMO_MONDAY).date(), time(), zone)

    def at(day: int, hh: int, mm: int) -> datetime:
        return monday + timedelta(days=day, hours=hh, minutes=mm)

    plan = [DemoClip(checkpoint, samples / "checkpoint-day.mp4", at(0, 7, 30)),
            DemoClip(checkpoint, samples / "checkpoint-night.mp4", at(0, 18, 40))]
    if smoke is not None:
        plan += [DemoClip(smoke, samples / "smoke-nofire.mp4", at(1, 11, 0)),
                 DemoClip(smoke, samples / "smoke-fire.mp4", at(1, 15, 20))]
    missing = [str(c.video) for c in plan if not c.video.is_file()]
    if missing:
        raise FileNotFoundError(f"sample clips missing: {', '.join(missing)}")
    return plan
