"""Shared pieces of every payload schema (DESIGN.md 4): ids, aware times, the common envelope.

Every payload is a frozen pydantic model that forbids unknown keys and validates strictly, so
what a worker publishes and what an operator's client receives are checked the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

ID_PATTERN = r"^[a-z0-9-]+$"
EVENT_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._:-]*$"
SHA256_PATTERN = r"^[0-9a-f]{64}$"

#: A site, camera, preset or incident id: the same shape as config ids, safe in a topic level.
Id = Annotated[str, Field(min_length=1, max_length=64, pattern=ID_PATTERN)]
#: A globally unique event id (a UUID is typical); the store's key for exactly-once counting.
EventId = Annotated[str, Field(min_length=1, max_length=128, pattern=EVENT_ID_PATTERN)]
DirectionName = Annotated[str, Field(min_length=1, max_length=32, pattern=r"^[a-z0-9_-]+$")]
OperatorId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9._@-]+$")]
Sha256 = Annotated[str, Field(pattern=SHA256_PATTERN)]
Note = Annotated[str, Field(max_length=500)]
Unit = Annotated[float, Field(ge=0.0, le=1.0)]
Count = Annotated[int, Field(ge=0, le=2**31 - 1)]

# Capture times outside this range are a broken clock, not an event worth counting.
_EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
_LATEST = datetime(2100, 1, 1, tzinfo=UTC)


def _plausible(value: datetime) -> datetime:
    if not _EARLIEST <= value < _LATEST:
        raise ValueError("time must lie between 2000 and 2100")
    return value


#: ISO-8601 with an offset; naive times are refused (DESIGN.md 4).
Instant = Annotated[AwareDatetime, AfterValidator(_plausible)]


def _reference(uri: str) -> str:
    if uri.lower().startswith("data:"):
        raise ValueError("evidence must be a reference (path or URL), never an inline data: URI")
    return uri


def _schema_required(schema: dict[str, Any]) -> None:
    # `schema` has a default so code never spells it, but on the wire it is mandatory.
    required = schema.setdefault("required", [])
    if "schema" in schema.get("properties", {}) and "schema" not in required:
        required.insert(0, "schema")


class Payload(BaseModel):
    """Base of every MQTT payload: strict, frozen, no unknown keys, `schema` on the wire."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False,
                              validate_by_alias=True, validate_by_name=False, serialize_by_alias=True,
                              json_schema_extra=_schema_required)

    schema_id: str = Field(alias="schema", min_length=1)
    event_id: EventId
    site: Id

    def to_json(self) -> bytes:
        """The payload as UTF-8 JSON bytes, as published."""
        return self.model_dump_json().encode("utf-8")


class CameraPayload(Payload):
    """A payload about one camera, stamped with its capture time."""

    camera: Id
    captured_at: Instant


class Part(BaseModel):
    """Base of the nested parts of a payload: same strictness as `Payload`."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


class Evidence(Part):
    """Where the evidence image lies on the box: a path or URL plus its sha256; never the image."""

    uri: Annotated[str, Field(min_length=1, max_length=1024), AfterValidator(_reference)]
    sha256: Sha256


class ModelRef(Part):
    """The weights behind a finding: the site's model id and the weights' sha256."""

    id: Id
    sha256: Sha256
