"""A scriptable fake camera for tests: it drops out, stalls, refuses connections, changes size.

`FakeCamera.open` is an `Opener` for a real `LiveSource`, so tests drive the real reconnect,
stall and newest-frame logic. Each frame's first pixel carries (connection, frame number) so a
test can tell every delivered frame apart; no frame is ever all black.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from edge.source.backoff import Backoff
from edge.source.live import LiveSource, StateCallback


@dataclass(frozen=True, slots=True)
class Connection:
    """What the camera does during one connection."""

    frames: int | None = 10  # frames sent before the connection ends; None: never ends
    size_wh: tuple[int, int] = (64, 48)
    ending: Literal["drop", "stall"] = "drop"  # drop: the read fails at once; stall: it hangs first
    refuse: bool = False  # the open fails (camera unreachable)


class FakeCapture:
    """One open connection: frames at `fps`, then the scripted ending."""

    def __init__(self, number: int, connection: Connection, *, fps: float, stall_s: float,
                 camera: FakeCamera) -> None:
        self.number, self.connection, self._camera = number, connection, camera
        self._period_s, self._stall_s = 1.0 / fps, stall_s
        self._sent = 0
        self.released = threading.Event()

    def read(self) -> tuple[bool, np.ndarray | None]:
        limit = self.connection.frames
        if limit is not None and self._sent >= limit:
            if self.connection.ending == "stall":
                # Like FFmpeg's read timeout: the read hangs, then fails.
                self.released.wait(self._stall_s)
            return False, None
        if self.released.wait(self._period_s):  # the camera's frame interval
            return False, None
        width, height = self.connection.size_wh
        image = np.full((height, width, 3), 1 + self._sent % 250, np.uint8)
        image[0, 0] = (self.number % 256, self._sent % 256, self._sent // 256 % 256)
        self._sent += 1
        self._camera._sent_one()
        return True, image

    def release(self) -> None:
        self.released.set()


class FakeCamera:
    """Plays `script`, one `Connection` per open; once it is used up every open is refused."""

    def __init__(self, script: Sequence[Connection], *, fps: float = 100.0, stall_s: float = 1.0) -> None:
        self.script, self.fps, self.stall_s = tuple(script), fps, stall_s
        self.opens = 0
        self.captures: list[FakeCapture] = []
        self.frames_sent = 0
        self._lock = threading.Lock()
        self._sent = threading.Condition(self._lock)

    def open(self) -> FakeCapture | None:
        with self._lock:
            number, self.opens = self.opens, self.opens + 1
            if number >= len(self.script) or self.script[number].refuse:
                return None
            capture = FakeCapture(number, self.script[number], fps=self.fps, stall_s=self.stall_s,
                                  camera=self)
            self.captures.append(capture)
            return capture

    def wait_frames_sent(self, count: int, timeout_s: float) -> bool:
        """Wait until the camera has sent `count` frames in all; False on timeout."""
        with self._sent:
            return self._sent.wait_for(lambda: self.frames_sent >= count, timeout=timeout_s)

    def _sent_one(self) -> None:
        with self._sent:
            self.frames_sent += 1
            self._sent.notify_all()


def frame_mark(image: np.ndarray) -> tuple[int, int]:
    """(connection number, frame number within it) stamped on a fake frame."""
    pixel = image[0, 0]
    return int(pixel[0]), int(pixel[1]) + 256 * int(pixel[2])


def fake_source(camera: FakeCamera, *, stall_timeout_s: float = 0.5, backoff: Backoff | None = None,
                on_state: StateCallback | None = None) -> LiveSource:
    """A started LiveSource over `camera` (backoff 0.05 s doubling to 0.2 s unless given)."""
    return LiveSource(camera.open, name="fake-camera", backoff=backoff or Backoff(0.05, 0.2),
                      stall_timeout_s=stall_timeout_s, on_state=on_state).start()
