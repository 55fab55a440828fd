"""Fire incidents: bearing triangulation, grouping sightings into incidents, operator lifecycle."""

from __future__ import annotations

import math
from datetime import timedelta

import pytest
from conftest import MONDAY_W03, TOWER_A, TOWER_B, TOWERS, Events, message

from edge.aggregator.engine import Engine
from edge.aggregator.geo import LatLon, from_enu, intersect_bearings, to_enu
from edge.events import FireIncident, Rejection

T0 = MONDAY_W03 + timedelta(days=2, hours=14)


def _great_circle_bearing_deg(a: LatLon, b: LatLon) -> float:
    """Initial bearing on a sphere: an independent check of the flat-earth fix."""
    la, lb = math.radians(a.latitude_deg), math.radians(b.latitude_deg)
    dl = math.radians(b.longitude_deg - a.longitude_deg)
    y = math.sin(dl) * math.cos(lb)
    x = math.cos(la) * math.sin(lb) - math.sin(la) * math.cos(lb) * math.cos(dl)
    return math.degrees(math.atan2(y, x)) % 360


def test_two_bearings_cross_at_the_hand_computed_position() -> None:
    # Towers 0.1 deg of longitude apart at 30 N: 6371008.8 m * cos 30 * 0.1 * pi/180 = 9629.8 m.
    # 45 deg from A and 315 deg from B meet half way, 4814.9 m north: lat 30 + 4814.9 / 6371008.8 rad
    # = 30.043301 deg, lon 120.05; each 4814.9 * sqrt 2 = 6809.3 m away.
    a, b = TOWERS[TOWER_A], TOWERS[TOWER_B]
    east, north = to_enu(a, b)
    assert east == pytest.approx(9629.8, abs=0.1)
    assert north == 0
    fix = intersect_bearings(a, 45.0, b, 315.0)
    assert fix is not None
    assert fix.position.latitude_deg == pytest.approx(30.043301, abs=1e-6)
    assert fix.position.longitude_deg == pytest.approx(120.05, abs=1e-9)
    assert fix.range_a_m == pytest.approx(fix.range_b_m) == pytest.approx(6809.3, abs=0.1)
    assert fix.crossing_angle_deg == pytest.approx(90.0)
    assert _great_circle_bearing_deg(a, fix.position) == pytest.approx(45.0, abs=0.05)
    assert _great_circle_bearing_deg(b, fix.position) == pytest.approx(315.0, abs=0.05)


def test_north_and_west_bearings_cross_north_of_b() -> None:
    # A looks due east-north-east (60 deg), B due north (0 deg): they meet straight north of B,
    # where the ray from A has gone 9629.8 m east, so 9629.8 * tan 30 = 5559.8 m north.
    a, b = TOWERS[TOWER_A], TOWERS[TOWER_B]
    fix = intersect_bearings(a, 60.0, b, 0.0)
    assert fix is not None
    assert to_enu(a, fix.position) == pytest.approx((9629.8, 5559.8), abs=0.1)
    assert fix.crossing_angle_deg == pytest.approx(60.0)


def test_no_fix_when_parallel_behind_or_out_of_range() -> None:
    a, b = TOWERS[TOWER_A], TOWERS[TOWER_B]
    assert intersect_bearings(a, 0.0, b, 0.0) is None  # parallel
    assert intersect_bearings(a, 0.0, b, 2.0) is None  # crossing too shallow
    assert intersect_bearings(a, 225.0, b, 135.0) is None  # the lines cross behind both cameras
    assert intersect_bearings(a, 45.0, b, 315.0, max_range_m=5000.0) is None  # 6.8 km away


def test_enu_round_trip() -> None:
    origin = LatLon(30.2741, 120.1551)
    point = from_enu(origin, 12_000.0, -7_500.0)
    assert to_enu(origin, point) == pytest.approx((12_000.0, -7_500.0), abs=1e-6)


def _incidents(out: list[object]) -> list[FireIncident]:
    return [FireIncident.model_validate_json(m.payload) for m in out  # type: ignore[attr-defined]
            if "/alerts/fire/" in m.topic]  # type: ignore[attr-defined]


def test_two_cameras_on_one_plume_make_one_located_incident(engine: Engine, events: Events) -> None:
    out = engine.ingest([message(events.smoke(TOWER_A, "p1", 45.0, T0)),
                         message(events.smoke(TOWER_A, "p1", 45.0, T0 + timedelta(seconds=30),
                                              phase="updated")),
                         message(events.smoke(TOWER_B, "q7", 315.0, T0 + timedelta(seconds=60)))])
    states = _incidents(out)
    assert len({i.incident_id for i in states}) == 1
    last = states[-1]
    assert [i.revision for i in states] == [1, 2, 3]
    assert last.state == "new"
    assert {(s.camera, s.plume_id) for s in last.sightings} == {(TOWER_A, "p1"), (TOWER_B, "q7")}
    assert last.position is not None
    assert last.position.cameras == (TOWER_A, TOWER_B)
    assert last.position.latitude_deg == pytest.approx(30.043301, abs=1e-6)
    assert last.position.longitude_deg == pytest.approx(120.05, abs=1e-6)
    assert all(m.retain for m in out)
    assert out[-1].topic == f"edge/v1/baizhang/alerts/fire/{last.incident_id}"


def test_other_bearings_and_late_sightings_open_new_incidents(engine: Engine, events: Events) -> None:
    out = engine.ingest([message(events.smoke(TOWER_A, "p1", 45.0, T0)),
                         message(events.smoke(TOWER_A, "p2", 120.0, T0)),  # another plume
                         message(events.smoke(TOWER_B, "q1", 135.0, T0)),  # crosses neither ahead
                         message(events.smoke(TOWER_A, "p3", 45.0, T0 + timedelta(hours=2)))])
    assert len({i.incident_id for i in _incidents(out)}) == 4


def test_closing_and_reordered_phases(engine: Engine, events: Events) -> None:
    opened = events.smoke(TOWER_A, "p1", 45.0, T0)
    closed = events.smoke(TOWER_A, "p1", 45.0, T0 + timedelta(minutes=5), phase="closed")
    updated = events.smoke(TOWER_A, "p1", 46.0, T0 + timedelta(minutes=2), phase="updated")
    last = _incidents(engine.ingest([message(e) for e in (opened, closed, updated, closed)]))[-1]
    assert not last.smoke_active  # the late `updated` does not reopen a closed plume
    (sighting,) = last.sightings
    assert sighting.phase == "closed"
    assert sighting.first_seen_at == T0
    assert last.revision == 3  # the duplicate `closed` changed nothing


def test_lifecycle_and_illegal_transitions_are_refused(engine: Engine, events: Events) -> None:
    incident = _incidents(engine.ingest([message(events.smoke(TOWER_A, "p1", 45.0, T0))]))[0].incident_id

    def command(action: str) -> tuple[list[FireIncident], list[Rejection]]:
        out = engine.ingest([message(events.command(incident, action))])
        return _incidents(out), [Rejection.model_validate_json(m.payload) for m in out
                                 if m.topic == "edge/v1/baizhang/rejected"]

    accepted, refused = command("dispatch")
    assert accepted == []
    assert "cannot dispatch" in refused[0].reason
    assert "it is new" in refused[0].reason
    assert command("resolve")[1][0].reason.startswith(f"cannot resolve incident {incident}")
    steps = [("acknowledge", "acknowledged"), ("dispatch", "dispatched"), ("resolve", "resolved")]
    for action, state in steps:
        accepted, refused = command(action)
        assert refused == []
        assert accepted[0].state == state
    assert [t.to_state for t in accepted[0].history] == ["acknowledged", "dispatched", "resolved"]
    assert "it is resolved" in command("reject")[1][0].reason
    (unknown,) = engine.ingest([message(events.command("fire-000000000000", "acknowledge"))])
    assert "unknown incident" in Rejection.model_validate_json(unknown.payload).reason
    assert engine.store.open_incidents() == []
    # A new plume after resolution opens a new incident, even on the same bearing.
    again = _incidents(engine.ingest([message(events.smoke(TOWER_A, "p9", 45.0, T0 + timedelta(minutes=1)))]))
    assert again[0].incident_id != incident
    assert again[0].state == "new"


def test_rejected_incident_is_left_out_of_verified_counts(engine: Engine, events: Events) -> None:
    from edge.aggregator.report import build_report
    from edge.aggregator.weeks import IsoWeek

    ids = [_incidents(engine.ingest([message(events.smoke(TOWER_A, f"p{i}", 40.0 * i, T0))]))[0].incident_id
           for i in range(1, 4)]
    engine.ingest([message(events.command(ids[0], "reject"))])
    raw = build_report(engine.store, engine.settings, IsoWeek(2025, 3), verified=False, now=T0)
    verified = build_report(engine.store, engine.settings, IsoWeek(2025, 3), verified=True, now=T0)
    assert raw.incidents == {"new": 2, "rejected": 1}
    assert verified.incidents == {"new": 2}
