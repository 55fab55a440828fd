"""A worker SIGKILLed while the broker is down: its outbox survives and is delivered once (DESIGN.md 6)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from broker import Broker
from faultkit import CAMERA, DAY_CLIP, ROOT, SITE_YAML, START, Aggregator, outbox_ids, wait_until

from edge.outbox import EventKind
from edge.pipeline.sinks import PutEvent

#: Kill the worker once its outbox holds at least this many events (the day clip emits 54).
KILL_AT = 20

# A second process over the same outbox file: no camera, no model, just the delivery stage
# (edge.pipeline.delivery) draining what the killed worker left. No `edge` command does this alone.
_DRAIN = """
import sys
from pathlib import Path
from edge.config import load_site
from edge.pipeline.delivery import open_delivery
site = load_site(Path(sys.argv[1]))
delivery = open_delivery(site, sys.argv[2], broker_url=sys.argv[3], outbox_path=Path(sys.argv[4]))
left = delivery.drain(timeout_s=30.0)
delivery.stopped("outbox drained")
delivery.close()
print(left, flush=True)
sys.exit(1 if left else 0)
"""


def _replay_command(broker: Broker, outbox: Path) -> list[str]:
    return [sys.executable, "-m", "edge", "replay", str(SITE_YAML), str(DAY_CLIP), "--camera", CAMERA,
            "--broker", f"mqtt://{broker.host}:{broker.port}", "--outbox", str(outbox), "--truth-detections",
            "--quiet", "--no-evidence", "--start", START.isoformat()]


def _queued(outbox: Path) -> int:
    if not outbox.exists():
        return 0
    try:
        return len(outbox_ids(outbox))
    except sqlite3.OperationalError:  # the worker is still creating its tables
        return 0


@pytest.mark.fault_deadline(90)
def test_worker_killed_while_the_broker_is_down_delivers_its_outbox_once(
        clean_day: list[PutEvent], tmp_path: Path, brokers: Callable[..., Broker],
        aggregators: Callable[[Broker], Aggregator]) -> None:
    """`edge replay --broker --outbox` runs as a real process while the broker is down and is
    SIGKILLed once its outbox holds KILL_AT events. With the broker back and the aggregator
    subscribed, a second process drains that outbox file: the store then holds exactly the
    events the killed worker had queued, and the outbox is empty. A third process replaying
    the same clip into the same outbox (a restarted worker) leaves the store with exactly the
    clean run's events: none missing, none twice."""
    env = {**os.environ, "YOLO_OFFLINE": "1"}
    broker = brokers()  # not started: the worker runs while the broker is down
    outbox = tmp_path / "outbox.db"
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen(_replay_command(broker, outbox), cwd=tmp_path, env=env,
                                  stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_until(lambda: _queued(outbox) >= KILL_AT or worker.poll() is not None, 60, "events queued")
        worker.send_signal(signal.SIGKILL)
    finally:
        worker.kill()
        worker.wait(timeout=10)
    assert worker.returncode == -signal.SIGKILL, log.read_text(errors="replace")[-2000:]
    queued = outbox_ids(outbox)
    assert len(queued) >= KILL_AT

    broker.start()
    aggregator = aggregators(broker)
    drain = subprocess.run([sys.executable, "-c", _DRAIN, str(SITE_YAML), CAMERA,
                            f"mqtt://{broker.host}:{broker.port}", str(outbox)],
                           cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=False)
    assert drain.returncode == 0, drain.stderr[-2000:]
    assert outbox_ids(outbox) == []
    wait_until(lambda: aggregator.stored_ids() >= set(queued), 15, "the queued events in the store")
    assert aggregator.stored_ids() == set(queued)
    assert len(aggregator.event_ids("riders")) + len(aggregator.event_ids("stats")) == len(queued)

    again = subprocess.run(_replay_command(broker, outbox), cwd=tmp_path, env=env, capture_output=True,
                           text=True, timeout=60, check=False)
    assert again.returncode == 0, again.stderr[-2000:]
    clean_ids = {e.event_id for e in clean_day}
    wait_until(lambda: aggregator.stored_ids() >= clean_ids, 15, "the clean run's events in the store")
    assert aggregator.stored_ids() == clean_ids
    riders = [e for e in clean_day if e.kind is EventKind.RIDER]
    assert sorted(aggregator.event_ids("riders")) == sorted(e.event_id for e in riders)
    counted = sum(r.riders + r.unknown_vehicles for r in aggregator.report_rows() if r.camera == CAMERA)
    assert counted == len(riders)
    print(f"killed with {len(queued)} of {len(clean_ids)} events queued")
