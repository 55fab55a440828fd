"""Where a pan/tilt camera is looking: the current preset and whether it is moving.

The smoke watch asks a `PresetProvider` for every frame. Replays of synthetic clips read the
ground truth's per-frame preset; a live camera without a position feed follows its configured
tour (dwell_s per preset, in order), anchored at the first frame the worker sees.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from edge.config import SmokeCamera
from edge.source import Frame
from edge.synth.smoke import view_bearing_deg
from edge.synth.truth import SceneTruth

log = logging.getLogger(__name__)

Polygon = tuple[tuple[float, float], ...]


@dataclass(frozen=True, slots=True)
class PresetView:
    """One preset's geometry: enough to turn an image column into a compass bearing."""

    id: str
    heading_deg: float  # compass bearing of the camera's pan 0
    pan_deg: float
    hfov_deg: float
    masks: tuple[Polygon, ...] = ()  # normalised image polygons never analysed

    def bearing_deg(self, x_norm: float) -> float:
        return view_bearing_deg(self.heading_deg, self.pan_deg, self.hfov_deg, x_norm)


@dataclass(frozen=True, slots=True)
class PresetState:
    """What the camera does at one frame; `view` is None while it is between presets."""

    view: PresetView | None
    moving: bool


class PresetProvider(Protocol):
    def at(self, frame: Frame) -> PresetState: ...


def views_of(camera: SmokeCamera) -> dict[str, PresetView]:
    """The camera's configured presets by id."""
    return {p.id: PresetView(p.id, camera.heading_deg, p.pan_deg, p.hfov_deg, p.masks)
            for p in camera.presets}


class TruthPresets:
    """Per-frame preset and movement from a synthetic clip's ground truth (by frame index).

    Geometry (heading, pan, field of view) comes from the truth; masks from the camera config's
    preset of the same id, when there is one.
    """

    def __init__(self, truth: SceneTruth, camera: SmokeCamera | None = None) -> None:
        if truth.kind != "smoke" or truth.heading_deg is None:
            raise ValueError("ground truth of a smoke clip expected")
        masks = {p.id: p.masks for p in camera.presets} if camera is not None else {}
        self._views = {p.id: PresetView(p.id, truth.heading_deg, p.pan_deg, p.hfov_deg, masks.get(p.id, ()))
                       for p in truth.presets}
        self._frames = [(f.preset, f.moving) for f in truth.frames]

    def at(self, frame: Frame) -> PresetState:
        preset, moving = self._frames[min(frame.index, len(self._frames) - 1)]
        view = self._views.get(preset) if preset is not None else None
        return PresetState(None if moving else view, moving or view is None)


class TourPresets:
    """The configured tour: each preset for its dwell_s, in config order, repeating.

    Without a position feed from the camera this is an estimate, so the watch's settle time
    after each change should cover the camera's real move time.
    """

    def __init__(self, camera: SmokeCamera, anchor: datetime | None = None) -> None:
        views = views_of(camera)
        self._tour: Sequence[tuple[PresetView, float]] = [(views[p.id], p.dwell_s) for p in camera.presets]
        self._period_s = sum(d for _, d in self._tour)
        self._anchor = anchor

    def at(self, frame: Frame) -> PresetState:
        if self._anchor is None:
            self._anchor = frame.captured_at
        offset = (frame.captured_at - self._anchor).total_seconds() % self._period_s
        for view, dwell_s in self._tour:
            if offset < dwell_s:
                return PresetState(view, False)
            offset -= dwell_s
        return PresetState(self._tour[-1][0], False)  # float rounding at the period's end
