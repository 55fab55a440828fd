"""Outbox stage: events are on disk before they are sent (DESIGN.md 6)."""

from edge.outbox.sqlite import DEFAULT_MAX_ROWS, OutboxStats, SqliteOutbox
from edge.outbox.types import EventKind, EventSink, OutboxMessage

__all__ = ["DEFAULT_MAX_ROWS", "EventKind", "EventSink", "OutboxMessage", "OutboxStats", "SqliteOutbox"]
