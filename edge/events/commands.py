"""Operator commands on `{prefix}/{site}/commands/...`: human verification (DESIGN.md 1)."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from edge.events.base import EventId, Id, Instant, Note, OperatorId, Payload

RIDER_REVIEW_SCHEMA: Final = "edge.rider_review/1"
INCIDENT_COMMAND_SCHEMA: Final = "edge.incident_command/1"

ReviewAction = Literal["reject", "confirm"]
IncidentAction = Literal["acknowledge", "dispatch", "resolve", "reject"]


class RiderReview(Payload):
    """An operator rejects (false finding) or confirms a rider event; the latest review wins."""

    schema_id: Literal["edge.rider_review/1"] = Field(default=RIDER_REVIEW_SCHEMA, alias="schema")
    action: ReviewAction
    target_event_id: EventId
    operator: OperatorId
    issued_at: Instant
    note: Note = ""


class IncidentCommand(Payload):
    """An operator moves a fire incident new -> acknowledged -> dispatched -> resolved, or rejects it."""

    schema_id: Literal["edge.incident_command/1"] = Field(default=INCIDENT_COMMAND_SCHEMA, alias="schema")
    action: IncidentAction
    incident_id: Id
    operator: OperatorId
    issued_at: Instant
    note: Note = ""
