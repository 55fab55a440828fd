"""`edge worker`: one live camera until SIGTERM/SIGINT, publishing through the outbox.

On a signal the current frame finishes, pending results are flushed into the outbox, the last
stats interval is written, and the retained status becomes `stopped`. While the camera is away
the status stays `online` with details saying so (the worker itself still runs).
"""

from __future__ import annotations

import logging
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from edge.config import SiteConfig
from edge.pipeline.delivery import open_delivery
from edge.pipeline.detectors import FrameDetector, ModelDetector
from edge.pipeline.replay import build_analysis, default_evidence
from edge.pipeline.worker import Worker, WorkerSettings
from edge.source import SourceState
from edge.source.open import open_source

log = logging.getLogger(__name__)


@contextmanager
def stop_on_signals(stop: Callable[[], None]) -> Iterator[None]:
    """Call `stop` on SIGTERM or SIGINT while the block runs; the previous handlers come back after."""
    signals = (signal.SIGTERM, signal.SIGINT)
    previous = {sig: signal.getsignal(sig) for sig in signals}

    def handler(signum: int, _: FrameType | None) -> None:
        log.info("%s: stopping after the current frame", signal.Signals(signum).name)
        stop()

    for sig in signals:
        signal.signal(sig, handler)
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def run_worker(site: SiteConfig, camera_id: str, *, stats_interval_s: float = 60.0,
               outbox_path: Path | None = None, broker_url: str | None = None,
               detector: FrameDetector | None = None) -> int:
    """Run `camera_id` live until a signal; returns the process exit code. `detector` defaults
    to the camera's configured weights."""
    camera = site.camera(camera_id)
    detector = detector if detector is not None else ModelDetector.for_camera(site, camera)
    analysis = build_analysis(site, camera, detector, evidence=default_evidence(camera))
    delivery = open_delivery(site, camera_id, broker_url=broker_url, outbox_path=outbox_path)

    def camera_state(state: SourceState, detail: str) -> None:
        if state is SourceState.ONLINE:
            delivery.set_status("online", "")
        elif state is not SourceState.ENDED:
            delivery.set_status("online", f"camera {state.value}: {detail}"[:1024])

    source = open_source(camera.source, start=None, live=True, on_state=camera_state)
    stopped = "stopped"
    try:
        worker = Worker(site_id=site.site.id, camera_id=camera_id, topic_prefix=site.broker.topic_prefix,
                        source=source, detector=detector, analysis=analysis, sink=delivery.sink,
                        analysis_fps=camera.analysis_fps,
                        settings=WorkerSettings(stats_interval_s=stats_interval_s, keep_going=True))
        with stop_on_signals(worker.stop):
            report = worker.run()
        stopped = (f"stopped after {report.frames} frames ({report.analysed_frames} analysed), "
                   f"{report.events} events")
        log.info("worker %s %s", camera_id, stopped)
    finally:
        source.close()
        delivery.drain(timeout_s=5.0)
        delivery.stopped(stopped)
        delivery.close()
    return 0
