"""Helpers of the fault tests: real Mosquitto, real aggregator service and store, MQTT clients.

Not a test module. Everything waits on a condition with a deadline; nothing sleeps blindly.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import paho.mqtt.client as mqtt
from broker import Broker
from paho.mqtt.enums import CallbackAPIVersion

from edge.aggregator.configure import settings_from
from edge.aggregator.engine import Engine
from edge.aggregator.report import Row, build_report
from edge.aggregator.service import AggregatorService
from edge.aggregator.store import SqliteStore
from edge.aggregator.weeks import IsoWeek
from edge.config import BrokerConfig, SiteConfig

ROOT = Path(__file__).resolve().parents[2]
SITE_YAML = ROOT / "configs" / "site.yaml"
SAMPLES = ROOT / "samples"
DAY_CLIP = SAMPLES / "checkpoint-day.mp4"
CAMERA = "cp-baizhang-s"
# The replays' own clock (DESIGN.md 6): a Tuesday morning in ISO week 2025-W19, Asia/Shanghai.
START = datetime(2025, 5, 6, 8, 0, tzinfo=timezone(timedelta(hours=8)))
WEEK = IsoWeek.parse("2025-W19")
REPORT_NOW = datetime(2025, 5, 13, 12, 0, tzinfo=UTC)  # after that week: its coverage share is final
# Mosquitto started as root drops to the `mosquitto` user, which cannot write pytest's private
# tmp dirs (persistence); keep it root there. Ignored when not started as root.
AS_ROOT = ["user root"] if os.geteuid() == 0 else []


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Poll `predicate` every 20 ms until it holds; fail naming `what` after timeout_s."""
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")
        tick.wait(0.02)


def persistent_broker(workdir: Path) -> Broker:
    """A Mosquitto that keeps sessions (and their queued messages) across a stop and start,
    as production brokers must (README: turn persistence on)."""
    store = workdir / "mosquitto-db"
    store.mkdir(exist_ok=True)
    return Broker(workdir, extra=["persistence true", f"persistence_location {store}/", *AS_ROOT])


@dataclass(frozen=True)
class Received:
    topic: str
    payload: bytes
    retain: bool
    at: float  # time.monotonic() on arrival


class Subscriber:
    """A plain paho client recording what arrives on `topics` (QoS 1), resubscribing on reconnect."""

    def __init__(self, broker: Broker, topics: Sequence[str]) -> None:
        self.messages: list[Received] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._topics = list(topics)
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.client.on_connect = lambda client, *_: client.subscribe([(t, 1) for t in self._topics])
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 1)
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def _on_message(self, _client: mqtt.Client, _userdata: object, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append(Received(message.topic, bytes(message.payload), bool(message.retain),
                                          time.monotonic()))
            self._changed.notify_all()

    def on(self, topic: str) -> list[Received]:
        with self._changed:
            return [m for m in self.messages if m.topic == topic]

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
        with self._changed:
            if not self._changed.wait_for(predicate, timeout=timeout_s):
                raise AssertionError(f"timed out after {timeout_s:g} s waiting for {what}")

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def publish_all(broker: Broker, messages: Iterable[tuple[str, bytes]], timeout_s: float = 60.0) -> int:
    """Publish at QoS 1 from a fresh client and return once the broker acknowledged every one."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2)
    client.max_queued_messages_set(0)  # unlimited: paho keeps what exceeds its in-flight window
    client.connect(broker.host, broker.port, keepalive=30)
    client.loop_start()
    try:
        infos = [client.publish(topic, payload, qos=1) for topic, payload in messages]
        deadline = time.monotonic() + timeout_s
        for info in infos:
            info.wait_for_publish(max(deadline - time.monotonic(), 0.1))
            assert info.is_published(), f"message {info.mid} not acknowledged within {timeout_s:g} s"
        return len(infos)
    finally:
        client.disconnect()
        client.loop_stop()


class Aggregator:
    """The real aggregator service (the site's settings) on its own SQLite store, connected to `broker`."""

    def __init__(self, site: SiteConfig, broker: Broker, db: Path, client_id: str) -> None:
        self.db, self.site = db, site
        self.store = SqliteStore(db)
        self.engine = Engine(self.store, settings_from(site))
        self.service = AggregatorService(self.engine, BrokerConfig(host=broker.host, port=broker.port),
                                         client_id)
        self.service.start()
        assert self.service.connected.wait(15), "aggregator did not connect"
        self._stopped = False

    def stop(self) -> None:
        if not self._stopped:
            self._stopped = True
            self.service.stop()
            self.store.close()

    def event_ids(self, table: str) -> list[str]:
        """The event ids held in `riders` or `stats`, read through a connection of our own."""
        assert table in ("riders", "stats")
        with closing(sqlite3.connect(f"file:{self.db}?mode=ro", uri=True)) as db:
            return [str(row[0]) for row in db.execute(f"SELECT event_id FROM {table}")]

    def stored_ids(self) -> set[str]:
        return set(self.event_ids("riders")) | set(self.event_ids("stats"))

    def report_rows(self, week: IsoWeek = WEEK) -> tuple[Row, ...]:
        """The week's report rows, built from a read-only copy of the store as `edge report` does."""
        store = SqliteStore(self.db)
        try:
            return build_report(store, settings_from(self.site), week, verified=False, now=REPORT_NOW).rows
        finally:
            store.close()


def outbox_ids(path: Path) -> list[str]:
    """Event ids waiting in an outbox file (what a killed worker left behind)."""
    with closing(sqlite3.connect(path)) as db:
        return [str(row[0]) for row in db.execute("SELECT event_id FROM outbox ORDER BY seq")]


def status_of(message: Received) -> tuple[str, str]:
    """(state, details) of a retained status payload."""
    body = json.loads(message.payload)
    return str(body["state"]), str(body.get("details", ""))
