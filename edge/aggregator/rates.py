"""Helmet rates (DESIGN.md 5): exact fractions from stored counts, truncated only for display.

Counted unit: a two-wheeler crossing with its occupants. rate = 1 - no_helmet / vehicles;
person rate = helmet / (helmet + no_helmet). `unknown` occupants are in neither. A vehicle
whose occupants are all `unknown` is left out of `vehicles` too (counted in
`unknown_vehicles`): it cannot tell compliance either way, and counting it would lift the
rate with vehicles nobody assessed.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import Literal

PointStatus = Literal["ok", "below", "insufficient", "no_data"]


@dataclass(frozen=True)
class Counts:
    """What a checkpoint direction saw in some period, as exact integers."""

    vehicles: int = 0  # two-wheelers with at least one known verdict
    helmet: int = 0  # occupants
    no_helmet: int = 0
    unknown: int = 0
    unknown_vehicles: int = 0  # two-wheelers whose occupants are all unknown

    def __add__(self, other: Counts) -> Counts:
        return Counts(self.vehicles + other.vehicles, self.helmet + other.helmet,
                      self.no_helmet + other.no_helmet, self.unknown + other.unknown,
                      self.unknown_vehicles + other.unknown_vehicles)

    @property
    def vehicle_rate(self) -> Fraction | None:
        """1 - no_helmet / vehicles, exact; None without vehicles. Below 0 if most carry bare passengers."""
        return 1 - Fraction(self.no_helmet, self.vehicles) if self.vehicles else None

    @property
    def person_rate(self) -> Fraction | None:
        """helmet / (helmet + no_helmet), exact; None without known verdicts."""
        known = self.helmet + self.no_helmet
        return Fraction(self.helmet, known) if known else None


def exact(value: Fraction | Decimal | float | int) -> Fraction:
    """A number as an exact fraction; floats go through their shortest repr (0.9 -> 9/10)."""
    if isinstance(value, float):
        return Fraction(repr(value))
    return Fraction(value)


def truncate_percent(rate: Fraction | Decimal | float | int) -> str:
    """A rate as a percentage cut (never rounded) to two decimals: 0.897293 -> '89.72%'.

    Floors, so a rate just under the standard never displays as meeting it (0.89999 -> '89.99%').
    """
    basis_points = (exact(rate) * 10_000).__floor__()
    sign = "-" if basis_points < 0 else ""
    whole, cents = divmod(abs(basis_points), 100)
    return f"{sign}{whole}.{cents:02d}%"


def point_status(counts: Counts, standard: Fraction, min_riders: int) -> PointStatus:
    """`below` only with at least `min_riders` rated vehicles and an exact rate under the standard."""
    rate = counts.vehicle_rate
    if rate is None:
        return "no_data"
    if counts.vehicles < min_riders:
        return "insufficient"
    return "below" if rate < standard else "ok"
