"""Particle layers: puff physics, gaussian sprites, splatting, occlusion and compositing, and the wind."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.synth.smoke.common import F32, F64, OCCLUSION_SLACK, RGB, U16, bgr, fbm, mix
from edge.synth.smoke.geometry import View, project_world
from edge.synth.smoke.world.panorama import Panorama
from edge.synth.truth import XYXY

# A pixel belongs to the plume box when its alpha exceeds this: below it smoke is invisible
# against haze and sensor noise, so labelling it would teach the model to hallucinate.
ALPHA_BOX = 0.08
_TAU_BOX = -math.log(1.0 - ALPHA_BOX)
# Largest side of the buffer a plume is splatted into; big near plumes are rendered coarser
# (smoke is soft) so a plume costs a few milliseconds whatever its size on screen.
_MAX_SPLAT_PX = 320


@dataclass(frozen=True)
class PuffSpec:
    """Physics of one kind of puff source; rates in m/s, times in s, lengths in m."""

    rise_w0: float
    rise_tau_s: float
    rise_w1: float
    sigma0_m: float
    spread: float  # sigma growth per metre of rise (entrainment)
    diffuse_m_s: float
    dens0: float
    decay_s: float
    life_s: float
    fade_in_s: float
    shade0: float
    shade_gain: float
    jitter_m: float


class Puffs:
    """A fixed population of puffs whose state is a closed-form function of time.

    All puffs, past and future, are drawn at construction, so any frame can be rendered
    alone and the plume does not depend on how often it is sampled.
    """

    def __init__(self, rng: np.random.Generator, spec: PuffSpec, birth_s: F64, origin_m: F64,
                 wind_m_s: F64, strength: F64) -> None:
        n = birth_s.size
        self.birth_s = birth_s
        self.origin = origin_m + np.column_stack(
            [rng.normal(0.0, spec.jitter_m, (n, 2)), np.zeros(n)])
        self.wind = wind_m_s
        self.strength = strength
        self.w0 = spec.rise_w0 * rng.uniform(0.7, 1.3, n)
        self.tau = spec.rise_tau_s * rng.uniform(0.7, 1.3, n)
        self.w1 = spec.rise_w1 * rng.uniform(0.5, 1.5, n)
        self.sigma0 = spec.sigma0_m * rng.uniform(0.7, 1.3, n) * (0.35 + 0.65 * strength)
        self.spread = spec.spread * rng.uniform(0.7, 1.3, n)
        self.diffuse = spec.diffuse_m_s * rng.uniform(0.6, 1.4, n)
        self.dens0 = spec.dens0 * rng.uniform(0.6, 1.4, n) * strength
        self.decay = spec.decay_s * rng.uniform(0.7, 1.3, n)
        self.life = np.minimum(spec.life_s, self.decay * 4.0)
        self.fade_in = spec.fade_in_s
        self.shade0 = np.clip(spec.shade0 + rng.normal(0.0, 0.08, n), 0.0, 1.0)
        self.shade_gain = spec.shade_gain
        self.variant = rng.integers(0, SpriteBank.VARIANTS, n)
        self.wobble_amp = rng.uniform(0.1, 0.35, n)
        self.wobble_period = rng.uniform(6.0, 18.0, n)
        self.wobble_phase = rng.uniform(0, 2 * math.pi, (n, 2))

    def state(self, t_s: float) -> tuple[F64, F64, F64, F64, NDArray[np.int64], NDArray[np.intp]] | None:
        """World xyz (N,3), sigma m, density, shade, sprite variant and index of live puffs."""
        age = t_s - self.birth_s
        live = np.flatnonzero((age >= 0.0) & (age < self.life))
        if live.size == 0:
            return None
        a = age[live]
        tau = self.tau[live]
        rise = self.w0[live] * tau * (1.0 - np.exp(-a / tau)) + self.w1[live] * a
        # A puff leaves the source at rest and picks up the wind within a few seconds.
        drift = a - 3.0 * (1.0 - np.exp(-a / 3.0))
        sigma = self.sigma0[live] + self.spread[live] * rise + self.diffuse[live] * a
        wob = self.wobble_amp[live] * sigma
        ph = 2 * math.pi * a / self.wobble_period[live]
        xyz = self.origin[live].copy()
        xyz[:, 0] += self.wind[live, 0] * drift + wob * np.sin(ph + self.wobble_phase[live, 0])
        xyz[:, 1] += self.wind[live, 1] * drift + wob * np.cos(ph + self.wobble_phase[live, 1])
        xyz[:, 2] += rise
        dens = (self.dens0[live] * (1.0 - np.exp(-a / self.fade_in)) * np.exp(-a / self.decay[live])
                * (self.sigma0[live] / sigma) ** 1.5)
        shade = np.clip(self.shade0[live] + self.shade_gain * (1.0 - np.exp(-a / 25.0)), 0.0, 1.0)
        return xyz, sigma, dens, shade, self.variant[live], live


class SpriteBank:
    """Gaussian puff sprites cached per quantised size; noisy variants make smoke look wispy."""

    VARIANTS = 6
    _STEP = 1.12

    def __init__(self, rng: np.random.Generator) -> None:
        self._noise = [fbm(rng, 48, 48, 1.2) for _ in range(self.VARIANTS)]
        self._cache: dict[tuple[int, int], F32] = {}

    def get(self, sigma_px: float, variant: int) -> F32:
        """A sprite with unit peak (before the noise), odd side, centre in the middle."""
        k = round(math.log(max(sigma_px, 0.5) / 0.5) / math.log(self._STEP))
        v = variant if k > 8 else -1  # noise is invisible on small sprites
        key = (k, v)
        sprite = self._cache.get(key)
        if sprite is None:
            s = 0.5 * self._STEP**k
            half = math.ceil(2.6 * s)
            ax = np.arange(-half, half + 1, dtype=np.float32)
            g1 = np.exp(-(ax * ax) / (2 * s * s))
            sprite = np.outer(g1, g1).astype(np.float32)
            if v >= 0:
                n = cv2.resize(self._noise[v], (2 * half + 1, 2 * half + 1),
                               interpolation=cv2.INTER_LINEAR)
                sprite = sprite * np.clip(2.6 * n - 0.5, 0.0, None)
            self._cache[key] = sprite
        return sprite

    def plain(self, sigma_px: float) -> F32:
        return self.get(sigma_px, -1)


@dataclass
class Splat:
    """Optical depth and shade of a particle layer over one clipped region of the image."""

    x0: int
    y0: int
    tau: F32
    shade: F32
    visible: float


def _splat(bank: SpriteBank, width: int, height: int, u: F64, v: F64, sig_px: F64, dens: F64,
           shade: F64, variant: NDArray[np.int64]) -> Splat | None:
    """Accumulates puffs into a (possibly reduced) buffer, then resamples the in-frame part."""
    keep = dens > 1e-4
    if not keep.any():
        return None
    u, v, sig_px, dens, shade = u[keep], v[keep], sig_px[keep], dens[keep], shade[keep]
    variant = variant[keep]
    ext = 2.9 * sig_px + 1.0
    bx0, bx1 = float((u - ext).min()), float((u + ext).max())
    by0, by1 = float((v - ext).min()), float((v + ext).max())
    if bx1 <= 0 or by1 <= 0 or bx0 >= width or by0 >= height:
        return None
    q = min(1.0, _MAX_SPLAT_PX / max(bx1 - bx0, by1 - by0))
    bw, bh = math.ceil((bx1 - bx0) * q) + 3, math.ceil((by1 - by0) * q) + 3
    tau = np.zeros((bh, bw), np.float32)
    sh = np.zeros((bh, bw), np.float32)
    sq = sig_px * q
    small = sq < 0.7
    dens = np.where(small, dens * (sq / 0.7) ** 2, dens)  # keep a tiny puff's mass
    sq = np.maximum(sq, 0.7)
    cx = np.rint((u - bx0) * q + 0.5).astype(np.int64)
    cy = np.rint((v - by0) * q + 0.5).astype(np.int64)
    for i in range(u.size):
        spr = bank.get(float(sq[i]), int(variant[i]))
        half = spr.shape[0] // 2
        xa, ya = int(cx[i]) - half, int(cy[i]) - half
        xs0, ys0 = max(0, -xa), max(0, -ya)
        xs1 = min(spr.shape[1], bw - xa)
        ys1 = min(spr.shape[0], bh - ya)
        if xs1 <= xs0 or ys1 <= ys0:
            continue
        part = spr[ys0:ys1, xs0:xs1]
        d = float(dens[i])
        tau[ya + ys0:ya + ys1, xa + xs0:xa + xs1] += part * d
        sh[ya + ys0:ya + ys1, xa + xs0:xa + xs1] += part * (d * float(shade[i]))
    # Visible fraction: the part of the thresholded plume whose buffer pixels lie in the frame.
    centres_x = bx0 + (np.arange(bw) - 0.5) / q
    centres_y = by0 + (np.arange(bh) - 0.5) / q
    inside = np.outer((centres_y >= 0) & (centres_y < height), (centres_x >= 0) & (centres_x < width))
    mask = tau > _TAU_BOX
    total = int(mask.sum())
    visible = float((mask & inside).sum()) / total if total else 0.0
    cx0, cy0 = max(0, math.floor(bx0)), max(0, math.floor(by0))
    cx1, cy1 = min(width, math.ceil(bx1)), min(height, math.ceil(by1))
    if cx1 <= cx0 or cy1 <= cy0:
        return None
    m = np.array([[q, 0.0, (cx0 + 0.5 - bx0) * q + 0.5], [0.0, q, (cy0 + 0.5 - by0) * q + 0.5]])
    both = cv2.warpAffine(np.dstack([tau, sh]), m, (cx1 - cx0, cy1 - cy0),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    tau_full = np.ascontiguousarray(both[..., 0], dtype=np.float32)
    shade_full = np.ascontiguousarray(both[..., 1], dtype=np.float32)
    return Splat(cx0, cy0, tau_full, shade_full, visible)


def _composite(img: F32, sp: Splat, dark_bgr: F32, light_bgr: F32, self_shadow: float) -> F32:
    """Alpha-blends a splatted layer; dense cores are darker (self-shadowing). Returns alpha."""
    tau = sp.tau
    alpha = (1.0 - np.exp(-tau)).astype(np.float32)
    s = sp.shade / np.maximum(tau, 1e-6)
    col = dark_bgr + (light_bgr - dark_bgr) * s[..., None]
    col *= (1.0 - self_shadow * np.clip(tau - 1.0, 0.0, 1.5) / 1.5)[..., None]
    h, w = tau.shape
    blend(img[sp.y0:sp.y0 + h, sp.x0:sp.x0 + w], col.astype(np.float32), alpha)
    return alpha


def blend(dst: F32, src: F32, alpha: F32) -> None:
    """dst = dst * (1 - alpha) + src * alpha, in place; OpenCV does it in one fast pass."""
    dst[:] = cv2.blendLinear(dst, src, 1.0 - alpha, alpha)


def _occlude(sp: Splat, depth: U16, near_m: float) -> None:
    """Hides the parts of a splat that lie behind nearer static things (trees, houses, ground)."""
    h, w = sp.tau.shape
    seen = depth[sp.y0:sp.y0 + h, sp.x0:sp.x0 + w] >= near_m * OCCLUSION_SLACK
    sp.tau *= seen
    sp.shade *= seen


def tight_box(mask: NDArray[np.bool_], x0: int, y0: int) -> XYXY | None:
    """Pixel-tight box of a mask, offset to image coordinates."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return (float(x0 + cols[0]), float(y0 + rows[0]), float(x0 + cols[-1] + 1),
            float(y0 + rows[-1] + 1))


class Wind:
    """Mean wind speed (m/s), direction (rad) and meander parameters, drawn once per scene."""

    def __init__(self, rng: np.random.Generator) -> None:
        self._params: tuple[float, float, F64] = (
            rng.uniform(0.6, 5.0), rng.uniform(0, 2 * math.pi),
            np.concatenate([rng.uniform(20.0, 70.0, 2), rng.uniform(0, 2 * math.pi, 2)]))

    def at(self, t_s: F64) -> F64:
        """Wind vector (N,2) felt by puffs born at times t: gusts and a swinging direction."""
        speed, direction, m = self._params
        ang = direction + 0.3 * np.sin(2 * math.pi * t_s / m[0] + m[2])
        spd = speed * (1.0 + 0.25 * np.sin(2 * math.pi * t_s / m[1] + m[3]))
        return np.column_stack([spd * np.sin(ang), spd * np.cos(ang)])


def draw_puffs(img: F32, depth: U16, view: View, t: float, puffs: Puffs, dark: RGB, light: RGB,
               self_shadow: float, pano: Panorama, bank: SpriteBank) -> tuple[Splat, F32] | None:
    """Projects, splats and composites one particle source; returns its splat and alpha."""
    st = puffs.state(t)
    if st is None:
        return None
    xyz, sigma, dens, shade, variant, _ = st
    u, v, d = project_world(pano.geo, view, xyz)
    near = np.abs(u - view.width / 2) < view.width * 2
    if not near.any():
        return None
    sig_px = np.degrees(sigma / d) / view.deg_per_px
    sp = _splat(bank, view.width, view.height, u[near], v[near], sig_px[near],
                dens[near], shade[near], variant[near])
    if sp is None:
        return None
    _occlude(sp, depth, float(d[near].min()))
    veil = 1.0 - math.exp(-float(np.median(d)) / pano.vis_m)
    haze = pano.haze_bgr
    dark_v = np.array(bgr(mix(dark, (haze[2], haze[1], haze[0]), veil)), np.float32)
    light_v = np.array(bgr(mix(light, (haze[2], haze[1], haze[0]), veil)), np.float32)
    alpha = _composite(img, sp, dark_v, light_v, self_shadow)
    return sp, alpha
