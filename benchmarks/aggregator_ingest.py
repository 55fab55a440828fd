"""How fast the aggregator ingests rider events through a real Mosquitto, dedup on.

Publishes N rider events (about 10% of them duplicates) at QoS 1 from a separate process and
times, in the same run and on the same broker:

- live:  a running subscriber, from the first publish until the last event is handled;
- drain: the backlog the broker queued for a persistent session while the subscriber was away.

Each against a plain paho subscriber that only json-decodes, to show what the aggregator's
validation, SQLite transactions and acks cost on top of MQTT itself.

    .venv/bin/python benchmarks/aggregator_ingest.py [--events 20000]
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.subscribeoptions import SubscribeOptions

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]

from broker import Broker, mosquitto_available  # noqa: E402

from edge.aggregator.engine import Engine, Tally  # noqa: E402
from edge.aggregator.service import AggregatorService  # noqa: E402
from edge.aggregator.settings import Checkpoint, Settings  # noqa: E402
from edge.aggregator.store import SqliteStore  # noqa: E402
from edge.config import BrokerConfig  # noqa: E402
from edge.events import Evidence, ModelRef, Occupant, RiderEvent, Votes  # noqa: E402
from edge.labels import Verdict  # noqa: E402
from edge.transport import topics  # noqa: E402

SITE, PREFIX, RECEIVE_MAXIMUM = "bench", "edge/v1", 1000
CAMERAS = [f"cp-{i}" for i in range(5)]


def make_messages(n: int, duplicate_share: float, seed: int = 7) -> tuple[list[tuple[str, bytes]], int]:
    """N (topic, payload) pairs of which about `duplicate_share` repeat earlier ones; and the unique count."""
    rng = random.Random(seed)
    unique = round(n / (1 + duplicate_share))
    start = datetime(2025, 1, 13, tzinfo=UTC)
    messages = []
    for i in range(unique):
        camera = CAMERAS[i % len(CAMERAS)]
        verdicts = [Verdict.NO_HELMET if rng.random() < 0.1 else Verdict.HELMET]
        if rng.random() < 0.2:
            verdicts.append(rng.choice(list(Verdict)))
        event = RiderEvent(
            event_id=f"{camera}-{i:08d}", site=SITE, camera=camera,
            captured_at=start + timedelta(seconds=i), track_id=i, direction="southbound",
            occupants=tuple(Occupant(seat=s, verdict=v, votes=Votes(helmet=4, no_helmet=1), confidence=0.87)
                            for s, v in enumerate(verdicts)),
            model=ModelRef(id="helmet", sha256="a" * 64),
            evidence=Evidence(uri=f"var/evidence/{camera}/{i:08d}.jpg", sha256="b" * 64))
        messages.append((topics.rider_topic(PREFIX, SITE, camera), event.to_json()))
    for _ in range(n - unique):  # redeliveries land somewhere after their original
        j = rng.randrange(unique)
        messages.insert(rng.randrange(j + 1, len(messages) + 1), messages[j])
    return messages, unique


# --- publisher process ------------------------------------------------------------------------------


def publisher_main(port: int, path: str) -> None:
    """Child process: connect, say `ready`, wait for `go`, publish every line at QoS 1, report seconds."""
    lines = Path(path).read_bytes().splitlines()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-publisher", protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(0)  # no client-side cap on unacknowledged messages
    client.connect("127.0.0.1", port)
    client.loop_start()
    print("ready", flush=True)
    sys.stdin.readline()
    t0 = time.perf_counter()
    infos = []
    for line in lines:
        topic, payload = line.split(b"\t", 1)
        infos.append(client.publish(topic.decode(), payload, qos=1))
    for info in infos:
        info.wait_for_publish(120)
    print(f"{time.perf_counter() - t0:.3f}", flush=True)
    client.disconnect()
    client.loop_stop()


def publish(broker: Broker, path: Path, on_go: Callable[[], None] = lambda: None) -> float:
    """Publish the file's messages from a child process; returns its publishing seconds."""
    child = subprocess.Popen([sys.executable, __file__, "--publisher", str(broker.port), str(path)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert child.stdin is not None
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    on_go()
    child.stdin.write("go\n")
    child.stdin.flush()
    seconds = float(child.stdout.readline())
    child.wait(30)
    return seconds


# --- subscribers ------------------------------------------------------------------------------------


class PlainSubscriber:
    """A persistent-session paho subscriber that json-decodes each payload and nothing else."""

    def __init__(self, broker: Broker) -> None:
        self.count = 0
        self.subscribed = threading.Event()
        self._broker = broker
        self._client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-plain", protocol=mqtt.MQTTv5)
        self._client.on_message = self._on_message
        self._client.on_connect = lambda c, *_a: c.subscribe(
            topics.camera_filter(PREFIX, SITE, topics.TopicKind.RIDER), options=SubscribeOptions(qos=1))
        self._client.on_subscribe = lambda *_a: self.subscribed.set()

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        json.loads(msg.payload)
        self.count += 1

    def start(self) -> None:
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 0xFFFFFFFF
        props.ReceiveMaximum = RECEIVE_MAXIMUM
        self.subscribed.clear()
        self._client.connect("127.0.0.1", self._broker.port, clean_start=False, properties=props)
        self._client.loop_start()
        assert self.subscribed.wait(10)

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


class Aggregator:
    """The real AggregatorService on a fresh SQLite store."""

    def __init__(self, broker: Broker, db: Path) -> None:
        self._broker, self._db = broker, db
        self.service: AggregatorService | None = None
        self._before = 0  # handled by earlier runs
        self.tally = Tally()

    @property
    def count(self) -> int:
        return self._before + (0 if self.service is None else self.service.processed)

    def start(self) -> None:
        settings = Settings(site=SITE, prefix=PREFIX, min_riders=100, rates_interval_s=60.0,
                            checkpoints={c: Checkpoint(c, c) for c in CAMERAS})
        engine = Engine(SqliteStore(self._db), settings)
        self.service = AggregatorService(engine, BrokerConfig(host="127.0.0.1", port=self._broker.port),
                                         "bench-aggregator", receive_maximum=RECEIVE_MAXIMUM)
        self.service.start()
        assert self.service.connected.wait(10)
        time.sleep(0.2)  # let the SUBSCRIBE land before publishing starts (first run has no session yet)

    def stop(self) -> None:
        assert self.service is not None
        self.service.stop()
        self.service.engine.store.close()
        self.tally = self.service.engine.tally
        self._before, self.service = self.count, None


def _wait(count: Callable[[], int], n: int, timeout_s: float = 300.0) -> float:
    deadline = time.perf_counter() + timeout_s
    while count() < n:
        if time.perf_counter() > deadline:
            raise TimeoutError(f"only {count()} of {n} handled")
        time.sleep(0.002)
    return time.perf_counter()


def live(broker: Broker, path: Path, n: int, sub: PlainSubscriber | Aggregator) -> tuple[float, float]:
    """(seconds until all N handled, publisher seconds) with the subscriber running throughout."""
    sub.start()
    before = sub.count
    t0 = [0.0]
    pub_s = publish(broker, path, on_go=lambda: t0.__setitem__(0, time.perf_counter()))
    end = _wait(lambda: sub.count - before, n)
    sub.stop()
    return end - t0[0], pub_s


def drain(broker: Broker, path: Path, n: int, sub: PlainSubscriber | Aggregator) -> float:
    """Seconds to take in a backlog of N queued on the broker while the subscriber was away."""
    sub.start()
    sub.stop()
    publish(broker, path)
    before = sub.count
    t0 = time.perf_counter()
    sub.start()
    end = _wait(lambda: sub.count - before, n)
    sub.stop()
    return end - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--duplicates", type=float, default=0.10, help="share of extra duplicate messages")
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # alerts are expected here; keep the output to figures
    if not mosquitto_available():
        sys.exit("mosquitto is not installed")
    messages, unique = make_messages(args.events, args.duplicates)
    n = len(messages)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        path = work / "messages.tsv"
        path.write_bytes(b"\n".join(t.encode() + b"\t" + p for t, p in messages) + b"\n")
        print(f"{n} rider events ({unique} unique, {n - unique} duplicates), "
              f"{sum(len(p) for _, p in messages) // n} bytes each on average")
        with Broker(work) as broker:
            results = {}
            plain = PlainSubscriber(broker)
            results["plain live"] = live(broker, path, n, plain)[0]
            agg = Aggregator(broker, work / "live.db")
            results["aggregator live"], pub_s = live(broker, path, n, agg)
            tally = agg.tally
            assert (tally.stored, tally.duplicates, tally.refused) == (unique, n - unique, 0), tally
            results["plain drain"] = drain(broker, path, n, plain)
            agg = Aggregator(broker, work / "drain.db")
            results["aggregator drain"] = drain(broker, path, n, agg)
        print(f"publisher (beside the live aggregator): {n / pub_s:,.0f} msg/s")
        for mode in ("live", "drain"):
            a, p = results[f"aggregator {mode}"], results[f"plain {mode}"]
            print(f"{mode:5}: aggregator {n / a:8,.0f} events/s ({n} in {a:.2f} s, dedup on), "
                  f"plain json subscriber {n / p:8,.0f} msg/s: ratio {p / a:.2f}")


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--publisher":
        publisher_main(int(sys.argv[2]), sys.argv[3])
    else:
        main()
