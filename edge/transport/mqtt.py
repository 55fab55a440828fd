"""The worker's MQTT publisher: drains the outbox at QoS 1 and keeps the camera's retained status.

Nothing here blocks the worker: paho's network thread talks to the broker and reconnects with
backoff, and a drain thread hands outbox rows to paho, at most `max_in_flight` unacknowledged at
a time. A row is deleted only after the broker's PUBACK for its message id (paho's on_publish);
under MQTT 5 a PUBACK whose reason code is a failure (Mosquitto's 0x87 "not authorized" for a
publish its ACL denies) leaves the row on disk, logged, until a restart sends it again: under
3.1.1 the broker acks a refused publish like any other, and the event would be lost. paho
resends unacknowledged messages after a reconnect, and rows still on disk after a restart are sent
again, so delivery is at-least-once and the aggregator dedupes by event_id.

Status (`{prefix}/{site}/{camera}/status`, retained): the last will is `offline`; `online` is
published on every (re)connect; `stopped` on a clean exit, before disconnecting. Status goes
straight out via `publish_now` (the latest wins). Stats are the pipeline's and go through the
outbox as EventKind.STATS, so an interval measured during an outage still arrives later.
"""

from __future__ import annotations

import logging
import ssl
import sys
import threading
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode
from paho.mqtt.reasoncodes import ReasonCode

from edge.config import BrokerConfig
from edge.events.health import WorkerState
from edge.outbox.sqlite import DEFAULT_MAX_ROWS, SqliteOutbox
from edge.transport.status import status_payload
from edge.transport.topics import status_topic

log = logging.getLogger(__name__)
_paho_log = logging.getLogger(f"{__name__}.paho")

# Wake the drain thread at least this often, in case rows were put by another process.
_POLL_S = 1.0
# Room in paho's own in-flight window for status messages beside the outbox's.
_STATUS_ROOM = 4


@dataclass(frozen=True, slots=True)
class PublisherStats:
    connected: bool
    connects: int  # successful (re)connects
    published: int  # outbox messages handed to paho (resends by paho not counted)
    acked: int  # outbox messages acknowledged by the broker and deleted
    in_flight: int
    outbox_depth: int
    refused: int = 0  # outbox messages the broker refused (MQTT 5 PUBACK failure); kept on disk


def _tls_context(broker: BrokerConfig) -> ssl.SSLContext | None:
    tls = broker.tls
    if tls is None:
        return None
    context = ssl.create_default_context(cafile=str(tls.ca_file) if tls.ca_file else None)
    if tls.cert_file is not None and tls.key_file is not None:
        context.load_cert_chain(str(tls.cert_file), str(tls.key_file))
    context.check_hostname = tls.check_hostname  # the certificate itself is always verified
    return context


class MqttPublisher:
    """Publishes one camera's outbox and status. `start()` returns at once; the broker may be away."""

    def __init__(self, broker: BrokerConfig, *, site: str, camera: str, outbox: SqliteOutbox,
                 max_in_flight: int = 20, reconnect_min_s: int = 1, reconnect_max_s: int = 30,
                 owns_outbox: bool = False) -> None:
        self.broker, self.site, self.camera = broker, site, camera
        self.client_id = f"{broker.client_id_prefix}-{site}-{camera}"
        self.status_topic = status_topic(broker.topic_prefix, site, camera)
        self._outbox, self._owns_outbox, self._max_in_flight = outbox, owns_outbox, max_in_flight
        self._status: tuple[WorkerState, str] = ("online", "")
        self._status_lock = threading.Lock()
        self._up = threading.Event()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._progress = threading.Condition()
        # (mid, refusal or None), filled by paho's thread and emptied by the drain thread.
        self._acks: deque[tuple[int, str | None]] = deque()
        self._seq_by_mid: dict[int, int] = {}  # drain thread only
        self._last_sent_seq = 0
        self._connects = self._published = self._acked = self._refused = 0
        self._down_logged = False
        self._drainer = threading.Thread(target=self._drain_loop, name=f"mqtt-drain-{camera}", daemon=True)
        self._client = self._make_client(reconnect_min_s, reconnect_max_s)

    def _make_client(self, reconnect_min_s: int, reconnect_max_s: int) -> mqtt.Client:
        if self.broker.mqtt_version == "5":  # a clean session by default, and PUBACK reason codes
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                 protocol=mqtt.MQTTv5)
        else:
            client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id,
                                 clean_session=True, protocol=mqtt.MQTTv311)
        client.on_log = self._on_log
        if self.broker.username is not None:
            client.username_pw_set(self.broker.username, self.broker.password())
        context = _tls_context(self.broker)
        if context is not None:
            client.tls_set_context(context)
        client.max_inflight_messages_set(self._max_in_flight + _STATUS_ROOM)
        client.reconnect_delay_set(reconnect_min_s, reconnect_max_s)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        return client

    # --- the worker's side ---------------------------------------------------------------

    @property
    def sink(self) -> SqliteOutbox:
        """Where the worker puts its events."""
        return self._outbox

    @property
    def connected(self) -> bool:
        return self._up.is_set()

    def start(self) -> MqttPublisher:
        self._set_will()
        self._outbox.add_listener(self._wake.set)
        self._client.connect_async(self.broker.host, self.broker.port, keepalive=self.broker.keepalive_s)
        self._client.loop_start()
        self._drainer.start()
        log.info("publishing %s/%s to broker %s as %s", self.site, self.camera, self.broker.address,
                 self.client_id)
        return self

    def wait_connected(self, timeout_s: float) -> bool:
        return self._up.wait(timeout_s)

    def publish_now(self, topic: str, payload: bytes, *, retain: bool = False,
                    qos: int = 1) -> mqtt.MQTTMessageInfo:
        """Publish outside the outbox (status, ad-hoc stats); queued in memory while disconnected."""
        return self._client.publish(topic, payload, qos=qos, retain=retain)

    def set_status(self, state: WorkerState, details: str = "") -> mqtt.MQTTMessageInfo:
        """Publish the retained status now and repeat it on every reconnect (e.g. camera away)."""
        with self._status_lock:
            self._status = (state, details)
        return self.publish_now(self.status_topic, status_payload(self.site, self.camera, state, details),
                                retain=True)

    def stopped(self, details: str = "", timeout_s: float = 2.0) -> None:
        """Publish the retained `stopped` (a clean exit, not the last will); wait briefly for its PUBACK."""
        info = self.set_status("stopped", details)
        if self.connected:
            try:
                info.wait_for_publish(timeout_s)
            except (RuntimeError, ValueError) as exc:
                log.warning("`stopped` status not confirmed by broker %s: %s", self.broker.address, exc)

    def drain(self, timeout_s: float) -> int:
        """Wait until the outbox is empty or timeout_s passed; returns the rows still waiting."""
        self._wake.set()
        with self._progress:
            self._progress.wait_for(lambda: self._outbox.depth() == 0, timeout=timeout_s)
        return self._outbox.depth()

    def close(self, timeout_s: float = 5.0) -> None:
        """`stopped` (unless already published), then disconnect cleanly so the will is not sent."""
        with self._status_lock:
            already = self._status[0] == "stopped"
        if not already:
            self.stopped("closed")
        self._stopping.set()
        self._wake.set()
        if self._drainer.is_alive():
            self._drainer.join(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        if self._owns_outbox:
            self._outbox.close()
        log.info("publisher %s closed; %d event(s) left in the outbox", self.client_id, self._outbox.depth())

    def stats(self) -> PublisherStats:
        return PublisherStats(self.connected, self._connects, self._published, self._acked,
                              len(self._seq_by_mid), self._outbox.depth(), self._refused)

    # --- paho's network thread -------------------------------------------------------------

    def _set_will(self) -> None:
        # The will's time is when the connection it guards was opened: the last moment known alive.
        self._client.will_set(self.status_topic, status_payload(self.site, self.camera, "offline",
                                                                "connection lost (last will)"),
                              qos=1, retain=True)

    def _on_log(self, client: mqtt.Client, userdata: Any, level: int, message: str) -> None:
        # paho reports routine outage noise at ERROR ("Client is not connected"); the callbacks
        # below log what matters, so paho's own lines stay at DEBUG.
        _paho_log.debug("%s", message)

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        self._set_will()

    def _on_connect(self, client: mqtt.Client, userdata: Any, flags: mqtt.ConnectFlags,
                    reason_code: ReasonCode, properties: Any) -> None:
        if reason_code.is_failure:
            log.warning("broker %s refused the connection: %s", self.broker.address, reason_code)
            return
        self._connects += 1
        self._down_logged = False
        log.info("connected to broker %s", self.broker.address)
        with self._status_lock:
            state, details = self._status
        client.publish(self.status_topic, status_payload(self.site, self.camera, state, details),
                       qos=1, retain=True)
        self._up.set()
        self._wake.set()

    def _on_connect_fail(self, client: mqtt.Client, userdata: Any) -> None:
        if not self._down_logged:
            self._down_logged = True
            # paho calls this inside its `except OSError`, so the cause (refused, TLS...) is at hand.
            cause = sys.exc_info()[1]
            log.warning("broker %s unreachable (%s); retrying, events wait in the outbox",
                        self.broker.address, cause if cause is not None else "connection failed")

    def _on_disconnect(self, client: mqtt.Client, userdata: Any, flags: mqtt.DisconnectFlags,
                       reason_code: ReasonCode, properties: Any) -> None:
        self._up.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from broker %s: %s; reconnecting", self.broker.address, reason_code)

    def _on_publish(self, client: mqtt.Client, userdata: Any, mid: int, reason_code: ReasonCode,
                    properties: Any) -> None:
        # The broker's PUBACK for `mid`; the drain thread maps it to an outbox row and deletes it,
        # unless the broker refused it (only MQTT 5 says so).
        self._acks.append((mid, str(reason_code) if reason_code.is_failure else None))
        self._wake.set()

    # --- the drain thread --------------------------------------------------------------------

    def _drain_loop(self) -> None:
        while not self._stopping.is_set():
            self._wake.wait(_POLL_S)
            self._wake.clear()
            try:
                self._settle_acks()
                if self.connected and not self._stopping.is_set():
                    self._send_more()
            except Exception:  # a disk or broker hiccup must not end delivery for good
                log.exception("outbox drain failed; retrying")
                self._stopping.wait(_POLL_S)
        self._settle_acks()

    def _settle_acks(self) -> None:
        acked = 0
        while self._acks:
            mid, refusal = self._acks.popleft()
            seq = self._seq_by_mid.pop(mid, None)
            if seq is None:  # a status message, not an outbox row
                if refusal is not None:
                    log.error("broker %s refused this camera's status message: %s",
                              self.broker.address, refusal)
                continue
            if refusal is not None:
                self._refuse(seq, refusal)
                continue
            self._outbox.ack(seq)
            acked += 1
        if acked:
            self._acked += acked
            with self._progress:
                self._progress.notify_all()

    def _refuse(self, seq: int, refusal: str) -> None:
        # Kept, not deleted, and not resent until a restart: the same account would be refused
        # again. One line for the first and then every 100th, not one per event.
        self._refused += 1
        if self._refused % 100 == 1:
            log.error("broker %s refused outbox event %d (%s; %d refused so far): it stays in "
                      "the outbox and is sent again after a restart; check this camera's "
                      "account (%s) and the broker's ACL", self.broker.address, seq, refusal,
                      self._refused, self.broker.username or "anonymous")

    def _send_more(self) -> None:
        room = self._max_in_flight - len(self._seq_by_mid)
        if room <= 0:
            return
        for message in self._outbox.pending(room, after_seq=self._last_sent_seq):
            self._last_sent_seq = message.seq
            try:
                info = self._client.publish(message.topic, message.payload, qos=1)
            except ValueError as exc:  # a topic or payload no broker would take: never deliverable
                log.error("dropping outbox event %s: %s", message.event_id, exc)
                self._outbox.ack(message.seq)
                continue
            if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
                self._last_sent_seq = message.seq - 1
                break
            # Kept even when not connected (rc NO_CONN): paho holds the message and sends it on reconnect.
            self._seq_by_mid[info.mid] = message.seq
            self._published += 1


def open_publisher(broker: BrokerConfig, *, site: str, camera: str, outbox_path: str | Path,
                   max_rows: int = DEFAULT_MAX_ROWS, **options: Any) -> MqttPublisher:
    """A started publisher over its own outbox file (closed with the publisher)."""
    outbox = SqliteOutbox(outbox_path, max_rows=max_rows)
    return MqttPublisher(broker, site=site, camera=camera, outbox=outbox, owns_outbox=True, **options).start()
