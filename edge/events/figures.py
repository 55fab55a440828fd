"""`edge.rates/1` and `edge.helmet_alert/1`: what the aggregator publishes about helmet rates."""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import Field

from edge.events.base import Count, DirectionName, Id, Instant, Part, Payload

RATES_SCHEMA: Final = "edge.rates/1"
HELMET_ALERT_SCHEMA: Final = "edge.helmet_alert/1"

#: An ISO week in the site's time zone, e.g. `2025-W03`.
IsoWeekText = Annotated[str, Field(pattern=r"^\d{4}-W(0[1-9]|[1-4]\d|5[0-3])$")]
Percent = Annotated[str, Field(pattern=r"^-?\d+\.\d\d%$")]
PointStatus = Literal["ok", "below", "insufficient", "no_data"]


class PointFigures(Part):
    """One checkpoint direction's week (DESIGN.md 5). Counts are exact; rates are truncated text.

    `vehicles` counts two-wheelers with at least one known verdict; `unknown_vehicles` those whose
    occupants are all `unknown` (left out of the rate). `rate` = 1 - no_helmet / vehicles,
    `person_rate` = helmet / (helmet + no_helmet); both truncated to two decimals, never rounded.
    """

    direction: DirectionName
    vehicles: Count
    helmet: Count
    no_helmet: Count
    unknown: Count
    unknown_vehicles: Count
    rate: Percent | None
    rate_exact: Annotated[str, Field(pattern=r"^-?\d+/\d+$")] | None  # (vehicles - no_helmet) / vehicles
    person_rate: Percent | None
    standard: Percent
    status: PointStatus


class RatesState(Payload):
    """Retained on `rates/{camera}`: the camera's current week, raw and after verification."""

    schema_id: Literal["edge.rates/1"] = Field(default=RATES_SCHEMA, alias="schema")
    camera: Id
    issued_at: Instant
    week: IsoWeekText
    week_start: Instant
    week_end: Instant
    coverage_s: float = Field(ge=0.0)  # seconds of video analysed this week (from stats payloads)
    min_riders: Count
    raw: tuple[PointFigures, ...]
    verified: tuple[PointFigures, ...]  # rejected findings left out


class AlertFinding(Part):
    """One direction below the standard, in the district's wording."""

    direction: DirectionName
    text_zh: str = Field(max_length=1000)
    text_en: str = Field(max_length=1000)


class HelmetAlert(Payload):
    """Retained on `alerts/helmet/{camera}`: active while a direction's verified week is below standard."""

    schema_id: Literal["edge.helmet_alert/1"] = Field(default=HELMET_ALERT_SCHEMA, alias="schema")
    camera: Id
    issued_at: Instant
    week: IsoWeekText
    active: bool
    min_riders: Count
    points: tuple[PointFigures, ...]  # every direction of the week, for context
    findings: tuple[AlertFinding, ...]  # empty when cleared
