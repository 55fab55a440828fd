"""Accounts and ACL against a real Mosquitto run with the shipped config and `edge broker-config` files.

Publishes are judged by the broker's MQTT 5 PUBACK (135: not authorized). Reads are judged with a
barrier: the broker handles packets one at a time, so once a later message has reached a
subscriber, an earlier one it was allowed to read would have reached it first.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from mqtt_probe import NOT_AUTHORIZED, Probe, accepted
from secure_site import AGGREGATOR, CAM_A, CAM_B, OPERATOR, PREFIX, SITE, SecureSite

from edge.transport import topics

CAMERA_TOPICS = [topics.camera_topic(PREFIX, SITE, CAM_A, kind) for kind in topics.CAMERA_KINDS]
HELMET_ALERT = topics.helmet_alert_topic(PREFIX, SITE, CAM_A)
FIRE_ALERT = topics.fire_alert_topic(PREFIX, SITE, "inc-1")
RATES = topics.rates_topic(PREFIX, SITE, CAM_A)
REJECTED = topics.rejected_topic(PREFIX, SITE)
COMMANDS = [topics.command_topic(PREFIX, SITE, topics.COMMAND_RIDER),
            topics.command_topic(PREFIX, SITE, topics.COMMAND_INCIDENT)]
OTHER_SITE = [topics.rider_topic(PREFIX, "other", CAM_A), topics.rates_topic(PREFIX, "other", CAM_A)]
ODD = [f"{PREFIX}/{SITE}/{CAM_A}/rider/extra", f"{PREFIX}/{SITE}/{CAM_A}", "other/prefix"]
CAM_B_TOPICS = [topics.rider_topic(PREFIX, SITE, CAM_B), topics.status_topic(PREFIX, SITE, CAM_B)]
# What each account may write; every topic here that is not in its list must be refused.
ALL_TOPICS = [*CAMERA_TOPICS, *CAM_B_TOPICS, HELMET_ALERT, FIRE_ALERT, RATES, REJECTED, *COMMANDS,
              *OTHER_SITE, *ODD]
WRITES = {f"{SITE}/{CAM_A}": CAMERA_TOPICS, AGGREGATOR: [HELMET_ALERT, FIRE_ALERT, RATES, REJECTED],
          OPERATOR: COMMANDS}


@pytest.fixture
def probes(secure: SecureSite) -> Iterator[dict[str, Probe]]:
    made = {user: secure.probe(user) for user in WRITES}
    for user, probe in made.items():
        assert probe.connect(), f"{user}: {probe.refusal}"
    yield made
    for probe in made.values():
        probe.close()


def test_anonymous_and_wrong_password_are_refused(secure: SecureSite) -> None:
    anonymous, wrong, right = secure.probe(None), secure.probe(AGGREGATOR), secure.probe(AGGREGATOR)
    wrong.client.username_pw_set(AGGREGATOR, "not-the-password")
    try:
        assert not anonymous.connect()
        assert anonymous.refusal == "Not authorized"  # a CONNACK refusal, past TLS
        assert not wrong.connect()
        assert wrong.refusal == "Not authorized"
        assert right.connect(), right.refusal
    finally:
        for probe in (anonymous, wrong, right):
            probe.close()


def test_each_account_writes_exactly_what_the_acl_grants(probes: dict[str, Probe]) -> None:
    for user, allowed in WRITES.items():
        verdicts = {topic: probes[user].publish(topic) for topic in ALL_TOPICS}
        assert [t for t, code in verdicts.items() if accepted(code)] == allowed, user
        assert {code for t, code in verdicts.items() if t not in allowed} == {NOT_AUTHORIZED}, user


def test_each_account_reads_exactly_what_the_acl_grants(probes: dict[str, Probe]) -> None:
    camera, aggregator, operator = probes[f"{SITE}/{CAM_A}"], probes[AGGREGATOR], probes[OPERATOR]
    for probe in probes.values():
        assert [code.value for code in probe.subscribe("#")] == [1]  # granted: reads are checked per message
    for user, allowed in WRITES.items():  # everything each account may write, in turn
        for topic in allowed:
            assert accepted(probes[user].publish(topic, user.encode()))
    # Patterns apply to every account: for a name without '/' they grant a topic no one may read.
    assert accepted(operator.publish(f"{PREFIX}/{OPERATOR}/rider"))
    barrier = f"{PREFIX}/{SITE}/{CAM_A}/status"
    assert accepted(camera.publish(barrier, b"end"))  # the camera writes last: the aggregator sees it last
    assert aggregator.wait_for(lambda m: (barrier, b"end") in m, 10.0)
    assert accepted(aggregator.publish(RATES, b"end"))  # after every other publish: the operator sees it last
    assert operator.wait_for(lambda m: (RATES, b"end") in m, 10.0)

    assert sorted(set(aggregator.topics())) == sorted([*CAMERA_TOPICS, *COMMANDS])
    assert sorted(set(operator.topics())) == sorted([HELMET_ALERT, FIRE_ALERT, RATES])
    # A camera reads nothing at all, not even its own topics: nothing arrives in 2 s.
    assert not camera.wait_for(lambda m: bool(m), 2.0), camera.topics()
