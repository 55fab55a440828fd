"""Payload schemas and topics: strict validation, refusals with reasons, fuzzing, JSON Schema export."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import CP, PREFIX, SITE, Events, message
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from edge.aggregator.cli import add_parsers
from edge.aggregator.ingest import decode
from edge.events import MAX_PAYLOAD_BYTES, SCHEMAS, PayloadError, RiderEvent, json_schemas, parse_inbound
from edge.events.registry import schema_file_name
from edge.transport import topics
from edge.transport.topics import TopicKind, TopicParts, parse_topic

REPO = Path(__file__).resolve().parents[2]


def _refused(topic: str, data: bytes) -> str:
    with pytest.raises(PayloadError) as info:
        decode(PREFIX, SITE, topic, data)
    assert info.value.reason
    return info.value.reason


def _valid(events: Events) -> dict[str, object]:
    result: dict[str, object] = json.loads(events.rider(["helmet", "no_helmet"]).to_json())
    return result


def test_valid_payloads_round_trip(events: Events) -> None:
    at = events.rider().captured_at
    samples = [events.rider(["helmet", "unknown"]), events.smoke("tower-a", "p1", 45.0, at),
               events.stats(at, 50.0), events.status("offline"),
               events.review("rider-000001"), events.command("fire-abc", "acknowledge")]
    for event in samples:
        topic, data = message(event)
        assert decode(PREFIX, SITE, topic, data) == event
        assert json.loads(data)["schema"] == event.schema_id


@pytest.mark.parametrize(("change", "reason"), [
    (lambda d: d.update(captured_at="2025-01-14T09:00:00"), "timezone"),
    (lambda d: d.update(captured_at=1736816400), "captured_at"),
    (lambda d: d.update(schema="edge.rider/9"), "unknown schema"),
    (lambda d: d.pop("schema"), "missing key 'schema'"),
    (lambda d: d.pop("event_id"), "event_id: Field required"),
    (lambda d: d.update(colour="red"), "colour: unknown key"),
    (lambda d: d.update(occupants=[]), "occupants"),
    (lambda d: d["occupants"][0].update(verdict="maybe"), "verdict"),
    (lambda d: d["occupants"][0].update(confidence=float("nan")), "finite number"),
    (lambda d: d.update(track_id="7"), "track_id"),
    (lambda d: d.update(evidence={"uri": "data:image/jpeg;base64,AAAA", "sha256": "b" * 64}), "inline"),
    (lambda d: d.update(camera="cp-2"), "differs from the topic"),
    (lambda d: d.update(site="elsewhere"), "payload site"),
])
def test_bad_rider_payloads_are_refused_with_a_reason(events: Events, change: object, reason: str) -> None:
    data = _valid(events)
    change(data)  # type: ignore[operator]
    assert reason in _refused(topics.rider_topic(PREFIX, SITE, CP), json.dumps(data).encode())


def test_oversized_non_json_and_misplaced_payloads_are_refused(events: Events) -> None:
    rider_topic = topics.rider_topic(PREFIX, SITE, CP)
    assert "byte cap" in _refused(rider_topic, b"{" + b" " * MAX_PAYLOAD_BYTES + b"}")
    assert "Invalid JSON" in _refused(rider_topic, b"\xff\xfe not json")
    assert "Invalid JSON" in _refused(rider_topic, b"")
    _, smoke = message(events.smoke("tower-a", "p1", 10.0, events.rider().captured_at))
    assert "does not belong on a rider topic" in _refused(topics.rider_topic(PREFIX, SITE, "tower-a"), smoke)
    assert "not take rates" in _refused(topics.rates_topic(PREFIX, SITE, CP), b"{}")
    assert "unknown command" in _refused(f"{PREFIX}/{SITE}/commands/reboot", b"{}")
    assert "not an aggregator topic" in _refused(f"other/{SITE}/{CP}/rider", b"{}")
    assert "serves" in _refused(topics.rider_topic(PREFIX, "elsewhere", CP), b"{}")


def test_capture_times_far_ahead_of_the_clock_are_refused(events: Events) -> None:
    topic, data = message(events.rider())
    at = events.rider().captured_at
    assert decode(PREFIX, SITE, topic, data, now=at - timedelta(hours=23))
    with pytest.raises(PayloadError, match="ahead of the aggregator's clock"):
        decode(PREFIX, SITE, topic, data, now=at - timedelta(hours=25))


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: (st.lists(children, max_size=4)
                      | st.dictionaries(st.text(max_size=12), children, max_size=6)),
    max_leaves=20)
_schemas = st.sampled_from([*SCHEMAS, "edge.rider/2", ""])


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.binary(max_size=300))
def test_fuzzed_bytes_are_refused_never_crash(data: bytes) -> None:
    _refused(topics.rider_topic(PREFIX, SITE, CP), data)


@settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(body=st.dictionaries(st.text(max_size=12), _json, max_size=8), schema=_schemas,
       kind=st.sampled_from(list(topics.CAMERA_KINDS)))
def test_fuzzed_json_objects_are_refused_never_crash(body: dict[str, object], schema: str,
                                                     kind: TopicKind) -> None:
    body["schema"] = schema
    _refused(topics.camera_topic(PREFIX, SITE, CP, kind), json.dumps(body).encode())


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(key=st.sampled_from(["event_id", "site", "camera", "captured_at", "track_id", "direction",
                            "occupants", "model"]),
       value=_json)
def test_fuzzed_field_values_never_crash(key: str, value: object) -> None:
    data = _valid(Events())
    data[key] = value
    topic = topics.rider_topic(PREFIX, SITE, CP)
    reason = ""
    try:
        event = decode(PREFIX, SITE, topic, json.dumps(data).encode())
    except PayloadError as exc:
        reason = exc.reason
    else:  # the rare value that is still valid must be a proper rider event
        reason = "valid" if isinstance(event, RiderEvent) else ""
    assert reason


def test_topic_builders_and_parser_agree() -> None:
    assert topics.rider_topic(PREFIX, SITE, CP) == "edge/v1/baizhang/cp-1/rider"
    assert topics.helmet_alert_topic(PREFIX, SITE, CP) == "edge/v1/baizhang/alerts/helmet/cp-1"
    assert topics.fire_alert_topic(PREFIX, SITE, "fire-1") == "edge/v1/baizhang/alerts/fire/fire-1"
    assert topics.rates_topic(PREFIX, SITE, CP) == "edge/v1/baizhang/rates/cp-1"
    assert topics.rejected_topic(PREFIX, SITE) == "edge/v1/baizhang/rejected"
    assert topics.command_topic(PREFIX, SITE, "incident") == "edge/v1/baizhang/commands/incident"
    cases = {
        topics.status_topic(PREFIX, SITE, CP): TopicParts(SITE, TopicKind.STATUS, camera=CP),
        topics.stats_topic(PREFIX, SITE, CP): TopicParts(SITE, TopicKind.STATS, camera=CP),
        topics.smoke_topic(PREFIX, SITE, "t-3"): TopicParts(SITE, TopicKind.SMOKE, camera="t-3"),
        topics.helmet_alert_topic(PREFIX, SITE, CP): TopicParts(SITE, TopicKind.HELMET_ALERT, camera=CP),
        topics.fire_alert_topic(PREFIX, SITE, "f-1"): TopicParts(SITE, TopicKind.FIRE_ALERT, key="f-1"),
        topics.rates_topic(PREFIX, SITE, CP): TopicParts(SITE, TopicKind.RATES, camera=CP),
        topics.command_topic(PREFIX, SITE, "rider"): TopicParts(SITE, TopicKind.COMMAND, key="rider"),
        topics.rejected_topic(PREFIX, SITE): TopicParts(SITE, TopicKind.REJECTED),
    }
    for topic, parts in cases.items():
        assert parse_topic(PREFIX, topic) == parts
    for bad in ["edge/v1/baizhang/cp-1/video", "edge/v1/baizhang/cp-1", "edge/v1/Baizhang/cp-1/rider",
                "edge/v2/baizhang/cp-1/rider", "edge/v1/baizhang/+/rider", "edge/v1/baizhang/rates/rider/x"]:
        assert parse_topic(PREFIX, bad) is None
    with pytest.raises(ValueError, match="reserved"):
        topics.rider_topic(PREFIX, SITE, "alerts")
    with pytest.raises(ValueError, match="valid id"):
        topics.rider_topic(PREFIX, SITE, "cp/#")


def test_json_schemas_require_schema_and_forbid_extra_keys() -> None:
    schemas = json_schemas()
    assert set(schemas) == set(SCHEMAS)
    for name, schema in schemas.items():
        assert schema["required"][0] == "schema", name
        assert schema["properties"]["schema"]["const"] == name
        assert schema["additionalProperties"] is False


def test_schema_command_writes_files_matching_docs(tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import argparse

    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers())
    args = parser.parse_args(["schema", "--out", str(tmp_path)])
    assert args.func(args) == 0
    written = sorted(p.name for p in tmp_path.iterdir())
    assert written == sorted(schema_file_name(n) for n in SCHEMAS)
    assert capsys.readouterr().out.count("\n") == len(SCHEMAS)
    for name in written:  # docs/schemas is the exported copy; re-run `edge schema --out docs/schemas`
        assert (REPO / "docs" / "schemas" / name).read_text() == (tmp_path / name).read_text(), name


def test_parse_inbound_accepts_offsets_and_z(events: Events) -> None:
    data = _valid(events)
    data["captured_at"] = "2025-01-14T01:00:00Z"
    assert parse_inbound(json.dumps(data).encode()).captured_at.utcoffset() is not None
