"""A recorded video file as a frame source, on the recording's own clock (DESIGN.md 6).

Each frame's `pts_s` is its timestamp in the file (OpenCV's CAP_PROP_POS_MSEC, or the previous
one plus 1/fps where the container gives none) and `captured_at = start + pts_s`. Without a
start the clock begins at DEFAULT_REPLAY_START, never the wall clock, so two replays of one
recording give the same times and event ids. Frames come as fast as the consumer reads, or
paced at the recording's rate with `realtime=True` (late frames are then skipped, as a camera would).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import cv2
import numpy as np

from edge.source.live import SourceStats, StateCallback
from edge.source.types import Frame, SourceState

log = logging.getLogger(__name__)

#: The clock of a replay given no start: a Monday 00:00 UTC, so it opens an ISO week, and well
#: inside the payload schemas' 2000-2100 range. Fixed on purpose: replays must be reproducible.
DEFAULT_REPLAY_START = datetime(2024, 1, 1, tzinfo=UTC)
# Used only when the container does not say its frame rate.
_FALLBACK_FPS = 25.0


class FileSource:
    """Every frame of a video file in order (skipping only late frames when `realtime`)."""

    def __init__(self, path: str | Path, *, start: datetime | None = None, realtime: bool = False,
                 on_state: StateCallback | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if start is not None and start.utcoffset() is None:
            raise ValueError("start must be timezone-aware")
        self.path = Path(path)
        self._cap = cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)
        if not self._cap.isOpened():
            self._cap.release()
            raise OSError(f"cannot open video {self.path}")
        self.start = start if start is not None else DEFAULT_REPLAY_START
        self.realtime = realtime
        fps = float(self._cap.get(cv2.CAP_PROP_FPS))
        self.fps = fps if math.isfinite(fps) and fps > 0 else _FALLBACK_FPS
        self.frame_count = max(int(self._cap.get(cv2.CAP_PROP_FRAME_COUNT)), 0)  # 0: unknown
        self._period_s = 1.0 / self.fps
        self._on_state, self._clock = on_state, clock
        self._lock = threading.Lock()
        self._closed = threading.Event()
        self._state = SourceState.ONLINE
        self._pending: tuple[np.ndarray, float] | None = None
        self._t0: float | None = None  # realtime: the monotonic time at which pts 0 is due
        self._last_pts: float | None = None
        self._first_out_pts: float | None = None
        self._last_out_pts: float | None = None
        self._size_wh: tuple[int, int] | None = None
        self._frames_in = self._frames_out = self._dropped = 0

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def size_wh(self) -> tuple[int, int] | None:
        return self._size_wh

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    @property
    def reconnects(self) -> int:
        return 0

    def stats(self) -> SourceStats:
        covered_s = 0.0
        if self._first_out_pts is not None and self._last_out_pts is not None:
            covered_s = self._last_out_pts - self._first_out_pts + self._period_s
        return SourceStats(self._frames_in, self._frames_out, self._dropped, 0, round(covered_s, 3),
                           self._size_wh)

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame, or None at the end (state ENDED) or while a realtime frame is not yet due."""
        if self._state is SourceState.ENDED:
            return None
        item, self._pending = self._pending or self._next(), None
        if item is None:
            self._end("end of file")
            return None
        if self.realtime:
            if self._t0 is None:
                self._t0 = self._clock() - item[1]
            wait_s = self._t0 + item[1] - self._clock()
            if wait_s > timeout_s:
                self._pending = item
                self._closed.wait(max(timeout_s, 0.0))
                return None
            if wait_s > 0 and self._closed.wait(wait_s):
                return None
        return self._deliver(*item)

    def close(self) -> None:
        self._closed.set()
        with self._lock:
            self._cap.release()
        self._end("closed")

    def _next(self) -> tuple[np.ndarray, float] | None:
        """Decode the next frame to deliver and its pts; None at the end of the file."""
        with self._lock:
            while not self._closed.is_set() and self._cap.grab():
                pts_s = self._pts_s()
                self._frames_in += 1
                if self._t0 is not None and self._clock() - self._t0 > pts_s + self._period_s:
                    self._dropped += 1  # realtime and more than a frame late: skip, as a camera would
                    continue
                ok, image = self._cap.retrieve()
                if not ok or image is None:
                    log.warning("%s: frame %d could not be decoded; ending", self.path, self._frames_in - 1)
                    return None
                return np.asarray(image), pts_s
        return None

    def _pts_s(self) -> float:
        """The grabbed frame's timestamp; the previous one plus 1/fps where the file gives none."""
        guess_s = 0.0 if self._last_pts is None else self._last_pts + self._period_s
        pos_s = float(self._cap.get(cv2.CAP_PROP_POS_MSEC)) / 1000.0
        pts_s = pos_s if math.isfinite(pos_s) and pos_s >= 0 and (
            self._last_pts is None or pos_s > self._last_pts) else guess_s
        self._last_pts = pts_s
        return pts_s

    def _deliver(self, image: np.ndarray, pts_s: float) -> Frame:
        self._size_wh = (int(image.shape[1]), int(image.shape[0]))
        if self._first_out_pts is None:
            self._first_out_pts = pts_s
        self._last_out_pts = pts_s
        index, self._frames_out = self._frames_out, self._frames_out + 1
        return Frame(image, index, pts_s, self.start + timedelta(seconds=pts_s))

    def _end(self, detail: str) -> None:
        if self._state is SourceState.ENDED:
            return
        self._state = SourceState.ENDED
        log.info("%s ended (%s) after %d frames, %d skipped", self.path, detail, self._frames_out,
                 self._dropped)
        if self._on_state is not None:
            try:
                self._on_state(SourceState.ENDED, detail)
            except Exception:
                log.exception("%s: state callback failed", self.path)
