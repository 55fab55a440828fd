"""`edge demo`: the sample clips through one worker per camera, a broker and the aggregator.

Everything runs in one process so a first run needs nothing but the package: the workers are
the same `run_replay` + outbox + MQTT publisher as `edge replay --broker`, the aggregator is the
same service as `edge aggregator`, and the broker is amqtt unless `--broker` names a real one.
"""

from __future__ import annotations

import logging
import shutil
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import paho.mqtt.client as mqtt

from edge.aggregator.configure import client_id, settings_from
from edge.aggregator.engine import Engine
from edge.aggregator.report import Report, build_report
from edge.aggregator.service import AggregatorService, mqtt_client
from edge.aggregator.store import SqliteStore
from edge.aggregator.weeks import IsoWeek, to_us
from edge.config import BrokerConfig, CheckpointCamera, SiteConfig, SmokeCamera
from edge.demo.plan import DemoClip
from edge.events.figures import HelmetAlert
from edge.events.incident import FireIncident
from edge.evidence import EvidenceStore
from edge.pipeline.delivery import open_delivery
from edge.pipeline.replay import ReplaySummary, run_replay

log = logging.getLogger(__name__)

#: How long the aggregator must stay idle, once it has at least every event, to call it done.
SETTLED_S = 1.0
#: Upper bound on waiting for the broker to acknowledge a worker's outbox and for the aggregator.
DRAIN_TIMEOUT_S = 60.0


@dataclass(frozen=True, slots=True)
class DemoResult:
    """What the demo printed from: per-clip summaries, the week's report, alerts, incidents."""

    replays: tuple[tuple[DemoClip, ReplaySummary], ...]
    report: Report
    helmet_alerts: tuple[HelmetAlert, ...]
    incidents: tuple[FireIncident, ...]
    alert_messages_seen: int  # on `{prefix}/{site}/alerts/#`, as an operator's subscriber sees them


def demo_site(site: SiteConfig, broker: BrokerConfig, out: Path, min_riders: int) -> SiteConfig:
    """The site with the demo's broker, a store under `out` and a minimum suited to a short demo."""
    store = f"sqlite:///{(out / 'aggregator.db').resolve()}"
    aggregator = site.aggregator.model_copy(update={"store": store, "min_riders": min_riders})
    return site.model_copy(update={"broker": broker, "aggregator": aggregator})


def missing_weights(site: SiteConfig, cameras: Sequence[str]) -> list[str]:
    """Weights files the planned cameras need that are not on disk, as messages."""
    problems = []
    for camera_id in sorted(set(cameras)):
        model = site.model_for(site.camera(camera_id))
        if not Path(model.weights).exists():
            problems.append(f"camera {camera_id}: model weights {model.weights} not found")
    return problems


class _AlertWatcher:
    """An operator's view: the latest retained message on every alerts topic."""

    def __init__(self, broker: BrokerConfig, site: str) -> None:
        self.messages = 0
        self.latest: dict[str, bytes] = {}
        self._filter = f"{broker.topic_prefix}/{site}/alerts/#"
        self._lock = threading.Lock()
        self._client = mqtt_client(broker.model_copy(update={"mqtt_version": "3.1.1"}),
                                   f"{broker.client_id_prefix}-demo-operator")
        self._client.on_connect = lambda c, *_: c.subscribe(self._filter, qos=1)
        self._client.on_message = self._on_message

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages += 1
            self.latest[msg.topic] = bytes(msg.payload)

    def start(self, broker: BrokerConfig) -> None:
        self._client.connect_async(broker.host, broker.port, broker.keepalive_s)
        self._client.loop_start()

    def stop(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


def _camera_worker(site: SiteConfig, camera: str, clips: Sequence[DemoClip], out: Path, progress: bool,
                   results: dict[Path, ReplaySummary], errors: list[BaseException]) -> None:
    """One camera: its clips in order through one outbox and one MQTT connection."""
    try:
        delivery = open_delivery(site, camera, outbox_path=out / "outbox" / f"{camera}.db")
        try:
            evidence = EvidenceStore(out / "evidence" / camera)
            for clip in clips:
                results[clip.video] = run_replay(site, camera, clip.video, clip.start, delivery.sink,
                                                 progress, evidence=evidence)
            left = delivery.drain(timeout_s=DRAIN_TIMEOUT_S)
            if left:
                raise RuntimeError(f"{camera}: {left} event(s) not acknowledged by the broker")
            delivery.stopped("demo replay done")
        finally:
            delivery.close()
    except BaseException as exc:
        errors.append(exc)


def _wait_settled(service: AggregatorService, expected: int, timeout_s: float) -> None:
    """Until the aggregator has handled at least `expected` messages and then stays idle."""
    deadline = time.monotonic() + timeout_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        now = time.monotonic()
        if service.processed != last:
            last, since = service.processed, now
        elif last >= expected and not service.engine.dirty and now - since >= SETTLED_S:
            return
        time.sleep(0.1)
    raise TimeoutError(f"aggregator handled {service.processed} of at least {expected} messages "
                       f"within {timeout_s:.0f} s")


def run_demo(site: SiteConfig, plan: Sequence[DemoClip], broker: BrokerConfig, out: Path, *,
             min_riders: int, progress: bool) -> DemoResult:
    """Replay `plan` (one thread per camera) into the aggregator through `broker`; report the week."""
    for stale in ("aggregator.db", "aggregator.db-wal", "aggregator.db-shm", "outbox"):
        path = out / stale
        shutil.rmtree(path) if path.is_dir() else path.unlink(missing_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    site = demo_site(site, broker, out, min_riders)
    settings = settings_from(site)
    db_path = site.aggregator.sqlite_path
    assert db_path is not None
    store = SqliteStore(db_path)
    service = AggregatorService(Engine(store, settings), broker, client_id(site))
    watcher = _AlertWatcher(broker, site.site.id)
    results: dict[Path, ReplaySummary] = {}
    errors: list[BaseException] = []
    try:
        service.start()
        watcher.start(broker)
        if not service.connected.wait(15.0):
            raise ConnectionError(f"the aggregator could not connect to the broker at {broker.address}")
        cameras = sorted({c.camera for c in plan})
        threads = [threading.Thread(target=_camera_worker, name=f"demo-{cam}",
                                    args=(site, cam, [c for c in plan if c.camera == cam], out, progress,
                                          results, errors)) for cam in cameras]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        if errors:
            raise errors[0]
        _wait_settled(service, sum(s.events_published for s in results.values()), DRAIN_TIMEOUT_S)
    finally:
        service.stop()
        watcher.stop()
    try:
        zone = ZoneInfo(site.site.timezone)
        week = IsoWeek.of(plan[0].start, zone)
        report = build_report(store, settings, week, verified=False, now=datetime.now(UTC))
        alerts = tuple(a for a in store.alerts() if a.week == str(week))
        incidents = tuple(store.incidents_between(to_us(week.start(zone)), to_us(week.end(zone))))
    finally:
        store.close()
    return DemoResult(replays=tuple((c, results[c.video]) for c in plan), report=report,
                      helmet_alerts=alerts, incidents=incidents, alert_messages_seen=watcher.messages)


def checkpoint_and_smoke(site: SiteConfig) -> tuple[str, str | None]:
    """The first checkpoint camera and the first smoke camera (if any) of the site."""
    checkpoints = [c.id for c in site.cameras if isinstance(c, CheckpointCamera)]
    smoke = [c.id for c in site.cameras if isinstance(c, SmokeCamera)]
    if not checkpoints:
        raise ValueError("the site has no checkpoint camera to replay the checkpoint samples as")
    return checkpoints[0], smoke[0] if smoke else None
