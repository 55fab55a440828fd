"""Tracker stage: stable ids for detections across frames (DESIGN.md 2)."""

from edge.tracker.bytetrack import DEFAULT_GROUPS, ByteTracker, TrackerSettings, TrackGroup
from edge.tracker.types import Track, Tracker

__all__ = ["DEFAULT_GROUPS", "ByteTracker", "Track", "TrackGroup", "Tracker", "TrackerSettings"]
