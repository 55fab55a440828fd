"""The on-disk outbox (DESIGN.md 6): events are committed to SQLite before anything is sent.

Rows leave only through `ack(seq)` (the publisher calls it on the broker's PUBACK) or shedding:
at the cap the oldest stats rows go first, then the oldest rider (helmet) events; smoke events
are never shed, even if that means exceeding the cap. Shed counts persist across restarts.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from edge.outbox.types import EventKind, OutboxMessage

log = logging.getLogger(__name__)

#: Default cap: a rider every few seconds fills it in days, long enough to ride out a broker outage.
DEFAULT_MAX_ROWS = 100_000
# Sheddable kinds, first to go first: a stats row only describes health, a rider row is a count.
_SHED_ORDER = (EventKind.STATS, EventKind.RIDER)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,  -- AUTOINCREMENT: a seq is never reused, even after acks
    event_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    topic TEXT NOT NULL,
    payload BLOB NOT NULL
);
CREATE INDEX IF NOT EXISTS outbox_kind_seq ON outbox (kind, seq);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""


@dataclass(frozen=True, slots=True)
class OutboxStats:
    depth: int
    shed_rider: int  # helmet events dropped at the cap, since the outbox file was created
    shed_stats: int
    max_rows: int


class SqliteOutbox:
    """An EventSink on disk; safe to use from several threads of one process."""

    def __init__(self, path: str | Path, *, max_rows: int = DEFAULT_MAX_ROWS) -> None:
        if max_rows < 1:
            raise ValueError("max_rows must be at least 1")
        self.path, self.max_rows = Path(path), max_rows
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._listeners: list[Callable[[], None]] = []
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=5.0)
        self._db.execute("PRAGMA journal_mode=WAL")
        # FULL, not NORMAL: in WAL mode NORMAL survives a killed process but may lose the last
        # commits on power loss, and field boxes lose power. Events are few (a rider every few
        # seconds), so one fsync per commit costs nothing worth a lost fire alert.
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)
        self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
        self._shed = {kind: self._counter(f"shed_{kind.value}") for kind in _SHED_ORDER}

    def put(self, kind: EventKind, event_id: str, topic: str, payload: bytes) -> None:
        """Commit one event; an event_id already waiting is ignored. Sheds at the cap (see module)."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                added = self._db.execute(
                    "INSERT OR IGNORE INTO outbox (event_id, kind, topic, payload) VALUES (?, ?, ?, ?)",
                    (event_id, EventKind(kind).value, topic, bytes(payload))).rowcount
                self._depth += added
                shed = self._shed_excess() if added else {}
                self._db.execute("COMMIT")
            except BaseException:
                self._db.execute("ROLLBACK")
                self._depth = int(self._db.execute("SELECT COUNT(*) FROM outbox").fetchone()[0])
                raise
            for shed_kind, count in shed.items():
                self._shed[shed_kind] += count
            listeners = list(self._listeners)
        for shed_kind, count in shed.items():
            total = self._shed[shed_kind]
            if total == count or total // 100 != (total - count) // 100:  # the first, then every 100th
                log.warning("outbox full (%d rows): shed %d %s event(s), %d so far", self.max_rows, count,
                            shed_kind.value, total)
        if added:
            for listener in listeners:
                listener()

    def pending(self, limit: int, after_seq: int = 0) -> list[OutboxMessage]:
        """Up to `limit` waiting messages with seq > after_seq, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT seq, event_id, kind, topic, payload FROM outbox WHERE seq > ? ORDER BY seq LIMIT ?",
                (after_seq, limit)).fetchall()
        return [OutboxMessage(int(seq), str(event_id), EventKind(kind), str(topic), bytes(payload))
                for seq, event_id, kind, topic, payload in rows]

    def ack(self, seq: int) -> bool:
        """Delete message `seq` (the broker has it); False when it was already gone."""
        with self._lock:
            removed = self._db.execute("DELETE FROM outbox WHERE seq = ?", (seq,)).rowcount
            self._depth -= removed
        return removed > 0

    def depth(self) -> int:
        return self._depth

    @property
    def shed_events(self) -> int:
        """Rider (helmet) events shed at the cap; the figure the stats payload reports."""
        return self._shed[EventKind.RIDER]

    def stats(self) -> OutboxStats:
        with self._lock:
            return OutboxStats(self._depth, self._shed[EventKind.RIDER], self._shed[EventKind.STATS],
                               self.max_rows)

    def add_listener(self, listener: Callable[[], None]) -> None:
        """Call `listener()` after each committed put (from the putting thread; keep it quick)."""
        with self._lock:
            self._listeners.append(listener)

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> SqliteOutbox:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def _counter(self, name: str) -> int:
        row = self._db.execute("SELECT value FROM counters WHERE name = ?", (name,)).fetchone()
        return int(row[0]) if row else 0

    def _shed_excess(self) -> dict[EventKind, int]:
        """Delete the oldest sheddable rows above the cap (inside the put's transaction)."""
        shed: dict[EventKind, int] = {}
        for kind in _SHED_ORDER:
            excess = self._depth - self.max_rows
            if excess <= 0:
                break
            count = self._db.execute(
                "DELETE FROM outbox WHERE seq IN "
                "(SELECT seq FROM outbox WHERE kind = ? ORDER BY seq LIMIT ?)", (kind.value, excess)).rowcount
            if count:
                self._depth -= count
                shed[kind] = count
                self._db.execute(
                    "INSERT INTO counters (name, value) VALUES (?, ?) "
                    "ON CONFLICT (name) DO UPDATE SET value = value + excluded.value",
                    (f"shed_{kind.value}", count))
        return shed
