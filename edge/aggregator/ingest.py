"""Decoding one MQTT message into a payload, or refusing it with a reason (DESIGN.md 7).

`decode` never raises anything but PayloadError, whatever the bytes; a refused message is
logged, published on `rejected` and never counted.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from edge.events import (
    MAX_PAYLOAD_BYTES,
    CameraPayload,
    InboundPayload,
    IncidentCommand,
    PayloadError,
    Rejection,
    RiderEvent,
    RiderReview,
    SmokeEvent,
    StatsEvent,
    StatusEvent,
    parse_inbound,
)
from edge.transport.topics import COMMAND_INCIDENT, COMMAND_RIDER, TopicKind, TopicParts, parse_topic

_EXCERPT_CHARS = 200
#: Capture times further ahead of the aggregator's clock are refused (replays are in the past).
MAX_CLOCK_AHEAD = timedelta(days=1)

_BY_KIND: dict[TopicKind, type[InboundPayload]] = {
    TopicKind.RIDER: RiderEvent,
    TopicKind.SMOKE: SmokeEvent,
    TopicKind.STATUS: StatusEvent,
    TopicKind.STATS: StatsEvent,
}
_BY_COMMAND: dict[str, type[InboundPayload]] = {
    COMMAND_RIDER: RiderReview,
    COMMAND_INCIDENT: IncidentCommand,
}


def _expected(parts: TopicParts) -> type[InboundPayload]:
    if parts.kind == TopicKind.COMMAND:
        expected = _BY_COMMAND.get(parts.key or "")
        if expected is None:
            raise PayloadError(f"unknown command topic {parts.key!r} (known: {', '.join(_BY_COMMAND)})")
        return expected
    expected = _BY_KIND.get(parts.kind)
    if expected is None:
        raise PayloadError(f"the aggregator does not take {parts.kind.value} payloads")
    return expected


def decode(prefix: str, site: str, topic: str, data: bytes, now: datetime | None = None) -> InboundPayload:
    """The payload of one message, checked against its topic (and, given `now`, against the clock).

    Raises PayloadError.
    """
    if len(data) > MAX_PAYLOAD_BYTES:
        raise PayloadError(f"payload of {len(data)} bytes exceeds the {MAX_PAYLOAD_BYTES} byte cap")
    parts = parse_topic(prefix, topic)
    if parts is None:
        raise PayloadError(f"not an aggregator topic under {prefix!r}")
    if parts.site != site:
        raise PayloadError(f"topic is for site {parts.site!r}; this aggregator serves {site!r}")
    expected = _expected(parts)
    payload = parse_inbound(data)
    if not isinstance(payload, expected):
        raise PayloadError(f"schema {payload.schema_id!r} does not belong on a {parts.kind.value} topic")
    if payload.site != site:
        raise PayloadError(f"payload site {payload.site!r} differs from the topic's {site!r}")
    if isinstance(payload, CameraPayload):
        if payload.camera != parts.camera:
            raise PayloadError(f"payload camera {payload.camera!r} differs from the topic's {parts.camera!r}")
        # A camera clock far ahead would drag its "current week" into the future for good.
        if now is not None and payload.captured_at > now + MAX_CLOCK_AHEAD:
            raise PayloadError(f"captured_at {payload.captured_at.isoformat()} is more than "
                               f"{MAX_CLOCK_AHEAD} ahead of the aggregator's clock")
    return payload


def rejection(site: str, topic: str, data: bytes, reason: str, event_id: str, now: datetime) -> Rejection:
    """What is published on `rejected` for a refused message: the reason and a short excerpt."""
    excerpt = data[:_EXCERPT_CHARS].decode("utf-8", errors="replace")[:_EXCERPT_CHARS]
    return Rejection(event_id=event_id, site=site, issued_at=now, topic=topic[:1024],
                     reason=reason[:2000], payload_bytes=len(data),
                     payload_sha256=hashlib.sha256(data).hexdigest(), excerpt=excerpt)
