"""`edge.smoke/1`: a smoke plume seen by one pan/tilt camera at one preset (opened/updated/closed)."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field, model_validator

from edge.events.base import CameraPayload, Evidence, Id, ModelRef, Part, Unit

SMOKE_SCHEMA: Final = "edge.smoke/1"

SmokePhase = Literal["opened", "updated", "closed"]


class Box(Part):
    """A detection box in normalised image coordinates (0..1, y down)."""

    x1: Unit
    y1: Unit
    x2: Unit
    y2: Unit

    @model_validator(mode="after")
    def _ordered(self) -> Box:
        if self.x2 <= self.x1 or self.y2 <= self.y1:
            raise ValueError("box needs x1 < x2 and y1 < y2")
        return self


class SmokeEvent(CameraPayload):
    """The worker's view of one plume; the aggregator merges plumes from cameras into incidents."""

    schema_id: Literal["edge.smoke/1"] = Field(default=SMOKE_SCHEMA, alias="schema")
    plume_id: Id  # the worker's own id for this plume, stable across its phases
    phase: SmokePhase
    preset: Id
    bearing_deg: float = Field(ge=0.0, lt=360.0)  # compass bearing of the box centre, from north
    box: Box
    confidence: Unit
    flame: bool = False  # a `fire` box was seen as well as smoke
    model: ModelRef
    evidence: Evidence | None = None
