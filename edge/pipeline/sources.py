"""Opening frame sources for the worker through the source stage (`edge.source.open`)."""

from __future__ import annotations

from datetime import datetime

from edge.config import SourceConfig
from edge.source import FrameSource
from edge.source.open import open_source


def open_frames(config: SourceConfig, *, start: datetime | None, live: bool) -> FrameSource:
    """A started FrameSource: a file replay (every frame, as fast as read, on the recording's
    clock from `start`) or a live camera (a file configured as a camera plays in real time)."""
    source: FrameSource = open_source(config, start=start, live=live)
    return source
