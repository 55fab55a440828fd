"""Value objects and the Protocol of the source stage."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Protocol

import numpy as np


class SourceState(StrEnum):
    """What a source is doing; the worker mirrors it in its retained status topic."""

    CONNECTING = "connecting"
    ONLINE = "online"
    OFFLINE = "offline"  # dropped out or stalled; retrying with capped backoff
    ENDED = "ended"  # a file source reached its end


@dataclass(frozen=True, slots=True)
class Frame:
    """One decoded frame. `captured_at` is the recording's clock for replays (start + pts)
    and the wall clock at grab time for live sources; it is always timezone-aware."""

    image: np.ndarray  # BGR, uint8, HxWx3
    index: int  # frames delivered by this source so far, from 0
    pts_s: float  # seconds since the start of the stream or file
    captured_at: datetime

    @property
    def size_wh(self) -> tuple[int, int]:
        return int(self.image.shape[1]), int(self.image.shape[0])


class FrameSource(Protocol):
    """Yields real frames only: never a placeholder while the camera is away."""

    @property
    def state(self) -> SourceState: ...

    def read(self, timeout_s: float) -> Frame | None:
        """The next frame (live: the newest one), or None if none arrived within timeout_s
        or the source has ended (check `state`)."""
        ...

    def close(self) -> None: ...
