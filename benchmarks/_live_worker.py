"""Helper of the live benchmarks (not a benchmark itself): one instrumented live worker process.

It runs what `edge worker` runs (`edge.pipeline.live.run_worker`: a LiveSource over the camera,
the configured YOLO weights, tracker and rider counter, the SQLite outbox drained to MQTT by the
publisher) with thin timing wrappers around each stage, and writes what it measured as JSON:

- per read from the camera (reader thread): wall time after the read, read duration, and the
  stream's own timestamp (CAP_PROP_POS_MSEC), so a decoder falling behind shows as lag growing;
- per analysed frame: wall start, frame age (now - captured_at) before detection and after
  analysis, inference, tracking, analysis (counter and event building) and outbox-put times;
- per event put into the outbox: event id, kind, put wall time, captured_at.

The camera is opened as `edge.source.rtsp.network_opener` does (FFmpeg, RTSP over TCP, the
same timeouts); only the capture object is wrapped. It prints `ready` once the first frame is
analysed (model warm) and stops after the current frame when it reads `stop` on stdin.

    .venv/bin/python benchmarks/_live_worker.py --url rtsp://127.0.0.1:8554/cam --result out.json \
        [--broker mqtt://127.0.0.1:1883] [--analysis-fps 5] [--camera-id cam-2] [--weights DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")
os.environ.setdefault("YOLO_VERBOSE", "False")

import cv2  # noqa: E402
import numpy as np  # noqa: E402

from edge.config import CheckpointCamera, SiteConfig, SourceConfig, load_site  # noqa: E402
from edge.detector import Detection  # noqa: E402
from edge.events import ModelRef, Payload  # noqa: E402
from edge.evidence import EvidenceStore  # noqa: E402
from edge.outbox import EventKind  # noqa: E402
from edge.pipeline.analysis import CheckpointAnalysis, Tally  # noqa: E402
from edge.pipeline.delivery import open_delivery  # noqa: E402
from edge.pipeline.detectors import FrameDetector, ModelDetector  # noqa: E402
from edge.pipeline.replay import build_analysis  # noqa: E402
from edge.pipeline.sinks import MemorySink  # noqa: E402
from edge.pipeline.worker import Worker, WorkerSettings  # noqa: E402
from edge.source import Frame  # noqa: E402
from edge.source.backoff import Backoff  # noqa: E402
from edge.source.live import Capture, LiveSource  # noqa: E402
from edge.source.rtsp import OPEN_TIMEOUT_S  # noqa: E402
from edge.tracker import Track, Tracker  # noqa: E402

log = logging.getLogger("live-worker")


class Recorder:
    """Everything measured, appended from the worker's and the reader's threads."""

    def __init__(self) -> None:
        self.reads: list[tuple[float, float, float]] = []  # (wall after, read ms, stream pts ms)
        self.frames: list[dict[str, float]] = []  # one per analysed frame
        self.puts: list[dict[str, Any]] = []
        self.ready = threading.Event()

    def current(self) -> dict[str, float]:
        return self.frames[-1] if self.frames else {}


class TimedCapture:
    """A cv2.VideoCapture behind the `Capture` protocol (as edge.source.rtsp.CvCapture), timed."""

    def __init__(self, capture: cv2.VideoCapture, rec: Recorder) -> None:
        self._capture, self._rec = capture, rec

    def read(self) -> tuple[bool, np.ndarray | None]:
        t0 = time.perf_counter()
        ok, image = self._capture.read()
        t1 = time.perf_counter()
        if ok and image is not None:
            self._rec.reads.append((time.time(), (t1 - t0) * 1000.0,
                                    float(self._capture.get(cv2.CAP_PROP_POS_MSEC))))
            return True, np.asarray(image)
        return False, None

    def release(self) -> None:
        self._capture.release()


def timed_opener(config: SourceConfig, rec: Recorder) -> Any:
    """What edge.source.rtsp.network_opener does (TCP transport, open and read timeouts), timed."""
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, round(OPEN_TIMEOUT_S * 1000),
              cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(config.stall_timeout_s * 1000)]
    os.environ["OPENCV_FFMPEG_CAPTURE_OPTIONS"] = f"rtsp_transport;{config.transport}"

    def open_network() -> Capture | None:
        capture = cv2.VideoCapture(config.resolved_url(), cv2.CAP_FFMPEG, params)
        if not capture.isOpened():
            capture.release()
            return None
        return TimedCapture(capture, rec)

    return open_network


class TimedDetector:
    """Times detection and records the frame's age when detection starts."""

    def __init__(self, inner: FrameDetector, rec: Recorder) -> None:
        self._inner, self._rec = inner, rec

    @property
    def model(self) -> ModelRef:
        return self._inner.model

    @property
    def last_inference_ms(self) -> float:
        return self._inner.last_inference_ms

    def detect_frame(self, frame: Frame) -> list[Detection]:
        now = time.time()
        record = {"t": now, "age_start_ms": (now - frame.captured_at.timestamp()) * 1000.0,
                  "track_ms": 0.0, "put_ms": 0.0}
        self._rec.frames.append(record)
        t0 = time.perf_counter()
        out = self._inner.detect_frame(frame)
        record["infer_ms"] = (time.perf_counter() - t0) * 1000.0
        return out


class TimedTracker:
    def __init__(self, inner: Tracker, rec: Recorder) -> None:
        self._inner, self._rec = inner, rec

    def update(self, detections: list[Detection], frame_bgr: np.ndarray | None = None) -> list[Track]:
        t0 = time.perf_counter()
        out = self._inner.update(detections, frame_bgr)
        self._rec.current()["track_ms"] = (time.perf_counter() - t0) * 1000.0
        return out

    def reset(self) -> None:
        self._inner.reset()


class TimedAnalysis:
    """Times `analyse` (the tracker's share is subtracted later) and the frame's age after it."""

    def __init__(self, inner: Any, rec: Recorder) -> None:
        self._inner, self._rec = inner, rec
        self.tally: Tally = inner.tally  # the same object, updated by the inner analysis

    def observe(self, frame: Frame) -> tuple[bool, list[tuple[EventKind, Payload]]]:
        out: tuple[bool, list[tuple[EventKind, Payload]]] = self._inner.observe(frame)
        return out

    def analyse(self, frame: Frame, detections: list[Detection]) -> list[tuple[EventKind, Payload]]:
        t0 = time.perf_counter()
        out: list[tuple[EventKind, Payload]] = self._inner.analyse(frame, detections)
        record = self._rec.current()
        record["analyse_ms"] = (time.perf_counter() - t0) * 1000.0
        record["age_end_ms"] = (time.time() - frame.captured_at.timestamp()) * 1000.0
        self._rec.ready.set()
        return out

    def flush(self) -> list[tuple[EventKind, Payload]]:
        out: list[tuple[EventKind, Payload]] = self._inner.flush()
        return out


class TimedSink:
    """The outbox, with each put timed and remembered (id, kind, wall time, captured_at)."""

    def __init__(self, inner: Any, rec: Recorder) -> None:
        self._inner, self._rec = inner, rec

    def put(self, kind: EventKind, event_id: str, topic: str, payload: bytes) -> None:
        t0 = time.perf_counter()
        self._inner.put(kind, event_id, topic, payload)
        ms = (time.perf_counter() - t0) * 1000.0
        record = self._rec.current()
        record["put_ms"] = record.get("put_ms", 0.0) + ms
        self._rec.puts.append({"event_id": event_id, "kind": kind.value, "t": time.time(), "ms": ms,
                               "captured_at": json.loads(payload)["captured_at"]})

    def __getattr__(self, name: str) -> Any:  # depth, shed_events... for the stats window
        return getattr(self._inner, name)


def site_with(site: SiteConfig, camera_id: str, *, url: str, new_id: str | None, analysis_fps: float | None,
              weights: Path | None, evidence_dir: Path | None) -> tuple[SiteConfig, str]:
    """The site with only this camera, on `url`, renamed/re-rated/re-weighted as asked."""
    camera = site.camera(camera_id)
    update: dict[str, Any] = {"source": SourceConfig(url=url), "evidence_dir": evidence_dir}
    if new_id:
        update["id"] = new_id
    if analysis_fps:
        update["analysis_fps"] = analysis_fps
    camera = camera.model_copy(update=update)
    models = dict(site.models)
    if weights is not None:
        models[camera.model] = models[camera.model].with_weights(weights)
    return site.model_copy(update={"cameras": (camera,), "models": models}), camera.id


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--camera", default="cp-baizhang-s")
    parser.add_argument("--camera-id", help="rename the camera (several workers on one broker)")
    parser.add_argument("--url", required=True)
    parser.add_argument("--broker", help="mqtt://host:port (default: no broker, events kept in memory)")
    parser.add_argument("--outbox", type=Path)
    parser.add_argument("--evidence-dir", type=Path)
    parser.add_argument("--analysis-fps", type=float)
    parser.add_argument("--weights", type=Path, help="other weights of the camera's model (e.g. OpenVINO)")
    parser.add_argument("--threads", type=int, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--result", type=Path, required=True)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s worker %(levelname)s %(message)s")
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    rec = Recorder()
    site, camera_id = site_with(load_site(args.config), args.camera, url=args.url, new_id=args.camera_id,
                                analysis_fps=args.analysis_fps, weights=args.weights,
                                evidence_dir=args.evidence_dir)
    camera = site.camera(camera_id)
    assert isinstance(camera, CheckpointCamera)
    detector = TimedDetector(ModelDetector.for_camera(site, camera), rec)
    evidence = None if args.evidence_dir is None else EvidenceStore(args.evidence_dir)
    inner = build_analysis(site, camera, detector, evidence=evidence)
    assert isinstance(inner, CheckpointAnalysis)
    inner.tracker = TimedTracker(inner.tracker, rec)
    analysis = TimedAnalysis(inner, rec)
    with tempfile.TemporaryDirectory(prefix="edge-live-worker-") as tmp:
        delivery = None
        if args.broker:
            delivery = open_delivery(site, camera_id, broker_url=args.broker,
                                     outbox_path=args.outbox or Path(tmp) / "outbox.db")
            sink: Any = TimedSink(delivery.sink, rec)
        else:
            sink = TimedSink(MemorySink(), rec)
        config = camera.source
        source = LiveSource(timed_opener(config, rec), name=config.redacted_url(),
                            backoff=Backoff(config.reconnect_initial_s, config.reconnect_max_s),
                            stall_timeout_s=config.stall_timeout_s).start()
        worker = Worker(site_id=site.site.id, camera_id=camera_id, topic_prefix=site.broker.topic_prefix,
                        source=source, detector=detector, analysis=analysis, sink=sink,
                        analysis_fps=camera.analysis_fps,
                        settings=WorkerSettings(stats_interval_s=10.0, keep_going=True))

        def control() -> None:
            rec.ready.wait()
            print("ready", flush=True)
            for line in sys.stdin:
                if line.strip() == "stop":
                    break
            worker.stop()

        threading.Thread(target=control, daemon=True).start()
        cpu0 = os.times()
        report = worker.run()
        cpu1 = os.times()
        source.close()
        left = 0
        if delivery is not None:
            left = delivery.drain(timeout_s=15.0)
            delivery.stopped("benchmark done")
            delivery.close()
    result = {"camera": camera_id, "analysis_fps": camera.analysis_fps, "frames": report.frames,
              "analysed": report.analysed_frames, "events": report.events, "undelivered": left,
              "dropped": source.dropped_frames, "reconnects": source.reconnects,
              "cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system), "wall_s": report.wall_s,
              "riders": analysis.tally.riders, "reads": rec.reads, "analysed_frames": rec.frames,
              "puts": rec.puts}
    args.result.write_text(json.dumps(result))
    return 0


if __name__ == "__main__":
    code = main()
    sys.stdout.flush()
    # The camera's reader thread may still sit in FFmpeg's read; leave without unwinding it.
    os._exit(code)
