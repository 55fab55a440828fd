"""Fixtures for the aggregator tests: event factories, an engine on a fresh store, a real Mosquitto."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime, timedelta, timezone
from fractions import Fraction
from pathlib import Path

import pytest
from broker import Broker, mosquitto_available

from edge.aggregator.engine import Engine
from edge.aggregator.geo import LatLon
from edge.aggregator.settings import Checkpoint, Settings
from edge.aggregator.store import SqliteStore
from edge.events import (
    Evidence,
    InboundPayload,
    IncidentCommand,
    ModelRef,
    Occupant,
    RiderEvent,
    RiderReview,
    SmokeEvent,
    StatsEvent,
    StatusEvent,
    Votes,
)
from edge.events.smoke import Box
from edge.labels import Verdict
from edge.transport import topics

SITE = "baizhang"
PREFIX = "edge/v1"
CP = "cp-1"
SHANGHAI = timezone(timedelta(hours=8))
# Tuesday of ISO week 2025-W03 in Asia/Shanghai.
MONDAY_W03 = datetime(2025, 1, 13, tzinfo=SHANGHAI)
NOW = datetime(2025, 1, 15, 12, tzinfo=SHANGHAI).astimezone(UTC)
NAME_EN = "the Baizhang branch of the rural bank"
NAME_ZH = "农商银行百丈支行"
TOWER_A, TOWER_B = "tower-a", "tower-b"
TOWERS = {TOWER_A: LatLon(30.0, 120.0), TOWER_B: LatLon(30.0, 120.1)}
MODEL = ModelRef(id="helmet", sha256="a" * 64)


class Events:
    """Builds valid payloads with fresh event ids."""

    def __init__(self, site: str = SITE) -> None:
        self.site = site
        self._ids = itertools.count(1)

    def next_id(self, kind: str) -> str:
        return f"{kind}-{next(self._ids):06d}"

    def rider(self, verdicts: Sequence[str] = ("helmet",), *, camera: str = CP,
              at: datetime = MONDAY_W03 + timedelta(days=1, hours=9), direction: str = "southbound",
              event_id: str | None = None) -> RiderEvent:
        occupants = tuple(Occupant(seat=i, verdict=Verdict(v), votes=Votes(helmet=3, no_helmet=1),
                                   confidence=0.9) for i, v in enumerate(verdicts))
        event_id = event_id or self.next_id("rider")
        return RiderEvent(event_id=event_id, site=self.site, camera=camera, captured_at=at,
                          track_id=next(self._ids), direction=direction, occupants=occupants, model=MODEL,
                          evidence=Evidence(uri=f"var/evidence/{camera}/{event_id}.jpg", sha256="b" * 64))

    def smoke(self, camera: str, plume: str, bearing_deg: float, at: datetime, *, phase: str = "opened",
              preset: str = "east") -> SmokeEvent:
        return SmokeEvent.model_validate({
            "event_id": self.next_id("smoke"), "site": self.site, "camera": camera,
            "captured_at": at, "plume_id": plume, "phase": phase, "preset": preset,
            "bearing_deg": bearing_deg, "box": Box(x1=0.4, y1=0.3, x2=0.5, y2=0.4), "confidence": 0.8,
            "model": ModelRef(id="smoke", sha256="c" * 64)}, strict=False)

    def review(self, target: str, action: str = "reject", *, at: datetime = NOW) -> RiderReview:
        return RiderReview.model_validate({"event_id": self.next_id("review"), "site": self.site,
                                           "action": action, "target_event_id": target,
                                           "operator": "op-zhang", "issued_at": at}, strict=False)

    def command(self, incident: str, action: str, *, at: datetime = NOW) -> IncidentCommand:
        return IncidentCommand.model_validate({"event_id": self.next_id("cmd"), "site": self.site,
                                               "action": action, "incident_id": incident,
                                               "operator": "op-li", "issued_at": at}, strict=False)

    def stats(self, start: datetime, covered_s: float, *, camera: str = CP,
              span_s: float = 60.0) -> StatsEvent:
        return StatsEvent(event_id=self.next_id("stats"), site=self.site, camera=camera,
                          captured_at=start + timedelta(seconds=span_s), interval_start=start,
                          interval_end=start + timedelta(seconds=span_s), covered_s=covered_s,
                          fps_in=25.0, fps_out=10.0, dropped_frames=0, inference_ms=30.0, outbox_depth=0,
                          reconnects=0)

    def status(self, state: str = "online", *, camera: str = CP) -> StatusEvent:
        return StatusEvent.model_validate({"event_id": self.next_id("status"), "site": self.site,
                                           "camera": camera, "captured_at": NOW, "state": state},
                                          strict=False)


def message(event: InboundPayload, prefix: str = PREFIX) -> tuple[str, bytes]:
    """The (topic, payload) a worker or operator would publish for `event`."""
    if isinstance(event, RiderReview):
        topic = topics.command_topic(prefix, event.site, topics.COMMAND_RIDER)
    elif isinstance(event, IncidentCommand):
        topic = topics.command_topic(prefix, event.site, topics.COMMAND_INCIDENT)
    else:
        kind = {RiderEvent: topics.TopicKind.RIDER, SmokeEvent: topics.TopicKind.SMOKE,
                StatsEvent: topics.TopicKind.STATS, StatusEvent: topics.TopicKind.STATUS}[type(event)]
        topic = topics.camera_topic(prefix, event.site, event.camera, kind)
    return topic, event.to_json()


def make_settings(min_riders: int = 100, **overrides: object) -> Settings:
    fields: dict[str, object] = {
        "site": SITE, "prefix": PREFIX, "timezone": "Asia/Shanghai",
        "checkpoints": {CP: Checkpoint(CP, NAME_EN, name_zh=NAME_ZH)},
        "smoke_cameras": TOWERS, "default_standard": Fraction(9, 10), "min_riders": min_riders,
        "rates_interval_s": 60.0}
    fields.update(overrides)
    return Settings(**fields)  # type: ignore[arg-type]


def write_site(directory: Path, *, port: int = 1883, min_riders: int = 10,
               rates_interval_s: float = 1.0) -> Path:
    """A site YAML with one checkpoint (cp-1) and its store under `directory`."""
    site = directory / "site.yaml"
    site.write_text(f"""
site: {{id: {SITE}, name: Baizhang, timezone: Asia/Shanghai}}
broker: {{host: 127.0.0.1, port: {port}, topic_prefix: {PREFIX}}}
models:
  helmet:
    weights: models/helmet.pt
    class_map: {{two_wheeler: two_wheeler, head_helmet: head_helmet, head_no_helmet: head_no_helmet}}
cameras:
  - kind: checkpoint
    id: {CP}
    name: {NAME_EN}
    source: {{url: samples/checkpoint-day.mp4}}
    model: helmet
    counting_line: {{start_xy: [0, 0.5], end_xy: [1, 0.5], positive: southbound, negative: northbound}}
aggregator:
  store: "sqlite:///{directory}/aggregator.db"
  min_riders: {min_riders}
  rates_interval_s: {rates_interval_s}
""", encoding="utf-8")
    return site


@pytest.fixture
def events() -> Events:
    return Events()


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "aggregator.db")
    yield s
    s.close()


@pytest.fixture
def engine(store: SqliteStore) -> Engine:
    return Engine(store, make_settings(), clock=lambda: NOW)


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[Broker]:
    """A fresh Mosquitto on a free port for one test."""
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (Debian package `mosquitto`)")
    b = Broker(tmp_path)
    b.start()
    yield b
    b.stop()
