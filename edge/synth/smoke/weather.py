"""Sky and air distractors: cloud decks drifting in perspective, and a slowly breathing haze veil."""

from __future__ import annotations

import math

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.synth.smoke.common import F32, PALETTES, bgr, fbm, fbm_1d, mix, scale, smoothstep
from edge.synth.smoke.geometry import Geometry, View
from edge.synth.smoke.particles import blend
from edge.synth.smoke.tour import HFOV_DEG
from edge.synth.truth import Lighting


def _cloud_layer(rng: np.random.Generator, geo: Geometry, lighting: Lighting,
                 downscale: int) -> F32:
    """Cloud alpha and brightness on the panorama grid (reduced), seen in perspective.

    Two decks (high cumulus, low grey fragments) are textures on horizontal planes; their
    projection makes clouds flatten and crowd towards the horizon as real ones do.
    """
    w = geo.width360 // downscale
    h = math.ceil(geo.horizon_row / downscale) + 1
    rows = (np.arange(h) + 0.5) * downscale
    elev = np.radians(np.maximum(geo.elev_top_deg - rows / geo.ppd, 0.02))
    phi = np.radians((np.arange(w) + 0.5) * downscale / geo.ppd)
    alpha = np.zeros((h, w), np.float32)
    shade = np.zeros((h, w), np.float32)
    decks = [(rng.uniform(1500.0, 3000.0), rng.uniform(0.35, 0.65), 0.95, 90.0),
             (rng.uniform(500.0, 900.0), rng.uniform(0.15, 0.45), 0.7, 45.0)]
    for altitude_m, cover, bright, texel_m in decks:
        tex = fbm(rng, 256, 256, 1.7)
        lit = fbm(rng, 256, 256, 1.4)
        dist = (altitude_m - geo.mast_m) / np.tan(elev)
        x = dist[:, None] * np.sin(phi)[None, :] / texel_m
        y = dist[:, None] * np.cos(phi)[None, :] / texel_m * 1.6
        mx = np.mod(x, 256).astype(np.float32)
        my = np.mod(y, 256).astype(np.float32)
        far = np.clip(dist / 12000.0, 0.0, 1.0)[:, None].astype(np.float32)
        blur = cv2.GaussianBlur(tex, (0, 0), 4.0)
        n = cv2.remap(tex, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP) * (1 - far) + \
            cv2.remap(blur, mx, my, cv2.INTER_LINEAR, borderMode=cv2.BORDER_WRAP) * far
        thr = float(np.quantile(tex, 1.0 - cover))
        # Thin out towards the horizon, where the texture would alias and haze hides clouds.
        fade = smoothstep(np.degrees(elev) / 1.2)[:, None].astype(np.float32)
        a = np.clip((n - thr) / 0.12, 0.0, 1.0) * 0.9 * fade
        s = bright * (0.75 + 0.3 * cv2.remap(lit, mx, my, cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_WRAP))
        shade = shade * (1 - a) + s * a
        alpha = alpha + a * (1 - alpha)
    if lighting == "night":
        shade *= 0.45
    pad = math.ceil(w * (HFOV_DEG[1] + 5.0) / 360.0)
    layer = np.dstack([alpha, shade]).astype(np.float32)
    return np.ascontiguousarray(np.concatenate([layer, layer[:, :pad]], axis=1))


class Clouds:
    """The cloud layer of a scene and its slow drift round the mast."""

    def __init__(self, rng: np.random.Generator, geo: Geometry, lighting: Lighting) -> None:
        self._geo, self._lighting = geo, lighting
        self._down = 4
        self._layer = _cloud_layer(rng, geo, lighting, self._down)
        self._drift_deg_s = rng.uniform(0.03, 0.12) * (1 if rng.random() < 0.5 else -1)

    def draw(self, img: F32, sky_mask: NDArray[np.uint8], view: View, t: float) -> None:
        """Drifting clouds, only where the sky shows (behind the skyline and the chimney)."""
        horizon_v = view.top_deg / view.deg_per_px  # image row of elevation 0
        rows = min(view.height, math.ceil(horizon_v) + 1)
        if rows <= 0:
            return
        down = self._down
        m = view.warp_matrix(self._geo)
        m[:, :2] /= down
        m[:, 2] = (m[:, 2] + 0.5) / down - 0.5  # panorama index -> reduced layer index
        shift_px = self._drift_deg_s * t * self._geo.ppd / down
        m[0, 2] = (m[0, 2] - shift_px) % (self._geo.width360 / down)
        layer = cv2.warpAffine(self._layer, m, (view.width, rows),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        alpha = layer[..., 0] * (sky_mask[:rows].astype(np.float32) / 255.0)
        pal = PALETTES[self._lighting]
        lo = np.array(bgr(scale(pal.sky_horizon, 0.78)), np.float32)
        hi = np.array(bgr(mix(pal.sky_horizon, (255, 255, 255), 0.6)), np.float32)
        if self._lighting == "night":
            hi = np.array(bgr(scale(pal.sky_horizon, 1.3)), np.float32)
        col = lo + (hi - lo) * layer[..., 1:2]
        blend(img[:rows], col, alpha)


class Haze:
    """Time-varying haze: level parameters and a periodic horizontal density profile."""

    def __init__(self, rng: np.random.Generator, haze_bgr: tuple[float, float, float]) -> None:
        self._params = np.array([rng.uniform(0.08, 0.2), rng.uniform(0.03, 0.09),
                                 rng.uniform(20.0, 60.0), rng.uniform(0, 2 * math.pi),
                                 rng.uniform(0.05, 0.2)])
        self._profile = 1.0 + 0.35 * np.clip(fbm_1d(rng, 720, 1.6), -2.5, 2.5)
        self._haze_bgr = haze_bgr
        self._img: F32 | None = None  # constant haze colour frame, made on first use

    def draw(self, img: F32, view: View, t: float) -> None:
        """A drifting veil, thickest near the horizon, breathing slowly over time."""
        params, profile = self._params, self._profile
        level = params[0] + params[1] * math.sin(2 * math.pi * t / params[2] + params[3])
        rows = (np.arange(view.height) + 0.5) * view.deg_per_px
        elev = view.top_deg - rows
        prof_v = 0.35 + 0.65 * np.exp(-np.abs(elev) / 5.0)
        cols = view.center_deg + (np.arange(view.width) + 0.5 - view.width / 2) * view.deg_per_px
        idx = np.mod((cols - params[4] * t * 10.0) / 360.0 * profile.size, profile.size)
        prof_h = np.interp(idx, np.arange(profile.size + 1),
                           np.concatenate([profile, profile[:1]]))
        hmap = (level * np.outer(prof_v, prof_h)).astype(np.float32)
        if self._img is None:
            self._img = np.empty((view.height, view.width, 3), np.float32)
            self._img[:] = self._haze_bgr
        blend(img, self._img, hmap)
