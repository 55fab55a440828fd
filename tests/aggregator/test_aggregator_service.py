"""The aggregator through a real Mosquitto: alerts raised and cleared, refusals, restarts."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from broker import Broker
from conftest import CP, NAME_EN, PREFIX, SITE, Events, make_settings, message, write_site
from paho.mqtt.enums import CallbackAPIVersion

from edge.aggregator.engine import Engine
from edge.aggregator.service import AggregatorService
from edge.aggregator.store import SqliteStore
from edge.config import BrokerConfig
from edge.events import HelmetAlert, RatesState, Rejection

CLIENT_ID = "edge-aggregator-test"
ALERT_TOPIC = f"{PREFIX}/{SITE}/alerts/helmet/{CP}"
REPO = Path(__file__).resolve().parents[2]


def wait_for(predicate: Callable[[], bool], timeout_s: float = 15.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


class Client:
    """A plain MQTT v5 client for the test's side: publishes at QoS 1, records what it receives."""

    def __init__(self, broker: Broker, subscribe: Sequence[str] = ()) -> None:
        self.received: list[tuple[str, bytes, bool]] = []
        self._lock = threading.Lock()
        self._subscribe = list(subscribe)
        self._subscribed = threading.Event()
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self._client.on_message = self._on_message
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = lambda *_args: self._subscribed.set()
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if self._subscribe:
            assert self._subscribed.wait(10)

    def _on_connect(self, client: mqtt.Client, *_args: object) -> None:
        if self._subscribe:
            client.subscribe([(t, 1) for t in self._subscribe])

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.received.append((msg.topic, msg.payload, bool(msg.retain)))

    def on(self, topic: str) -> list[bytes]:
        with self._lock:
            return [payload for t, payload, _ in self.received if t == topic]

    def publish(self, messages: Sequence[tuple[str, bytes]]) -> None:
        infos = [self._client.publish(topic, data, qos=1) for topic, data in messages]
        for info in infos:
            info.wait_for_publish(10)  # acknowledged by the broker

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@pytest.fixture
def clients(broker: Broker) -> Iterator[Callable[..., Client]]:
    made: list[Client] = []

    def make(subscribe: Sequence[str] = ()) -> Client:
        made.append(Client(broker, subscribe))
        return made[-1]

    yield make
    for c in made:
        c.close()


def start_service(broker: Broker, db: Path, min_riders: int = 50) -> AggregatorService:
    engine = Engine(SqliteStore(db), make_settings(min_riders=min_riders))
    service = AggregatorService(engine, BrokerConfig(host=broker.host, port=broker.port), CLIENT_ID)
    service.start()
    assert service.connected.wait(10), "aggregator did not connect"
    return service


def stop_service(service: AggregatorService) -> None:
    service.stop()
    service.engine.store.close()


@pytest.fixture
def service(broker: Broker, tmp_path: Path) -> Iterator[AggregatorService]:
    s = start_service(broker, tmp_path / "aggregator.db")
    yield s
    stop_service(s)


def _latest_alert(client: Client) -> HelmetAlert | None:
    payloads = client.on(ALERT_TOPIC)
    return HelmetAlert.model_validate_json(payloads[-1]) if payloads else None


def test_alert_raised_then_cleared(service: AggregatorService, clients: Callable[..., Client],
                                   events: Events) -> None:
    publisher = clients()
    below = [events.rider(["no_helmet"]) for _ in range(15)] + [events.rider(["helmet"]) for _ in range(85)]
    publisher.publish([message(e) for e in below])
    wait_for(lambda: service.engine.tally.stored == 100, what="100 riders stored")
    # A subscriber arriving later gets the retained alert.
    watcher = clients([ALERT_TOPIC, f"{PREFIX}/{SITE}/rates/+"])
    wait_for(lambda: _latest_alert(watcher) is not None, what="retained alert")
    alert = _latest_alert(watcher)
    assert alert is not None
    assert alert.active
    assert watcher.received[0][2]
    assert alert.findings[0].text_en.startswith(
        "During the survey, the southbound point at the Baizhang branch of the rural bank saw 100 e-bikes "
        "in one week, 15 riders without a helmet; helmet rate 85.00%")
    publisher.publish([message(events.rider(["helmet"])) for _ in range(100)])
    wait_for(lambda: (a := _latest_alert(watcher)) is not None and not a.active, what="cleared alert")
    cleared = _latest_alert(watcher)
    assert cleared is not None
    assert cleared.points[0].rate == "92.50%"
    rates = RatesState.model_validate_json(watcher.on(f"{PREFIX}/{SITE}/rates/{CP}")[-1])
    assert (rates.raw[0].vehicles, rates.raw[0].no_helmet) == (200, 15)


def test_refused_payloads_go_to_rejected_and_are_not_counted(service: AggregatorService,
                                                             clients: Callable[..., Client],
                                                             events: Events) -> None:
    watcher = clients([f"{PREFIX}/{SITE}/rejected"])
    good_topic, good = message(events.rider(["helmet"]))
    naive = json.loads(good)
    naive.update(event_id="naive-1", captured_at="2025-01-14T09:00:00")
    clients().publish([(good_topic, b"not json"), (good_topic, b"x" * 70_000),
                       (good_topic, json.dumps(naive).encode()), (good_topic, good)])
    wait_for(lambda: len(watcher.on(f"{PREFIX}/{SITE}/rejected")) == 3, what="3 rejections")
    reasons = [Rejection.model_validate_json(p).reason for p in watcher.on(f"{PREFIX}/{SITE}/rejected")]
    assert "Invalid JSON" in reasons[0]
    assert "byte cap" in reasons[1]
    assert "timezone" in reasons[2]
    wait_for(lambda: service.engine.tally.stored == 1, what="the good event")
    assert service.engine.tally.refused == 3


def test_restart_resumes_events_published_while_down(broker: Broker, tmp_path: Path,
                                                     clients: Callable[..., Client], events: Events) -> None:
    db = tmp_path / "aggregator.db"
    first = start_service(broker, db)
    batch = [message(events.rider(["helmet"])) for _ in range(40)]
    publisher = clients()
    publisher.publish(batch[:10])
    wait_for(lambda: first.engine.tally.stored == 10, what="first 10")
    stop_service(first)
    publisher.publish(batch[10:])  # the broker holds these for the aggregator's session
    second = start_service(broker, db)
    try:
        wait_for(lambda: second.engine.tally.stored == 30, what="30 queued while down")
        publisher.publish(batch)  # a worker replaying everything changes nothing
        wait_for(lambda: second.engine.tally.duplicates == 40, what="40 duplicates")
        assert second.engine.store.point_counts(CP, 0, 2**62, verified=False)["southbound"].vehicles == 40
    finally:
        stop_service(second)


def test_broker_restart_reconnects_and_republishes_retained_state(
        broker: Broker, service: AggregatorService, clients: Callable[..., Client], events: Events) -> None:
    publisher = clients()
    publisher.publish([message(events.rider(["no_helmet"])) for _ in range(60)])
    wait_for(lambda: service.engine.store.get_alert(CP) is not None, what="alert")
    publisher.close()
    broker.restart()  # no persistence: sessions and retained messages are gone
    wait_for(lambda: service.connected.is_set(), what="reconnect")
    watcher = clients([ALERT_TOPIC])
    wait_for(lambda: _latest_alert(watcher) is not None, what="alert republished")
    clients().publish([message(events.rider(["helmet"]))])
    wait_for(lambda: service.engine.tally.stored == 61, what="event after reconnect")


def test_edge_aggregator_command_runs_until_sigterm(broker: Broker, tmp_path: Path,
                                                    clients: Callable[..., Client], events: Events) -> None:
    site = write_site(tmp_path, port=broker.port)
    runner = ("import sys, argparse, logging; from edge.aggregator.cli import add_parsers; "
              "p = argparse.ArgumentParser(); add_parsers(p.add_subparsers()); a = p.parse_args(); "
              "logging.basicConfig(level='INFO'); sys.exit(a.func(a))")

    def edge(*args: str) -> list[str]:
        return [sys.executable, "-c", runner, *args]

    watcher = clients([f"{PREFIX}/{SITE}/rates/{CP}"])
    process = subprocess.Popen(edge("aggregator", str(site)), cwd=REPO, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)
    rates_topic = f"{PREFIX}/{SITE}/rates/{CP}"
    try:
        # Rates are republished every second: a second one means the aggregator has subscribed.
        wait_for(lambda: len(watcher.on(rates_topic)) >= 2, what="aggregator up")
        clients().publish([message(events.rider(["no_helmet"]))] + [message(events.rider(["helmet"]))
                                                                     for _ in range(19)])
        wait_for(lambda: any(RatesState.model_validate_json(p).raw and
                             RatesState.model_validate_json(p).raw[0].vehicles == 20
                             for p in watcher.on(rates_topic)), what="rates of 20")
    finally:
        process.send_signal(signal.SIGTERM)
        output = process.communicate(timeout=15)[0].decode()
    assert process.returncode == 0, output
    assert f"connected to {broker.host}:{broker.port}" in output
    report = subprocess.run(edge("report", str(site), "--week", "2025-W03", "--format", "csv"), cwd=REPO,
                            capture_output=True, text=True, check=True).stdout
    _header, row = report.splitlines()
    assert row.startswith(f"{SITE},2025-W03,raw,{CP},{NAME_EN},southbound,20,19,1,")
    assert ",95.00%," in row
