"""Replays through the real source, tracker and analysers with ground-truth detections (DESIGN.md 5-6)."""

from __future__ import annotations

import argparse
import json
import os
import signal
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import paho.mqtt.client as mqtt
import pytest
from broker import Broker, mosquitto_available
from paho.mqtt.enums import CallbackAPIVersion

from edge.config import SiteConfig, SourceConfig, load_site
from edge.detector import Detection
from edge.events import RiderEvent, SmokeEvent, StatsEvent, parse_inbound
from edge.evidence import EvidenceStore
from edge.labels import Verdict
from edge.outbox import EventKind
from edge.pipeline import MemorySink, ReplaySummary, Worker, run_replay
from edge.pipeline.analysis import Tally
from edge.pipeline.cli import add_parsers
from edge.pipeline.detectors import TruthDetector
from edge.pipeline.live import run_worker, stop_on_signals
from edge.pipeline.stats import RateGate
from edge.source import Frame, SourceState
from edge.synth.truth import SceneTruth

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "samples"
START = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def site() -> SiteConfig:
    return load_site(ROOT / "configs" / "site.yaml")


@dataclass
class Replayed:
    summary: ReplaySummary
    sink: MemorySink


def replay(site: SiteConfig, camera: str, clip: str, evidence: EvidenceStore | None = None) -> Replayed:
    sink = MemorySink()
    summary = run_replay(site, camera, SAMPLES / clip, START, sink, progress=False, truth_detections=True,
                         evidence=evidence)
    return Replayed(summary, sink)


@pytest.fixture(scope="module")
def evidence_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("evidence")


@pytest.fixture(scope="module")
def day(site: SiteConfig, evidence_dir: Path) -> Replayed:
    return replay(site, "cp-baizhang-s", "checkpoint-day.mp4", EvidenceStore(evidence_dir))


def test_day_counts_match_the_truth(day: Replayed) -> None:
    truth = SceneTruth.read(SAMPLES / "checkpoint-day.json")
    crossing = [r for r in truth.riders if r.crossing_frame is not None]
    no_helmet = sum(o.verdict == Verdict.NO_HELMET for r in crossing for o in r.occupants)
    s = day.summary
    assert s.frames == truth.frame_count
    assert s.analysed_frames == 600  # 10 of every 15 frames
    assert abs(s.riders - len(crossing)) <= 2  # two riders are never seen crossing (occluded, too brief)
    assert abs(s.occupants_by_verdict.get("no_helmet", 0) - no_helmet) <= 1
    assert s.occupants_by_verdict.get("unknown", 0) <= 2
    directions = Counter(r.direction for r in crossing)
    assert all(abs(s.riders_by_direction[d] - n) <= 2 for d, n in directions.items())


def test_day_events_are_valid_payloads_on_the_camera_topics(day: Replayed) -> None:
    riders = day.sink.of_kind(EventKind.RIDER)
    assert len(riders) == day.summary.riders
    for put in riders:
        event = parse_inbound(put.payload)
        assert isinstance(event, RiderEvent)
        assert put.topic == "edge/v1/baizhang/cp-baizhang-s/rider"
        assert event.event_id == put.event_id
        assert event.model.id == "ground-truth"
        assert START <= event.captured_at <= START + timedelta(seconds=60)
    (stats,) = [parse_inbound(p.payload) for p in day.sink.of_kind(EventKind.STATS)]
    assert isinstance(stats, StatsEvent)
    assert stats.covered_s == pytest.approx(59.93, abs=0.01)


def test_violations_carry_evidence_on_disk(day: Replayed) -> None:
    events = [parse_inbound(p.payload) for p in day.sink.of_kind(EventKind.RIDER)]
    with_evidence = [e for e in events if isinstance(e, RiderEvent) and e.evidence is not None]
    violations = [e for e in events if isinstance(e, RiderEvent) and e.tally()[1] > 0]
    assert {e.event_id for e in with_evidence} == {e.event_id for e in violations}
    assert day.summary.evidence_files == len(violations) > 0
    for e in with_evidence:
        assert e.evidence is not None
        assert Path(e.evidence.uri).is_file()


def test_second_replay_gives_the_same_event_ids_and_payloads(site: SiteConfig, day: Replayed,
                                                            evidence_dir: Path) -> None:
    again = replay(site, "cp-baizhang-s", "checkpoint-day.mp4", EvidenceStore(evidence_dir))
    first = [(e.event_id, e.payload) for e in day.sink.of_kind(EventKind.RIDER)]
    second = [(e.event_id, e.payload) for e in again.sink.of_kind(EventKind.RIDER)]
    assert first == second
    assert len({eid for eid, _ in first}) == len(first)


def test_smoke_incident_opens_soon_after_onset_at_the_right_bearing(site: SiteConfig) -> None:
    truth = SceneTruth.read(SAMPLES / "smoke-fire.json")
    onset = truth.smoke[0]
    fire = replay(site, "smoke-tower-3", "smoke-fire.mp4")
    events = [parse_inbound(p.payload) for p in fire.sink.of_kind(EventKind.SMOKE)]
    opened = [e for e in events if isinstance(e, SmokeEvent) and e.phase == "opened"]
    assert len(opened) == 1 == fire.summary.smoke_incidents
    delay_s = (opened[0].captured_at - START).total_seconds() - onset.onset_t_s
    assert 0 <= delay_s <= 5.0
    assert opened[0].preset == onset.preset
    assert opened[0].bearing_deg == pytest.approx(onset.bearing_deg, abs=2.0)
    assert any(isinstance(e, SmokeEvent) and e.flame for e in events)
    assert replay(site, "smoke-tower-3", "smoke-nofire.mp4").summary.smoke_incidents == 0


class _EndlessSource:
    """A camera that never ends; the worker must stop on request after finishing the frame."""

    def __init__(self) -> None:
        self.index = 0
        self.image = np.zeros((72, 128, 3), np.uint8)

    @property
    def state(self) -> SourceState:
        return SourceState.ONLINE

    def read(self, timeout_s: float) -> Frame | None:
        self.index += 1
        return Frame(self.image, self.index - 1, self.index / 10, START + timedelta(seconds=self.index / 10))

    def close(self) -> None:
        pass


class _Analysis:
    def __init__(self) -> None:
        self.tally = Tally()
        self.flushed = False

    def observe(self, frame: Frame) -> tuple[bool, list[tuple[EventKind, RiderEvent]]]:
        return True, []

    def analyse(self, frame: Frame, detections: list[Detection]) -> list[tuple[EventKind, RiderEvent]]:
        return []

    def flush(self) -> list[tuple[EventKind, RiderEvent]]:
        self.flushed = True
        return []


class _NoDetector:
    model = None
    last_inference_ms = 1.5

    def detect_frame(self, frame: Frame) -> list[Detection]:
        return []


def test_stop_finishes_the_frame_flushes_and_writes_last_stats() -> None:
    sink, analysis = MemorySink(), _Analysis()
    holder: list[Worker] = []

    def after(frame: Frame) -> None:
        if frame.index == 24:
            holder[0].stop()

    worker = Worker(site_id="baizhang", camera_id="cam-1", topic_prefix="edge/v1", source=_EndlessSource(),
                    detector=_NoDetector(), analysis=analysis, sink=sink,  # type: ignore[arg-type]
                    analysis_fps=5.0, on_frame=after)
    holder.append(worker)
    report = worker.run()
    assert report.stopped
    assert report.frames == 25
    assert report.analysed_frames == 13  # every other frame of a 10 fps stream at 5 fps
    assert analysis.flushed
    (stats,) = [parse_inbound(p.payload) for p in sink.of_kind(EventKind.STATS)]
    assert isinstance(stats, StatsEvent)
    assert stats.inference_ms == 1.5


def test_sigterm_stops_the_worker_after_the_current_frame() -> None:
    sink, analysis = MemorySink(), _Analysis()

    def after(frame: Frame) -> None:
        if frame.index == 9:
            os.kill(os.getpid(), signal.SIGTERM)

    worker = Worker(site_id="baizhang", camera_id="cam-1", topic_prefix="edge/v1", source=_EndlessSource(),
                    detector=_NoDetector(), analysis=analysis, sink=sink,  # type: ignore[arg-type]
                    analysis_fps=5.0, on_frame=after)
    before = signal.getsignal(signal.SIGTERM)
    with stop_on_signals(worker.stop):
        report = worker.run()
    assert report.stopped
    assert report.frames == 10
    assert analysis.flushed
    assert signal.getsignal(signal.SIGTERM) == before


def test_rate_gate_keeps_the_analysis_rate_on_a_fixed_grid() -> None:
    gate = RateGate(10.0)
    picked = [i for i in range(45) if gate.due(i / 15)]
    assert len(picked) == 30
    assert picked[:7] == [0, 2, 3, 5, 6, 8, 9]


def test_replay_command_prints_a_summary(site: SiteConfig, capsys: pytest.CaptureFixture[str]) -> None:
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers(dest="command"))
    config, video = str(ROOT / "configs" / "site.yaml"), str(SAMPLES / "smoke-nofire.mp4")
    args = parser.parse_args(["replay", config, video,
                              "--camera", "smoke-tower-3", "--truth-detections", "--quiet", "--no-evidence",
                              "--start", "2025-10-20T14:00:00+08:00"])
    assert args.func(args) == 0
    out = capsys.readouterr().out
    assert "events published" in out
    assert "video seconds" in out
    bad = parser.parse_args(["replay", config, video, "--camera", "nope"])
    assert bad.func(bad) == 2
    assert "no camera 'nope'" in capsys.readouterr().err
    worker = parser.parse_args(["worker", config, "--camera", "nope"])
    assert worker.func(worker) == 2


@pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")
def test_replay_publishes_through_the_outbox_to_a_real_broker(tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    with Broker(tmp_path) as broker:
        received: list[tuple[str, bytes]] = []
        subscribed, stopped = threading.Event(), threading.Event()

        def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            received.append((message.topic, bytes(message.payload)))
            if message.topic.endswith("/status") and json.loads(message.payload)["state"] == "stopped":
                stopped.set()

        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.on_message = on_message
        client.on_subscribe = lambda *_: subscribed.set()
        client.connect(broker.host, broker.port)
        client.subscribe("edge/v1/baizhang/smoke-tower-3/#", qos=1)
        client.loop_start()
        try:
            assert subscribed.wait(5)
            parser = argparse.ArgumentParser()
            add_parsers(parser.add_subparsers(dest="command"))
            args = parser.parse_args(["replay", str(ROOT / "configs" / "site.yaml"),
                                      str(SAMPLES / "smoke-fire.mp4"), "--camera", "smoke-tower-3",
                                      "--truth-detections", "--quiet", "--no-evidence",
                                      "--broker", f"mqtt://{broker.host}:{broker.port}"])
            assert args.func(args) == 0
            assert stopped.wait(10)
        finally:
            client.loop_stop()
            client.disconnect()
    kinds = Counter(topic.rsplit("/", 1)[1] for topic, _ in received)
    assert kinds["stats"] == 1
    smoke = [parse_inbound(payload) for topic, payload in received if topic.endswith("/smoke")]
    assert all(isinstance(e, SmokeEvent) for e in smoke)
    # One plume: opened once. Its flames show 0.8 s after the smoke (frames 313 and 321 of the
    # truth), inside the confirmation window, so the opening already reports them.
    assert [(e.phase, e.flame) for e in smoke if isinstance(e, SmokeEvent)] == [("opened", True)]
    assert "events published" in capsys.readouterr().out


@pytest.mark.skipif(not mosquitto_available(), reason="mosquitto is not installed")
def test_live_worker_stops_on_sigterm_and_publishes_stopped(tmp_path: Path, site: SiteConfig,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    # The camera plays the sample as a live file source; its evidence goes to tmp_path.
    camera = site.camera("cp-baizhang-s").model_copy(update={
        "source": SourceConfig(url=str(SAMPLES / "checkpoint-day.mp4")),
        "evidence_dir": tmp_path / "evidence"})
    site = site.model_copy(update={"cameras": (camera,)})
    monkeypatch.chdir(tmp_path)
    # A SIGTERM landing outside the worker's own handler must not end the test run.
    previous = signal.signal(signal.SIGTERM, lambda *_: None)
    try:
        _live_worker_until_sigterm(tmp_path, site)
    finally:
        signal.signal(signal.SIGTERM, previous)
    assert not (tmp_path / "var").exists()  # the outbox was given, the evidence folder too


def _live_worker_until_sigterm(tmp_path: Path, site: SiteConfig) -> None:
    states: list[str] = []
    stats_seen, stopped = threading.Event(), threading.Event()
    with Broker(tmp_path) as broker:
        def on_message(client: mqtt.Client, userdata: object, message: mqtt.MQTTMessage) -> None:
            if message.topic.endswith("/status"):
                states.append(json.loads(message.payload)["state"])
                if states[-1] == "online" and not stats_seen.is_set():
                    threading.Timer(1.0, os.kill, (os.getpid(), signal.SIGTERM)).start()
                if states[-1] == "stopped":
                    stopped.set()
            elif message.topic.endswith("/stats"):
                stats_seen.set()

        client = mqtt.Client(CallbackAPIVersion.VERSION2)
        client.on_message = on_message
        client.connect(broker.host, broker.port)
        client.subscribe("edge/v1/baizhang/cp-baizhang-s/#", qos=1)
        client.loop_start()
        try:
            labels = site.model_for(site.camera("cp-baizhang-s")).labels
            detector = TruthDetector(SAMPLES / "checkpoint-day.json", labels)
            code = run_worker(site, "cp-baizhang-s", outbox_path=tmp_path / "outbox.db", detector=detector,
                              broker_url=f"mqtt://{broker.host}:{broker.port}")
            assert code == 0
            assert stopped.wait(10)
            assert stats_seen.wait(5)  # the last interval, flushed on the way out
        finally:
            client.loop_stop()
            client.disconnect()
    assert states[0] == "online"
    assert states[-1] == "stopped"
