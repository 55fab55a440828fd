"""A test-side MQTT v5 client over TLS: logs in, subscribes, records what arrives and the broker's
verdict on each publish (MQTT 5 PUBACK reason codes say "not authorized" where 3.1.1 cannot).

Not a test module: the security tests import `Probe` and `TlsFiles` from here.
"""

from __future__ import annotations

import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.reasoncodes import ReasonCode

NOT_AUTHORIZED = 135  # MQTT 5 reason code: the ACL refused the publish
LOST = -1  # no PUBACK: the connection closed first


def accepted(code: int) -> bool:
    """An MQTT 5 PUBACK reason code below 128 is success (16: accepted, no one subscribed)."""
    return code < 0x80


@dataclass(frozen=True)
class TlsFiles:
    ca: Path
    cert: Path | None = None
    key: Path | None = None

    @classmethod
    def in_dir(cls, folder: Path, *, client_cert: bool = True) -> TlsFiles:
        """make-test-certs.sh output: its CA, and its client certificate unless told otherwise."""
        if not client_cert:
            return cls(folder / "ca.crt")
        return cls(folder / "ca.crt", folder / "client.crt", folder / "client.key")


class Probe:
    """One MQTT v5 connection for a test; every wait is bounded and answers True/False."""

    def __init__(self, port: int, tls: TlsFiles, *, username: str | None = None, password: str | None = None,
                 host: str = "localhost", check_hostname: bool = True, client_id: str = "") -> None:
        self.host, self.port = host, port
        self.refusal: str | None = None  # why the connection failed, when it did
        self.messages: list[tuple[str, bytes]] = []
        self._changed = threading.Condition()
        self._connack: ReasonCode | None = None
        self._lost = False
        self._pubacks: dict[int, int] = {}
        self._subacks: dict[int, list[ReasonCode]] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
        if username is not None:
            self.client.username_pw_set(username, password)
        context = ssl.create_default_context(cafile=str(tls.ca))
        if tls.cert is not None and tls.key is not None:
            context.load_cert_chain(str(tls.cert), str(tls.key))
        context.check_hostname = check_hostname
        self.client.tls_set_context(context)
        self.client.reconnect_delay_set(30, 30)  # a refused probe stays refused for the test
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_publish = self._on_publish
        self.client.on_subscribe = self._on_subscribe
        self.client.on_message = self._on_message

    # --- the test's side ----------------------------------------------------------------------

    def connect(self, timeout_s: float = 10.0) -> bool:
        """True once the broker accepts the login; False when TLS or the broker refuses it."""
        try:
            self.client.connect(self.host, self.port, keepalive=30)
        except (ssl.SSLError, OSError) as exc:  # the TLS handshake failed on our side
            self.refusal = f"{type(exc).__name__}: {exc}"
            return False
        self.client.loop_start()
        self._wait(lambda: self._connack is not None or self._lost, timeout_s)
        if self._connack is not None and not self._connack.is_failure:
            return True
        self.refusal = str(self._connack) if self._connack is not None else "connection closed by the broker"
        return False

    @property
    def connected(self) -> bool:
        with self._changed:
            return self._connack is not None and not self._connack.is_failure and not self._lost

    def subscribe(self, *filters: str) -> list[ReasonCode]:
        """Subscribe at QoS 1 and return the broker's SUBACK codes."""
        _, mid = self.client.subscribe([(f, 1) for f in filters])
        assert self._wait(lambda: mid in self._subacks, 10.0), "no SUBACK"
        return self._subacks[mid]

    def publish(self, topic: str, payload: bytes = b"{}", *, retain: bool = False) -> int:
        """Publish at QoS 1 and return the PUBACK reason code (see `accepted`; 135: not authorized),
        or LOST when the connection closed first."""
        mid = self.client.publish(topic, payload, qos=1, retain=retain).mid
        assert self._wait(lambda: mid in self._pubacks or self._lost, 10.0), f"no PUBACK for {topic}"
        return self._pubacks.get(mid, LOST)

    def topics(self) -> list[str]:
        with self._changed:
            return [topic for topic, _ in self.messages]

    def wait_for(self, predicate: Callable[[list[tuple[str, bytes]]], bool], timeout_s: float) -> bool:
        return self._wait(lambda: predicate(self.messages), timeout_s)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def _wait(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        with self._changed:
            return self._changed.wait_for(predicate, timeout=timeout_s)

    # --- paho's thread ------------------------------------------------------------------------

    def _notify(self, change: Callable[[], None]) -> None:
        with self._changed:
            change()
            self._changed.notify_all()

    def _on_connect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any) -> None:
        self._notify(lambda: setattr(self, "_connack", reason))

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, _reason: ReasonCode, _p: Any) -> None:
        self._notify(lambda: setattr(self, "_lost", True))

    def _on_publish(self, _c: mqtt.Client, _u: Any, mid: int, reason: ReasonCode, _p: Any) -> None:
        self._notify(lambda: self._pubacks.__setitem__(mid, reason.value))

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, mid: int, reasons: list[ReasonCode], _p: Any) -> None:
        self._notify(lambda: self._subacks.__setitem__(mid, reasons))

    def _on_message(self, _c: mqtt.Client, _u: Any, message: mqtt.MQTTMessage) -> None:
        self._notify(lambda: self.messages.append((message.topic, bytes(message.payload))))
