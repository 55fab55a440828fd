"""Training speed with ultralytics' own torch thread count against `edge train`'s (every core).

ultralytics' select_device sets cores - 1 torch threads on CPU (one of two on this box) and
trains with no data-loader processes there; `edge train` resets the count to every core when
training starts (`--threads`). This runs the same short training twice, side by side, on tiles
of a few synthetic checkpoint scenes (rendered and tiled here as `edge tile` does for the
shipped models: 384 px tiles at the 1280 scale, batch 16, 1 epoch, no validation between
epochs, images not cached), once at cores - 1 threads and once at every core, and prints the
seconds per training batch of each (from ultralytics' own per-batch callback, the first two
batches of each run left out as warm-up) and their ratio.

    .venv/bin/python benchmarks/train_threads.py [--seeds 1:7] [--frames-per-seed 12]
"""

from __future__ import annotations

import argparse
import itertools
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
EDGE = REPO / ".venv" / "bin" / "edge"
os.environ.setdefault("YOLO_OFFLINE", "1")


def tiles(work: Path, seeds: str, frames: int) -> Path:
    """A tiled training set from `edge synth dataset` + `edge tile`; its data.yaml."""
    subprocess.run([str(EDGE), "synth", "dataset", "checkpoint", "--seeds", seeds, "--frames-per-seed",
                    str(frames), "--duration-s", "10", "--val-fraction", "0.25", "--out",
                    str(work / "frames"), "--quiet"],
                   check=True, capture_output=True)
    subprocess.run([str(EDGE), "tile", str(work / "frames" / "data.yaml"), "--infer-imgsz", "1280",
                    "--size", "384", "--out", str(work / "tiles"), "--quiet"],
                   check=True, capture_output=True)
    return work / "tiles" / "data.yaml"


def seconds_per_batch(data: Path, threads: int, work: Path) -> tuple[float, int]:
    """Median seconds per batch of one short training run at `threads`, and its batch count."""
    from ultralytics import YOLO

    from edge.training.train import thread_setter

    stamps: list[float] = []
    model = YOLO("yolo11n.yaml", task="detect")
    model.add_callback("on_train_start", thread_setter(threads))  # what `edge train` registers
    model.add_callback("on_train_batch_end", lambda trainer: stamps.append(time.perf_counter()))
    model.train(data=str(data), epochs=1, imgsz=384, batch=16, workers=0, seed=0, deterministic=True,
                cache=False, plots=False, device="cpu", project=str(work / "runs"), name=f"t{threads}",
                exist_ok=True, amp=False, val=False, verbose=False)
    gaps = [b - a for a, b in itertools.pairwise(stamps[2:])]
    if not gaps:
        sys.exit(f"too few batches to time ({len(stamps)}): render more with --seeds/--frames-per-seed")
    return statistics.median(gaps), len(stamps)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", default="1:7", help="synthetic checkpoint seeds to render and tile")
    parser.add_argument("--frames-per-seed", type=int, default=12)
    args = parser.parse_args(argv)
    cores = os.cpu_count() or 1
    from ultralytics.utils import NUM_THREADS

    with tempfile.TemporaryDirectory(prefix="edge-bench-threads-") as tmp:
        work = Path(tmp)
        data = tiles(work, args.seeds, args.frames_per_seed)
        results = {n: seconds_per_batch(data, n, work) for n in dict.fromkeys([NUM_THREADS, cores])}
    print(f"yolo11n from scratch, 384 px tiles, batch 16, {cores} cores; median s per batch:")
    for n, (s, batches) in results.items():
        who = "ultralytics' own (cores - 1)" if n == NUM_THREADS else "edge train (every core)"
        print(f"  {n} torch threads, {who:<30} {s:6.2f} s/batch over {batches} batches")
    if len(results) == 2:
        print(f"  ratio: every core trains {results[NUM_THREADS][0] / results[cores][0]:.2f}x as fast")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
