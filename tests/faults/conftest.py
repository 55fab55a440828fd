"""Fixtures of the fault tests (issue 6): a deadline per test, real brokers, aggregators, a clean replay.

Every test here runs against real components (Mosquitto, the GStreamer RTSP server, the sample
clips, the aggregator service and its SQLite store) and stops by itself: a SIGALRM watchdog
fails a test that outlives its `fault_deadline(seconds)` marker (default below).
"""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from types import FrameType

import pytest
from broker import Broker, mosquitto_available
from faultkit import CAMERA, DAY_CLIP, SITE_YAML, START, Aggregator, Subscriber

from edge.config import SiteConfig, load_site
from edge.pipeline import MemorySink, run_replay
from edge.pipeline.sinks import PutEvent

DEFAULT_DEADLINE_S = 60.0


class DeadlineExceededError(Exception):
    """Raised in the main thread by the watchdog when a test runs past its deadline."""


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "fault_deadline(seconds): fail the fault test after this long")


@pytest.fixture(autouse=True)
def _deadline(request: pytest.FixtureRequest) -> Iterator[None]:
    marker = request.node.get_closest_marker("fault_deadline")
    seconds = float(marker.args[0]) if marker is not None else DEFAULT_DEADLINE_S

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise DeadlineExceededError(f"{request.node.name} ran longer than {seconds:g} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@pytest.fixture(scope="session")
def site() -> SiteConfig:
    return load_site(SITE_YAML)


@pytest.fixture(scope="session")
def clean_day(site: SiteConfig) -> list[PutEvent]:
    """What a clean replay of the day sample emits (ground-truth detections): the reference run."""
    sink = MemorySink()
    run_replay(site, CAMERA, DAY_CLIP, START, sink, progress=False, truth_detections=True)
    return sink.events


@pytest.fixture
def brokers(tmp_path: Path) -> Iterator[Callable[..., Broker]]:
    """Makes Mosquitto instances (not started) in their own folders; all are stopped at the end."""
    if not mosquitto_available():
        pytest.skip("mosquitto is not installed (Debian package `mosquitto`)")
    made: list[Broker] = []

    def make(factory: Callable[[Path], Broker] = Broker) -> Broker:
        folder = tmp_path / f"broker-{len(made)}"
        folder.mkdir()
        made.append(factory(folder))
        return made[-1]

    yield make
    for broker in made:
        broker.stop()


@pytest.fixture
def aggregators(site: SiteConfig, tmp_path: Path) -> Iterator[Callable[[Broker], Aggregator]]:
    """Starts real aggregator services, each on a fresh store and client id; stops them at the end."""
    made: list[Aggregator] = []

    def make(broker: Broker) -> Aggregator:
        n = len(made)
        made.append(Aggregator(site, broker, tmp_path / f"aggregator-{n}.db", f"edge-aggregator-fault-{n}"))
        return made[-1]

    yield make
    for aggregator in reversed(made):
        aggregator.stop()


@pytest.fixture
def subscribers() -> Iterator[Callable[[Broker, list[str]], Subscriber]]:
    made: list[Subscriber] = []

    def make(broker: Broker, topics: list[str]) -> Subscriber:
        made.append(Subscriber(broker, topics))
        return made[-1]

    yield make
    for subscriber in made:
        subscriber.close()
