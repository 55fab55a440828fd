"""Smoke alert latency: from a fire's onset to the aggregator's incident, in recording time.

Renders fresh smoke clips (`edge synth smoke`, seeds outside the model's training and validation
seeds 2000-2399 and 2900-2915) into a temporary folder and replays each, as `edge replay --broker`
does, through the smoke camera's pipeline (presets from the clip's truth, smoke watch k-of-n
confirmation, outbox, MQTT QoS 1) to a real Mosquitto and the real aggregator service
(AggregatorService + SQLite). The latency of a clip is the aggregator's first incident's
`opened_at` (the capture time of its first sighting, on the recording's clock) minus the true
onset; side by side for

- the model (models/smoke.pt, when it exists), and
- ground-truth detections (`truth_detections=True`): the pipeline's own latency (analysis rate,
  preset settle time, confirmation), without model error.

Each replay runs on its own day of recording time so incidents of different replays never merge.
An incident opened before the onset, or pointing more than --bearing-tolerance-deg away from
the fire, is a false alarm (counted, not a latency); a clip with no incident at the fire after
its onset is a miss. With a handful of seeds, p95 is close to the maximum.

    .venv/bin/python benchmarks/smoke_latency.py [--seeds 3100:3106] [--duration-s 40] [--weights W.pt]
"""

from __future__ import annotations

import argparse
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "benchmarks")]
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_VERBOSE", "False")

from broker import Broker, mosquitto_available  # noqa: E402
from live_stages import pct  # noqa: E402

from edge.aggregator.configure import settings_from  # noqa: E402
from edge.aggregator.engine import Engine  # noqa: E402
from edge.aggregator.geo import bearing_difference_deg  # noqa: E402
from edge.aggregator.service import AggregatorService  # noqa: E402
from edge.aggregator.store import SqliteStore  # noqa: E402
from edge.aggregator.weeks import to_us  # noqa: E402
from edge.config import BrokerConfig, SiteConfig, load_site  # noqa: E402
from edge.events import FireIncident  # noqa: E402
from edge.pipeline import run_replay  # noqa: E402
from edge.pipeline.delivery import open_delivery  # noqa: E402
from edge.synth.cli import parse_seeds  # noqa: E402
from edge.synth.truth import SceneTruth  # noqa: E402

EDGE = REPO / ".venv" / "bin" / "edge"
BASE = datetime(2025, 6, 2, 8, 0, tzinfo=UTC)
# Every seed the shipped smoke model was trained or validated on (models/README.md).
MODEL_SEEDS = set(range(2000, 2400)) | set(range(2900, 2916))


@dataclass
class Outcome:
    seed: int
    mode: str
    onset_s: float
    latency_s: float | None  # None: no incident after the onset
    false_alarms: tuple[str, ...]  # each: how far off the fire and when, for a reader to judge
    bearing_error_deg: float | None
    wall_s: float


def render(seed: int, duration_s: float, out: Path) -> Path:
    subprocess.run([str(EDGE), "synth", "smoke", "--seed", str(seed), "--duration-s", str(duration_s),
                    "--out", str(out), "--quiet"], check=True, capture_output=True, timeout=900)
    return out / f"smoke-{seed}.mp4"


def replay_to_aggregator(site: SiteConfig, camera: str, clip: Path, start: datetime, broker: Broker,
                         outbox: Path, truth_detections: bool) -> float:
    """`edge replay --broker` of one clip; returns the replay's wall seconds (all events acked)."""
    delivery = open_delivery(site, camera, broker_url=f"mqtt://{broker.host}:{broker.port}",
                             outbox_path=outbox)
    try:
        t0 = time.perf_counter()
        run_replay(site, camera, clip, start, delivery.sink, progress=False,
                   truth_detections=truth_detections, evidence=None)
        wall_s = time.perf_counter() - t0
        left = delivery.drain(timeout_s=60.0)
        if left:
            raise RuntimeError(f"{left} events not acknowledged by the broker")
        delivery.stopped("benchmark replay done")
    finally:
        delivery.close()
    return wall_s


def outcome(store: SqliteStore, seed: int, mode: str, truth: SceneTruth, start: datetime,
            wall_s: float, tolerance_deg: float) -> Outcome:
    """The first incident after the onset that points at the fire (bearing within tolerance_deg);
    incidents before the onset or pointing elsewhere are false alarms."""
    onset = truth.smoke[0]
    onset_at = start + timedelta(seconds=onset.onset_t_s)
    incidents = store.incidents_between(to_us(start), to_us(start + timedelta(hours=12)))

    def error_deg(incident: FireIncident) -> float:
        return bearing_difference_deg(incident.sightings[0].bearing_deg, onset.bearing_deg)

    hits = [i for i in incidents if i.opened_at >= onset_at and error_deg(i) <= tolerance_deg]
    false_alarms = tuple(f"{error_deg(i):.0f} deg off at {(i.opened_at - onset_at).total_seconds():+.1f} s"
                         for i in incidents if not hits or i is not hits[0])
    if not hits:
        return Outcome(seed, mode, onset.onset_t_s, None, false_alarms, None, wall_s)
    first = hits[0]
    return Outcome(seed, mode, onset.onset_t_s, (first.opened_at - onset_at).total_seconds(), false_alarms,
                   error_deg(first), wall_s)


def summary(mode: str, outcomes: list[Outcome]) -> str:
    found = [o.latency_s for o in outcomes if o.latency_s is not None]
    misses = sum(o.latency_s is None for o in outcomes)
    false_alarms = sum(len(o.false_alarms) for o in outcomes)
    if not found:
        return (f"  {mode:<22} no incident after onset in any clip; misses {misses}, "
                f"false alarms {false_alarms}")
    return (f"  {mode:<22} latency p50 {pct(found, 50):5.1f} s  p95 {pct(found, 95):5.1f} s  "
            f"mean {statistics.fmean(found):5.1f} s  max {max(found):5.1f} s over {len(found)} clips; "
            f"misses {misses}, false alarms {false_alarms}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--camera", default="smoke-tower-3")
    parser.add_argument("--seeds", type=parse_seeds, default=list(range(3100, 3106)),
                        help="smoke clip seeds (default 3100:3106; not the model's seeds, "
                             "2000-2399 and 2900-2915)")
    parser.add_argument("--duration-s", type=float, default=40.0, help="of each clip (default: 40)")
    parser.add_argument("--clips", type=Path, help="reuse (or keep) rendered clips in this folder")
    parser.add_argument("--bearing-tolerance-deg", type=float, default=10.0,
                        help="an incident further off the fire's bearing is a false alarm (default: 10)")
    parser.add_argument("--weights", type=Path,
                        help="other weights for the smoke camera's model (default: the configured ones)")
    parser.add_argument("--model", action=argparse.BooleanOptionalAction, default=None,
                        help="also run the configured weights (default: when they exist)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not mosquitto_available():
        sys.exit("mosquitto is not installed")
    trained = sorted(set(args.seeds) & MODEL_SEEDS)
    if trained:
        sys.exit(f"seeds {trained} are the model's training or validation seeds; pick others")
    site = load_site(args.config)
    if args.weights is not None:
        key = site.camera(args.camera).model
        models = {**site.models, key: site.models[key].with_weights(args.weights)}
        site = site.model_copy(update={"models": models})
    weights = Path(site.model_for(site.camera(args.camera)).weights)
    use_model = weights.exists() if args.model is None else args.model
    modes = [("ground truth", True)] + ([(f"model {weights.name}", False)] if use_model else [])
    with tempfile.TemporaryDirectory(prefix="edge-bench-smoke-") as tmp:
        work = Path(tmp)
        folder = args.clips or work
        folder.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        wanted = [s for s in args.seeds if not (folder / f"smoke-{s}.mp4").exists()]
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            list(pool.map(lambda s: render(s, args.duration_s, folder), wanted))
        clips = {s: folder / f"smoke-{s}.mp4" for s in args.seeds}
        print(f"{len(clips)} smoke clips of {args.duration_s:g} s (seeds {args.seeds[0]}..{args.seeds[-1]}), "
              f"rendered {len(wanted)} in {time.perf_counter() - t0:.0f} s; camera {args.camera}, "
              f"analysis_fps {site.camera(args.camera).analysis_fps:g}; "
              f"modes: {', '.join(m for m, _ in modes)}"
              + ("" if use_model else f" ({weights} not found: model not run)"))
        outcomes: list[Outcome] = []
        with Broker(work) as broker:
            store = SqliteStore(work / "aggregator.db")
            service = AggregatorService(Engine(store, settings_from(site)),
                                        BrokerConfig(host=broker.host, port=broker.port), "bench-aggregator")
            service.start()
            assert service.connected.wait(10), "aggregator did not connect"
            runs = []
            day = 0
            for seed, clip in clips.items():
                for mode, truth_detections in modes:
                    start = BASE + timedelta(days=day)
                    day += 1
                    wall_s = replay_to_aggregator(site, args.camera, clip, start, broker,
                                                  work / f"outbox-{day}.db", truth_detections)
                    runs.append((seed, mode, start, wall_s))
            time.sleep(1.0)  # the last batch: the aggregator commits within its idle period (50 ms)
            service.stop()
            for seed, mode, start, wall_s in runs:
                truth = SceneTruth.read(clips[seed].with_suffix(".json"))
                outcomes.append(outcome(store, seed, mode, truth, start, wall_s, args.bearing_tolerance_deg))
            store.close()
    for o in outcomes:
        got = ("no incident at the fire after onset" if o.latency_s is None else
               f"incident {o.latency_s:+5.1f} s after onset, bearing error {o.bearing_error_deg:.1f} deg")
        alarms = f" ({'; '.join(o.false_alarms)})" if o.false_alarms else ""
        print(f"  seed {o.seed} onset {o.onset_s:5.1f} s  {o.mode:<22} {got}; "
              f"false alarms {len(o.false_alarms)}{alarms}; "
              f"replay {o.wall_s:.1f} s wall")
    print("onset -> aggregator incident (recording time):")
    by_mode = {m: [o for o in outcomes if o.mode == m] for m, _ in modes}
    for mode, group in by_mode.items():
        print(summary(mode, group))
    if len(by_mode) == 2:
        (_, truth_group), (model_name, model_group) = by_mode.items()
        t = [o.latency_s for o in truth_group if o.latency_s is not None]
        m = [o.latency_s for o in model_group if o.latency_s is not None]
        if t and m and pct(t, 50) > 0:
            print(f"  ratio {model_name} / ground truth: p50 {pct(m, 50) / pct(t, 50):.2f}x, "
                  f"p95 {pct(m, 95) / pct(t, 95):.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
