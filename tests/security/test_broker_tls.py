"""TLS towards the secured broker, through the aggregator's own client code (edge.aggregator.service):
the broker's certificate is verified against the CA and its name checked; the broker wants a client
certificate from its CA."""

from __future__ import annotations

import ssl
import threading
from pathlib import Path
from typing import Any

import pytest
from secure_site import SecureSite

from edge.aggregator.service import mqtt_client
from edge.config import BrokerConfig, TlsConfig, load_site


def connects(broker: BrokerConfig, timeout_s: float = 10.0) -> bool:
    """True when the broker accepts the aggregator's login over `broker`'s TLS settings."""
    client = mqtt_client(broker, "tls-probe")
    outcome: list[bool] = []
    done = threading.Event()

    def finish(ok: bool) -> None:
        outcome.append(ok)
        done.set()

    client.on_connect = lambda _c, _u, _f, reason, _p: finish(not reason.is_failure)
    client.on_disconnect = lambda *_args: finish(False)
    try:
        client.connect(broker.host, broker.port, broker.keepalive_s)
    except (ssl.SSLError, OSError):  # refused during our side of the handshake
        return False
    client.loop_start()
    try:
        assert done.wait(timeout_s), "neither a CONNACK nor a disconnect"
        return outcome[0]
    finally:
        client.disconnect()
        client.loop_stop()


def with_tls(secure: SecureSite, *, host: str = "localhost", **tls: Any) -> BrokerConfig:
    broker = load_site(secure.site).broker
    assert broker.tls is not None
    return broker.model_copy(update={"host": host, "tls": broker.tls.model_copy(update=tls)})


def test_the_site_settings_connect(secure: SecureSite) -> None:
    broker = load_site(secure.site).broker
    assert broker.tls is not None
    assert broker.tls.check_hostname  # the default
    assert connects(broker)


def test_a_client_trusting_another_ca_refuses_the_broker(secure: SecureSite, other_certs: Path) -> None:
    assert not connects(with_tls(secure, ca_file=other_certs / "ca.crt"))


def test_a_client_certificate_from_another_ca_is_refused(secure: SecureSite, other_certs: Path) -> None:
    other = {"cert_file": other_certs / "client.crt", "key_file": other_certs / "client.key"}
    assert not connects(with_tls(secure, **other))


def test_a_client_without_a_certificate_is_refused(secure: SecureSite) -> None:
    assert not connects(with_tls(secure, cert_file=None, key_file=None))


@pytest.mark.parametrize(("check_hostname", "expected"), [(True, False), (False, True)])
def test_hostname_checking_refuses_a_name_the_certificate_does_not_carry(
        secure: SecureSite, check_hostname: bool, expected: bool) -> None:
    # The server certificate names `localhost` only; 127.0.0.1 reaches the same broker.
    assert connects(with_tls(secure, host="127.0.0.1", check_hostname=check_hostname)) is expected


def test_tls_config_takes_a_client_certificate_only_with_its_key() -> None:
    with pytest.raises(ValueError, match="together"):
        TlsConfig(ca_file=Path("ca.crt"), cert_file=Path("client.crt"))
