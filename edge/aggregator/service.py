"""The aggregator on MQTT: a persistent QoS 1 session in, one writer thread, acks after commit.

The broker keeps the session (fixed client id, clean_start False, no session expiry), so
events published while the aggregator is down arrive when it is back. Messages are acked
only once their batch is committed, so a crash loses nothing: what was not acked comes again
and the store's event_id key makes the repeat harmless (DESIGN.md 6).

Mosquitto must queue enough for the downtime you want to survive: `max_queued_messages`
(default 1000 per client) caps a session's backlog; raise it on the aggregator's broker.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import ssl
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from edge.aggregator.engine import Engine, Outbound
from edge.config import BrokerConfig
from edge.transport import topics

log = logging.getLogger(__name__)

SESSION_NEVER_EXPIRES = 0xFFFFFFFF
_MAX_BACKOFF_S = 30.0
_IDLE_S = 0.05  # no message for this long: the writer is idle


@dataclass(frozen=True)
class _Message:
    topic: str
    payload: bytes
    mid: int
    qos: int
    generation: int  # connection it came on: acks are only valid on that one


@dataclass(frozen=True)
class _Connected:
    generation: int


def mqtt_client(broker: BrokerConfig, client_id: str, *, manual_ack: bool = False) -> mqtt.Client:
    """An MQTT client (v5, or 3.1.1 with a persistent session) for `broker`, not yet connected."""
    if broker.mqtt_version == "5":
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5,
                             manual_ack=manual_ack)
    else:
        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv311,
                             clean_session=False, manual_ack=manual_ack)
    if broker.username is not None:
        client.username_pw_set(broker.username, broker.password())
    if broker.tls is not None:
        tls = broker.tls
        client.tls_set(ca_certs=None if tls.ca_file is None else str(tls.ca_file),
                       certfile=None if tls.cert_file is None else str(tls.cert_file),
                       keyfile=None if tls.key_file is None else str(tls.key_file),
                       cert_reqs=ssl.CERT_REQUIRED)
        client.tls_insecure_set(not tls.check_hostname)
    client.reconnect_delay_set(min_delay=1, max_delay=int(_MAX_BACKOFF_S))
    return client


class AggregatorService:
    """Runs an `Engine` against the broker until `stop()`."""

    def __init__(self, engine: Engine, broker: BrokerConfig, client_id: str, *,
                 receive_maximum: int = 1000, max_batch: int = 1000, refresh_every_s: float = 0.5) -> None:
        self.engine = engine
        self._broker = broker
        self._receive_maximum = receive_maximum
        self._max_batch = max_batch
        self._refresh_every_s = refresh_every_s
        self._inbox: queue.SimpleQueue[_Message | _Connected] = queue.SimpleQueue()
        self._generation = 0
        self._stopping = threading.Event()
        self.connected = threading.Event()
        self.processed = 0  # messages handled and acknowledged
        self._writer = threading.Thread(target=self._write_loop, name="aggregator-writer", daemon=True)
        self._client = mqtt_client(broker, client_id, manual_ack=True)
        self._client.on_connect = self._on_connect
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message
        self._client.on_subscribe = self._on_subscribe

    def start(self) -> None:
        """Connect (retrying in the background) and start the writer thread."""
        log.info("aggregator for site %s connecting to %s (MQTT %s)", self.engine.settings.site,
                 self._broker.address, self._broker.mqtt_version)
        if self._broker.mqtt_version == "5":
            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = SESSION_NEVER_EXPIRES
            props.ReceiveMaximum = self._receive_maximum  # bounds unacked messages in flight to us
            self._client.connect_async(self._broker.host, self._broker.port, self._broker.keepalive_s,
                                       clean_start=False, properties=props)
        else:  # 3.1.1: the session persists through clean_session=False, set on the client
            self._client.connect_async(self._broker.host, self._broker.port, self._broker.keepalive_s)
        self._client.loop_start()
        self._writer.start()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Finish the batch in hand, acknowledge it, disconnect; the session stays on the broker."""
        self._stopping.set()
        if self._writer.is_alive():
            self._writer.join(timeout_s)
        self._client.disconnect()
        self._client.loop_stop()
        self.connected.clear()

    def run(self, stop: threading.Event) -> None:
        """Start, block until `stop` is set, then stop."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()

    # --- network thread -------------------------------------------------------------------------

    def _on_connect(self, client: mqtt.Client, _userdata: object, _flags: mqtt.ConnectFlags,
                    reason: ReasonCode, _props: Properties | None) -> None:
        if reason.is_failure:
            log.error("broker %s refused the connection: %s", self._broker.address, reason)
            return
        self._generation += 1
        s = self.engine.settings
        filters = [topics.camera_filter(s.prefix, s.site, kind) for kind in topics.CAMERA_KINDS]
        filters.append(topics.commands_filter(s.prefix, s.site))
        if self._broker.mqtt_version == "5":
            options = SubscribeOptions(qos=1, noLocal=True)
            client.subscribe([(f, options) for f in filters])
        else:
            client.subscribe([(f, 1) for f in filters])
        log.info("connected to %s (generation %d)", self._broker.address, self._generation)
        self._inbox.put(_Connected(self._generation))

    def _on_subscribe(self, _client: mqtt.Client, _userdata: object, _mid: int,
                      reasons: list[ReasonCode], _props: Properties | None) -> None:
        refused = [str(r) for r in reasons if r.is_failure]
        if refused:
            log.error("broker %s refused subscriptions (check its ACL): %s", self._broker.address,
                      ", ".join(refused))
        # Ready only now: on a first connection, anything published before the broker acknowledged
        # the subscriptions is not queued for this session.
        self.connected.set()

    def _on_disconnect(self, _client: mqtt.Client, _userdata: object, _flags: mqtt.DisconnectFlags,
                       reason: ReasonCode, _props: Properties | None) -> None:
        self.connected.clear()
        if not self._stopping.is_set():
            log.warning("disconnected from %s: %s; reconnecting", self._broker.address, reason)

    def _on_message(self, _client: mqtt.Client, _userdata: object, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = repr(msg._topic)  # brokers check topics are UTF-8; refused downstream anyway
        self._inbox.put(_Message(topic, bytes(msg.payload), msg.mid, msg.qos, self._generation))

    # --- writer thread --------------------------------------------------------------------------

    def _write_loop(self) -> None:
        interval_s = self.engine.settings.rates_interval_s
        next_rates = last_refresh = time.monotonic()
        while not self._stopping.is_set():
            batch = self._next_batch(timeout_s=min(_IDLE_S, interval_s))
            messages = [m for m in batch if isinstance(m, _Message)]
            if messages:
                out = self._ingest(messages)
                if out is None:  # stopping while the store was failing: leave them unacked
                    return
                self._publish(out)
                self._ack(messages)
            if any(isinstance(m, _Connected) for m in batch):
                self._publish(self.engine.retained_state())
            now = time.monotonic()
            if now >= next_rates:
                self._publish(self.engine.refresh(self.engine.known_cameras(self.engine.now())))
                next_rates, last_refresh = now + interval_s, now
            elif self.engine.dirty and (not batch or now - last_refresh >= self._refresh_every_s):
                # Rates and alerts follow changes at once when idle, at most every refresh_every_s under load.
                self._publish(self.engine.refresh())
                last_refresh = now

    def _next_batch(self, timeout_s: float) -> list[_Message | _Connected]:
        try:
            batch = [self._inbox.get(timeout=timeout_s)]
        except queue.Empty:
            return []
        while len(batch) < self._max_batch:
            try:
                batch.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        return batch

    def _ingest(self, messages: Sequence[_Message]) -> list[Outbound] | None:
        """Store a batch; if it fails for a reason other than the store, isolate the bad message."""
        pairs = [(m.topic, m.payload) for m in messages]
        try:
            return self._retrying(pairs)
        except Exception:
            log.exception("batch of %d failed; retrying its messages one by one", len(pairs))
        out: list[Outbound] = []
        for pair in pairs:
            try:
                result = self._retrying([pair])
            except Exception as exc:
                log.exception("message on %s failed; refusing it", pair[0])
                result = [self.engine.refusal(pair[0], pair[1], f"internal error: {type(exc).__name__}")]
            if result is None:
                return None
            out += result
        return out

    def _retrying(self, pairs: list[tuple[str, bytes]]) -> list[Outbound] | None:
        """engine.ingest, retried while the store itself fails (disk full, locked); None if stopped."""
        backoff_s = 0.5
        while True:
            try:
                return self.engine.ingest(pairs)
            except sqlite3.Error:
                log.exception("store error; retrying in %.1f s", backoff_s)
                if self._stopping.wait(backoff_s):
                    return None
                backoff_s = min(backoff_s * 2, _MAX_BACKOFF_S)

    def _ack(self, messages: Sequence[_Message]) -> None:
        generation = self._generation
        for m in messages:
            if m.qos > 0 and m.generation == generation:
                self._client.ack(m.mid, m.qos)
        self.processed += len(messages)

    def _publish(self, out: Sequence[Outbound]) -> None:
        for message in out:
            self._client.publish(message.topic, message.payload, qos=1, retain=message.retain)
