"""Versioned payload schemas (DESIGN.md 4): what workers, the aggregator and operators publish."""

from edge.events.base import CameraPayload, Evidence, ModelRef, Payload
from edge.events.commands import IncidentCommand, RiderReview
from edge.events.figures import AlertFinding, HelmetAlert, PointFigures, RatesState
from edge.events.health import StatsEvent, StatusEvent
from edge.events.incident import FireIncident, Position, Sighting, Transition
from edge.events.registry import (
    MAX_PAYLOAD_BYTES,
    SCHEMAS,
    InboundPayload,
    PayloadError,
    json_schemas,
    parse_inbound,
    write_json_schemas,
)
from edge.events.rejected import Rejection
from edge.events.rider import Occupant, RiderEvent, Votes
from edge.events.smoke import Box, SmokeEvent

__all__ = [
    "MAX_PAYLOAD_BYTES",
    "SCHEMAS",
    "AlertFinding",
    "Box",
    "CameraPayload",
    "Evidence",
    "FireIncident",
    "HelmetAlert",
    "InboundPayload",
    "IncidentCommand",
    "ModelRef",
    "Occupant",
    "Payload",
    "PayloadError",
    "PointFigures",
    "Position",
    "RatesState",
    "Rejection",
    "RiderEvent",
    "RiderReview",
    "Sighting",
    "SmokeEvent",
    "StatsEvent",
    "StatusEvent",
    "Transition",
    "Votes",
    "json_schemas",
    "parse_inbound",
    "write_json_schemas",
]
