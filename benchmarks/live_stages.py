"""Per-stage cost and capture-to-aggregator latency of one live RTSP checkpoint camera.

Everything real, on this machine: a GStreamer RTSP server (tests/rtsp_server.py) loops a sample
clip; one worker process runs what `edge worker` runs for camera cp-baizhang-s at its configured
analysis rate (benchmarks/_live_worker.py: LiveSource over FFmpeg, the configured YOLO weights,
ByteTrack, rider counter, SQLite outbox, MQTT publisher), with thin timers around each stage;
Mosquitto (tests/broker.py); and the real aggregator service (AggregatorService + SQLite store)
in this process, which stamps each event when its batch is stored.

Reported over the measured window (after the model is warm):

- frames read and analysed per second against the configured rate;
- per stage, ms per call (p50/p95/mean) and its share of the frame budget (1 / analysis_fps):
  decode (the same clip decoded from file at full speed in this run: the live reader thread
  mostly waits for the camera), inference, tracking, analysis (counter + events), publish (outbox
  put; the MQTT leg is in the delivery latency below);
- frame age (now - captured_at) when detection starts and when analysis ends, and whether the
  stream's lag (wall clock vs the stream's own timestamps) grows over the run;
- per rider event: aggregator receipt - captured_at, split into capture -> outbox (the counter
  holds a rider until it leaves or report_after_s after crossing, to collect head views) and
  outbox -> aggregator (outbox, MQTT QoS 1, broker, aggregator batch commit);
- CPU of each process (share of one core).

A live frame's captured_at is the wall clock when the frame came out of the decoder (edge.source.live).

    .venv/bin/python benchmarks/live_stages.py [--seconds 90] [--clip samples/checkpoint-day.mp4]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import select
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "tests")]
os.environ.setdefault("YOLO_OFFLINE", "1")

import cv2  # noqa: E402
from broker import Broker, mosquitto_available  # noqa: E402
from rtsp_server import RtspServer, rtsp_unavailable  # noqa: E402

from edge.aggregator.configure import settings_from  # noqa: E402
from edge.aggregator.engine import Engine, Outbound  # noqa: E402
from edge.aggregator.service import AggregatorService  # noqa: E402
from edge.aggregator.store import SqliteStore  # noqa: E402
from edge.config import BrokerConfig, load_site  # noqa: E402

WORKER = Path(__file__).resolve().parent / "_live_worker.py"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def pct(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between ranks; nan for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    k = (len(ordered) - 1) * q / 100.0
    lo = int(k)
    hi = min(lo + 1, len(ordered) - 1)
    return ordered[lo] + (ordered[hi] - ordered[lo]) * (k - lo)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far (from /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


class StampingEngine(Engine):
    """The aggregator's engine, noting when each event's batch was stored (aggregator receipt)."""

    received: dict[str, tuple[str, float]]

    def ingest(self, messages: Sequence[tuple[str, bytes]]) -> list[Outbound]:
        out = super().ingest(messages)
        now = time.time()
        for topic, data in messages:
            try:
                event_id = json.loads(data)["event_id"]
            except (ValueError, KeyError, TypeError):
                continue
            self.received.setdefault(event_id, (topic.rsplit("/", 1)[-1], now))
        return out


def ready(worker: subprocess.Popen[str], timeout_s: float) -> bool:
    """Whether the worker said `ready` (its model analysed a frame) within timeout_s."""
    assert worker.stdout is not None
    readable, _, _ = select.select([worker.stdout], [], [], timeout_s)
    return bool(readable) and worker.stdout.readline().strip() == "ready"


def start_worker(command: list[str], server: RtspServer, timeout_s: float,
                 attempts: int = 3) -> tuple[subprocess.Popen[str] | None, int]:
    """Start a worker until it analyses a frame within timeout_s; (worker or None, restarts).

    The test RTSP server sometimes stops answering after its first client's PLAY (even OPTIONS
    times out): a fault of the harness, not of the worker, so between tries both are restarted.
    """
    for attempt in range(attempts):
        worker = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        if ready(worker, timeout_s):
            return worker, attempt
        worker.kill()
        worker.wait()
        if attempt + 1 < attempts:
            print(f"  (no frame analysed within {timeout_s:g} s from {server.url}; restarting its "
                  f"RTSP server and worker, attempt {attempt + 2} of {attempts})", flush=True)
            server.restart()
    return None, attempts - 1


def decode_ms_per_frame(clip: Path, frames: int) -> float:
    """Wall ms per frame decoding `clip` from file with OpenCV/FFmpeg as fast as it goes."""
    capture = cv2.VideoCapture(str(clip), cv2.CAP_FFMPEG)
    n = 0
    t0 = time.perf_counter()
    while n < frames:
        ok, _ = capture.read()
        if not ok:
            capture.set(cv2.CAP_PROP_POS_FRAMES, 0)
            continue
        n += 1
    capture.release()
    return (time.perf_counter() - t0) * 1000.0 / n


def lag_growth_ms(reads: list[list[float]], t0: float, t1: float, edge_s: float = 10.0) -> float:
    """How much later (ms) the stream arrived in the last `edge_s` of the window than in the first:
    per read, wall time minus the stream's own timestamp; medians of both ends compared."""
    inside = [(t, t - pts / 1000.0) for t, _, pts in reads if t0 <= t <= t1]
    first = [o for t, o in inside if t <= t0 + edge_s]
    last = [o for t, o in inside if t >= t1 - edge_s]
    if not first or not last:
        return float("nan")
    return (statistics.median(last) - statistics.median(first)) * 1000.0


def row(name: str, values: list[float], per_s: float) -> str:
    """p50, p95, mean ms per call; calls per second; the share of each second the stage keeps busy."""
    mean = statistics.fmean(values) if values else float("nan")
    return (f"  {name:<36} {pct(values, 50):8.2f} {pct(values, 95):8.2f} {mean:8.2f} {per_s:8.2f}/s "
            f"{mean * per_s / 1000.0:8.1%}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--camera", default="cp-baizhang-s")
    parser.add_argument("--clip", type=Path, default=REPO / "samples" / "checkpoint-day.mp4")
    parser.add_argument("--seconds", type=float, default=90.0, help="measured window (default: 90)")
    parser.add_argument("--warmup-s", type=float, default=3.0, help="after the first analysed frame")
    parser.add_argument("--weights", type=Path,
                        help="other weights of the camera's model (default: the configured ones)")
    parser.add_argument("--decode-frames", type=int, default=300)
    parser.add_argument("--ready-timeout-s", type=float, default=60.0,
                        help="how long the worker may take to analyse its first frame (default: 60)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    if not mosquitto_available():
        sys.exit("mosquitto is not installed")
    reason = rtsp_unavailable()
    if reason is not None:
        sys.exit(reason)
    site = load_site(args.config)
    camera = site.camera(args.camera)
    weights = args.weights or site.model_for(camera).weights
    probe = cv2.VideoCapture(str(args.clip), cv2.CAP_FFMPEG)
    size = (int(probe.get(cv2.CAP_PROP_FRAME_WIDTH)), int(probe.get(cv2.CAP_PROP_FRAME_HEIGHT)))
    clip_fps = float(probe.get(cv2.CAP_PROP_FPS))
    probe.release()
    with tempfile.TemporaryDirectory(prefix="edge-bench-live-") as tmp:
        work = Path(tmp)
        with Broker(work) as broker, RtspServer(args.clip.resolve(), work / "rtsp.log") as server:
            engine = StampingEngine(SqliteStore(work / "aggregator.db"), settings_from(site))
            engine.received = {}
            service = AggregatorService(engine, BrokerConfig(host=broker.host, port=broker.port),
                                        "bench-aggregator")
            service.start()
            assert service.connected.wait(10), "aggregator did not connect"
            command = [sys.executable, str(WORKER), "--config", str(args.config), "--camera", args.camera,
                       "--url", server.url, "--broker", f"mqtt://{broker.host}:{broker.port}",
                       "--outbox", str(work / "outbox.db"), "--evidence-dir", str(work / "evidence"),
                       "--result", str(work / "worker.json")]
            if args.weights:
                command += ["--weights", str(args.weights)]
            worker, _ = start_worker(command, server, args.ready_timeout_s)
            if worker is None:
                sys.exit(f"the worker analysed no frame within {args.ready_timeout_s:g} s, three times "
                         f"(camera {server.url}; server log {work / 'rtsp.log'})")
            assert worker.stdin is not None
            time.sleep(args.warmup_s)
            pids = {"worker": worker.pid, "aggregator (this process)": os.getpid(),
                    "mosquitto": broker._process.pid if broker._process else 0,
                    "rtsp server": server._process.pid if server._process else 0}
            cpu0 = {name: cpu_s(pid) for name, pid in pids.items() if pid}
            t0 = time.time()
            time.sleep(args.seconds)
            t1 = time.time()
            cpu1 = {name: cpu_s(pid) for name, pid in pids.items() if pid}
            worker.stdin.write("stop\n")
            worker.stdin.flush()
            worker.wait(60)
            deadline = time.time() + 15
            result: dict[str, Any] = json.loads((work / "worker.json").read_text())
            riders = [p for p in result["puts"] if p["kind"] == "rider"]
            while time.time() < deadline and any(p["event_id"] not in engine.received for p in riders):
                time.sleep(0.1)
            service.stop()
            engine.store.close()
        decode_ms = decode_ms_per_frame(args.clip, args.decode_frames)

    window = t1 - t0
    fps = result["analysis_fps"]
    budget_ms = 1000.0 / fps
    frames = [f for f in result["analysed_frames"] if t0 <= f["t"] <= t1 and "analyse_ms" in f]
    reads = [r for r in result["reads"] if t0 <= r[0] <= t1]
    read_fps, analysed_fps = len(reads) / window, len(frames) / window
    print(f"live RTSP camera {args.camera}: {args.clip.name} ({size[0]}x{size[1]}, {clip_fps:g} fps) "
          f"looped by GStreamer's RTSP server; weights {Path(weights).name}; analysis_fps {fps:g}; "
          f"Mosquitto + AggregatorService (SQLite); {window:.0f} s measured after warm-up")
    print(f"frames read {len(reads)} ({read_fps:.2f}/s of {clip_fps:g}), analysed {len(frames)} "
          f"({analysed_fps:.2f}/s of {fps:g}: {analysed_fps / fps:.1%}); over the whole run: "
          f"{result['dropped']} frames overwritten unread (newest-frame-only source), "
          f"{result['reconnects']} reconnects")
    puts = [p for p in result["puts"] if t0 <= p["t"] <= t1]
    print(f"  {'stage (ms per call)':<36} {'p50':>8} {'p95':>8} {'mean':>8} {'calls':>10} {'busy':>8}")
    print(row("decode (same clip from file)", [decode_ms], read_fps))
    stages = {"inference": [f["infer_ms"] for f in frames],
              "tracking": [f["track_ms"] for f in frames],
              "analysis (counter, events)": [f["analyse_ms"] - f["track_ms"] for f in frames]}
    for name, values in stages.items():
        print(row(name, values, analysed_fps))
    print(row("publish (outbox put, per event)", [p["ms"] for p in puts], len(puts) / window))
    total = [f["infer_ms"] + f["analyse_ms"] + f["put_ms"] for f in frames]
    print(row("all stages of an analysed frame", total, analysed_fps))
    infer_share = statistics.fmean(stages["inference"]) / statistics.fmean(total) if total else float("nan")
    print(f"  (busy = mean x calls/s: the share of each second the stage takes; frame budget at "
          f"{fps:g} fps = {budget_ms:.0f} ms, used {statistics.fmean(total) / budget_ms:.1%} on average; "
          f"inference is {infer_share:.1%} of an analysed frame's cost)")
    age0 = [f["age_start_ms"] for f in frames]
    age1 = [f["age_end_ms"] for f in frames]
    print(f"frame age when detection starts p50 {pct(age0, 50):.0f} ms, p95 {pct(age0, 95):.0f} ms; "
          f"when analysis ends p50 {pct(age1, 50):.0f} ms, p95 {pct(age1, 95):.0f} ms; "
          f"stream lag growth over the window (last 10 s vs first 10 s): "
          f"{lag_growth_ms(result['reads'], t0, t1):+.0f} ms")

    def capture_s(put: dict[str, Any]) -> float:
        return datetime.fromisoformat(put["captured_at"]).timestamp()

    measured = [p for p in riders if t0 <= capture_s(p) <= t1]
    arrived = [p for p in measured if p["event_id"] in engine.received]
    total_s = [engine.received[p["event_id"]][1] - capture_s(p) for p in arrived]
    hold_s = [p["t"] - capture_s(p) for p in arrived]
    deliver_s = [engine.received[p["event_id"]][1] - p["t"] for p in arrived]
    print(f"rider events captured in the window: {len(measured)}, at the aggregator: {len(arrived)} "
          f"({result['riders']} counted in the whole run, {result['undelivered']} left undelivered)")
    if arrived:
        print(f"  capture -> aggregator  p50 {pct(total_s, 50):6.3f} s  p95 {pct(total_s, 95):6.3f} s  "
              f"max {max(total_s):6.3f} s")
        print(f"  capture -> outbox      p50 {pct(hold_s, 50):6.3f} s  p95 {pct(hold_s, 95):6.3f} s  "
              f"(the counter reports a rider when its track ends or 3 s after crossing)")
        share = statistics.fmean(deliver_s) / statistics.fmean(total_s)
        print(f"  outbox -> aggregator   p50 {pct(deliver_s, 50) * 1000:6.1f} ms p95 "
              f"{pct(deliver_s, 95) * 1000:6.1f} ms (outbox, MQTT QoS 1, Mosquitto, aggregator commit); "
              f"share of capture -> aggregator: {share:.1%}")
    used = {name: (cpu1[name] - cpu0[name]) / window for name in cpu0}
    print("CPU (share of one core; the box has " + str(os.cpu_count()) + "): "
          + ", ".join(f"{name} {share:.0%}" for name, share in used.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
