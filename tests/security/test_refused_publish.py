"""A worker whose account may not write its topics keeps its events: Mosquitto acks an ACL-denied
QoS 1 publish, and only MQTT 5's reason code (0x87, not authorized) tells the worker so."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from secure_site import CAM_A, CAM_B, PREFIX, SITE, SecureSite, wait_for

from edge.broker.accounts import worker_broker
from edge.config import load_site
from edge.outbox.sqlite import SqliteOutbox
from edge.outbox.types import EventKind
from edge.transport import topics
from edge.transport.mqtt import MqttPublisher


def publisher_for(secure: SecureSite, account_of: str, camera: str, outbox: Path,
                  mqtt_version: str = "5") -> MqttPublisher:
    site = load_site(secure.site)
    broker = worker_broker(site, site.camera(account_of)).model_copy(
        update={"mqtt_version": mqtt_version})
    return MqttPublisher(broker, site=SITE, camera=camera, outbox=SqliteOutbox(outbox),
                         owns_outbox=True).start()


def put_events(publisher: MqttPublisher, camera: str, n: int) -> None:
    for i in range(n):
        publisher.sink.put(EventKind.RIDER, f"{camera}-{i}", topics.rider_topic(PREFIX, SITE, camera),
                           b'{"probe": true}')


def test_events_the_broker_refuses_stay_in_the_outbox(secure: SecureSite, tmp_path: Path,
                                                      caplog: pytest.LogCaptureFixture) -> None:
    # Camera B's worker, misconfigured with camera A's account: every rider publish is denied.
    wrong = publisher_for(secure, CAM_A, CAM_B, tmp_path / "wrong.db")
    right = publisher_for(secure, CAM_A, CAM_A, tmp_path / "right.db")
    try:
        with caplog.at_level(logging.ERROR, logger="edge.transport.mqtt"):
            put_events(wrong, CAM_B, 3)
            put_events(right, CAM_A, 3)
            assert wait_for(lambda: wrong.stats().refused == 3)
            assert wait_for(lambda: right.stats().acked == 3)
        assert wrong.stats().outbox_depth == 3
        assert wrong.stats().acked == 0
        assert right.stats().outbox_depth == 0
        assert right.stats().refused == 0
        refusals = [r.getMessage() for r in caplog.records if "refused outbox event" in r.getMessage()]
        assert len(refusals) == 1, "one line for the first refusal, not one per event"
        assert "Not authorized" in refusals[0]
        assert f"{SITE}/{CAM_A}" in refusals[0]
    finally:
        wrong.close(timeout_s=1)
        right.close(timeout_s=1)
    # Fixed credentials and a restart: the kept events go out.
    fixed = publisher_for(secure, CAM_B, CAM_B, tmp_path / "wrong.db")
    try:
        assert wait_for(lambda: fixed.stats().acked == 3)
        assert fixed.stats().outbox_depth == 0
    finally:
        fixed.close(timeout_s=1)


def test_under_mqtt_311_the_same_refusal_is_indistinguishable_from_success(
        secure: SecureSite, tmp_path: Path) -> None:
    """Why workers speak MQTT 5 to Mosquitto: the 3.1.1 PUBACK carries no reason."""
    old = publisher_for(secure, CAM_A, CAM_B, tmp_path / "old.db", mqtt_version="3.1.1")
    try:
        put_events(old, CAM_B, 2)
        assert wait_for(lambda: old.stats().acked == 2)
        assert old.stats().refused == 0
        assert old.stats().outbox_depth == 0
    finally:
        old.close(timeout_s=1)
