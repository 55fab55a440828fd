"""Replay accuracy against exact ground truth: riders, helmet rates, false counts, smoke onset.

Replays synthetic clips (the samples, or fresh seeds rendered to a temporary folder) through
the real worker pipeline and compares what it reports with the clip's ground truth:

- checkpoint: riders counted vs truth (within 2%?), helmet rate per vehicle and per person vs
  truth (within 1 point?), counts that match no rider crossing (pedestrians, cars: 0?), and
  occupants whose verdict disagrees with the truth;
- smoke: incident opened vs the onset (within 5 s?), at the right preset and bearing, and no
  incident on a distractor clip.

`--truth-detections` feeds the ground-truth boxes as detections, isolating tracking, counting
and voting from the model; without it the configured weights run (models/helmet.pt, smoke.pt).

    .venv/bin/python benchmarks/replay_accuracy.py --truth-detections
    .venv/bin/python benchmarks/replay_accuracy.py --seeds 300,301 --smoke-seeds 310 --truth-detections
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import sys
import tempfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")

from edge.config import CheckpointCamera, CountingLine, SiteConfig, SmokeCamera, load_site  # noqa: E402
from edge.events import RiderEvent, SmokeEvent, parse_inbound  # noqa: E402
from edge.outbox import EventKind  # noqa: E402
from edge.pipeline import MemorySink, ReplaySummary, run_replay  # noqa: E402
from edge.synth.truth import SceneTruth  # noqa: E402

START = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)
MATCH_S = 0.5  # default: a counted crossing this close (same direction) to a true one is that rider


def clipped_line(truth: SceneTruth) -> tuple[tuple[float, float], tuple[float, float]]:
    """The truth's counting line (pixels, may reach past the image) cut to the image, normalised,
    keeping its start -> end direction (which names the positive side)."""
    assert truth.counting_line is not None
    (sx, sy), (ex, ey) = truth.counting_line.start_xy, truth.counting_line.end_xy
    dx, dy = ex - sx, ey - sy
    lo, hi = -math.inf, math.inf
    for p, q0, q1 in ((dx, sx, truth.width - sx), (dy, sy, truth.height - sy)):
        if p == 0:
            continue
        a, b = -q0 / p, q1 / p
        lo, hi = max(lo, min(a, b)), min(hi, max(a, b))
    points = [(sx + t * dx, sy + t * dy) for t in (lo, hi)]
    (ax, ay), (bx, by) = ((min(max(x / truth.width, 0.0), 1.0), min(max(y / truth.height, 0.0), 1.0))
                          for x, y in points)
    return (ax, ay), (bx, by)


def site_for(site: SiteConfig, camera_id: str, truth: SceneTruth) -> SiteConfig:
    """The site with the checkpoint camera's line moved onto the clip's true counting line."""
    camera = site.camera(camera_id)
    if not isinstance(camera, CheckpointCamera) or truth.counting_line is None:
        return site
    start, end = clipped_line(truth)
    line = CountingLine(start_xy=start, end_xy=end, positive=truth.counting_line.positive,
                        negative=truth.counting_line.negative,
                        count=(truth.counting_line.positive, truth.counting_line.negative))
    moved = camera.model_copy(update={"counting_line": line})
    return site.model_copy(update={"cameras": tuple(moved if c.id == camera_id else c for c in site.cameras)})


def check(ok: bool) -> str:
    return "yes" if ok else "NO"


def checkpoint_report(video: Path, truth: SceneTruth, summary: ReplaySummary, sink: MemorySink,
                      match_s: float = MATCH_S) -> list[str]:
    crossing = [r for r in truth.riders if r.crossing_frame is not None]
    true_occ = Counter(o.verdict.value for r in crossing for o in r.occupants)
    events = [e for e in (parse_inbound(p.payload) for p in sink.of_kind(EventKind.RIDER))
              if isinstance(e, RiderEvent)]
    got_occ = Counter(o.verdict.value for e in events for o in e.occupants)
    n_true, n_got = len(crossing), len(events)
    count_err = abs(n_got - n_true) / n_true if n_true else 0.0
    # Rates as the district reports them (DESIGN.md 5): per vehicle, and per person.
    rate_true = 1 - true_occ["no_helmet"] / n_true if n_true else 1.0
    rate_got = 1 - got_occ["no_helmet"] / n_got if n_got else 1.0
    judged_true = true_occ["helmet"] + true_occ["no_helmet"]
    judged_got = got_occ["helmet"] + got_occ["no_helmet"]
    person_true = true_occ["helmet"] / judged_true if judged_true else 1.0
    person_got = got_occ["helmet"] / judged_got if judged_got else 1.0
    # Match events to true crossings by time and direction.
    truths = sorted(((r.crossing_frame or 0) / truth.fps, r.direction,
                     sorted(o.verdict.value for o in r.occupants)) for r in crossing)
    used: set[int] = set()
    false_counts = verdict_misses = 0
    for e in sorted(events, key=lambda e: e.captured_at):
        t_s = (e.captured_at - START).total_seconds()
        near = [(abs(ts - t_s), i) for i, (ts, d, _) in enumerate(truths)
                if d == e.direction and i not in used and abs(ts - t_s) <= match_s]
        if not near:
            false_counts += 1
            continue
        i = min(near)[1]
        used.add(i)
        verdict_misses += sorted(o.verdict.value for o in e.occupants) != truths[i][2]
    return [
        f"{video.name}: {summary.frames} frames, {summary.wall_s:.1f} s wall "
        f"({summary.video_s / max(summary.wall_s, 1e-9):.1f}x real time)",
        f"  riders counted      {n_got:>5} vs truth {n_true:<5} error {100 * count_err:5.2f}%   "
        f"within 2%? {check(count_err <= 0.02)}",
        f"  by direction        {dict(sorted(summary.riders_by_direction.items()))} vs truth "
        f"{dict(sorted(Counter(r.direction for r in crossing).items()))}",
        f"  occupants           {dict(sorted(got_occ.items()))} vs truth {dict(sorted(true_occ.items()))}",
        f"  helmet rate/vehicle {100 * rate_got:6.2f}% vs truth {100 * rate_true:6.2f}%   "
        f"within 1 point? {check(abs(rate_got - rate_true) <= 0.01)}",
        f"  helmet rate/person  {100 * person_got:6.2f}% vs truth {100 * person_true:6.2f}%   "
        f"within 1 point? {check(abs(person_got - person_true) <= 0.01)}",
        f"  false counts (pedestrians, cars, doubles: no rider crossing within {match_s} s): "
        f"{false_counts}   0? {check(false_counts == 0)}",
        f"  riders missed {n_true - len(used)}; counted riders whose occupant verdicts differ: "
        f"{verdict_misses}",
    ]


def smoke_report(video: Path, truth: SceneTruth, summary: ReplaySummary, sink: MemorySink) -> list[str]:
    events = [e for e in (parse_inbound(p.payload) for p in sink.of_kind(EventKind.SMOKE))
              if isinstance(e, SmokeEvent)]
    opened = [e for e in events if e.phase == "opened"]
    head = f"{video.name}: {summary.frames} frames, {summary.wall_s:.1f} s wall"
    if not truth.smoke:
        return [head, f"  incidents opened on a clip without fire: {len(opened)}   0? {check(not opened)}"]
    onset = truth.smoke[0]
    if not opened:
        return [head, f"  no incident opened (onset {onset.onset_t_s:.1f} s at {onset.preset})   "
                      "within 5 s? NO"]
    first = opened[0]
    delay_s = (first.captured_at - START).total_seconds() - onset.onset_t_s
    bearing_err = abs((first.bearing_deg - onset.bearing_deg + 180) % 360 - 180)
    return [head,
            f"  incident opened at {onset.onset_t_s + delay_s:.1f} s vs onset {onset.onset_t_s:.1f} s: "
            f"{delay_s:+.1f} s   within 5 s? {check(0 <= delay_s <= 5.0)}",
            f"  preset {first.preset} vs {onset.preset}; bearing {first.bearing_deg:.1f} vs "
            f"{onset.bearing_deg:.1f} deg (error {bearing_err:.1f}); flame reported: "
            f"{any(e.flame for e in events)} (truth {onset.has_fire}); incidents opened: {len(opened)}"]


def render(kind: str, seeds: list[int], duration_s: float, out: Path) -> list[Path]:
    from edge.synth.scene import write_clip

    paths = []
    for seed in seeds:
        path = out / f"{kind}-{seed}.mp4"
        if kind == "checkpoint":
            from edge.synth.checkpoint import CheckpointScene
            write_clip(CheckpointScene(seed, duration_s), path, progress=False)
        else:
            from edge.synth.smoke import SmokeScene
            write_clip(SmokeScene(seed, duration_s), path, progress=False)
        paths.append(path)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--checkpoint-camera", default="cp-baizhang-s")
    parser.add_argument("--smoke-camera", default="smoke-tower-3")
    parser.add_argument("--clips", type=Path, nargs="*",
                        default=[REPO / "samples" / n for n in ("checkpoint-day.mp4", "checkpoint-night.mp4",
                                                               "smoke-fire.mp4", "smoke-nofire.mp4")])
    parser.add_argument("--seeds", default="", help="also render checkpoint clips for these seeds (N,M,...)")
    parser.add_argument("--smoke-seeds", default="", help="also render smoke clips for these seeds")
    parser.add_argument("--duration-s", type=float, default=40.0, help="of rendered clips")
    parser.add_argument("--match-s", type=float, default=MATCH_S,
                        help=f"how close in time a count must be to a true crossing (default: {MATCH_S})")
    parser.add_argument("--truth-detections", action="store_true",
                        help="ground-truth boxes as detections instead of the configured model")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    site = load_site(args.config)
    clips = list(args.clips)
    with tempfile.TemporaryDirectory(prefix="edge-bench-") as tmp:
        for kind, seeds in (("checkpoint", args.seeds), ("smoke", args.smoke_seeds)):
            if seeds:
                clips += render(kind, [int(s) for s in seeds.split(",")], args.duration_s, Path(tmp))
        mode = "ground-truth detections" if args.truth_detections else "configured model weights"
        print(f"replay accuracy, {mode}")
        for video in clips:
            truth = SceneTruth.read(video.with_suffix(".json"))
            camera_id = args.checkpoint_camera if truth.kind == "checkpoint" else args.smoke_camera
            clip_site = site_for(site, camera_id, truth)
            camera = clip_site.camera(camera_id)
            assert isinstance(camera, CheckpointCamera | SmokeCamera)
            sink = MemorySink()
            try:
                summary = run_replay(clip_site, camera_id, video, START, sink, progress=sys.stderr.isatty(),
                                     truth_detections=args.truth_detections)
            except FileNotFoundError as exc:
                print(f"{video.name}: {exc} (train the model, or pass --truth-detections)")
                continue
            lines = (checkpoint_report(video, truth, summary, sink, args.match_s)
                     if truth.kind == "checkpoint" else smoke_report(video, truth, summary, sink))
            print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
