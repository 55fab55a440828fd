"""SmokeScene: seeds and assembles the world, tour and layers, renders each frame, reports the truth."""

from __future__ import annotations

import math
from collections.abc import Iterator

import numpy as np
from numpy.typing import NDArray

from edge.labels import Label
from edge.synth.camera import SensorModel
from edge.synth.smoke.common import F32, PALETTES, scale
from edge.synth.smoke.distractors import choose_distractors, draw_vehicles, make_fx
from edge.synth.smoke.geometry import Geometry, Pose, View, project_world
from edge.synth.smoke.particles import SpriteBank, Wind, draw_puffs, tight_box
from edge.synth.smoke.plume import SMOKE_TRACK_ID, Plume, make_fire
from edge.synth.smoke.tour import HFOV_DEG, Preset, Schedule, make_presets, motion_blur
from edge.synth.smoke.weather import Clouds, Haze
from edge.synth.smoke.world.layout import make_world
from edge.synth.smoke.world.panorama import crop, render_panorama
from edge.synth.truth import (
    XYXY,
    Lighting,
    PresetTruth,
    SceneTruth,
    SmokeTruth,
    TruthBox,
    TruthFrame,
)

_ELEV_MARGIN_DEG = 1.0
# Smoke is labelled where it changes the finished frame by more than this (0-255, any channel):
# thin smoke over a tan stubble field, or behind haze, has alpha but next to no contrast, and a
# box around pixels nobody can see teaches a detector to guess (and scores it on guessing).
# 12 is about 5% of a daylight field's brightness, where a thin grey plume starts to stand out
# to an operator, and well above the sensor noise (sigma 1.5 by day, 3.5 at night).
SMOKE_CONTRAST_MIN = 12.0
# Fewer visible pixels than this is not a plume yet: a speck under the noise of a 1280 px frame.
SMOKE_MIN_VISIBLE_PX = 24


def visible_box(box: TruthBox, drawn: F32, bare: F32) -> TruthBox | None:
    """`box` shrunk to the pixels where the smoke visibly changed the frame; None if too few."""
    x0, y0, x1, y1 = (int(v) for v in box.xyxy)
    change = np.abs(drawn[y0:y1, x0:x1] - bare[y0:y1, x0:x1]).max(axis=2) > SMOKE_CONTRAST_MIN
    if int(change.sum()) < SMOKE_MIN_VISIBLE_PX:
        return None
    tight = tight_box(change, x0, y0)
    return None if tight is None else box.model_copy(update={"xyxy": tight})


class SmokeScene:
    """A pan/tilt camera touring its presets over farmland, with or without a straw fire.

    The same arguments give byte-identical frames and truth. With `fire=False` the scene is
    the same world, tour and distractors as with `fire=True`, only without the plume, so a
    pair of clips is a clean positive/negative pair.
    """

    def __init__(self, seed: int, duration_s: float, *, fire: bool = True, width: int = 1280,
                 height: int = 720, fps: float = 10.0, lighting: Lighting | None = None) -> None:
        if duration_s <= 0 or fps <= 0 or width < 32 or height < 32:
            raise ValueError("duration_s and fps must be positive and the frame at least 32x32")
        self.seed, self.fire = seed, fire
        self.width, self.height, self.fps = width, height, float(fps)
        self.duration_s = float(duration_s)
        self.frame_count = max(1, round(duration_s * fps))
        master = np.random.default_rng(seed)
        drawn = ("day", "dusk", "night")[int(master.choice(3, p=[0.65, 0.2, 0.15]))]
        self.lighting: Lighting = lighting if lighting is not None else drawn  # type: ignore[assignment]
        # Independent streams per concern, so that fire on/off (or a new feature in one
        # layer) never shifts the random numbers another layer sees.
        seeds = master.integers(0, 2**62, size=8)
        rng_cam, rng_world, rng_tex, rng_fire, rng_dist, rng_cloud, rng_fx, rng_sprite = (
            np.random.default_rng(int(s)) for s in seeds)
        self._sensor_seed = int(master.integers(0, 2**62))

        self.heading_deg = float(rng_cam.uniform(0.0, 360.0))
        self._presets = make_presets(rng_cam)
        self._schedule = Schedule(self._presets, rng_cam, self.duration_s)
        self.distractors = choose_distractors(rng_dist, self.lighting)
        self._world = make_world(rng_world, self._presets)
        self._geo = self._make_geometry()
        self._fire = make_fire(rng_fire, self._schedule, self._world, self._geo, self.frame_count,
                               self.fps, self.duration_s, self.lighting)
        self._world.mark_stubble(self._fire.source_m)
        wind = Wind(rng_fire)
        self._bank = SpriteBank(rng_sprite)
        self._plume = Plume(rng_fire, self._fire, wind, self.duration_s, self.frame_count)
        pad = math.ceil(HFOV_DEG[1] * self._geo.ppd) + 8
        self._pano = render_panorama(self._world, self._geo, self.lighting, rng_tex, pad)
        self._clouds = Clouds(rng_cloud, self._geo, self.lighting)
        self._haze = Haze(rng_cloud, self._pano.haze_bgr)
        self._vehicles, self._dust, self._steam = make_fx(rng_fx, self._world, wind,
                                                          self.distractors, self.duration_s)

    def _make_geometry(self) -> Geometry:
        """Panorama resolution follows the output: the widest zoom maps 1:1 or finer."""
        aspect = self.height / self.width
        w360 = round(360.0 * self.width / HFOV_DEG[0])
        ppd = w360 / 360.0
        top = max(p.tilt_deg + p.hfov_deg * aspect / 2 for p in self._presets) + _ELEV_MARGIN_DEG
        bottom = min(p.tilt_deg - p.hfov_deg * aspect / 2 for p in self._presets) - _ELEV_MARGIN_DEG
        return Geometry(self._world.mast_m, ppd, w360, top, bottom)

    # ------------------------------------------------------------------ rendering

    def render(self) -> Iterator[tuple[NDArray[np.uint8], TruthFrame]]:
        """Yields each BGR frame with its truth (boxes, preset, moving), in order."""
        sensor = SensorModel(np.random.default_rng(self._sensor_seed), self.width, self.height,
                             self.lighting)
        for i in range(self.frame_count):
            t = i / self.fps
            pose = self._schedule.pose(t)
            img, boxes = self._render_frame(i, t, pose)
            out = sensor.apply(img)
            yield out, TruthFrame(index=i, t_s=round(t, 6), boxes=boxes, preset=pose.preset,
                                  moving=pose.preset is None)

    def _render_frame(self, i: int, t: float, pose: Pose) -> tuple[F32, list[TruthBox]]:
        """All layers of one frame before the sensor model."""
        view = View.of(pose, self.width, self.height)
        base, depth = crop(self._pano, view)
        img = base[..., :3].astype(np.float32)
        if "clouds" in self.distractors:
            self._clouds.draw(img, np.asarray(base[..., 3], dtype=np.uint8), view, t)
        draw_vehicles(img, depth, view, t, self._vehicles, self._geo, self._bank, self.lighting,
                      "headlights" in self.distractors)
        pal = PALETTES[self.lighting]
        for puffs, dark, light in ((self._dust, (150, 132, 108), (196, 178, 150)),
                                   (self._steam, (196, 198, 202), (248, 248, 248))):
            if puffs is not None:
                draw_puffs(img, depth, view, t, puffs, scale(dark, pal.ambient),
                           scale(light, pal.ambient), 0.1, self._pano, self._bank)
        boxes: list[TruthBox] = []
        bare: F32 | None = None  # the frame without the fire, to see what the smoke changed
        if self.fire and t >= self._fire.onset_s:
            bare = img.copy()
            boxes += self._plume.draw(img, depth, view, i, t, self._pano, self._bank, self.lighting)
        if "haze" in self.distractors:
            self._haze.draw(img, view, t)
            if bare is not None:
                self._haze.draw(bare, view, t)
        if bare is not None:
            seen = [b if b.label != Label.SMOKE else visible_box(b, img, bare) for b in boxes]
            boxes = [b for b in seen if b is not None]
        return motion_blur(img, pose, view, self.fps), boxes

    # ------------------------------------------------------------------ truth

    @property
    def presets(self) -> list[PresetTruth]:
        return [PresetTruth(id=p.id, pan_deg=p.pan_deg, tilt_deg=p.tilt_deg, hfov_deg=p.hfov_deg)
                for p in self._presets]

    @property
    def onset_frame(self) -> int | None:
        """First frame with a plume, or None for a scene without fire."""
        return self._fire.onset_frame if self.fire else None

    def source_bearing_deg(self) -> float:
        """True compass bearing of the fire source from the mast."""
        phi, _ = self._geo.polar(self._fire.source_m[:1], self._fire.source_m[1:])
        return float((self.heading_deg + phi[0]) % 360.0)

    def _sees_source(self, preset: Preset) -> bool:
        view = View.of(Pose(preset.pan_deg, preset.tilt_deg, preset.hfov_deg, preset.id, 0.0),
                       self.width, self.height)
        xyz = np.array([[self._fire.source_m[0], self._fire.source_m[1], 0.0]])
        u, v, _ = project_world(self._geo, view, xyz)
        return bool(0 <= u[0] < self.width and 0 <= v[0] < self.height)

    def _truth_preset(self) -> Preset:
        """The preset showing the source at onset, else the first one in the tour that shows it."""
        f = self._fire
        seg = self._schedule.segment(f.onset_s)
        order = [seg.dst]
        order += [s.dst for s in self._schedule.segments if s.start_s > f.onset_s]
        order += list(range(len(self._presets)))
        for pi in order:
            if self._sees_source(self._presets[pi]):
                return self._presets[pi]
        return self._presets[f.preset_index]

    def _fallback_region(self, preset: Preset) -> XYXY:
        """A small box around the source when the clip never shows the plume from `preset`."""
        view = View.of(Pose(preset.pan_deg, preset.tilt_deg, preset.hfov_deg, preset.id, 0.0),
                       self.width, self.height)
        xyz = np.array([[self._fire.source_m[0], self._fire.source_m[1], 0.0]])
        u, v, _ = project_world(self._geo, view, xyz)
        cu = float(np.clip(u[0], 4, self.width - 4))
        cv = float(np.clip(v[0], 4, self.height - 4))
        return (cu - 4.0, cv - 4.0, cu + 4.0, cv + 4.0)

    def truth(self, frames: list[TruthFrame], video: str) -> SceneTruth:
        """The clip's ground truth, from the frames `render` produced."""
        smoke: list[SmokeTruth] = []
        if self.fire:
            f = self._fire
            preset = self._truth_preset()
            region = next((b.xyxy for fr in frames if fr.preset == preset.id
                           for b in fr.boxes if b.label == Label.SMOKE), None)
            has_fire = any(b.label == Label.FIRE for fr in frames for b in fr.boxes)
            smoke.append(SmokeTruth(track_id=SMOKE_TRACK_ID, onset_frame=f.onset_frame,
                                    onset_t_s=round(f.onset_s, 6), preset=preset.id,
                                    region_xyxy=region or self._fallback_region(preset),
                                    bearing_deg=round(self.source_bearing_deg(), 4),
                                    has_fire=has_fire))
        return SceneTruth(kind="smoke", seed=self.seed, width=self.width, height=self.height,
                          fps=self.fps, frame_count=self.frame_count, lighting=self.lighting,
                          video=video, heading_deg=round(self.heading_deg, 4),
                          presets=self.presets, smoke=smoke, distractors=list(self.distractors),
                          frames=frames)
