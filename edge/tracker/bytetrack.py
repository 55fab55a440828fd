"""Ultralytics' BYTETracker behind the `Tracker` protocol, fed from our own `Detection` list.

Labels are tracked in groups, one BYTETracker per group, because ByteTrack matches boxes by
IoU alone: a rider's body overlaps its two-wheeler so much that one could steal the other's id.
Heads with and without helmet share a group, so a head whose class flickers keeps its id.
"""

from __future__ import annotations

import logging
import os
from argparse import Namespace
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.detector import Detection
from edge.labels import HEAD_LABELS, Label
from edge.tracker.types import Track

log = logging.getLogger(__name__)



@dataclass(frozen=True, slots=True)
class TrackGroup:
    """Labels tracked together, and how much each box is grown for matching (see `_Boxes.of`)."""

    labels: frozenset[Label]
    buffer: float = 0.5


# Heads are small and move by about their own size between frames at 10 fps: a wider buffer.
DEFAULT_GROUPS: tuple[TrackGroup, ...] = (
    TrackGroup(frozenset({Label.TWO_WHEELER}), 0.5),
    TrackGroup(HEAD_LABELS, 1.0),
    TrackGroup(frozenset({Label.RIDER}), 0.5),
    TrackGroup(frozenset({Label.SMOKE}), 0.3),
    TrackGroup(frozenset({Label.FIRE}), 0.5),
)


@dataclass(frozen=True, slots=True)
class TrackerSettings:
    """ByteTrack's knobs; the defaults are ultralytics' bytetrack.yaml, with the lost-track
    buffer in seconds so it means the same at any analysis rate."""

    track_high_thresh: float = 0.25
    track_low_thresh: float = 0.1
    new_track_thresh: float = 0.25
    match_thresh: float = 0.8
    fuse_score: bool = True
    lost_buffer_s: float = 1.0

    def namespace(self, fps: float) -> Namespace:
        return Namespace(tracker_type="bytetrack", track_high_thresh=self.track_high_thresh,
                         track_low_thresh=self.track_low_thresh, new_track_thresh=self.new_track_thresh,
                         track_buffer=max(1, round(self.lost_buffer_s * fps)),
                         match_thresh=self.match_thresh, fuse_score=self.fuse_score)


class _Boxes:
    """The slice of ultralytics' `Boxes` interface that BYTETracker reads, built from numpy arrays."""

    def __init__(self, xyxy: np.ndarray, conf: np.ndarray, cls: np.ndarray) -> None:
        self.xyxy, self.conf, self.cls = xyxy, conf, cls

    @classmethod
    def of(cls, detections: list[Detection], buffer: float) -> _Boxes:
        xyxy = np.array([d.xyxy for d in detections], dtype=np.float32).reshape(-1, 4)
        if buffer > 0:
            # Buffered IoU (Yang et al., 2022): grow each box by `buffer` of its size on every side,
            # so an object that moved more than its own size between analysed frames still overlaps.
            pad = np.stack([xyxy[:, 2] - xyxy[:, 0], xyxy[:, 3] - xyxy[:, 1]], axis=1) * buffer
            xyxy = xyxy + np.concatenate([-pad, pad], axis=1)
        conf = np.array([d.confidence for d in detections], dtype=np.float32)
        return cls(xyxy, conf, np.zeros(len(detections), dtype=np.float32))

    @property
    def xywh(self) -> np.ndarray:
        out = np.empty_like(self.xyxy)
        out[:, 0] = (self.xyxy[:, 0] + self.xyxy[:, 2]) / 2
        out[:, 1] = (self.xyxy[:, 1] + self.xyxy[:, 3]) / 2
        out[:, 2] = self.xyxy[:, 2] - self.xyxy[:, 0]
        out[:, 3] = self.xyxy[:, 3] - self.xyxy[:, 1]
        return out

    def __len__(self) -> int:
        return len(self.conf)

    def __getitem__(self, index: Any) -> _Boxes:
        return _Boxes(self.xyxy[index], self.conf[index], self.cls[index])


def _byte_tracker(args: Namespace) -> Any:
    """BYTETracker with two changes for fast objects entering at the image edge.

    - BoT-SORT's width/height Kalman filter instead of ByteTrack's aspect-ratio one: ByteTrack's
      filter trusts its first aspect ratio almost completely, and a two-wheeler entering at the
      edge starts as a clipped, wide box, so the track soon loses its own object.
    - New tracks are output from their first frame. ByteTrack holds a new track back until a
      second frame matches it strictly; a rider entering near the counting line may cross it
      before then, and the counter must see the side it came from. One-frame false tracks are
      harmless: the analysers require several hits before they act.
    """
    from ultralytics.trackers.bot_sort import BOTrack
    from ultralytics.trackers.byte_tracker import BYTETracker
    from ultralytics.trackers.utils.kalman_filter import KalmanFilterXYWH

    class _WidthHeightByteTracker(BYTETracker):  # type: ignore[misc]
        track_class = BOTrack

        def get_kalmanfilter(self) -> Any:
            return KalmanFilterXYWH()

        def multi_predict(self, tracks: list[Any]) -> None:
            BOTrack.multi_predict(tracks)

        def _init_new_tracks(self, u_detection: Any, detections: Any, activated: list[Any],
                             refind: Any = None) -> None:
            before = len(activated)
            super()._init_new_tracks(u_detection, detections, activated, refind)
            for track in activated[before:]:
                track.is_activated = True

    return _WidthHeightByteTracker(args)


@dataclass(slots=True)
class _Life:
    track_id: int
    hits: int
    first_update: int


class ByteTracker:
    """Stable track ids per label group; ids are ours, numbered 1, 2, ... per instance in order of
    first appearance, so a replay gives the same ids every time."""

    def __init__(self, fps: float, settings: TrackerSettings = TrackerSettings(),
                 groups: Iterable[TrackGroup] = DEFAULT_GROUPS) -> None:
        os.environ.setdefault("YOLO_OFFLINE", "1")  # never reach for the network at run time
        self._groups = tuple(groups)
        args = settings.namespace(fps)
        self._trackers = [_byte_tracker(args) for _ in self._groups]
        self._lives: dict[tuple[int, int], _Life] = {}
        self._next_id = 1
        self._updates = 0

    def update(self, detections: list[Detection], frame_bgr: np.ndarray | None = None) -> list[Track]:
        self._updates += 1
        out: list[Track] = []
        for g, (group, tracker) in enumerate(zip(self._groups, self._trackers, strict=True)):
            mine = [d for d in detections if d.label in group.labels]
            rows = tracker.update(_Boxes.of(mine, group.buffer), frame_bgr)
            for row in rows:
                # [x1, y1, x2, y2, track_id, score, cls, idx]: idx points back into `mine`.
                det = mine[int(row[7])]
                out.append(self._track(g, int(row[4]), det))
        self._forget_stale()
        return out

    def reset(self) -> None:
        """Forget every track (the camera was away): nothing seen after an outage continues a track
        from before it. Ids go on from where they were, so none is reused."""
        for tracker in self._trackers:
            tracker.reset()
        self._lives.clear()

    def _track(self, group: int, ultra_id: int, det: Detection) -> Track:
        key = (group, ultra_id)
        life = self._lives.get(key)
        if life is None:
            life = self._lives[key] = _Life(self._next_id, 0, self._updates)
            self._next_id += 1
        life.hits += 1
        return Track(life.track_id, det.label, det.xyxy, det.confidence, life.hits,
                     self._updates - life.first_update + 1, det.source_class)

    def _forget_stale(self) -> None:
        # Ultralytics removes a lost track after its buffer; drop our bookkeeping for ids it no
        # longer holds, so a long-running worker does not grow without bound.
        if self._updates % 256:
            return
        live = {(g, int(t.track_id)) for g, tr in enumerate(self._trackers)
                for t in (*tr.tracked_stracks, *tr.lost_stracks)}
        for key in [k for k in self._lives if k not in live]:
            del self._lives[key]
