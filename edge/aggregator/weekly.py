"""One checkpoint's ISO week, raw and verified: the figures behind rates topics, alerts and reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction

from edge.aggregator.rates import Counts, point_status, truncate_percent
from edge.aggregator.settings import Settings
from edge.aggregator.store import Store
from edge.aggregator.weeks import IsoWeek, to_us
from edge.events import PointFigures, RatesState


def point_figures(direction: str, counts: Counts, standard: Fraction, min_riders: int) -> PointFigures:
    """Counts of one direction with its truncated rates and status."""
    rate, person = counts.vehicle_rate, counts.person_rate
    return PointFigures(
        direction=direction, vehicles=counts.vehicles, helmet=counts.helmet, no_helmet=counts.no_helmet,
        unknown=counts.unknown, unknown_vehicles=counts.unknown_vehicles,
        rate=None if rate is None else truncate_percent(rate),
        rate_exact=None if rate is None else f"{counts.vehicles - counts.no_helmet}/{counts.vehicles}",
        person_rate=None if person is None else truncate_percent(person),
        standard=truncate_percent(standard), status=point_status(counts, standard, min_riders))


@dataclass(frozen=True)
class CameraWeek:
    """A camera's week: per-direction figures before and after verification, and coverage."""

    camera: str
    name: str
    week: IsoWeek
    start: datetime
    end: datetime
    standard: Fraction
    coverage_s: float
    elapsed_s: float  # of the week so far (all of it once the week is over)
    raw: tuple[PointFigures, ...]
    verified: tuple[PointFigures, ...]

    def points(self, verified: bool) -> tuple[PointFigures, ...]:
        return self.verified if verified else self.raw


def camera_week(store: Store, settings: Settings, camera: str, week: IsoWeek, now: datetime) -> CameraWeek:
    """Read one camera's week from the store."""
    zone = settings.zone
    start, end = week.start(zone), week.end(zone)
    start_us, end_us = to_us(start), to_us(end)
    standard = settings.standard_for(camera)

    def figures(verified: bool) -> tuple[PointFigures, ...]:
        counts = store.point_counts(camera, start_us, end_us, verified)
        return tuple(point_figures(d, counts[d], standard, settings.min_riders) for d in sorted(counts))

    elapsed_s = max(0.0, (min(now, end) - start).total_seconds())
    return CameraWeek(camera=camera, name=settings.name_for(camera), week=week, start=start, end=end,
                      standard=standard, coverage_s=store.coverage_s(camera, start_us, end_us),
                      elapsed_s=elapsed_s, raw=figures(False), verified=figures(True))


def rates_state(week: CameraWeek, settings: Settings, event_id: str, now: datetime) -> RatesState:
    """The retained `rates/{camera}` payload for a camera's week."""
    return RatesState(event_id=event_id, site=settings.site, camera=week.camera, issued_at=now,
                      week=str(week.week), week_start=week.start, week_end=week.end,
                      coverage_s=week.coverage_s, min_riders=settings.min_riders, raw=week.raw,
                      verified=week.verified)
