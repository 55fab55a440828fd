"""Every payload schema by name, strict parsing of inbound payloads, and JSON Schema export."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, TypeAdapter, ValidationError

from edge.events.base import Payload
from edge.events.commands import IncidentCommand, RiderReview
from edge.events.figures import HelmetAlert, RatesState
from edge.events.health import StatsEvent, StatusEvent
from edge.events.incident import FireIncident
from edge.events.rejected import Rejection
from edge.events.rider import RiderEvent
from edge.events.smoke import SmokeEvent

#: Larger payloads are refused unread: a rider event is well under 2 KiB, evidence is never inline.
MAX_PAYLOAD_BYTES = 64 * 1024

InboundPayload = RiderEvent | SmokeEvent | StatusEvent | StatsEvent | RiderReview | IncidentCommand

#: What workers and operators publish, and what the aggregator publishes.
INBOUND: tuple[type[Payload], ...] = (RiderEvent, SmokeEvent, StatusEvent, StatsEvent, RiderReview,
                                      IncidentCommand)
OUTBOUND: tuple[type[Payload], ...] = (RatesState, HelmetAlert, FireIncident, Rejection)


def schema_name(model: type[Payload]) -> str:
    """The `schema` value a model carries, e.g. `edge.rider/1`."""
    default = model.model_fields["schema_id"].default
    assert isinstance(default, str)
    return default


SCHEMAS: dict[str, type[Payload]] = {schema_name(m): m for m in INBOUND + OUTBOUND}

_MAX_REASONS = 3


class PayloadError(ValueError):
    """A payload that is not valid under its schema; `reason` says why, in one line."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@cache
def _inbound_adapter() -> TypeAdapter[InboundPayload]:
    return TypeAdapter(Annotated[InboundPayload, Field(discriminator="schema_id")])


def _describe(error: Any) -> str:
    kind = error["type"]
    if kind == "union_tag_not_found":
        return "missing key 'schema'"
    if kind == "union_tag_invalid":
        tag = error.get("ctx", {}).get("tag")
        return f"unknown schema {tag!r} (known: {', '.join(schema_name(m) for m in INBOUND)})"
    loc = [str(part) for part in error["loc"][1:]]  # the first element is the schema tag
    where = ".".join(loc) or "(payload)"
    if kind == "extra_forbidden":
        return f"{where}: unknown key"
    return f"{where}: {error['msg']}"


def parse_inbound(data: bytes) -> InboundPayload:
    """Validate a raw MQTT payload against the schema it names. Raises PayloadError."""
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(data)} bytes exceeds the {MAX_PAYLOAD_BYTES} byte cap")
    try:
        return _inbound_adapter().validate_json(data)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        reasons = [_describe(e) for e in errors[:_MAX_REASONS]]
        more = f" (+{len(errors) - _MAX_REASONS} more)" if len(errors) > _MAX_REASONS else ""
        raise PayloadError("; ".join(reasons) + more) from None


def json_schemas() -> dict[str, dict[str, Any]]:
    """JSON Schema of every payload, keyed by schema name."""
    return {name: model.model_json_schema(by_alias=True) for name, model in SCHEMAS.items()}


def schema_file_name(name: str) -> str:
    """`edge.rider/1` -> `edge.rider.v1.schema.json`."""
    base, version = name.split("/")
    return f"{base}.v{version}.schema.json"


def write_json_schemas(directory: Path) -> list[Path]:
    """Write one JSON Schema file per payload into `directory`; returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for name, schema in json_schemas().items():
        path = directory / schema_file_name(name)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    return written
