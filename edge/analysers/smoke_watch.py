"""Smoke confirmation on a touring pan/tilt camera: one incident per plume, opened, updated, closed.

A region opens an incident when smoke was detected there in k of the last n analysed frames
at the same preset, outside the preset's masks. Nothing is analysed while the camera moves or
for settle_s after it stops: a moving view smears, and exposure settles after a move.
"""

from __future__ import annotations

import logging
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

import numpy as np

from edge.analysers.geometry import XYXY, centre, contains, grow, in_polygon, iou, normalise, union_box
from edge.analysers.presets import PresetState, PresetView
from edge.config import SmokeConfirm
from edge.detector import Detection
from edge.labels import Label
from edge.source import Frame

log = logging.getLogger(__name__)

Phase = Literal["opened", "updated", "closed"]


@dataclass(frozen=True, slots=True)
class SmokeSettings:
    update_interval_s: float = 30.0  # an open plume is re-reported at most this often
    match_iou: float = 0.1  # plumes grow and drift: a loose overlap is the same plume
    match_grow: float = 0.25  # ... or a centre inside its box grown by this fraction


@dataclass(frozen=True, slots=True, eq=False)
class SmokeUpdate:
    """One phase of one plume, as the camera saw it at `captured_at`."""

    plume_id: str
    phase: Phase
    preset: str
    bearing_deg: float
    box_norm: XYXY
    confidence: float
    flame: bool
    first_seen_at: datetime
    captured_at: datetime
    evidence_image: np.ndarray | None
    evidence_xyxy: XYXY


@dataclass
class _Region:
    box: XYXY
    hits: deque[bool]
    confs: deque[float]


@dataclass
class _Plume:
    plume_id: str
    view: PresetView
    box: XYXY
    first_seen_at: datetime
    last_seen_t: float
    last_seen_at: datetime
    last_report_t: float
    size_wh: tuple[int, int]
    confs: deque[float] = field(default_factory=lambda: deque(maxlen=10))
    flame: bool = False
    base_x: float = 0.0  # pixel column of the plume's source: a flame, or the box centre


class SmokeWatch:
    """Feed every frame (analysed or not: moving frames matter) with its preset state."""

    def __init__(self, confirm: SmokeConfirm, settle_s: float,
                 settings: SmokeSettings = SmokeSettings()) -> None:
        self.confirm, self.settle_s, self.settings = confirm, settle_s, settings
        self._preset: str | None = None
        self._settle_until = float("-inf")
        self._moved = False
        self._regions: list[_Region] = []
        self._plumes: list[_Plume] = []
        self.opened = 0

    def should_analyse(self, frame: Frame, state: PresetState) -> bool:
        """Whether detection is worth running on this frame (the camera is still and settled).

        Call for every frame: a move is noticed from the moving flag or from a change of preset.
        """
        t = frame.captured_at.timestamp()
        if state.moving or state.view is None:
            self._preset, self._regions, self._moved = None, [], True
            return False
        if state.view.id != self._preset:
            # The first preset of a run is not waited for: nothing says the camera just moved.
            first = self._preset is None and not self._moved
            self._settle_until = t if first else t + self.settle_s
            self._preset, self._regions, self._moved = state.view.id, [], False
        return t >= self._settle_until

    def update(self, detections: list[Detection], frame: Frame, state: PresetState) -> list[SmokeUpdate]:
        """Process one analysed frame (call only when `should_analyse` said so)."""
        out = self.expire(frame)
        view = state.view
        if view is None:
            return out
        width, height = frame.size_wh
        smoke = [d for d in detections if d.label == Label.SMOKE and not _masked(d.xyxy, view, width, height)]
        fires = [d for d in detections if d.label == Label.FIRE and not _masked(d.xyxy, view, width, height)]
        t = frame.captured_at.timestamp()
        for region in self._track_regions(smoke):
            if sum(region.hits) < self.confirm.k or not region.hits[-1]:
                continue
            plume = self._plume_for(region.box, view)
            if plume is None:
                plume = self._open(region, view, frame, fires)
                out.append(self._emit(plume, "opened", frame))
            else:
                had_flame = plume.flame
                self._refresh(plume, region.box, region.confs[-1], frame, fires)
                # Re-report periodically, and at once when flames first show: that raises the alarm.
                if t - plume.last_report_t >= self.settings.update_interval_s or plume.flame > had_flame:
                    out.append(self._emit(plume, "updated", frame))
        return out

    def expire(self, frame: Frame) -> list[SmokeUpdate]:
        """Close plumes not seen for quiet_close_s of recording time (called on every frame)."""
        t, out = frame.captured_at.timestamp(), []
        for plume in [p for p in self._plumes if t - p.last_seen_t >= self.confirm.quiet_close_s]:
            self._plumes.remove(plume)
            out.append(self._emit(plume, "closed", frame, at=plume.last_seen_at, with_image=False))
        return out

    def _track_regions(self, smoke: list[Detection]) -> list[_Region]:
        matched: set[int] = set()
        for region in self._regions:
            mine = [i for i, d in enumerate(smoke) if i not in matched and self._same(region.box, d.xyxy)]
            matched.update(mine)
            region.hits.append(bool(mine))
            if mine:
                box = smoke[mine[0]].xyxy
                for i in mine[1:]:
                    box = union_box(box, smoke[i].xyxy)
                region.box = box
                region.confs.append(max(smoke[i].confidence for i in mine))
        n = self.confirm.n
        for i, d in enumerate(smoke):
            if i not in matched:
                self._regions.append(_Region(d.xyxy, deque([True], maxlen=n),
                                             deque([d.confidence], maxlen=n)))
        self._regions = [r for r in self._regions if any(r.hits)]
        return self._regions

    def _same(self, a: XYXY, b: XYXY) -> bool:
        (ax, ay), (bx, by) = centre(a), centre(b)
        g = self.settings.match_grow
        return (iou(a, b) >= self.settings.match_iou or contains(grow(a, g), bx, by)
                or contains(grow(b, g), ax, ay))

    def _plume_for(self, box: XYXY, view: PresetView) -> _Plume | None:
        for plume in self._plumes:
            if plume.view.id == view.id and self._same(plume.box, box):
                return plume
        return None

    def _open(self, region: _Region, view: PresetView, frame: Frame, fires: list[Detection]) -> _Plume:
        t = frame.captured_at.timestamp()
        plume_id = f"{view.id[:40]}-{round(t * 1000)}"
        plume = _Plume(plume_id, view, region.box, frame.captured_at, t, frame.captured_at, t, frame.size_wh)
        plume.confs.extend(region.confs)
        self._refresh(plume, region.box, region.confs[-1], frame, fires)
        self._plumes.append(plume)
        self.opened += 1
        log.info("smoke plume %s opened at preset %s", plume_id, view.id)
        return plume

    def _refresh(self, plume: _Plume, box: XYXY, conf: float, frame: Frame, fires: list[Detection]) -> None:
        plume.box, plume.size_wh = box, frame.size_wh
        plume.last_seen_t, plume.last_seen_at = frame.captured_at.timestamp(), frame.captured_at
        plume.confs.append(conf)
        flames = [f for f in fires if contains(grow(box, self.settings.match_grow), *centre(f.xyxy))]
        plume.flame = plume.flame or bool(flames)
        plume.base_x = centre(max(flames, key=lambda f: f.confidence).xyxy)[0] if flames else centre(box)[0]

    def _emit(self, plume: _Plume, phase: Phase, frame: Frame, *, at: datetime | None = None,
              with_image: bool = True) -> SmokeUpdate:
        width, height = plume.size_wh
        plume.last_report_t = frame.captured_at.timestamp()
        bearing_deg = round(plume.view.bearing_deg(plume.base_x / width), 3) % 360.0
        return SmokeUpdate(plume.plume_id, phase, plume.view.id, bearing_deg,
                           normalise(plume.box, width, height), round(float(np.mean(plume.confs)), 4),
                           plume.flame, plume.first_seen_at, at or frame.captured_at,
                           frame.image if with_image else None, plume.box)


def _masked(box: XYXY, view: PresetView, width: int, height: int) -> bool:
    """A detection whose centre or base (bottom centre) lies in a mask is ignored."""
    cx, cy = centre(box)
    points = ((cx / width, cy / height), (cx / width, box[3] / height))
    return any(in_polygon(x, y, mask) for mask in view.masks for x, y in points)
