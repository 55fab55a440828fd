"""A thousand malformed payloads among valid ones, through the broker and the live aggregator (DESIGN.md 7).

tests/aggregator/test_aggregator_events.py fuzzes `decode` itself (hypothesis); this is about
volume through the live service: it must stay up, refuse each bad message on `rejected` with a
reason, and count every good one exactly once.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from broker import Broker
from faultkit import CAMERA, Aggregator, Subscriber, publish_all, wait_until

from edge.events import MAX_PAYLOAD_BYTES, Rejection
from edge.outbox import EventKind
from edge.pipeline.sinks import PutEvent
from edge.transport import topics

BAD_COUNT = 1000
SEED = 1006
PREFIX, SITE = "edge/v1", "baizhang"
REJECTED = topics.rejected_topic(PREFIX, SITE)


def _set(path: tuple[str | int, ...], value: object) -> Callable[[dict[str, object]], None]:
    def change(body: dict[str, object]) -> None:
        target: Any = body  # nested JSON: dicts and lists
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
    return change


def _drop(key: str) -> Callable[[dict[str, object]], None]:
    def change(body: dict[str, object]) -> None:
        del body[key]
    return change


# Changes that make a valid rider or stats payload invalid whatever else it holds.
_BREAK_JSON: list[tuple[str, Callable[[dict[str, object]], None]]] = [
    ("naive time", _set(("captured_at",), "2025-05-06T08:00:00")),
    ("time as number", _set(("captured_at",), 1746489600)),
    ("time far ahead", _set(("captured_at",), "2099-01-01T00:00:00+08:00")),
    ("unknown schema", _set(("schema",), "edge.rider/9")),
    ("no schema", _drop("schema")),
    ("no event id", _drop("event_id")),
    ("empty event id", _set(("event_id",), "")),
    ("no site", _drop("site")),
    ("other site", _set(("site",), "elsewhere")),
    ("other camera", _set(("camera",), "cp-other")),
    ("extra key", _set(("colour",), "red")),
    ("schema null", _set(("schema",), None)),
]
_BREAK_RIDER: list[tuple[str, Callable[[dict[str, object]], None]]] = [
    ("no occupants", _set(("occupants",), [])),
    ("bad verdict", _set(("occupants", 0, "verdict"), "maybe")),
    ("confidence above 1", _set(("occupants", 0, "confidence"), 1.5)),
    ("track id as text", _set(("track_id",), "7")),
    ("inline evidence", _set(("evidence",), {"uri": "data:image/jpeg;base64,AAAA", "sha256": "b" * 64})),
    ("no model", _drop("model")),
    ("direction as list", _set(("direction",), ["southbound"])),
]


def _bad_payloads(good: list[PutEvent], rng: random.Random) -> list[tuple[str, bytes, str]]:
    """BAD_COUNT distinct (topic, payload, what) that no aggregator may accept, seeded."""
    riders = [e for e in good if e.kind is EventKind.RIDER]
    bad: list[tuple[str, bytes, str]] = []
    seen: set[tuple[str, bytes]] = set()
    while len(bad) < BAD_COUNT:
        n = len(bad)
        base = rng.choice(good)
        body = json.loads(base.payload)
        style = n % 10
        topic, what = base.topic, ""
        if style == 0:  # JSON whose content breaks the schema or the topic's claims
            what, change = rng.choice(_BREAK_JSON + (_BREAK_RIDER if base.kind is EventKind.RIDER else []))
            change(body)
            data = json.dumps(body).encode()
        elif style == 1:  # rider-only breakage
            base = rng.choice(riders)
            body = json.loads(base.payload)
            what, change = rng.choice(_BREAK_RIDER)
            change(body)
            topic, data = base.topic, json.dumps(body).encode()
        elif style == 2:  # cut short: a proper prefix of a JSON object is never JSON
            what = "truncated"
            data = base.payload[: rng.randrange(0, len(base.payload))]
        elif style == 3:  # random bytes (a leading 0xff is never valid UTF-8, so never JSON)
            what = "random bytes"
            data = b"\xff" + rng.randbytes(rng.randrange(0, 300))
        elif style == 4:  # one byte flipped to invalid UTF-8 inside the document
            what = "invalid utf-8"
            cut = rng.randrange(1, len(base.payload) - 1)
            data = base.payload[:cut] + b"\xc3\x28" + base.payload[cut:]
        elif style == 5:  # JSON, but not an object
            what = "not an object"
            data = json.dumps(rng.choice([[body], body.get("event_id"), 42, None, True, [], ""])).encode()
        elif style == 6:  # a valid payload on a topic where it does not belong
            what = "wrong topic"
            kind = rng.choice([k for k in topics.CAMERA_KINDS if k.value != base.kind.value])
            topic, data = topics.camera_topic(PREFIX, SITE, CAMERA, kind), base.payload
        elif style == 7:  # topics the aggregator hears but does not serve
            what = "foreign topic"
            topic = rng.choice([f"{PREFIX}/{SITE}/alerts/rider", f"{PREFIX}/{SITE}/commands/reboot",
                                f"{PREFIX}/{SITE}/commands/rider", f"{PREFIX}/{SITE}/CP-1/rider",
                                f"{PREFIX}/{SITE}/cp-other/stats"])
            data = base.payload
        elif style == 8:  # too big, even if it were well formed
            what = "oversized"
            body["padding"] = "x" * (MAX_PAYLOAD_BYTES + rng.randrange(1, 1000))
            data = json.dumps(body).encode()
        else:  # non-finite numbers, which JSON does not have
            what = "non-finite"
            target = body["occupants"][0] if "occupants" in body else body
            key = "confidence" if "occupants" in body else "covered_s"
            target[key] = rng.choice([float("nan"), float("inf"), -float("inf")])
            data = json.dumps(body).encode()
        if (topic, data) not in seen:  # distinct, so each rejection can be matched to its payload
            seen.add((topic, data))
            bad.append((topic, data, what))
    return bad


@pytest.mark.fault_deadline(90)
def test_a_thousand_fuzzed_payloads_are_refused_and_every_good_one_counted(
        clean_day: list[PutEvent], brokers: Callable[..., Broker],
        aggregators: Callable[[Broker], Aggregator],
        subscribers: Callable[[Broker, list[str]], Subscriber]) -> None:
    """1,000 seeded malformed payloads (broken schema, truncated, random and non-UTF-8 bytes,
    non-objects, wrong or foreign topics, oversized, non-finite numbers), shuffled among a
    clean replay's events and published over a real Mosquitto: the aggregator stays connected
    and working, publishes one rejection with a reason for each bad payload (matched by topic
    and sha256), never stores or counts one, and stores every good event exactly once."""
    rng = random.Random(SEED)
    bad = _bad_payloads(clean_day, rng)
    good = [(e.topic, e.payload) for e in clean_day]
    mixed = [(t, d) for t, d, _ in bad] + good
    rng.shuffle(mixed)
    broker = brokers()
    broker.start()
    aggregator = aggregators(broker)
    watcher = subscribers(broker, [REJECTED])

    expected = {(t, hashlib.sha256(d).hexdigest()) for t, d, _ in bad}

    def refused() -> set[tuple[str, str]]:
        return {(r.topic, r.payload_sha256)
                for r in (Rejection.model_validate_json(m.payload) for m in watcher.on(REJECTED))}

    publish_all(broker, mixed)
    try:
        watcher.wait_for(lambda: refused() >= expected, 60, f"{len(bad)} rejections")
    except AssertionError:
        missing = Counter(what for t, d, what in bad if (t, hashlib.sha256(d).hexdigest()) not in refused())
        raise AssertionError(f"bad payloads never refused, by kind: {dict(missing)}") from None
    wait_until(lambda: aggregator.engine.tally.stored == len(good), 30, "every good event stored")

    rejections = [Rejection.model_validate_json(m.payload) for m in watcher.on(REJECTED)]
    assert all(r.reason.strip() for r in rejections)
    # Each bad payload refused (a foreign `commands/rider` matches two of the aggregator's filters
    # and may be refused twice; real commands use names that are no camera kind).
    assert refused() == expected
    watcher.wait_for(lambda: len(watcher.on(REJECTED)) == aggregator.engine.tally.refused, 10,
                     "a rejection published for every refusal counted")
    assert aggregator.engine.tally.duplicates == 0
    assert aggregator.stored_ids() == {e.event_id for e in clean_day}
    # Still up: connected, and a valid event published after the flood is taken at once.
    assert aggregator.service.connected.is_set()
    publish_all(broker, [good[0]])
    wait_until(lambda: aggregator.engine.tally.duplicates == 1, 10, "the aggregator to take one more")


@pytest.mark.fault_deadline(30)
def test_a_bad_rider_command_is_refused_once(
        brokers: Callable[..., Broker], aggregators: Callable[[Broker], Aggregator],
        subscribers: Callable[[Broker, list[str]], Subscriber]) -> None:
    """A malformed rider-review command gives exactly one rejection (its topic matches one filter)."""
    broker = brokers()
    broker.start()
    aggregators(broker)
    watcher = subscribers(broker, [REJECTED])
    command = (topics.command_topic(PREFIX, SITE, topics.COMMAND_RIDER), b"not json")
    marker = (topics.rider_topic(PREFIX, SITE, CAMERA), b"marker: not json either")
    publish_all(broker, [command, marker])
    # Messages are handled in order: once the marker's rejection is in, so are the command's.
    watcher.wait_for(lambda: any(Rejection.model_validate_json(m.payload).topic == marker[0]
                                 for m in watcher.on(REJECTED)), 15, "the marker's rejection")
    refused = [r for r in (Rejection.model_validate_json(m.payload) for m in watcher.on(REJECTED))
               if r.topic == command[0]]
    assert len(refused) == 1
