"""ISO weeks in a site's time zone (DESIGN.md 5): which week an instant falls in, and its bounds."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

_WEEK_RE = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True, order=True)
class IsoWeek:
    """An ISO 8601 week (Monday to Sunday) as counted in some time zone."""

    year: int
    week: int

    def __post_init__(self) -> None:
        datetime.fromisocalendar(self.year, self.week, 1)  # raises ValueError for week 53 of a 52-week year

    def __str__(self) -> str:
        return f"{self.year:04d}-W{self.week:02d}"

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """`2025-W03` -> IsoWeek(2025, 3). Raises ValueError."""
        match = _WEEK_RE.match(text.strip())
        if match is None:
            raise ValueError(f"expected an ISO week like 2025-W03, got {text!r}")
        try:
            return cls(int(match[1]), int(match[2]))
        except ValueError:
            raise ValueError(f"{text!r} is not a week of {match[1]}") from None

    @classmethod
    def of(cls, instant: datetime, zone: ZoneInfo) -> IsoWeek:
        """The week `instant` (aware) falls in, on the local calendar of `zone`."""
        year, week, _ = instant.astimezone(zone).isocalendar()
        return cls(year, week)

    def start(self, zone: ZoneInfo) -> datetime:
        """Local Monday 00:00 of this week, as a UTC instant."""
        local = datetime.fromisocalendar(self.year, self.week, 1).replace(tzinfo=zone)
        return local.astimezone(UTC)

    def end(self, zone: ZoneInfo) -> datetime:
        """Start of the next week (exclusive end), as a UTC instant; DST-safe."""
        return self.shift(1).start(zone)

    def shift(self, weeks: int) -> IsoWeek:
        """The week `weeks` later (negative: earlier)."""
        monday = datetime.fromisocalendar(self.year, self.week, 1) + timedelta(weeks=weeks)
        year, week, _ = monday.isocalendar()
        return IsoWeek(year, week)


def to_us(instant: datetime) -> int:
    """Microseconds since the Unix epoch for an aware instant: the store's time unit."""
    delta = instant - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(us: int) -> datetime:
    """Aware UTC instant from microseconds since the Unix epoch."""
    return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=us)
