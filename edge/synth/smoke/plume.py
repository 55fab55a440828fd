"""The straw fire: where and when it starts, its smoke plume and its flickering flame, with truth boxes."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from edge.labels import Label
from edge.synth.smoke.common import (
    F32,
    F64,
    OCCLUSION_SLACK,
    PALETTES,
    U16,
    Palette,
    bgr,
    mix,
    scale,
    signed_deg,
    smoothstep,
)
from edge.synth.smoke.geometry import Geometry, View, project_world
from edge.synth.smoke.particles import ALPHA_BOX, Puffs, PuffSpec, SpriteBank, Wind, draw_puffs, tight_box
from edge.synth.smoke.tour import Schedule
from edge.synth.smoke.world.layout import World, point_in_view
from edge.synth.smoke.world.panorama import Panorama
from edge.synth.truth import XYXY, Lighting, TruthBox

SMOKE_TRACK_ID = 1
FIRE_TRACK_ID = 2
_ALPHA_FIRE = 0.25
_MIN_FIRE_PX = 2.0

_SMOKE_SPEC = PuffSpec(rise_w0=4.5, rise_tau_s=28.0, rise_w1=0.35, sigma0_m=4.0, spread=0.1,
                        diffuse_m_s=0.12, dens0=1.2, decay_s=45.0, life_s=150.0, fade_in_s=1.0,
                        shade0=0.35, shade_gain=0.5, jitter_m=3.0)


@dataclass(frozen=True)
class Fire:
    """Where and when the fire starts, and how its smoke and flame behave."""

    source_m: F64
    onset_frame: int
    onset_s: float
    ramp_s: float
    preset_index: int
    has_flame: bool
    front_dir: F64
    front_m: float
    front_growth_m_s: float
    flame_h_m: float


def make_fire(rng: np.random.Generator, schedule: Schedule, world: World, geo: Geometry,
              frame_count: int, fps: float, duration_s: float, lighting: Lighting) -> Fire:
    """Onset 20-70% into the clip, at a stubble field seen from the preset of the moment."""
    presets = schedule.presets
    n = frame_count
    lo = max(1, math.ceil(0.2 * n))
    hi = max(lo, min(n - 1, math.floor(0.7 * n)))
    onset_frame = int(rng.integers(lo, hi + 1)) if n > 1 else 0
    onset_s = onset_frame / fps
    seg = schedule.segment(onset_s)
    pi = seg.dst
    if rng.random() < 0.15:  # sometimes the fire starts where the camera is not looking
        nxt = (pi + 1) % len(presets)
        later = schedule.first_dwell_at(nxt, onset_s)
        if later is not None and later.start_s < duration_s - 10.0:
            pi = nxt
    preset = presets[pi]
    src = point_in_view(rng, preset, (350.0, 3500.0), 0.3)
    for _ in range(60):
        if world.is_clear_field(src) and _clear_of_chimney(geo, world, src):
            break
        src = point_in_view(rng, preset, (350.0, 3500.0), 0.35)
    th = rng.uniform(0, 2 * math.pi)
    flame_p = 0.6 if lighting == "day" else 0.9
    return Fire(src, onset_frame, onset_s, rng.uniform(3.0, 9.0), pi,
                bool(rng.random() < flame_p), np.array([math.cos(th), math.sin(th)]),
                rng.uniform(2.0, 6.0), rng.uniform(0.1, 0.5), rng.uniform(1.5, 3.5))


def _clear_of_chimney(geo: Geometry, world: World, p: F64) -> bool:
    """Keeps the plume a few degrees away from the chimney so the negatives stay clean."""
    phi, _ = geo.polar(np.array([p[0]]), np.array([p[1]]))
    cphi, _ = geo.polar(np.array([world.chimney.xy_m[0]]), np.array([world.chimney.xy_m[1]]))
    return abs(signed_deg(float(phi[0] - cphi[0]))) > 6.0


def _make_smoke_puffs(rng: np.random.Generator, fire: Fire, wind: Wind,
                      duration_s: float) -> tuple[Puffs, tuple[float, float]]:
    """The plume: puffs at 3 per second from onset, growing in strength over the ramp.

    Also returns the smoke's tint: (brightness of its light side, how brown its dark side is).
    """
    f = fire
    rate = rng.uniform(2.5, 4.0)
    births = np.arange(f.onset_s, duration_s + 1.0, 1.0 / rate)
    births = births + rng.uniform(0.0, 0.5 / rate, births.size)
    births[0] = f.onset_s
    strength = 0.25 + 0.75 * smoothstep((births - f.onset_s) / f.ramp_s)
    spec = dataclasses.replace(_SMOKE_SPEC, dens0=_SMOKE_SPEC.dens0 * rng.uniform(0.5, 1.6),
                               rise_w0=_SMOKE_SPEC.rise_w0 * rng.uniform(0.7, 1.4),
                               shade0=rng.uniform(0.3, 0.7))
    along = rng.uniform(-0.5, 0.5, births.size) * (f.front_m + f.front_growth_m_s
                                                  * (births - f.onset_s))
    origin = np.column_stack([f.source_m[0] + f.front_dir[0] * along,
                              f.source_m[1] + f.front_dir[1] * along,
                              np.full(births.size, 2.0)])
    tint = (rng.uniform(0.9, 1.0), rng.uniform(0.0, 0.08))
    return Puffs(rng, spec, births, origin, wind.at(births), strength), tint


class Plume:
    """The smoke and flame of one fire, drawn into frames once it has started."""

    def __init__(self, rng: np.random.Generator, fire: Fire, wind: Wind, duration_s: float,
                 frame_count: int) -> None:
        self.fire = fire
        self._smoke, self._tint = _make_smoke_puffs(rng, fire, wind, duration_s)
        self._flicker = rng.lognormal(0.0, 0.35, (frame_count, 12))
        self._tongues = rng.uniform(-0.5, 0.5, 12)

    def draw(self, img: F32, depth: U16, view: View, i: int, t: float, pano: Panorama,
             bank: SpriteBank, lighting: Lighting) -> list[TruthBox]:
        """The smoke plume and its flame; returns their truth boxes."""
        pal = PALETTES[lighting]
        warm, brown = self._tint
        dark = mix(pal.smoke_dark, (120, 96, 70), brown * 4)
        light = scale(pal.smoke_light, warm)
        boxes: list[TruthBox] = []
        drawn = draw_puffs(img, depth, view, t, self._smoke, dark, light, 0.22, pano, bank)
        if drawn is not None:
            sp, alpha = drawn
            box = tight_box(alpha > ALPHA_BOX, sp.x0, sp.y0)
            if box is not None:
                boxes.append(TruthBox(track_id=SMOKE_TRACK_ID, label=Label.SMOKE, xyxy=box,
                                      visible=round(min(1.0, max(0.0, sp.visible)), 4)))
        if self.fire.has_flame:
            flame_box = self._draw_flame(img, depth, view, i, t, pal, pano.geo, bank, lighting)
            if flame_box is not None:
                boxes.append(TruthBox(track_id=FIRE_TRACK_ID, label=Label.FIRE, xyxy=flame_box))
        return boxes

    def _draw_flame(self, img: F32, depth: U16, view: View, i: int, t: float, pal: Palette,
                    geo: Geometry, bank: SpriteBank, lighting: Lighting) -> XYXY | None:
        """Flickering tongues scattered along the fire front, with a glow that matters after dark."""
        f = self.fire
        grow = float(smoothstep((t - f.onset_s - 1.0) / f.ramp_s))
        if grow <= 0.05:
            return None
        front = f.front_m + f.front_growth_m_s * (t - f.onset_s)
        flicker = self._flicker[i]
        base = f.source_m[None, :] + (self._tongues * front)[:, None] * f.front_dir[None, :]
        heights = f.flame_h_m * grow * flicker
        u, v, d = project_world(geo, view, np.column_stack([base, heights / 2]))
        if np.all((u < -20) | (u > view.width + 20) | (v < -20) | (v > view.height + 20)):
            return None
        px_m = np.degrees(1.0 / d) / view.deg_per_px
        sx = np.maximum(0.5, px_m * 0.45)
        sy = np.maximum(0.6, px_m * heights / 4.0)
        x0 = max(0, math.floor(float((u - 3 * sx).min())))
        x1 = min(view.width, math.ceil(float((u + 3 * sx).max())))
        y0 = max(0, math.floor(float((v - 3 * sy).min())))
        y1 = min(view.height, math.ceil(float((v + 3 * sy).max())))
        if x1 <= x0 or y1 <= y0:
            return None
        xs = np.arange(x0, x1) + 0.5
        ys = np.arange(y0, y1) + 0.5
        alpha = np.zeros((y1 - y0, x1 - x0), np.float32)
        for j in range(u.size):
            gx = np.exp(-((xs - u[j]) ** 2) / (2 * sx[j] ** 2))
            gy = np.exp(-((ys - v[j]) ** 2) / (2 * sy[j] ** 2))
            alpha += np.outer(gy, gx).astype(np.float32) * min(0.8, 0.5 * float(flicker[j]))
        alpha = np.clip(alpha * grow, 0.0, 1.0)
        alpha *= depth[y0:y1, x0:x1] >= float(d.min()) * OCCLUSION_SLACK
        # Flames are emitters: above 255 before the sensor gain so they stay bright after it.
        boost = 1.0 / {"day": 1.0, "dusk": 0.7, "night": 0.4}[lighting]
        edge = np.array(bgr((240.0, 110.0, 30.0)), np.float32) * boost
        core = np.array(bgr((255.0, 210.0, 120.0)), np.float32) * boost
        col = edge + (core - edge) * (alpha**2)[..., None]
        roi = img[y0:y1, x0:x1]
        roi += (col - roi) * alpha[..., None]
        if pal.glow > 0:
            _add_glow(img, bank, float(u.mean()), float(v.max()),
                      float(px_m.mean()) * (front + 6.0), pal.glow * grow * 45.0)
        mask = alpha > _ALPHA_FIRE
        return tight_box(mask, x0, y0) if _box_big(mask) else None


def _add_glow(img: F32, bank: SpriteBank, u: float, v: float, sigma_px: float, amp: float) -> None:
    """Additive orange light around the fire, on the ground and the base of the smoke."""
    height, width = img.shape[:2]
    spr = bank.plain(max(2.0, sigma_px))
    half = spr.shape[0] // 2
    cx, cy = round(u), round(v)
    x0, y0 = max(0, cx - half), max(0, cy - half)
    x1, y1 = min(width, cx + half + 1), min(height, cy + half + 1)
    if x1 <= x0 or y1 <= y0:
        return
    part = spr[y0 - (cy - half):y1 - (cy - half), x0 - (cx - half):x1 - (cx - half)]
    img[y0:y1, x0:x1] += part[..., None] * np.array(bgr((1.0, 0.55, 0.2)), np.float32) * amp


def _box_big(mask: NDArray[np.bool_]) -> bool:
    """A flame box only counts when it spans a couple of pixels each way."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return bool(rows.size and cols.size and rows[-1] - rows[0] + 1 >= _MIN_FIRE_PX
                and cols[-1] - cols[0] + 1 >= _MIN_FIRE_PX)
