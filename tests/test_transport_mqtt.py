"""The MQTT publisher against a real Mosquitto: outages, PUBACK-only deletion, last will, retained
status on reconnect and on a clean exit, and passwords kept out of the logs."""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from broker import Broker, mosquitto_available
from paho.mqtt.enums import CallbackAPIVersion

from edge.config import BrokerConfig, TlsConfig
from edge.outbox import EventKind, SqliteOutbox
from edge.transport.mqtt import MqttPublisher
from edge.transport.topics import rider_topic, smoke_topic, status_topic

pytestmark = pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")

SITE, CAMERA, PREFIX = "site-1", "cam-1", "edge/v1"
STATUS = status_topic(PREFIX, SITE, CAMERA)
RIDER = rider_topic(PREFIX, SITE, CAMERA)
SMOKE = smoke_topic(PREFIX, SITE, CAMERA)
# Mosquitto started as root drops to the `mosquitto` user, which cannot reach pytest's private
# tmp dirs (password file, persistence); keep it root there. Ignored when not started as root.
AS_ROOT = ["user root"] if os.geteuid() == 0 else []


def wait_until(predicate: Callable[[], bool], timeout_s: float) -> bool:
    """Poll `predicate` every 20 ms until it holds or timeout_s passes (state with no event to wait on)."""
    deadline = time.monotonic() + timeout_s
    tick = threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.02)
    return True


class Subscriber:
    """A plain paho client that records what arrives on `topics`."""

    def __init__(self, broker: Broker, topics: list[str], *, client_id: str = "",
                 persistent: bool = False) -> None:
        self.messages: list[tuple[str, bytes, bool]] = []
        self._changed = threading.Condition()
        self._subscribed = threading.Event()
        self._topics = topics
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  clean_session=not persistent)
        self.client.on_connect = self._on_connect
        self.client.on_subscribe = lambda *_: self._subscribed.set()
        self.client.on_message = self._on_message
        self.client.reconnect_delay_set(1, 1)
        self.client.connect(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        assert self._subscribed.wait(10), "subscription not acknowledged"

    def _on_connect(self, client: mqtt.Client, *_: Any) -> None:
        client.subscribe([(topic, 1) for topic in self._topics])

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        with self._changed:
            self.messages.append((message.topic, bytes(message.payload), bool(message.retain)))
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes, bool]]], bool], timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: predicate(self.messages), timeout=timeout_s)

    def statuses(self) -> list[tuple[str, bool]]:
        with self._changed:
            return [(json.loads(p)["state"], retain) for t, p, retain in self.messages if t == STATUS]

    def event_ids(self) -> set[str]:
        with self._changed:
            return {json.loads(p)["event_id"] for t, p, _ in self.messages if t != STATUS}

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    with Broker(tmp_path) as running:
        yield running


@pytest.fixture
def cleanup() -> Iterator[list[Callable[[], None]]]:
    closers: list[Callable[[], None]] = []
    yield closers
    for close in reversed(closers):
        close()


def publisher(broker: Broker, outbox: SqliteOutbox, cleanup: list[Callable[[], None]],
              **config: Any) -> MqttPublisher:
    pub = MqttPublisher(BrokerConfig(host=broker.host, port=broker.port, **config), site=SITE, camera=CAMERA,
                        outbox=outbox, reconnect_max_s=1).start()
    cleanup.append(pub.close)
    return pub


def retained_status(broker: Broker) -> tuple[str, bool]:
    """The state a newly connecting client gets from the retained status."""
    sub = Subscriber(broker, [STATUS])
    try:
        assert sub.wait_for(lambda m: bool(m), 5.0), "no retained status"
        return sub.statuses()[0]
    finally:
        sub.close()


def put(outbox: SqliteOutbox, event_id: str, kind: EventKind = EventKind.RIDER) -> None:
    topic = RIDER if kind is EventKind.RIDER else SMOKE
    outbox.put(kind, event_id, topic, json.dumps({"event_id": event_id}).encode())


def test_events_put_while_the_broker_is_down_arrive_when_it_is_back(
        tmp_path: Path, cleanup: list[Callable[[], None]]) -> None:
    store = tmp_path / "mosquitto-db"
    store.mkdir()
    broker = Broker(tmp_path, extra=["persistence true", f"persistence_location {store}/", *AS_ROOT])
    broker.start()
    cleanup.append(broker.stop)
    # A persistent session, so the subscription outlives the outage whoever reconnects first.
    sub = Subscriber(broker, [RIDER, SMOKE], client_id="test-subscriber", persistent=True)
    cleanup.append(sub.close)
    broker.stop()

    outbox = SqliteOutbox(tmp_path / "outbox.db")
    cleanup.append(outbox.close)
    pub = publisher(broker, outbox, cleanup)
    sent = [f"ev-{i}" for i in range(5)]
    for event_id in sent:
        put(outbox, event_id, EventKind.SMOKE if event_id == "ev-2" else EventKind.RIDER)
    assert not pub.wait_connected(0.3)
    assert outbox.depth() == 5  # nothing leaves without a broker

    broker.start()
    assert pub.drain(timeout_s=15.0) == 0
    assert sub.wait_for(lambda _: sub.event_ids() >= set(sent), 15.0)
    assert pub.stats().acked == 5


def test_rows_are_deleted_only_after_the_puback(broker: Broker, tmp_path: Path,
                                                cleanup: list[Callable[[], None]]) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    cleanup.append(outbox.close)
    pub = publisher(broker, outbox, cleanup)
    assert pub.wait_connected(10.0)
    sub = Subscriber(broker, [RIDER])
    cleanup.append(sub.close)
    process = broker._process  # the test helper keeps its process private; we freeze it in place
    assert process is not None
    process.send_signal(signal.SIGSTOP)  # connected, but the broker answers nothing
    cleanup.append(lambda: process.send_signal(signal.SIGCONT))
    began = time.monotonic()
    for i in range(50):
        put(outbox, f"ev-{i}")
    assert time.monotonic() - began < 2.0  # put() never waits on the broker
    assert wait_until(lambda: pub.stats().published == 20, 5.0)  # the in-flight window is full
    assert not wait_until(lambda: outbox.depth() < 50, 0.3)
    assert pub.stats().acked == 0

    process.send_signal(signal.SIGCONT)
    assert pub.drain(timeout_s=10.0) == 0
    assert pub.stats().acked == 50
    assert sub.wait_for(lambda _: len(sub.event_ids()) == 50, 10.0)


_CHILD = """
import sys
from edge.config import BrokerConfig, TlsConfig
from edge.outbox import SqliteOutbox
from edge.transport.mqtt import MqttPublisher
config = BrokerConfig(host="127.0.0.1", port=int(sys.argv[1]))
pub = MqttPublisher(config, site="site-1", camera="cam-1", outbox=SqliteOutbox(sys.argv[2])).start()
print("connected" if pub.wait_connected(10) else "not connected", flush=True)
sys.stdin.read()  # until killed
"""


def test_last_will_offline_when_the_worker_is_killed(broker: Broker, tmp_path: Path,
                                                     cleanup: list[Callable[[], None]]) -> None:
    sub = Subscriber(broker, [STATUS])
    cleanup.append(sub.close)
    child = subprocess.Popen([sys.executable, "-c", _CHILD, str(broker.port), str(tmp_path / "o.db")],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE)

    def stop_child() -> None:
        child.kill()
        child.wait(timeout=10)

    cleanup.append(stop_child)
    assert child.stdout is not None
    assert select.select([child.stdout], [], [], 30)[0], "the worker did not start"
    assert child.stdout.readline().strip() == b"connected"
    assert sub.wait_for(lambda _: ("online", False) in sub.statuses(), 5.0)

    child.send_signal(signal.SIGKILL)
    assert sub.wait_for(lambda _: sub.statuses()[-1][0] == "offline", 10.0)
    assert retained_status(broker) == ("offline", True)


def test_online_is_retained_again_after_a_reconnect(broker: Broker, tmp_path: Path,
                                                    cleanup: list[Callable[[], None]]) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    cleanup.append(outbox.close)
    pub = publisher(broker, outbox, cleanup)
    assert pub.wait_connected(10.0)
    assert retained_status(broker) == ("online", True)
    broker.restart()  # an in-memory broker: retained messages are gone
    assert wait_until(lambda: pub.stats().connects == 2, 10.0)
    assert retained_status(broker) == ("online", True)
    pub.set_status("online", "camera offline: stalled")  # what a worker does while its camera is away
    broker.restart()
    assert wait_until(lambda: pub.stats().connects == 3, 10.0)
    sub = Subscriber(broker, [STATUS])
    cleanup.append(sub.close)
    assert sub.wait_for(lambda m: bool(m), 5.0)
    assert json.loads(sub.messages[0][1])["details"] == "camera offline: stalled"


def test_stopped_is_retained_on_a_clean_close(broker: Broker, tmp_path: Path,
                                              cleanup: list[Callable[[], None]]) -> None:
    sub = Subscriber(broker, [STATUS])
    cleanup.append(sub.close)
    with SqliteOutbox(tmp_path / "outbox.db") as outbox:
        pub = MqttPublisher(BrokerConfig(host=broker.host, port=broker.port), site=SITE, camera=CAMERA,
                            outbox=outbox).start()
        assert pub.wait_connected(10.0)
        put(outbox, "last-event")
        pub.stopped("stopped after 10 frames")
        assert pub.drain(timeout_s=5.0) == 0
        pub.close()
    assert sub.wait_for(lambda _: sub.statuses()[-1:] == [("stopped", False)], 5.0)
    assert not sub.wait_for(lambda _: ("offline", False) in sub.statuses(), 0.5)  # no last will
    assert retained_status(broker) == ("stopped", True)


def test_passwords_never_reach_the_logs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                        caplog: pytest.LogCaptureFixture,
                                        cleanup: list[Callable[[], None]]) -> None:
    secret = "Br0ker-Secret-5521"
    password_file = tmp_path / "passwd"
    subprocess.run(["mosquitto_passwd", "-b", "-c", str(password_file), "edge", secret], check=True,
                   capture_output=True, timeout=30)
    broker = Broker(tmp_path, extra=["allow_anonymous false", f"password_file {password_file}", *AS_ROOT])
    broker.start()
    cleanup.append(broker.stop)
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("EDGE_TEST_BROKER_PASSWORD", secret)
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    cleanup.append(outbox.close)
    auth = {"username": "edge", "password_env": "EDGE_TEST_BROKER_PASSWORD"}
    pub = MqttPublisher(BrokerConfig(host=broker.host, port=broker.port, **auth), site=SITE, camera=CAMERA,
                        outbox=outbox).start()
    assert pub.wait_connected(10.0)
    put(outbox, "ev-1")
    assert pub.drain(timeout_s=5.0) == 0
    pub.close()

    monkeypatch.setenv("EDGE_TEST_BROKER_PASSWORD", f"wrong-{secret}")
    refused = MqttPublisher(BrokerConfig(host=broker.host, port=broker.port, **auth), site=SITE,
                            camera="cam-2", outbox=outbox).start()
    assert wait_until(lambda: "refused the connection" in caplog.text, 10.0)
    assert not refused.connected
    refused.close()
    assert "Sending CONNECT" in caplog.text  # paho's own debug lines were captured too
    assert secret not in caplog.text
    assert not any(secret in str(record.args) for record in caplog.records)


def make_certificates(folder: Path) -> dict[str, Path]:
    """A CA, a server certificate for `localhost` only, and a client certificate (openssl CLI)."""
    paths = {name: folder / name for name in ("ca.crt", "ca.key", "server.crt", "server.key",
                                               "client.crt", "client.key")}
    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]

    def openssl(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)

    openssl("req", "-x509", *key, "-keyout", str(paths["ca.key"]), "-out", str(paths["ca.crt"]),
            "-days", "2", "-subj", "/CN=test-ca")
    extensions = {"server": "subjectAltName=DNS:localhost", "client": "extendedKeyUsage=clientAuth"}
    for name, extension in extensions.items():
        csr, ext = folder / f"{name}.csr", folder / f"{name}.ext"
        ext.write_text(extension + "\n")
        openssl("req", *key, "-keyout", str(paths[f"{name}.key"]), "-out", str(csr), "-subj", f"/CN={name}")
        openssl("x509", "-req", "-in", str(csr), "-CA", str(paths["ca.crt"]), "-CAkey", str(paths["ca.key"]),
                "-CAcreateserial", "-out", str(paths[f"{name}.crt"]), "-days", "2", "-extfile", str(ext))
    return paths


@pytest.mark.skipif(not shutil.which("openssl"), reason="openssl CLI not installed")
def test_tls_with_client_certificate_and_hostname_checking(tmp_path: Path,
                                                           cleanup: list[Callable[[], None]]) -> None:
    certs = make_certificates(tmp_path)
    broker = Broker(tmp_path, extra=[f"cafile {certs['ca.crt']}", f"certfile {certs['server.crt']}",
                                     f"keyfile {certs['server.key']}", "require_certificate true", *AS_ROOT])
    broker.start()
    cleanup.append(broker.stop)
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    cleanup.append(outbox.close)

    def connects(host: str, check_hostname: bool) -> bool:
        tls = TlsConfig(ca_file=certs["ca.crt"], cert_file=certs["client.crt"], key_file=certs["client.key"],
                        check_hostname=check_hostname)
        pub = MqttPublisher(BrokerConfig(host=host, port=broker.port, tls=tls), site=SITE, camera=CAMERA,
                            outbox=outbox).start()
        try:
            return pub.wait_connected(3.0 if check_hostname and host == "localhost" else 1.0)
        finally:
            pub.close()

    assert connects("localhost", check_hostname=True)
    assert not connects("127.0.0.1", check_hostname=True)  # the certificate names localhost only
    assert connects("127.0.0.1", check_hostname=False)  # chain still verified, name not checked


def test_messages_in_flight_when_the_connection_drops_are_sent_again(
        broker: Broker, tmp_path: Path, cleanup: list[Callable[[], None]]) -> None:
    outbox = SqliteOutbox(tmp_path / "outbox.db")
    cleanup.append(outbox.close)
    pub = publisher(broker, outbox, cleanup)
    assert pub.wait_connected(10.0)
    process = broker._process
    assert process is not None
    process.send_signal(signal.SIGSTOP)
    for i in range(5):
        put(outbox, f"ev-{i}")
    assert wait_until(lambda: pub.stats().published == 5, 5.0)
    process.kill()  # the broker dies without acknowledging anything
    broker.stop()
    assert outbox.depth() == 5
    broker.start()
    assert pub.drain(timeout_s=15.0) == 0  # acknowledged by the new broker: paho sent them again
    assert pub.stats().published == 5  # by paho's resend, not a second hand-off from the outbox
