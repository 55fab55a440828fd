"""Every message delivered twice and out of order changes nothing in the weekly rates (DESIGN.md 6)."""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
from broker import Broker
from faultkit import CAMERA, Aggregator, publish_all, wait_until

from edge.outbox import EventKind
from edge.pipeline.sinks import PutEvent

SEED = 6


@pytest.mark.fault_deadline(60)
def test_every_message_twice_and_shuffled_gives_the_clean_weekly_rates(
        clean_day: list[PutEvent], brokers: Callable[..., Broker],
        aggregators: Callable[[Broker], Aggregator]) -> None:
    """A clean replay's payloads, published once in order to one aggregator and twice each in a
    seeded shuffle to a fresh one, give the same store contents and identical report rows
    (riders, helmet counts, exact and truncated rates, coverage) for the week."""
    riders = [e for e in clean_day if e.kind is EventKind.RIDER]
    assert len(riders) >= 40
    assert any(e.kind is EventKind.STATS for e in clean_day)
    messages = [(e.topic, e.payload) for e in clean_day]
    broker = brokers()
    broker.start()

    clean = aggregators(broker)
    publish_all(broker, messages)
    wait_until(lambda: clean.engine.tally.stored == len(messages), 30, "the clean run stored")
    clean.stop()  # its session stays on the broker; the next aggregator has its own client id

    twice = messages * 2
    random.Random(SEED).shuffle(twice)
    assert twice[: len(messages)] != messages  # really out of order
    faulty = aggregators(broker)
    publish_all(broker, twice)
    wait_until(lambda: faulty.engine.tally.stored + faulty.engine.tally.duplicates == len(twice), 30,
               "every copy handled")

    assert faulty.engine.tally.stored == len(messages)
    assert faulty.engine.tally.duplicates == len(messages)
    assert faulty.engine.tally.refused == 0
    assert sorted(faulty.event_ids("riders")) == sorted(clean.event_ids("riders")) == sorted(
        e.event_id for e in riders)
    clean_rows, faulty_rows = clean.report_rows(), faulty.report_rows()
    assert {r.camera for r in clean_rows} >= {CAMERA}
    assert sum(r.riders + r.unknown_vehicles for r in clean_rows if r.camera == CAMERA) == len(riders)
    assert faulty_rows == clean_rows
