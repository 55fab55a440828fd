"""`edge.rider/1`: one counted two-wheeler crossing a checkpoint, with each occupant's verdict."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, model_validator

from edge.events.base import CameraPayload, Count, DirectionName, Evidence, ModelRef, Part, Unit
from edge.labels import Verdict

RIDER_SCHEMA: Final = "edge.rider/1"


class Votes(Part):
    """Head observations behind a verdict: how many frames looked helmeted or bare."""

    helmet: Count
    no_helmet: Count


class Occupant(Part):
    """One person on the two-wheeler; seat 0 is the driver, 1 and 2 passengers."""

    seat: int = Field(ge=0, le=2)
    verdict: Verdict
    votes: Votes
    confidence: Unit


class RiderEvent(CameraPayload):
    """A two-wheeler counted once as its track crossed the counting line (DESIGN.md 5)."""

    schema_id: Literal["edge.rider/1"] = Field(default=RIDER_SCHEMA, alias="schema")
    track_id: Count
    direction: DirectionName
    # The driver and up to two passengers, as in the AI City helmet-rule benchmark.
    occupants: tuple[Occupant, ...] = Field(min_length=1, max_length=3)
    model: ModelRef
    evidence: Evidence | None = None

    @model_validator(mode="after")
    def _distinct_seats(self) -> RiderEvent:
        seats = [o.seat for o in self.occupants]
        if len(set(seats)) != len(seats):
            raise ValueError("occupants must have distinct seats")
        return self

    def tally(self) -> tuple[int, int, int]:
        """(helmet, no_helmet, unknown) occupants."""
        verdicts = [o.verdict for o in self.occupants]
        return (verdicts.count(Verdict.HELMET), verdicts.count(Verdict.NO_HELMET),
                verdicts.count(Verdict.UNKNOWN))
