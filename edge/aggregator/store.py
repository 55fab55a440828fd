"""The aggregator's store, keyed by event_id so redeliveries and replays change nothing (DESIGN.md 6).

`Store` is the Protocol the rules use; `SqliteStore` (WAL) is the default implementation, and
a PostgreSQL one can follow behind the same methods. One writer thread at a time.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Protocol

from edge.aggregator.rates import Counts
from edge.aggregator.weeks import to_us
from edge.events import FireIncident, HelmetAlert

log = logging.getLogger(__name__)

JournalKind = Literal["smoke", "status", "rider_review", "incident_command"]
ReviewAction = Literal["reject", "confirm"]


@dataclass(frozen=True)
class RiderRecord:
    """One rider event as stored: the tally the rates need, plus the raw payload for audit."""

    event_id: str
    camera: str
    direction: str
    captured_us: int
    helmet: int
    no_helmet: int
    unknown: int
    payload: str


@dataclass(frozen=True)
class StatsRecord:
    """Coverage from one stats payload; counted in the week its interval starts in."""

    event_id: str
    camera: str
    start_us: int
    end_us: int
    covered_s: float
    payload: str


@dataclass(frozen=True)
class JournalRecord:
    """Any other accepted payload (smoke, status, commands), kept verbatim once per event_id."""

    event_id: str
    kind: JournalKind
    camera: str | None
    at_us: int
    payload: str


@dataclass(frozen=True)
class Review:
    """An operator's verdict on a rider event; the latest (issued_us, command_id) wins."""

    command_id: str
    target_event_id: str
    action: ReviewAction
    operator: str
    issued_us: int


class Store(Protocol):
    """What the aggregator's rules need from persistence."""

    def transaction(self) -> AbstractContextManager[None]:
        """Group writes; committed together on success, rolled back on error."""
        ...

    def add_riders(self, riders: Sequence[RiderRecord]) -> list[RiderRecord]:
        """Store the riders whose event_id is new; returns those (duplicates dropped)."""
        ...

    def add_stats(self, stats: Sequence[StatsRecord]) -> int:
        """Store new stats payloads; returns how many were new."""
        ...

    def add_journal(self, record: JournalRecord) -> bool:
        """Store a payload once; False when its event_id was seen before."""
        ...

    def set_review(self, review: Review) -> bool:
        """Record a review; True when it is now the latest for its target."""
        ...

    def rider_camera(self, event_id: str) -> str | None:
        """The camera of a stored rider event, or None if not (yet) stored."""
        ...

    def point_counts(self, camera: str, start_us: int, end_us: int, verified: bool) -> dict[str, Counts]:
        """Counts per direction of a camera's riders captured in [start, end)."""
        ...

    def coverage_s(self, camera: str, start_us: int, end_us: int) -> float:
        """Seconds of video analysed in stats intervals starting in [start, end)."""
        ...

    def rider_cameras(self, start_us: int, end_us: int) -> list[str]:
        """Cameras with riders or stats in [start, end)."""
        ...

    def latest_rider_us(self, camera: str) -> int | None:
        """Capture time of a camera's newest rider event."""
        ...

    def get_incident(self, incident_id: str) -> FireIncident | None: ...

    def save_incident(self, incident: FireIncident) -> None: ...

    def open_incidents(self) -> list[FireIncident]:
        """Incidents not resolved or rejected."""
        ...

    def incidents_between(self, start_us: int, end_us: int) -> list[FireIncident]:
        """Incidents opened in [start, end)."""
        ...

    def incident_for_plume(self, camera: str, plume_id: str) -> str | None: ...

    def link_plume(self, camera: str, plume_id: str, incident_id: str) -> None: ...

    def get_alert(self, camera: str) -> HelmetAlert | None: ...

    def save_alert(self, alert: HelmetAlert) -> None: ...

    def alerts(self) -> list[HelmetAlert]: ...

    def close(self) -> None: ...


_SCHEMA = """
CREATE TABLE IF NOT EXISTS riders (
    event_id TEXT PRIMARY KEY, camera TEXT NOT NULL, direction TEXT NOT NULL,
    captured_us INTEGER NOT NULL, helmet INTEGER NOT NULL, no_helmet INTEGER NOT NULL,
    unknown INTEGER NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS riders_camera_time ON riders (camera, captured_us);
CREATE TABLE IF NOT EXISTS stats (
    event_id TEXT PRIMARY KEY, camera TEXT NOT NULL, start_us INTEGER NOT NULL,
    end_us INTEGER NOT NULL, covered_s REAL NOT NULL, payload TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS stats_camera_time ON stats (camera, start_us);
CREATE TABLE IF NOT EXISTS journal (
    event_id TEXT PRIMARY KEY, kind TEXT NOT NULL, camera TEXT, at_us INTEGER NOT NULL,
    payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS reviews (
    target TEXT PRIMARY KEY, action TEXT NOT NULL, operator TEXT NOT NULL,
    issued_us INTEGER NOT NULL, command_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS incidents (
    incident_id TEXT PRIMARY KEY, state TEXT NOT NULL, opened_us INTEGER NOT NULL,
    payload TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS plumes (
    camera TEXT NOT NULL, plume_id TEXT NOT NULL, incident_id TEXT NOT NULL,
    PRIMARY KEY (camera, plume_id));
CREATE TABLE IF NOT EXISTS helmet_alerts (camera TEXT PRIMARY KEY, payload TEXT NOT NULL);
"""
_VERSION = 1
_CHUNK = 500  # ids per IN (...) lookup, well under SQLite's parameter limit
_CLOSED = ("resolved", "rejected")


class SqliteStore:
    """`Store` on one SQLite file in WAL mode; commits are fsynced before events are acknowledged."""

    def __init__(self, path: Path | str) -> None:
        if str(path) != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # Autocommit mode: transactions are explicit. One thread uses the store at a time.
        self._db = sqlite3.connect(str(path), isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout=5000")
        self._db.execute("PRAGMA synchronous=FULL")
        version = self._db.execute("PRAGMA user_version").fetchone()[0]
        if version == 0:  # a new file; an existing one is not written to here (reports read it live)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.executescript(_SCHEMA)
            self._db.execute(f"PRAGMA user_version={_VERSION}")
        elif version != _VERSION:
            raise RuntimeError(f"store {path} has schema version {version}; this code knows {_VERSION}")
        self._depth = 0

    @contextmanager
    def _transaction(self) -> Iterator[None]:
        if self._depth:  # nested: part of the outer transaction
            yield
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        else:
            self._db.execute("COMMIT")
        finally:
            self._depth = 0

    def transaction(self) -> AbstractContextManager[None]:
        return self._transaction()

    def _known(self, table: str, ids: Sequence[str]) -> set[str]:
        known: set[str] = set()
        for i in range(0, len(ids), _CHUNK):
            chunk = ids[i:i + _CHUNK]
            marks = ",".join("?" * len(chunk))
            rows = self._db.execute(f"SELECT event_id FROM {table} WHERE event_id IN ({marks})", chunk)
            known.update(row[0] for row in rows)
        return known

    def add_riders(self, riders: Sequence[RiderRecord]) -> list[RiderRecord]:
        with self.transaction():
            known = self._known("riders", [r.event_id for r in riders])
            new: dict[str, RiderRecord] = {}
            for r in riders:
                if r.event_id not in known and r.event_id not in new:
                    new[r.event_id] = r
            self._db.executemany(
                "INSERT INTO riders VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [(r.event_id, r.camera, r.direction, r.captured_us, r.helmet, r.no_helmet, r.unknown,
                  r.payload) for r in new.values()])
        return list(new.values())

    def add_stats(self, stats: Sequence[StatsRecord]) -> int:
        with self.transaction():
            before = self._db.total_changes
            self._db.executemany(
                "INSERT OR IGNORE INTO stats VALUES (?, ?, ?, ?, ?, ?)",
                [(s.event_id, s.camera, s.start_us, s.end_us, s.covered_s, s.payload) for s in stats])
            return self._db.total_changes - before

    def add_journal(self, record: JournalRecord) -> bool:
        cursor = self._db.execute("INSERT OR IGNORE INTO journal VALUES (?, ?, ?, ?, ?)",
                                  (record.event_id, record.kind, record.camera, record.at_us, record.payload))
        return cursor.rowcount == 1

    def set_review(self, review: Review) -> bool:
        cursor = self._db.execute(
            "INSERT INTO reviews VALUES (?, ?, ?, ?, ?) ON CONFLICT (target) DO UPDATE SET "
            "action = excluded.action, operator = excluded.operator, issued_us = excluded.issued_us, "
            "command_id = excluded.command_id "
            "WHERE (excluded.issued_us, excluded.command_id) > (reviews.issued_us, reviews.command_id)",
            (review.target_event_id, review.action, review.operator, review.issued_us, review.command_id))
        return cursor.rowcount == 1

    def rider_camera(self, event_id: str) -> str | None:
        row = self._db.execute("SELECT camera FROM riders WHERE event_id = ?", (event_id,)).fetchone()
        return None if row is None else str(row[0])

    def point_counts(self, camera: str, start_us: int, end_us: int, verified: bool) -> dict[str, Counts]:
        rejected = ("AND event_id NOT IN (SELECT target FROM reviews WHERE action = 'reject')"
                    if verified else "")
        rows = self._db.execute(
            "SELECT direction, SUM(helmet + no_helmet > 0), SUM(helmet), SUM(no_helmet), SUM(unknown), "
            "SUM(helmet + no_helmet = 0) FROM riders "
            f"WHERE camera = ? AND captured_us >= ? AND captured_us < ? {rejected} GROUP BY direction",
            (camera, start_us, end_us))
        return {str(d): Counts(int(v), int(h), int(n), int(u), int(uv)) for d, v, h, n, u, uv in rows}

    def coverage_s(self, camera: str, start_us: int, end_us: int) -> float:
        row = self._db.execute(
            "SELECT COALESCE(SUM(covered_s), 0) FROM stats "
            "WHERE camera = ? AND start_us >= ? AND start_us < ?",
            (camera, start_us, end_us)).fetchone()
        return float(row[0])

    def rider_cameras(self, start_us: int, end_us: int) -> list[str]:
        rows = self._db.execute(
            "SELECT DISTINCT camera FROM riders WHERE captured_us >= ? AND captured_us < ? UNION "
            "SELECT DISTINCT camera FROM stats WHERE start_us >= ? AND start_us < ? ORDER BY 1",
            (start_us, end_us, start_us, end_us))
        return [str(r[0]) for r in rows]

    def latest_rider_us(self, camera: str) -> int | None:
        row = self._db.execute("SELECT MAX(captured_us) FROM riders WHERE camera = ?", (camera,)).fetchone()
        return None if row[0] is None else int(row[0])

    def get_incident(self, incident_id: str) -> FireIncident | None:
        row = self._db.execute("SELECT payload FROM incidents WHERE incident_id = ?",
                               (incident_id,)).fetchone()
        return None if row is None else FireIncident.model_validate_json(row[0])

    def save_incident(self, incident: FireIncident) -> None:
        self._db.execute(
            "INSERT INTO incidents VALUES (?, ?, ?, ?) ON CONFLICT (incident_id) DO UPDATE SET "
            "state = excluded.state, payload = excluded.payload",
            (incident.incident_id, incident.state, to_us(incident.opened_at), incident.model_dump_json()))

    def open_incidents(self) -> list[FireIncident]:
        rows = self._db.execute("SELECT payload FROM incidents WHERE state NOT IN (?, ?) ORDER BY opened_us",
                                _CLOSED)
        return [FireIncident.model_validate_json(r[0]) for r in rows]

    def incidents_between(self, start_us: int, end_us: int) -> list[FireIncident]:
        rows = self._db.execute(
            "SELECT payload FROM incidents WHERE opened_us >= ? AND opened_us < ? ORDER BY opened_us",
            (start_us, end_us))
        return [FireIncident.model_validate_json(r[0]) for r in rows]

    def incident_for_plume(self, camera: str, plume_id: str) -> str | None:
        row = self._db.execute("SELECT incident_id FROM plumes WHERE camera = ? AND plume_id = ?",
                               (camera, plume_id)).fetchone()
        return None if row is None else str(row[0])

    def link_plume(self, camera: str, plume_id: str, incident_id: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO plumes VALUES (?, ?, ?)", (camera, plume_id, incident_id))

    def get_alert(self, camera: str) -> HelmetAlert | None:
        row = self._db.execute("SELECT payload FROM helmet_alerts WHERE camera = ?", (camera,)).fetchone()
        return None if row is None else HelmetAlert.model_validate_json(row[0])

    def save_alert(self, alert: HelmetAlert) -> None:
        self._db.execute("INSERT OR REPLACE INTO helmet_alerts VALUES (?, ?)",
                         (alert.camera, alert.model_dump_json()))

    def alerts(self) -> list[HelmetAlert]:
        rows = self._db.execute("SELECT payload FROM helmet_alerts ORDER BY camera")
        return [HelmetAlert.model_validate_json(r[0]) for r in rows]

    def close(self) -> None:
        self._db.close()


def open_store(url: str) -> Store:
    """A store from a URL: `sqlite:///relative.db`, `sqlite:////absolute.db` (PostgreSQL: not yet)."""
    if url.startswith("sqlite:///"):
        return SqliteStore(url.removeprefix("sqlite:///"))
    if url.startswith("postgresql"):
        raise NotImplementedError("the PostgreSQL store is not implemented yet; use sqlite:///PATH")
    raise ValueError(f"unsupported store URL {url!r} (expected sqlite:///PATH)")
