"""`edge.rejected/1`: a payload the aggregator refused, with the reason (DESIGN.md 7)."""

from __future__ import annotations

from typing import Final, Literal

from pydantic import Field

from edge.events.base import Count, Instant, Payload, Sha256

REJECTED_SCHEMA: Final = "edge.rejected/1"


class Rejection(Payload):
    """Published on `rejected`; the refused payload itself is only excerpted, and never counted."""

    schema_id: Literal["edge.rejected/1"] = Field(default=REJECTED_SCHEMA, alias="schema")
    issued_at: Instant
    topic: str = Field(max_length=1024)
    reason: str = Field(min_length=1, max_length=2000)
    payload_bytes: Count
    payload_sha256: Sha256
    excerpt: str = Field(max_length=200)  # the first bytes, decoded leniently
