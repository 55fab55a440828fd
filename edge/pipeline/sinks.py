"""An in-memory `EventSink`: what tests and a broker-less replay put their events into."""

from __future__ import annotations

from dataclasses import dataclass, field

from edge.outbox import EventKind


@dataclass(frozen=True, slots=True)
class PutEvent:
    kind: EventKind
    event_id: str
    topic: str
    payload: bytes


@dataclass
class MemorySink:
    """Keeps every event in order; ids seen twice are kept once, as the outbox does."""

    events: list[PutEvent] = field(default_factory=list)
    _ids: set[str] = field(default_factory=set)

    def put(self, kind: EventKind, event_id: str, topic: str, payload: bytes) -> None:
        if event_id not in self._ids:
            self._ids.add(event_id)
            self.events.append(PutEvent(kind, event_id, topic, payload))

    def of_kind(self, kind: EventKind) -> list[PutEvent]:
        return [e for e in self.events if e.kind == kind]

    @property
    def depth(self) -> int:
        return 0  # nothing waits for a broker
