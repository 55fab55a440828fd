"""A camera's credentials cannot speak for another camera, neither to the aggregator nor by taking
over another account's session."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from mqtt_probe import NOT_AUTHORIZED, accepted
from secure_site import AGGREGATOR, CAM_A, CAM_B, PREFIX, SITE, SecureSite, wait_for

from edge.aggregator.configure import client_id, settings_from
from edge.aggregator.engine import Engine
from edge.aggregator.service import AggregatorService
from edge.aggregator.store import SqliteStore
from edge.config import load_site
from edge.events import Evidence, ModelRef, Occupant, RiderEvent, Votes
from edge.labels import Verdict
from edge.transport import topics


def rider(event_id: str, camera: str) -> bytes:
    """A valid rider event payload of `camera`, captured now."""
    occupant = Occupant(seat=0, verdict=Verdict("no_helmet"), votes=Votes(helmet=0, no_helmet=4),
                        confidence=0.9)
    return RiderEvent(event_id=event_id, site=SITE, camera=camera, captured_at=datetime.now(UTC), track_id=1,
                      direction="southbound", occupants=(occupant,),
                      model=ModelRef(id="helmet", sha256="a" * 64),
                      evidence=Evidence(uri=f"var/evidence/{event_id}.jpg", sha256="b" * 64)).to_json()


@pytest.fixture
def aggregator(secure: SecureSite) -> Iterator[AggregatorService]:
    """The real aggregator, logged in with its account from the site config, over TLS."""
    site = load_site(secure.site)
    service = AggregatorService(Engine(SqliteStore(secure.folder / "aggregator.db"), settings_from(site)),
                                site.broker, client_id(site))
    service.start()
    assert service.connected.wait(10), "aggregator did not connect"
    yield service
    service.stop()
    service.engine.store.close()


def test_a_camera_cannot_publish_as_another_and_the_forgery_is_never_counted(
        secure: SecureSite, aggregator: AggregatorService) -> None:
    cam_a, cam_b = secure.probe(f"{SITE}/{CAM_A}"), secure.probe(f"{SITE}/{CAM_B}")
    try:
        assert cam_a.connect()
        assert cam_b.connect()
        assert accepted(cam_b.publish(topics.rider_topic(PREFIX, SITE, CAM_B), rider("b-1", CAM_B)))
        # Camera A's password, camera B's topic and payload: refused by the broker.
        forged = rider("forged-1", CAM_B)
        assert cam_a.publish(topics.rider_topic(PREFIX, SITE, CAM_B), forged) == NOT_AUTHORIZED
        assert cam_a.publish(topics.status_topic(PREFIX, SITE, CAM_B), b"{}", retain=True) == NOT_AUTHORIZED
        assert accepted(cam_a.publish(topics.rider_topic(PREFIX, SITE, CAM_A), rider("a-1", CAM_A)))
        # a-1 left camera A after the forgery: once a-1 is stored, the forgery would have been too.
        assert wait_for(lambda: aggregator.engine.store.rider_camera("a-1") == CAM_A)
        assert aggregator.engine.store.rider_camera("b-1") == CAM_B
        assert aggregator.engine.store.rider_camera("forged-1") is None
        # The tally follows the store's commit by a moment: wait for it, then it must be exactly 2.
        assert wait_for(lambda: aggregator.engine.tally.stored >= 2)
        assert aggregator.engine.tally.stored == 2
    finally:
        cam_a.close()
        cam_b.close()


def test_a_camera_cannot_take_over_another_accounts_session(secure: SecureSite) -> None:
    """Mosquitto makes the client id the username: a camera asking for the aggregator's id gets its own."""
    victim = secure.probe(AGGREGATOR, client_id="edge-aggregator-baizhang")
    thief = secure.probe(f"{SITE}/{CAM_A}", client_id="edge-aggregator-baizhang")
    try:
        assert victim.connect()
        assert thief.connect()
        # The broker took the thief's CONNECT before answering it, so a takeover would be done by now.
        assert accepted(victim.publish(topics.rates_topic(PREFIX, SITE, CAM_A)))
        assert victim.connected
    finally:
        victim.close()
        thief.close()
