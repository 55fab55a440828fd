"""What the analysers hand to the outbox, and the Protocol they see."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol


class EventKind(StrEnum):
    """Shedding policy keys: only helmet (rider) events may be dropped when the outbox is full."""

    RIDER = "rider"
    SMOKE = "smoke"
    STATS = "stats"


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """One serialised event waiting for the broker's acknowledgement."""

    seq: int
    event_id: str
    kind: EventKind
    topic: str
    payload: bytes


class EventSink(Protocol):
    """Where analysers put events; the real one is the SQLite outbox."""

    def put(self, kind: EventKind, event_id: str, topic: str, payload: bytes) -> None: ...
