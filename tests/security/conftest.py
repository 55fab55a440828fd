"""Fixtures for the security tests: test certificates, and a real Mosquitto started with the
shipped configs/mosquitto/mosquitto.conf and the files `edge broker-config` writes for a test site."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from broker import Broker, free_port
from secure_site import ENV, SHIPPED_CONF, SecureSite, broker_conf, make_certs, tools_available, write_site

from edge.cli import main


@pytest.fixture(scope="module")
def certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The site's CA with a server certificate for `localhost` only and a client certificate."""
    return make_certs(tmp_path_factory.mktemp("certs"), "localhost")


@pytest.fixture(scope="module")
def other_certs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Another CA, with certificates of its own for the same names."""
    return make_certs(tmp_path_factory.mktemp("other-certs"), "localhost")


@pytest.fixture
def secure(tmp_path: Path, certs: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SecureSite]:
    """`edge broker-config` for the test site, then Mosquitto with the shipped config and those files."""
    if not tools_available():
        pytest.skip("needs mosquitto, mosquitto_passwd (Debian `mosquitto`) and openssl")
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    port = free_port()
    site = write_site(tmp_path, port, certs)
    etc, data = tmp_path / "etc", tmp_path / "data"
    data.mkdir()
    assert main(["broker-config", str(site), "--out", str(etc)]) == 0
    shutil.copytree(certs, etc / "certs")
    conf = tmp_path / "mosquitto.conf"
    conf.write_text(broker_conf(SHIPPED_CONF.read_text(encoding="utf-8"), etc, data, port), encoding="utf-8")
    broker = Broker(tmp_path, config_file=conf, port=port)
    broker.start()
    yield SecureSite(tmp_path, site, certs, broker)
    broker.stop()
