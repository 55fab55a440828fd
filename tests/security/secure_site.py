"""The secured site of the security tests: its accounts and passwords, its site YAML, test
certificates from configs/mosquitto/make-test-certs.sh, and the shipped mosquitto.conf with its
paths and port rewritten. Not a test module: conftest.py and the tests import from here.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from broker import Broker, mosquitto_available
from mqtt_probe import Probe, TlsFiles

REPO = Path(__file__).resolve().parents[2]
SHIPPED_CONF = REPO / "configs" / "mosquitto" / "mosquitto.conf"
MAKE_CERTS = REPO / "configs" / "mosquitto" / "make-test-certs.sh"
SITE, PREFIX = "baizhang", "edge/v1"
CAM_A, CAM_B = "cp-a", "cp-b"
AGGREGATOR, OPERATOR = "aggregator", "ops-zhang"
# Passwords by account; the cameras' by their usernames ({site}/{camera}).
PASSWORDS = {AGGREGATOR: "Agg-7c1f-secret", OPERATOR: "Ops:with colon 9d",
             f"{SITE}/{CAM_A}": "CamA-51e0-secret", f"{SITE}/{CAM_B}": "CamB-88aa-secret"}
ENV = {"EDGE_TEST_MQTT_AGGREGATOR": PASSWORDS[AGGREGATOR], "EDGE_TEST_MQTT_OPS": PASSWORDS[OPERATOR],
       "EDGE_TEST_MQTT_CP_A": PASSWORDS[f"{SITE}/{CAM_A}"]}


def tools_available() -> bool:
    """Mosquitto, mosquitto_passwd (Debian `mosquitto`) and openssl are installed."""
    return mosquitto_available() and bool(shutil.which("mosquitto_passwd") and shutil.which("openssl"))


def make_certs(folder: Path, *names: str) -> Path:
    subprocess.run(["sh", str(MAKE_CERTS), str(folder), *names], check=True, capture_output=True, timeout=60)
    return folder


def camera_yaml(camera: str, mqtt: str, source: str = "{url: clip.mp4}") -> str:
    return f"""
  - kind: checkpoint
    id: {camera}
    name: Checkpoint {camera}
    source: {source}
    model: helmet
    box: box-1
    mqtt: {mqtt}
    counting_line: {{start_xy: [0, 0.5], end_xy: [1, 0.5], positive: southbound, negative: northbound}}"""


def write_site(folder: Path, port: int, certs: Path, cameras: str | None = None) -> Path:
    """A site with the aggregator, one operator and two cameras (cp-b's password in a file)."""
    (folder / "cp-b.pw").write_text(PASSWORDS[f"{SITE}/{CAM_B}"] + "\n", encoding="utf-8")
    if cameras is None:
        cameras = (camera_yaml(CAM_A, "{password_env: EDGE_TEST_MQTT_CP_A}")
                   + camera_yaml(CAM_B, f"{{password_file: {folder / 'cp-b.pw'}}}"))
    site = folder / "site.yaml"
    site.write_text(f"""
site: {{id: {SITE}, name: Baizhang, timezone: Asia/Shanghai}}
broker:
  host: localhost
  port: {port}
  topic_prefix: {PREFIX}
  username: {AGGREGATOR}
  password_env: EDGE_TEST_MQTT_AGGREGATOR
  tls: {{ca_file: {certs / 'ca.crt'}, cert_file: {certs / 'client.crt'}, key_file: {certs / 'client.key'}}}
  operators:
    - {{username: {OPERATOR}, password_env: EDGE_TEST_MQTT_OPS}}
models:
  helmet:
    weights: {REPO / 'models' / 'helmet.pt'}
    class_map: {{two_wheeler: two_wheeler, head_helmet: head_helmet, head_no_helmet: head_no_helmet}}
cameras:{cameras}
aggregator:
  store: "sqlite:///{folder / 'aggregator.db'}"
  min_riders: 1
  rates_interval_s: 1
""", encoding="utf-8")
    return site


def broker_conf(shipped: str, etc: Path, data: Path, port: int) -> str:
    """The shipped mosquitto.conf with its paths under `etc` / `data` and its listener on `port`."""
    text, listeners = re.subn(r"^listener 8883$", f"listener {port} 127.0.0.1", shipped, flags=re.MULTILINE)
    assert listeners == 1, "the shipped config should have one listener, on 8883"
    text = text.replace("/etc/mosquitto/edge/", f"{etc}/").replace("/var/lib/mosquitto/", f"{data}/")
    # Started as root, Mosquitto drops to the `mosquitto` user, which cannot enter pytest's tmp dirs.
    return text + ("user root\n" if os.geteuid() == 0 else "")


@dataclass
class SecureSite:
    """A running secured broker for one test and the files it was made from."""

    folder: Path
    site: Path
    certs: Path
    broker: Broker

    def probe(self, username: str | None, *, tls: TlsFiles | None = None, **options: object) -> Probe:
        password = PASSWORDS.get(username) if username is not None else None
        return Probe(self.broker.port, tls or TlsFiles.in_dir(self.certs), username=username,
                     password=password, **options)  # type: ignore[arg-type]


def wait_for(predicate: Callable[[], bool], timeout_s: float = 10.0) -> bool:
    """Poll `predicate` (state with no event to wait on) until it holds or timeout_s passes."""
    deadline, tick = time.monotonic() + timeout_s, threading.Event()
    while not predicate():
        if time.monotonic() > deadline:
            return False
        tick.wait(0.02)
    return True
