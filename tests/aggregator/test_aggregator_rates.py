"""Weekly helmet rates: exact counts, truncated display, ISO weeks in the site's zone, alerts."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import pytest
from conftest import CP, MONDAY_W03, NAME_EN, NAME_ZH, NOW, Events, make_settings, message

from edge.aggregator import alerts
from edge.aggregator.engine import Engine
from edge.aggregator.rates import Counts, point_status, truncate_percent
from edge.aggregator.store import RiderRecord, SqliteStore
from edge.aggregator.weekly import camera_week
from edge.aggregator.weeks import IsoWeek, to_us
from edge.events import HelmetAlert, RatesState

W03 = IsoWeek(2025, 3)


@pytest.mark.parametrize(("rate", "text"), [
    (0.897293, "89.72%"), (0.89999, "89.99%"), (Fraction(2918, 3252), "89.72%"), (0.9, "90.00%"),
    (1, "100.00%"), (0, "0.00%"), (0.29, "29.00%"), (Fraction(-1, 3), "-33.34%"),
])
def test_truncate_percent_never_rounds_up(rate: float | Fraction, text: str) -> None:
    assert truncate_percent(rate) == text


def test_counts_rates_are_exact_and_leave_unknown_out() -> None:
    c = Counts(vehicles=3252, helmet=2918, no_helmet=334, unknown=7, unknown_vehicles=2)
    assert c.vehicle_rate == Fraction(2918, 3252)
    assert c.person_rate == Fraction(2918, 3252)
    assert point_status(c, Fraction(9, 10), 100) == "below"
    assert point_status(c, Fraction(9, 10), 5000) == "insufficient"
    assert point_status(Counts(), Fraction(9, 10), 1) == "no_data"
    # Exactly at the standard is compliant.
    assert point_status(Counts(100, 90, 10, 0, 0), Fraction(9, 10), 100) == "ok"


def _district_week(store: SqliteStore) -> None:
    start = to_us(MONDAY_W03)
    rows = [RiderRecord(f"r{i}", CP, "southbound", start + i * 60_000_000, 0 if i < 334 else 1,
                        1 if i < 334 else 0, 0, "{}") for i in range(3252)]
    random.Random(3).shuffle(rows)
    assert len(store.add_riders(rows)) == 3252


def test_district_week_3252_riders_334_without_helmet(store: SqliteStore) -> None:
    _district_week(store)
    settings = make_settings()
    week = camera_week(store, settings, CP, W03, NOW)
    (point,) = week.verified
    assert (point.vehicles, point.no_helmet, point.helmet) == (3252, 334, 2918)
    assert point.rate == "89.72%"
    assert point.rate_exact == "2918/3252"
    assert point.standard == "90.00%"
    assert point.status == "below"
    alert = alerts.evaluate(None, week, settings, "a1", NOW)
    assert alert is not None
    assert alert.active
    (finding,) = alert.findings
    assert finding.text_zh == ("调查期间，农商银行百丈支行南向点位一周通行电动自行车3252辆，未佩戴头盔334人，"
                               "头盔佩戴率89.72%，低于标准，请立即整改。")
    assert finding.text_en == (
        "During the survey, the southbound point at the Baizhang branch of the rural bank saw 3252 e-bikes "
        "in one week, 334 riders without a helmet; helmet rate 89.72%, below the standard; "
        "please act promptly.")
    assert NAME_EN in finding.text_en
    assert NAME_ZH in finding.text_zh


def test_alert_clears_at_the_standard_and_holds_on_thin_weeks(store: SqliteStore) -> None:
    settings = make_settings(min_riders=10)
    start = to_us(MONDAY_W03)
    store.add_riders([RiderRecord(f"a{i}", CP, "southbound", start + i, 1 if i >= 2 else 0,
                                  1 if i < 2 else 0, 0, "{}") for i in range(10)])  # 80%
    raised = alerts.evaluate(None, camera_week(store, settings, CP, W03, NOW), settings, "1", NOW)
    assert raised is not None
    assert raised.active
    assert alerts.evaluate(raised, camera_week(store, settings, CP, W03, NOW), settings, "2", NOW) is None
    # Next week, 5 riders only: not enough to judge, last week's alert stands.
    w04 = to_us(MONDAY_W03 + timedelta(weeks=1))
    store.add_riders([RiderRecord(f"b{i}", CP, "southbound", w04 + i, 1, 0, 0, "{}") for i in range(5)])
    assert alerts.evaluate(raised, camera_week(store, settings, CP, W03.shift(1), NOW), settings, "3",
                           NOW) is None
    store.add_riders([RiderRecord(f"c{i}", CP, "southbound", w04 + 10 + i, 1, 0, 0, "{}") for i in range(5)])
    cleared = alerts.evaluate(raised, camera_week(store, settings, CP, W03.shift(1), NOW), settings, "4", NOW)
    assert cleared is not None
    assert not cleared.active
    assert cleared.findings == ()
    assert cleared.week == "2025-W04"


def test_all_unknown_vehicle_is_left_out_of_the_denominator(store: SqliteStore, events: Events) -> None:
    engine = Engine(store, make_settings(min_riders=1), clock=lambda: NOW)
    batch = [events.rider(["helmet"]), events.rider(["no_helmet", "unknown"]), events.rider(["unknown"]),
             events.rider(["unknown", "unknown"])]
    engine.ingest([message(e) for e in batch])
    (point,) = camera_week(store, engine.settings, CP, W03, NOW).raw
    assert (point.vehicles, point.helmet, point.no_helmet, point.unknown, point.unknown_vehicles) == \
        (2, 1, 1, 4, 2)
    assert point.rate == "50.00%"
    assert point.person_rate == "50.00%"


def test_week_boundary_in_shanghai_given_as_utc_instants(engine: Engine, events: Events) -> None:
    # Sunday 2025-01-12 23:59 in Shanghai is 15:59Z; Monday 00:00 there is 16:00Z the same day.
    sunday = datetime(2025, 1, 12, 15, 59, tzinfo=UTC)
    monday = datetime(2025, 1, 12, 16, 0, tzinfo=UTC)
    engine.ingest([message(events.rider(["no_helmet"], at=sunday)),
                   message(events.rider(["helmet"], at=monday))])
    s = engine.settings
    (w02,) = camera_week(engine.store, s, CP, IsoWeek(2025, 2), NOW).raw
    (w03,) = camera_week(engine.store, s, CP, W03, NOW).raw
    assert (w02.vehicles, w02.no_helmet) == (1, 1)
    assert (w03.vehicles, w03.no_helmet) == (1, 0)
    assert IsoWeek.of(sunday, s.zone) == IsoWeek(2025, 2)
    assert IsoWeek.of(monday, s.zone) == W03
    assert W03.start(s.zone) == monday


def test_iso_week_parse_and_shift() -> None:
    assert IsoWeek.parse("2025-W03") == W03
    assert str(IsoWeek(2020, 53).shift(1)) == "2021-W01"
    with pytest.raises(ValueError, match="not a week"):
        IsoWeek.parse("2025-W53")
    with pytest.raises(ValueError, match="ISO week"):
        IsoWeek.parse("2025-03")


def _figures(engine: Engine) -> tuple[object, ...]:
    week = camera_week(engine.store, engine.settings, CP, W03, NOW)
    return week.raw, week.verified, week.coverage_s


def test_duplicates_reordering_and_replays_change_nothing(tmp_path: Path, events: Events) -> None:
    batch = [message(events.rider([random.Random(i).choice(["helmet", "no_helmet", "unknown"])],
                                  at=MONDAY_W03 + timedelta(minutes=i),
                                  direction="southbound" if i % 3 else "northbound")) for i in range(300)]
    batch += [message(events.stats(MONDAY_W03 + timedelta(minutes=i), 55.0)) for i in range(20)]
    once = Engine(SqliteStore(tmp_path / "once.db"), make_settings(), clock=lambda: NOW)
    once.ingest(batch)

    messy = Engine(SqliteStore(tmp_path / "messy.db"), make_settings(), clock=lambda: NOW)
    shuffled = batch + random.Random(1).sample(batch, 100)  # redeliveries
    random.Random(2).shuffle(shuffled)
    for i in range(0, len(shuffled), 37):  # arbitrary batches
        messy.ingest(shuffled[i:i + 37])
    messy.ingest(batch)  # a second replay of the same recording
    assert _figures(messy) == _figures(once)
    assert messy.tally.stored == 320
    assert messy.tally.duplicates == len(shuffled) + len(batch) - 320
    assert _figures(once)[2] == 20 * 55.0


def test_operator_rejection_changes_verified_not_raw(engine: Engine, events: Events) -> None:
    riders = [events.rider(["no_helmet"]) for _ in range(3)] + [events.rider(["helmet"]) for _ in range(7)]
    engine.ingest([message(e) for e in riders])
    before = camera_week(engine.store, engine.settings, CP, W03, NOW)
    # The review may arrive before or after the event; redelivery of it changes nothing either.
    review = message(events.review(riders[0].event_id, "reject"))
    engine.ingest([review, review])
    after = camera_week(engine.store, engine.settings, CP, W03, NOW)
    assert after.raw == before.raw
    assert (after.raw[0].vehicles, after.raw[0].no_helmet) == (10, 3)
    assert (after.verified[0].vehicles, after.verified[0].no_helmet) == (9, 2)
    # A later confirm of the same event puts it back; an older review does not override it.
    engine.ingest([message(events.review(riders[0].event_id, "confirm", at=NOW + timedelta(minutes=1))),
                   message(events.review(riders[0].event_id, "reject", at=NOW - timedelta(minutes=1)))])
    assert camera_week(engine.store, engine.settings, CP, W03, NOW).verified == before.verified


def test_engine_refresh_publishes_rates_and_alert(store: SqliteStore, events: Events) -> None:
    engine = Engine(store, make_settings(min_riders=5), clock=lambda: NOW)
    bad = [events.rider(["no_helmet"]) for _ in range(2)]
    engine.ingest([message(e) for e in bad] + [message(events.rider(["helmet"])) for _ in range(8)])
    out = {m.topic: m for m in engine.refresh()}
    rates = RatesState.model_validate_json(out[f"edge/v1/baizhang/rates/{CP}"].payload)
    assert rates.week == "2025-W03"
    assert rates.raw[0].rate == "80.00%"
    alert = HelmetAlert.model_validate_json(out[f"edge/v1/baizhang/alerts/helmet/{CP}"].payload)
    assert alert.active
    assert out[f"edge/v1/baizhang/alerts/helmet/{CP}"].retain
    assert engine.refresh() == []  # nothing changed since
    # An operator rejecting both violations lifts the verified week over the standard: cleared.
    engine.ingest([message(events.review(e.event_id)) for e in bad])
    out = {m.topic: m for m in engine.refresh()}
    cleared = HelmetAlert.model_validate_json(out[f"edge/v1/baizhang/alerts/helmet/{CP}"].payload)
    assert not cleared.active
    assert cleared.points[0].rate == "100.00%"
    assert [a.active for a in engine.store.alerts()] == [False]
    # The retained state is what a reconnect publishes again.
    assert [m.topic for m in engine.retained_state()] == [f"edge/v1/baizhang/alerts/helmet/{CP}"]
