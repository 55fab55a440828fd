"""Source stage: frames and their capture times from files, RTSP or local devices."""

from edge.source.types import Frame, FrameSource, SourceState

__all__ = ["Frame", "FrameSource", "SourceState"]
