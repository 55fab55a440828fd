"""How many live 1080p RTSP checkpoint cameras one box sustains at 5 analysed frames/s each.

A 1080p clip is made by scaling a sample with ffmpeg (H.264, 15 fps, GOP 2 s, no B-frames, as
IP cameras send). For N = start, start+step, ...: N GStreamer RTSP servers (tests/rtsp_server.py)
each loop that clip; N worker processes (benchmarks/_live_worker.py: what `edge worker` runs,
one process per camera, publishing through their outboxes to one Mosquitto) analyse one stream
each at 5 fps. After all are warm, a window of `--seconds` is measured; N is sustained when

- every camera's analysed frames per second >= 5 x (1 - tolerance) (default tolerance 3%), and
- no camera's lag grows: the stream's arrival lag (wall clock vs the stream's own timestamps,
  last 10 s vs first 10 s of the window) grows by less than `--max-lag-growth-ms`, and frame
  age when detection starts stays under one second at p95.

It stops at the first N that is not sustained (or at --max-n) and prints per-N figures: analysed
fps per camera (min and mean) against the target, frames read per second, inference ms, frame
age, lag growth and CPU per process kind. The RTSP servers run on the same cores (real cameras
would not); their CPU is shown beside the workers'.

Torch threads per worker: `--threads auto` (default) gives each worker cores // N (at least 1).

    .venv/bin/python benchmarks/cameras_per_box.py [--start-n 1] [--max-n 8] [--seconds 30] [--ns 1,4,5]
    .venv/bin/python benchmarks/cameras_per_box.py --weights /tmp/x/helmet_openvino_model
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests"), str(REPO / "benchmarks")]
os.environ.setdefault("YOLO_OFFLINE", "1")

from broker import Broker, mosquitto_available  # noqa: E402
from live_stages import cpu_s, lag_growth_ms, pct, start_worker  # noqa: E402
from rtsp_server import RtspServer, rtsp_unavailable  # noqa: E402

WORKER = Path(__file__).resolve().parent / "_live_worker.py"
TARGET_FPS = 5.0


@dataclass
class Step:
    n: int
    threads: int
    fps: list[float]  # analysed per second, per camera
    read_fps: list[float]
    infer_ms: float
    age_p95_ms: float
    lag_growth_ms: float  # the worst camera's
    cpu: dict[str, float]  # share of one core, per process kind
    sustained: bool
    restarts: int = 0  # RTSP servers restarted because they never delivered (harness fault)


def make_1080p(sample: Path, out: Path) -> Path:
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(sample), "-vf", "scale=1920:1080",
                    "-c:v", "libx264", "-preset", "veryfast", "-crf", "23", "-g", "30", "-bf", "0",
                    "-pix_fmt", "yuv420p", "-an", str(out)], check=True, timeout=300)
    return out


class StepError(RuntimeError):
    """An N that could not even be started."""


def run_step(n: int, clip: Path, broker: Broker, work: Path, args: argparse.Namespace) -> Step:
    threads = max(1, (os.cpu_count() or 1) // n) if args.threads == "auto" else int(args.threads)
    servers = [RtspServer(clip, work / f"rtsp-{n}-{i}.log", path=f"/cam{i}") for i in range(n)]
    workers: list[subprocess.Popen[str]] = []
    restarts = 0
    try:
        for server in servers:
            server.start()
        for i, server in enumerate(servers):
            command = [sys.executable, str(WORKER), "--config", str(args.config), "--camera", args.camera,
                       "--camera-id", f"{args.camera}-{i}", "--url", server.url, "--analysis-fps",
                       str(TARGET_FPS), "--broker", f"mqtt://{broker.host}:{broker.port}",
                       "--outbox", str(work / f"outbox-{n}-{i}.db"), "--evidence-dir", str(work / "evidence"),
                       "--threads", str(threads), "--result", str(work / f"worker-{n}-{i}.json")]
            if args.weights:
                command += ["--weights", str(args.weights)]
            # One at a time, as a box's workers come up: N models loading at once on 2 cores can
            # starve the first RTSP opens past their timeout, which measures start-up, not steady state.
            worker, restarted = start_worker(command, server, args.ready_timeout_s)
            restarts += restarted
            if worker is None:
                raise StepError(f"worker {i} did not analyse a frame within {args.ready_timeout_s:g} s "
                                f"of starting, three times (camera {server.url})")
            workers.append(worker)
        time.sleep(args.warmup_s)
        pids = {"workers": [w.pid for w in workers],
                "rtsp servers": [s._process.pid for s in servers if s._process is not None],
                "mosquitto": [broker._process.pid] if broker._process is not None else []}
        cpu0 = {kind: sum(cpu_s(p) for p in ps) for kind, ps in pids.items()}
        t0 = time.time()
        time.sleep(args.seconds)
        t1 = time.time()
        cpu1 = {kind: sum(cpu_s(p) for p in ps) for kind, ps in pids.items()}
        for w in workers:
            assert w.stdin is not None
            w.stdin.write("stop\n")
            w.stdin.flush()
        for w in workers:
            w.wait(120)
    finally:
        for w in workers:
            if w.poll() is None:
                w.kill()
        for server in servers:
            server.stop()
    window = t1 - t0
    results: list[dict[str, Any]] = [json.loads((work / f"worker-{n}-{i}.json").read_text())
                                     for i in range(n)]
    fps, read_fps, infer, ages, lags = [], [], [], [], []
    for r in results:
        frames = [f for f in r["analysed_frames"] if t0 <= f["t"] <= t1 and "analyse_ms" in f]
        fps.append(len(frames) / window)
        read_fps.append(sum(1 for t, _, _ in r["reads"] if t0 <= t <= t1) / window)
        infer += [f["infer_ms"] for f in frames]
        ages += [f["age_start_ms"] for f in frames]
        lags.append(lag_growth_ms(r["reads"], t0, t1))
    age_p95 = pct(ages, 95)
    worst_lag = max(lags)
    sustained = (min(fps) >= TARGET_FPS * (1 - args.tolerance) and worst_lag < args.max_lag_growth_ms
                 and age_p95 < 1000.0)
    return Step(n, threads, fps, read_fps, statistics.fmean(infer) if infer else float("nan"), age_p95,
                worst_lag, {k: (cpu1[k] - cpu0[k]) / window for k in cpu0}, sustained, restarts)


def describe(s: Step) -> str:
    cpu = ", ".join(f"{kind} {share:.0%}" for kind, share in s.cpu.items())
    return (f"N={s.n:2d} (torch threads {s.threads}): analysed fps per camera min {min(s.fps):5.2f} "
            f"mean {statistics.fmean(s.fps):5.2f} (target {TARGET_FPS:g}: min/target "
            f"{min(s.fps) / TARGET_FPS:5.1%}); read {statistics.fmean(s.read_fps):5.2f}/s; "
            f"inference {s.infer_ms:6.1f} ms; frame age p95 {s.age_p95_ms:5.0f} ms; "
            f"worst lag growth {s.lag_growth_ms:+6.0f} ms; CPU (of one core) {cpu}; "
            f"RTSP server restarts at start {s.restarts} -> "
            f"{'sustained' if s.sustained else 'NOT sustained'}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--camera", default="cp-baizhang-s")
    parser.add_argument("--sample", type=Path, default=REPO / "samples" / "checkpoint-day.mp4")
    parser.add_argument("--clip", type=Path, help="an existing 1080p clip (default: scale --sample)")
    parser.add_argument("--weights", type=Path,
                        help="other weights of the camera's model (default: the configured ones)")
    parser.add_argument("--threads", default="auto", help="torch threads per worker (default: cores // N)")
    parser.add_argument("--start-n", type=int, default=1)
    parser.add_argument("--step", type=int, default=1)
    parser.add_argument("--max-n", type=int, default=8)
    parser.add_argument("--ns", help="the Ns to try, in order, e.g. 1,4,5,6 (instead of start/step/max)")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window per N (default: 30)")
    parser.add_argument("--warmup-s", type=float, default=3.0)
    parser.add_argument("--ready-timeout-s", type=float, default=60.0,
                        help="for each worker to analyse its first frame (default: 60)")
    parser.add_argument("--tolerance", type=float, default=0.03, help="on the 5 fps target (default: 0.03)")
    parser.add_argument("--max-lag-growth-ms", type=float, default=500.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not mosquitto_available():
        sys.exit("mosquitto is not installed")
    reason = rtsp_unavailable()
    if reason is not None:
        sys.exit(reason)
    with tempfile.TemporaryDirectory(prefix="edge-bench-cams-") as tmp:
        work = Path(tmp)
        clip = args.clip.resolve() if args.clip else make_1080p(args.sample, work / "checkpoint-1080p.mp4")
        print(f"1080p clip {clip.name} from {args.sample.name}; {TARGET_FPS:g} analysed fps per camera; "
              f"{os.cpu_count()} cores; weights {args.weights or 'configured (models/helmet.pt)'}; "
              f"{args.seconds:g} s measured per N")
        steps: list[Step] = []
        with Broker(work) as broker:
            ns = ([int(v) for v in args.ns.split(",")] if args.ns
                  else list(range(args.start_n, args.max_n + 1, args.step)))
            for n in ns:
                try:
                    step = run_step(n, clip, broker, work, args)
                except StepError as exc:
                    print(f"N={n:2d}: could not be started: {exc} -> NOT sustained", flush=True)
                    nan = float("nan")
                    steps.append(Step(n, 0, [0.0], [0.0], nan, nan, nan, {}, False))
                    break
                steps.append(step)
                print(describe(step), flush=True)
                if not step.sustained:
                    break
    ok = [s.n for s in steps if s.sustained]
    best = max(ok) if ok else 0
    print(f"largest sustained N of those tried: {best}" + ("" if not steps[-1].sustained else
                                            " (the last N tried was still sustained: try more)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
