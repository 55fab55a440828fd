"""`edge report`: a week's helmet figures per checkpoint and direction, as text, CSV, JSON or PNG."""

from __future__ import annotations

import csv
import io
import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from fractions import Fraction
from zoneinfo import ZoneInfo

from edge.aggregator.rates import truncate_percent
from edge.aggregator.settings import Settings
from edge.aggregator.store import Store
from edge.aggregator.weekly import camera_week
from edge.aggregator.weeks import IsoWeek, to_us

FORMATS = ("table", "csv", "json", "png")


@dataclass(frozen=True)
class Row:
    """One checkpoint direction in the report (a checkpoint without riders gets one empty row)."""

    camera: str
    name: str
    direction: str
    riders: int  # two-wheelers with a known verdict: the rate's denominator
    helmet: int
    no_helmet: int
    unknown: int
    unknown_vehicles: int
    rate: str | None
    rate_exact: str | None
    person_rate: str | None
    standard: str
    coverage_s: float
    coverage: str  # hours analysed and share of the week so far
    status: str


@dataclass(frozen=True)
class TrendPoint:
    week: str
    rate: Fraction | None


@dataclass(frozen=True)
class Report:
    """A week's report; `verified` leaves out findings operators rejected."""

    site: str
    week: IsoWeek
    timezone: str
    week_start: datetime
    week_end: datetime
    verified: bool
    rows: tuple[Row, ...]
    incidents: dict[str, int]  # state -> incidents opened this week
    default_standard: Fraction
    trend: dict[tuple[str, str], tuple[TrendPoint, ...]]  # (camera, direction) -> weeks, oldest first


def _coverage(covered_s: float, elapsed_s: float) -> str:
    hours = f"{int(covered_s // 360) / 10:.1f} h"
    if elapsed_s <= 0:
        return hours
    return f"{hours} ({truncate_percent(Fraction(covered_s) / Fraction(elapsed_s))})"


def _rows(store: Store, settings: Settings, week: IsoWeek, verified: bool, now: datetime) -> list[Row]:
    zone = settings.zone
    # Stats come from smoke cameras too; they have no riders and no row here.
    cameras = (set(settings.checkpoints) | set(
        store.rider_cameras(to_us(week.start(zone)), to_us(week.end(zone))))) - set(settings.smoke_cameras)
    rows = []
    for camera in sorted(cameras):
        cw = camera_week(store, settings, camera, week, now)
        coverage = _coverage(cw.coverage_s, cw.elapsed_s)
        points = cw.points(verified)
        for p in points:
            rows.append(Row(camera, cw.name, p.direction, p.vehicles, p.helmet, p.no_helmet, p.unknown,
                            p.unknown_vehicles, p.rate, p.rate_exact, p.person_rate, p.standard,
                            cw.coverage_s, coverage, p.status))
        if not points:
            rows.append(Row(camera, cw.name, "-", 0, 0, 0, 0, 0, None, None, None,
                            truncate_percent(cw.standard), cw.coverage_s, coverage, "no_data"))
    return rows


def _trend(store: Store, settings: Settings, week: IsoWeek, weeks: int, verified: bool,
           cameras: Sequence[str]) -> dict[tuple[str, str], tuple[TrendPoint, ...]]:
    zone = settings.zone
    series: dict[tuple[str, str], list[TrendPoint]] = {}
    span = [week.shift(-i) for i in reversed(range(weeks))]
    for camera in cameras:
        for i, w in enumerate(span):
            counts = store.point_counts(camera, to_us(w.start(zone)), to_us(w.end(zone)), verified)
            for direction, c in counts.items():
                line = series.setdefault((camera, direction), [TrendPoint(str(x), None) for x in span])
                line[i] = TrendPoint(str(w), c.vehicle_rate)
    return {key: tuple(line) for key, line in sorted(series.items())}


def build_report(store: Store, settings: Settings, week: IsoWeek, *, verified: bool, now: datetime,
                 trend_weeks: int = 8) -> Report:
    """Read everything a report shows from the store."""
    zone = settings.zone
    start, end = week.start(zone), week.end(zone)
    rows = _rows(store, settings, week, verified, now)
    incidents = Counter(i.state for i in store.incidents_between(to_us(start), to_us(end))
                        if not (verified and i.state == "rejected"))
    cameras = sorted({r.camera for r in rows})
    return Report(site=settings.site, week=week, timezone=settings.timezone, week_start=start,
                  week_end=end, verified=verified, rows=tuple(rows),
                  incidents=dict(sorted(incidents.items())), default_standard=settings.default_standard,
                  trend=_trend(store, settings, week, trend_weeks, verified, cameras))


_COLUMNS = ("checkpoint", "direction", "riders", "helmet", "no helmet", "unknown", "rate", "per person",
            "standard", "coverage", "status")


def _cells(row: Row) -> tuple[str, ...]:
    return (row.camera, row.direction, str(row.riders), str(row.helmet), str(row.no_helmet),
            str(row.unknown), row.rate or "-", row.person_rate or "-", row.standard, row.coverage, row.status)


def as_table(report: Report) -> str:
    """Plain text, one line per checkpoint direction, then fire incidents."""
    zone = ZoneInfo(report.timezone)
    first_day = report.week_start.astimezone(zone).date()
    last_day = (report.week_end.astimezone(zone) - timedelta(days=1)).date()
    kind = "verified figures (rejected findings left out)" if report.verified else "raw figures"
    lines = [f"site {report.site}, week {report.week} ({first_day} to {last_day}, {report.timezone}), {kind}"]
    table = [_COLUMNS, *(_cells(r) for r in report.rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(_COLUMNS))]
    numeric = {2, 3, 4, 5}
    for line in table:
        lines.append("  ".join(cell.rjust(w) if i in numeric else cell.ljust(w)
                               for i, (cell, w) in enumerate(zip(line, widths, strict=True))).rstrip())
    total = sum(report.incidents.values())
    detail = ", ".join(f"{state} {n}" for state, n in report.incidents.items())
    lines.append(f"fire incidents opened this week: {total}" + (f" ({detail})" if detail else ""))
    return "\n".join(lines) + "\n"


def as_csv(report: Report) -> str:
    """One CSV line per checkpoint direction, with a header."""
    buffer = io.StringIO()
    fields = list(Row.__dataclass_fields__)
    writer = csv.DictWriter(buffer, fieldnames=["site", "week", "figures", *fields], lineterminator="\n")
    writer.writeheader()
    for row in report.rows:
        writer.writerow({"site": report.site, "week": str(report.week),
                         "figures": "verified" if report.verified else "raw", **asdict(row)})
    return buffer.getvalue()


def as_json(report: Report) -> str:
    """The whole report as JSON; rates as truncated text plus the exact fraction."""
    document = {
        "site": report.site, "week": str(report.week), "timezone": report.timezone,
        "week_start": report.week_start.isoformat(), "week_end": report.week_end.isoformat(),
        "figures": "verified" if report.verified else "raw",
        "rows": [asdict(r) for r in report.rows],
        "fire_incidents": report.incidents,
        "trend": [{"camera": camera, "direction": direction,
                   "weeks": [{"week": p.week, "rate": None if p.rate is None else truncate_percent(p.rate)}
                             for p in line]}
                  for (camera, direction), line in report.trend.items()],
    }
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def render(report: Report, fmt: str) -> str:
    """Text formats: table, csv or json."""
    if fmt == "table":
        return as_table(report)
    if fmt == "csv":
        return as_csv(report)
    if fmt == "json":
        return as_json(report)
    raise ValueError(f"unknown text format {fmt!r}")
