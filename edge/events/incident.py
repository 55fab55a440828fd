"""`edge.fire_incident/1`: retained state of a fire incident on `alerts/fire/{incident}`."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from edge.events.base import EventId, Evidence, Id, Instant, Note, OperatorId, Part, Payload, Unit
from edge.events.commands import IncidentAction
from edge.events.smoke import SmokePhase

FIRE_INCIDENT_SCHEMA: Final = "edge.fire_incident/1"

IncidentState = Literal["new", "acknowledged", "dispatched", "resolved", "rejected"]


class Sighting(Part):
    """The latest smoke event of one camera's plume that belongs to the incident."""

    camera: Id
    plume_id: Id
    preset: Id
    bearing_deg: float = Field(ge=0.0, lt=360.0)
    confidence: Unit
    phase: SmokePhase
    flame: bool
    first_seen_at: Instant
    captured_at: Instant
    event_id: EventId
    evidence: Evidence | None = None


class Position(Part):
    """Where two cameras' bearings cross (flat-earth ENU approximation, good below ~20 km)."""

    latitude_deg: float = Field(ge=-90.0, le=90.0)
    longitude_deg: float = Field(ge=-180.0, le=180.0)
    cameras: tuple[Id, Id]
    crossing_angle_deg: float = Field(ge=0.0, le=90.0)  # near 0: bearings almost parallel, poor fix
    method: Literal["bearing-intersection-enu"] = "bearing-intersection-enu"


class Transition(Part):
    """One operator command applied to the incident."""

    action: IncidentAction
    from_state: IncidentState
    to_state: IncidentState
    operator: OperatorId
    issued_at: Instant
    command_id: EventId
    note: Note = ""


class FireIncident(Payload):
    """One plume seen by one or more cameras; `event_id` is `{incident_id}:{revision}`."""

    schema_id: Literal["edge.fire_incident/1"] = Field(default=FIRE_INCIDENT_SCHEMA, alias="schema")
    incident_id: Id
    revision: int = Field(ge=1)
    state: IncidentState
    opened_at: Instant  # capture time of the first sighting
    updated_at: Instant  # capture or command time of the latest change
    smoke_active: bool  # some plume of the incident is not closed yet
    flame: bool
    sightings: tuple[Sighting, ...] = Field(min_length=1)
    position: Position | None = None
    history: tuple[Transition, ...] = ()
