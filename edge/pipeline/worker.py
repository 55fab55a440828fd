"""The worker loop: source -> detector (at analysis_fps) -> analysis -> events -> outbox (DESIGN.md 2).

Nothing here waits on the network: events go to the sink (the on-disk outbox) and a separate
publisher drains it. `stop()` (wired to SIGTERM/SIGINT by the caller) lets the current frame
finish, then pending results are flushed and a last stats interval is written.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from edge.events import Payload
from edge.outbox import EventKind, EventSink
from edge.pipeline.analysis import Analysis
from edge.pipeline.detectors import FrameDetector
from edge.pipeline.events import stats_event
from edge.pipeline.stats import MAX_COVERED_GAP_S, RateGate, StatsWindow
from edge.source import Frame, FrameSource, SourceState
from edge.transport.topics import rider_topic, smoke_topic, stats_topic

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class WorkerSettings:
    stats_interval_s: float = 60.0  # of recording time
    read_timeout_s: float = 1.0  # how long a read may block: bounds the reaction to stop()
    keep_going: bool = False  # live: log a frame that fails and go on (replays and tests: raise)


@dataclass(frozen=True, slots=True)
class WorkerReport:
    """What one run did."""

    frames: int
    analysed_frames: int
    events: int
    events_by_kind: dict[str, int]
    covered_s: float
    wall_s: float
    first_frame_at: datetime | None
    last_frame_at: datetime | None
    stopped: bool  # stop() was called (rather than the source ending)


class Worker:
    """Runs one camera's pipeline until the source ends or `stop()` is called."""

    def __init__(self, *, site_id: str, camera_id: str, topic_prefix: str, source: FrameSource,
                 detector: FrameDetector, analysis: Analysis, sink: EventSink, analysis_fps: float,
                 settings: WorkerSettings = WorkerSettings(),
                 on_frame: Callable[[Frame], None] | None = None) -> None:
        self.site_id, self.camera_id = site_id, camera_id
        self.source, self.detector, self.analysis, self.sink = source, detector, analysis, sink
        self.settings, self._on_frame = settings, on_frame
        self._gate = RateGate(analysis_fps)
        self._stats = StatsWindow(settings.stats_interval_s, source, sink)
        self._topics = {EventKind.RIDER: rider_topic(topic_prefix, site_id, camera_id),
                        EventKind.SMOKE: smoke_topic(topic_prefix, site_id, camera_id),
                        EventKind.STATS: stats_topic(topic_prefix, site_id, camera_id)}
        self._stopping = False
        self._failures = 0
        self._events: dict[str, int] = {}

    def stop(self) -> None:
        """Ask the loop to end after the current frame (safe from a signal handler)."""
        self._stopping = True

    def run(self) -> WorkerReport:
        wall0 = time.monotonic()
        frames = analysed = 0
        first: datetime | None = None
        last: datetime | None = None
        try:
            while not self._stopping:
                frame = self.source.read(self.settings.read_timeout_s)
                if frame is None:
                    if self.source.state is SourceState.ENDED:
                        break
                    continue  # live camera away: the source retries with backoff
                frames += 1
                if last is not None and (frame.captured_at - last).total_seconds() > MAX_COVERED_GAP_S:
                    # The camera was away: end what the analysers followed before the gap, as at the
                    # end of a stream, so no track is bridged (and no crossing timed) across unseen time.
                    self._put_all(self.analysis.flush())
                first, last = first or frame.captured_at, frame.captured_at
                analysed += self._guarded_step(frame)
                if self._on_frame is not None:
                    self._on_frame(frame)
        finally:
            self._put_all(self.analysis.flush())
            self._put_stats()
        return WorkerReport(frames, analysed, sum(self._events.values()), dict(self._events),
                            round(self._stats.total_covered_s, 3), time.monotonic() - wall0, first, last,
                            self._stopping)

    def _guarded_step(self, frame: Frame) -> int:
        if not self.settings.keep_going:
            return self._step(frame)
        try:
            return self._step(frame)
        except Exception:
            self._failures += 1
            if self._failures == 1 or self._failures % 1000 == 0:  # the first, then a reminder
                log.exception("frame %d failed (%d so far); going on", frame.index, self._failures)
            return 0

    def _step(self, frame: Frame) -> int:
        """Process one frame; returns 1 when it was analysed."""
        self._stats.frame_in(frame.captured_at)
        wanted, due = self.analysis.observe(frame)
        self._put_all(due)
        done = 0
        if wanted and self._gate.due(frame.captured_at.timestamp()):
            detections = self.detector.detect_frame(frame)
            self._stats.frame_out(self.detector.last_inference_ms)
            self._put_all(self.analysis.analyse(frame, detections))
            done = 1
        if self._stats.due():
            self._put_stats()
        return done

    def _put_all(self, events: list[tuple[EventKind, Payload]]) -> None:
        for kind, payload in events:
            self._put(kind, payload)

    def _put(self, kind: EventKind, payload: Payload) -> None:
        self.sink.put(kind, payload.event_id, self._topics[kind], payload.to_json())
        self._events[kind.value] = self._events.get(kind.value, 0) + 1

    def _put_stats(self) -> None:
        figures = self._stats.take()
        if figures is None:
            return
        event = stats_event(self.site_id, self.camera_id, interval_start=figures.interval_start,
                            interval_end=figures.interval_end, covered_s=figures.covered_s,
                            fps_in=figures.fps_in, fps_out=figures.fps_out,
                            dropped_frames=figures.dropped_frames, inference_ms=figures.inference_ms,
                            outbox_depth=figures.outbox_depth, reconnects=figures.reconnects,
                            shed_events=figures.shed_events)
        self._put(EventKind.STATS, event)
