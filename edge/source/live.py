"""A live camera: newest frame only, reconnects with capped backoff, stall detection.

A reader thread decodes continuously and overwrites a one-frame slot, so a slow consumer never
builds up lag; overwritten frames are counted as dropped. A supervisor thread opens the camera,
watches for the stream ending or stalling (open but no frame for `stall_timeout_s`), and
reopens it after a backoff delay. State changes go to an optional `on_state(state, detail)`.
No placeholder frame is ever produced: while the camera is away, `read()` returns None.
A live frame's `pts_s` counts seconds since the source was created (monotonic, across
reconnects) and its `captured_at` is the wall clock (UTC) when it was decoded.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

import numpy as np

from edge.config import redact
from edge.source.backoff import Backoff
from edge.source.types import Frame, SourceState

log = logging.getLogger(__name__)

StateCallback = Callable[[SourceState, str], None]


class Capture(Protocol):
    """The part of cv2.VideoCapture a live source uses (and the fake camera imitates)."""

    def read(self) -> tuple[bool, np.ndarray | None]: ...

    def release(self) -> None: ...


#: Opens the camera now; None when it cannot be opened (it is retried after a backoff delay).
Opener = Callable[[], Capture | None]


@dataclass(frozen=True, slots=True)
class SourceStats:
    """Cumulative counters of a source since it was opened."""

    frames_in: int  # frames decoded
    frames_out: int  # frames returned by read()
    dropped_frames: int  # decoded but never returned (overwritten while live, skipped to keep pace)
    reconnects: int  # open attempts after the first
    covered_s: float  # seconds of video the decoded frames span (gaps between connections excluded)
    size_wh: tuple[int, int] | None  # size of the newest frame


@dataclass(eq=False)
class _Session:
    """One connection to the camera; `abandoned` tells its reader thread to stop."""

    capture: Capture
    opened_at: float
    frames: int = 0
    last_frame_at: float | None = None
    ended: bool = False
    abandoned: bool = False
    reader: threading.Thread | None = field(default=None, repr=False)


class LiveSource:
    """A FrameSource over a camera that may drop out. Call `start()` before `read()`."""

    def __init__(self, opener: Opener, *, name: str, backoff: Backoff, stall_timeout_s: float,
                 on_state: StateCallback | None = None, clock: Callable[[], float] = time.monotonic) -> None:
        if stall_timeout_s <= 0:
            raise ValueError("stall_timeout_s must be positive")
        self.name = name  # what logs show: the redacted URL or device:N, never a password
        self.stall_timeout_s = stall_timeout_s
        self._opener, self._backoff, self._on_state, self._clock = opener, backoff, on_state, clock
        self._lock = threading.Lock()
        self._frame_ready = threading.Condition(self._lock)  # consumers wait here
        self._session_changed = threading.Condition(self._lock)  # the supervisor waits here
        self._closing = threading.Event()
        self._state = SourceState.CONNECTING
        self._slot: tuple[np.ndarray, float, datetime] | None = None
        self._size_wh: tuple[int, int] | None = None
        self._frames_in = self._frames_out = self._dropped = self._reconnects = 0
        self._covered_s = 0.0
        self._t0 = clock()
        self._supervisor: threading.Thread | None = None

    def start(self) -> LiveSource:
        if self._supervisor is None:
            self._supervisor = threading.Thread(target=self._supervise, name=f"source-{self.name}",
                                                daemon=True)
            self._supervisor.start()
        return self

    @property
    def state(self) -> SourceState:
        return self._state

    @property
    def size_wh(self) -> tuple[int, int] | None:
        """(width, height) of the newest frame; it may change after a reconnect."""
        return self._size_wh

    @property
    def dropped_frames(self) -> int:
        return self._dropped

    @property
    def reconnects(self) -> int:
        return self._reconnects

    def stats(self) -> SourceStats:
        with self._lock:
            return SourceStats(self._frames_in, self._frames_out, self._dropped, self._reconnects,
                               round(self._covered_s, 3), self._size_wh)

    def read(self, timeout_s: float) -> Frame | None:
        """The newest frame not yet returned, or None after timeout_s (camera away) or once closed."""
        with self._lock:
            self._frame_ready.wait_for(lambda: self._slot is not None or self._closing.is_set(),
                                       timeout=max(timeout_s, 0.0))
            if self._slot is None or self._closing.is_set():
                return None
            (image, pts_s, captured_at), self._slot = self._slot, None
            index, self._frames_out = self._frames_out, self._frames_out + 1
        return Frame(image, index, pts_s, captured_at)

    def close(self, timeout_s: float = 5.0) -> None:
        """Stop reconnecting and reading; the state becomes ENDED."""
        with self._lock:
            self._closing.set()
            self._frame_ready.notify_all()
            self._session_changed.notify_all()
        if self._supervisor is not None and self._supervisor is not threading.current_thread():
            # Bounded: an open in progress finishes within the opener's own timeout; threads are daemons.
            self._supervisor.join(timeout_s)
        self._set_state(SourceState.ENDED, "closed")

    # --- supervisor thread -------------------------------------------------------------------

    def _supervise(self) -> None:
        attempt = 0
        while not self._closing.is_set():
            if attempt:
                with self._lock:
                    self._reconnects += 1
            attempt += 1
            capture = self._open()
            reason = "cannot open the stream" if capture is None else self._watch(self._begin(capture))
            if self._closing.is_set():
                break
            delay_s = self._backoff.next_delay_s()
            log.debug("%s: %s; attempt %d, next in %.2f s", self.name, reason, attempt, delay_s)
            self._set_state(SourceState.OFFLINE, f"{reason}; retrying in {delay_s:.1f} s")
            self._closing.wait(delay_s)

    def _open(self) -> Capture | None:
        try:
            return self._opener()
        except Exception as exc:  # a camera failing to open must never stop the retries
            log.warning("%s: open failed: %s: %s", self.name, type(exc).__name__, redact(str(exc)))
            return None

    def _begin(self, capture: Capture) -> _Session:
        session = _Session(capture, opened_at=self._clock())
        session.reader = threading.Thread(target=self._read_loop, args=(session,), daemon=True,
                                          name=f"reader-{self.name}")
        session.reader.start()
        return session

    def _watch(self, session: _Session) -> str:
        """Wait until the session ends, stalls or the source closes; returns why it is over."""
        announced = False
        while True:
            with self._lock:
                reason = self._why_over(session)
                if reason is not None:
                    session.abandoned = True
                    return reason
                if announced or not session.frames:
                    self._session_changed.wait(self._stall_left_s(session))
                    continue
            announced = True
            self._backoff.reset()
            self._set_state(SourceState.ONLINE, "receiving frames")

    def _why_over(self, session: _Session) -> str | None:
        """Why the session should end now, or None (caller holds the lock)."""
        if self._closing.is_set():
            return "closed"
        if session.ended:
            return "stream ended or read failed"
        if self._stall_left_s(session) <= 0:
            return f"stalled: no frame for {self.stall_timeout_s:g} s"
        return None

    def _stall_left_s(self, session: _Session) -> float:
        last = session.last_frame_at if session.last_frame_at is not None else session.opened_at
        return last + self.stall_timeout_s - self._clock()

    # --- reader thread -----------------------------------------------------------------------

    def _read_loop(self, session: _Session) -> None:
        try:
            while True:
                try:
                    ok, image = session.capture.read()
                except Exception as exc:  # a decoder error is a dropped stream, not a crash
                    log.warning("%s: read failed: %s", self.name, type(exc).__name__)
                    ok, image = False, None
                now = self._clock()
                captured_at = datetime.now(UTC)
                with self._lock:
                    if session.abandoned or self._closing.is_set():
                        return
                    if not ok or image is None or image.size == 0:
                        session.ended = True
                        self._session_changed.notify_all()
                        return
                    self._accept(session, image, now, captured_at)
        finally:
            try:
                session.capture.release()
            except Exception as exc:
                log.debug("%s: release failed: %s", self.name, type(exc).__name__)

    def _accept(self, session: _Session, image: np.ndarray, now: float, captured_at: datetime) -> None:
        """Put a decoded frame in the slot (caller holds the lock)."""
        size_wh = (int(image.shape[1]), int(image.shape[0]))
        if size_wh != self._size_wh:
            if self._size_wh is not None:
                log.info("%s: resolution changed from %dx%d to %dx%d", self.name, *self._size_wh, *size_wh)
            self._size_wh = size_wh
        if session.last_frame_at is not None:
            self._covered_s += now - session.last_frame_at
        self._frames_in += 1
        if self._slot is not None:
            self._dropped += 1
        self._slot = (image, now - self._t0, captured_at)
        session.frames += 1
        session.last_frame_at = now
        if session.frames == 1:
            self._session_changed.notify_all()
        self._frame_ready.notify_all()

    def _set_state(self, state: SourceState, detail: str) -> None:
        with self._lock:
            if state is self._state or self._state is SourceState.ENDED:
                return
            self._state = state
        if state is SourceState.OFFLINE:
            log.warning("%s offline: %s", self.name, detail)
        else:
            log.info("%s %s: %s", self.name, state.value, detail)
        if self._on_state is not None:
            try:
                self._on_state(state, detail)
            except Exception:
                log.exception("%s: state callback failed", self.name)
