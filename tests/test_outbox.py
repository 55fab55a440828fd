"""The SQLite outbox: unique ids, order, ack, the cap's shedding policy, and kill -9 survival."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.outbox import EventKind, OutboxMessage, SqliteOutbox

RIDER, SMOKE, STATS = EventKind.RIDER, EventKind.SMOKE, EventKind.STATS


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[SqliteOutbox]:
    with SqliteOutbox(tmp_path / "outbox.db") as box:
        yield box


def put(box: SqliteOutbox, kind: EventKind, event_id: str) -> None:
    box.put(kind, event_id, f"edge/v1/site/cam/{kind.value}", f'{{"event_id":"{event_id}"}}'.encode())


def ids(messages: list[OutboxMessage]) -> list[str]:
    return [m.event_id for m in messages]


def test_unique_ids_order_and_ack(outbox: SqliteOutbox) -> None:
    for event_id in ("a", "b", "a", "c", "b"):
        put(outbox, RIDER, event_id)
    pending = outbox.pending(10)
    assert ids(pending) == ["a", "b", "c"]
    assert [m.seq for m in pending] == sorted(m.seq for m in pending)
    assert pending[0] == OutboxMessage(pending[0].seq, "a", RIDER, "edge/v1/site/cam/rider",
                                       b'{"event_id":"a"}')
    assert outbox.depth() == 3
    assert ids(outbox.pending(1)) == ["a"]
    assert ids(outbox.pending(10, after_seq=pending[0].seq)) == ["b", "c"]

    assert outbox.ack(pending[1].seq) is True
    assert outbox.ack(pending[1].seq) is False
    assert ids(outbox.pending(10)) == ["a", "c"]
    assert outbox.depth() == 2
    put(outbox, SMOKE, "d")
    assert outbox.pending(10)[-1].seq > pending[-1].seq  # seqs are never reused


def test_listener_runs_after_each_new_put(outbox: SqliteOutbox) -> None:
    calls: list[int] = []
    outbox.add_listener(lambda: calls.append(outbox.depth()))
    put(outbox, RIDER, "a")
    put(outbox, RIDER, "a")
    put(outbox, SMOKE, "b")
    assert calls == [1, 2]


def test_cap_sheds_oldest_rider_events_never_smoke(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db", max_rows=4) as box:
        put(box, RIDER, "r1")
        put(box, SMOKE, "s1")
        put(box, RIDER, "r2")
        put(box, RIDER, "r3")
        put(box, SMOKE, "s2")  # full: r1 goes
        put(box, RIDER, "r4")  # full: r2 goes
        assert ids(box.pending(10)) == ["s1", "r3", "s2", "r4"]
        assert box.shed_events == 2
        put(box, SMOKE, "s3")
        put(box, SMOKE, "s4")
        assert ids(box.pending(10)) == ["s1", "s2", "s3", "s4"]
        put(box, SMOKE, "s5")  # nothing sheddable left: a fire alert exceeds the cap
        assert box.depth() == 5
        put(box, RIDER, "r5")  # the only rider is the newest: it is the one shed
        assert ids(box.pending(10)) == ["s1", "s2", "s3", "s4", "s5"]
        assert box.stats().shed_rider == 5
    with SqliteOutbox(tmp_path / "o.db", max_rows=4) as box:
        assert box.shed_events == 5  # persisted
        assert box.depth() == 5


def test_stats_are_shed_before_rider_events(tmp_path: Path) -> None:
    with SqliteOutbox(tmp_path / "o.db", max_rows=3) as box:
        put(box, RIDER, "r1")
        put(box, STATS, "t1")
        put(box, RIDER, "r2")
        put(box, RIDER, "r3")
        assert ids(box.pending(10)) == ["r1", "r2", "r3"]
        assert (box.stats().shed_stats, box.shed_events) == (1, 0)


def test_rejects_a_zero_cap(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_rows"):
        SqliteOutbox(tmp_path / "o.db", max_rows=0)


_WRITER = """
import sys
from edge.outbox import EventKind, SqliteOutbox
box = SqliteOutbox(sys.argv[1])
n = 0
while True:
    box.put(EventKind.SMOKE if n % 7 == 0 else EventKind.RIDER, f"ev-{n}", "edge/v1/s/c/rider", b"x" * 200)
    print(f"ev-{n}", flush=True)  # printed only after put() returned: committed
    n += 1
"""


def test_committed_events_survive_kill_9(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    child = subprocess.Popen([sys.executable, "-c", _WRITER, str(path)], stdout=subprocess.PIPE, text=True)
    committed: list[str] = []
    try:
        assert child.stdout is not None
        for line in child.stdout:  # bounded: the child writes lines without pause
            committed.append(line.strip())
            if len(committed) == 150:
                child.send_signal(signal.SIGKILL)
                break
        committed += [line.strip() for line in child.stdout]  # printed before it died
    finally:
        child.kill()
        child.wait(timeout=10)
    assert child.returncode == -signal.SIGKILL
    assert sqlite3.connect(path).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    with SqliteOutbox(path) as box:
        found = ids(box.pending(10_000))
    assert found[:len(committed)] == committed
    assert len(found) - len(committed) <= 1  # at most the one committed but not yet printed
