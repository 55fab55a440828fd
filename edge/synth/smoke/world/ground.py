"""The panorama's backdrop: textured fields, tracks and roads, the sky gradient, the ground's depth."""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.synth.smoke.common import F32, F64, RGB, U16, Palette, bgr, fbm, mix, scale
from edge.synth.smoke.geometry import Geometry
from edge.synth.smoke.world.layout import Road, World
from edge.synth.truth import Lighting

# name: (RGB, stripe spacing m, stripe amplitude, patch amplitude)
_GROUND: dict[str, tuple[RGB, float, float, float]] = {
    "yard": ((138, 128, 110), 0.0, 0.0, 0.10),
    "stubble": ((184, 164, 112), 3.0, 0.12, 0.16),
    "stubble_pale": ((198, 184, 146), 2.4, 0.10, 0.14),
    "ploughed": ((116, 96, 78), 1.1, 0.18, 0.18),
    "bare": ((150, 130, 104), 0.0, 0.0, 0.18),
    "green": ((96, 116, 66), 0.7, 0.12, 0.22),
    "burnt": ((62, 56, 50), 0.0, 0.0, 0.18),
    "village": ((130, 122, 108), 0.0, 0.0, 0.12),
    "dirt": ((172, 152, 120), 0.0, 0.0, 0.06),
    "paved": ((160, 160, 156), 0.0, 0.0, 0.04),
}
_KINDS = list(_GROUND)


def _densify(poly: F64, max_seg_m: float) -> F64:
    """Subdivides a closed polygon's edges: straight ground lines are curves in the panorama."""
    nxt = np.roll(poly, -1, axis=0)
    pieces = []
    for p, q in zip(poly, nxt, strict=True):
        n = max(1, math.ceil(float(np.hypot(*(q - p))) / max_seg_m))
        t = np.arange(n)[:, None] / n
        pieces.append(p + (q - p) * t)
    return np.concatenate(pieces)


def fill(img: NDArray[Any], cols: F64, rows: F64, colour: tuple[float, ...], width360: int,
          aa: bool = True) -> None:
    """Fills a panorama polygon, repeating it across the 0/360 seam."""
    if cols.max() - cols.min() > width360 / 2:
        return  # wraps round the mast: not a drawable polygon
    pts = np.stack([cols - 0.5, rows - 0.5], axis=1)
    line = cv2.LINE_AA if aa else cv2.LINE_8
    for shift in (-width360, 0, width360):
        lo, hi = cols.min() + shift, cols.max() + shift
        if hi < 0 or lo > width360:
            continue
        p = np.round((pts + np.array([shift, 0.0])) * 8).astype(np.int32)
        cv2.fillPoly(img, [p], colour, line, 3)


def _ground_texture(rng: np.random.Generator, geo: Geometry, rows: F64, dist_m: F64,
                    wx: F32, wy: F32) -> F32:
    """Soil and crop patchiness in world coordinates, filtered by each row's pixel footprint."""
    size = 512
    base = fbm(rng, size, size, 1.5)
    mips = [base]
    while mips[-1].shape[0] > 8:
        mips.append(np.asarray(cv2.pyrDown(mips[-1]), dtype=np.float32))
    rad_per_px = math.radians(1.0 / geo.ppd)
    depress = np.radians(np.maximum(rows / geo.ppd - geo.elev_top_deg, 1e-3))
    foot_m = np.sqrt(geo.mast_m / np.sin(depress) ** 2 * rad_per_px * dist_m * rad_per_px)
    out = np.zeros(wx.shape, np.float32)
    for texel_m, weight in ((0.2, 0.45), (1.5, 0.35), (24.0, 0.45)):
        level = np.clip(np.floor(np.log2(np.maximum(foot_m / texel_m, 1.0))), 0, len(mips) - 1)
        for lv in np.unique(level):
            sel = np.flatnonzero(level == lv)
            r0, r1 = int(sel[0]), int(sel[-1]) + 1
            tex = mips[int(lv)]
            n = tex.shape[0]
            scale = n / (size * texel_m)
            mx = np.mod(wx[r0:r1] * scale, n).astype(np.float32)
            my = np.mod(wy[r0:r1] * scale, n).astype(np.float32)
            out[r0:r1] += weight * cv2.remap(tex, mx, my, cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_WRAP)
    return out - 0.5


def render_ground(world: World, geo: Geometry, pal: Palette, rng: np.random.Generator,
                   vis_m: float) -> tuple[F32, int]:
    """Fields, tracks and roads below the horizon, textured and veiled by distance haze."""
    row0 = math.floor(geo.horizon_row)
    h, w = geo.height - row0, geo.width360
    colour = np.zeros((h, w, 3), np.uint8)
    kind_map = np.zeros((h, w), np.uint8)
    amb = pal.ambient
    # Beyond the parcels: one far-farmland colour, mottled by the texture and veiled by haze.
    far = scale(mix(_GROUND["stubble"][0], _GROUND["ploughed"][0], 0.5), amb)
    colour[:] = bgr(far)

    def draw(poly: F64, kind: str, orient: int, shade: float) -> None:
        """Paints one ground polygon in colour and in the kind map that picks its texture."""
        d_min = float(np.hypot(poly[:, 0], poly[:, 1]).min())
        dense = _densify(poly, max(4.0, 0.08 * d_min))
        cols, rows, _ = geo.to_pano(dense, 0.0)
        rows = rows - row0
        rgb = scale(_GROUND[kind][0], shade * amb)
        fill(colour, cols, rows, bgr(rgb), w)
        fill(kind_map, cols, rows, (float(_KINDS.index(kind) * 2 + orient),), w, aa=False)

    for p in world.parcels:
        draw(p.poly_m, p.kind, p.orient, p.shade)
    for road in [*world.roads, *world.dust_tracks]:
        _draw_road(road, draw)

    rows = np.arange(h, dtype=np.float64) + row0 + 0.5
    elev = geo.elev_top_deg - rows / geo.ppd
    dist = np.minimum(geo.mast_m / np.tan(np.radians(np.maximum(-elev, 1e-3))), 60000.0)
    phi = np.radians((np.arange(w) + 0.5) / geo.ppd)
    wx = (dist[:, None] * np.sin(phi)[None, :]).astype(np.float32)
    wy = (dist[:, None] * np.cos(phi)[None, :]).astype(np.float32)
    tex = _ground_texture(rng, geo, rows, dist, wx, wy)

    kinds = kind_map // 2
    patch_amp = np.array([_GROUND[k][3] for k in _KINDS], np.float32)
    mod = 1.0 + 4.0 * patch_amp[kinds] * tex
    # Stripes (harvester tracks, windrows, furrows) fade out where a pixel covers a full period.
    rad_per_px = math.radians(1.0 / geo.ppd)
    depress = np.radians(np.maximum(-elev, 1e-3))
    foot_m = geo.mast_m / np.sin(depress) ** 2 * rad_per_px
    ax_a, ax_b = world.axes()
    for ki, kind in enumerate(_KINDS):
        spacing, amp = _GROUND[kind][1], _GROUND[kind][2]
        if amp <= 0:
            continue
        aa = np.clip(spacing / (2.0 * foot_m) - 1.0, 0.0, 1.0)
        for orient, axis in ((0, ax_b), (1, ax_a)):
            ys, xs = np.nonzero(kind_map == ki * 2 + orient)
            if ys.size == 0:
                continue
            ph = (wx[ys, xs] * axis[0] + wy[ys, xs] * axis[1]) * (2 * math.pi / spacing)
            mod[ys, xs] += (amp * aa[ys] * np.sin(ph + 0.8 * np.sin(ph * 0.37))).astype(np.float32)
    ground = colour.astype(np.float32) * mod[..., None]
    grain = rng.standard_normal((h, w), dtype=np.float32) * 0.025
    ground *= (1.0 + grain)[..., None]
    haze = 1.0 - np.exp(-dist / vis_m)
    haze_bgr = np.array(bgr(scale(pal.sky_horizon, 0.95)), np.float32)
    ground += (haze_bgr - ground) * haze[:, None, None].astype(np.float32)
    return ground, row0


def _draw_road(road: Road, draw: Callable[[F64, str, int, float], None]) -> None:
    """Roads as short quads along the centre line (a long polygon would wrap the mast)."""
    path = road.path_m
    for p, q in itertools.pairwise(path):
        mid = (p + q) / 2
        if float(np.hypot(*mid)) > 7000.0 or float(np.hypot(*mid)) < 35.0:
            continue
        t = (q - p) / max(float(np.hypot(*(q - p))), 1e-9)
        n = np.array([t[1], -t[0]]) * road.width_m / 2
        quad = np.array([p - n - t * 0.5, q - n + t * 0.5, q + n + t * 0.5, p + n - t * 0.5])
        draw(quad, "paved" if road.paved else "dirt", 0, 1.0)


def render_sky(geo: Geometry, pal: Palette, rng: np.random.Generator, row0: int,
                lighting: Lighting) -> F32:
    """Sky gradient above the horizon, with a warm glow towards the sun at dusk."""
    rows = np.arange(row0 + 1, dtype=np.float64) + 0.5
    elev = np.maximum(geo.elev_top_deg - rows / geo.ppd, 0.0)
    f = (elev / max(geo.elev_top_deg, 1.0)) ** 0.6
    lo = np.array(bgr(pal.sky_horizon))
    hi = np.array(bgr(pal.sky_top))
    sky = lo[None, :] + (hi - lo)[None, :] * f[:, None]
    out = np.repeat(sky[:, None, :], geo.width360, axis=1).astype(np.float32)
    if lighting == "dusk":
        sun = rng.uniform(0, 360.0)
        dphi = np.abs((np.arange(geo.width360) / geo.ppd - sun + 180) % 360 - 180)
        glow = np.exp(-((dphi / 40.0) ** 2))[None, :] * np.exp(-elev / 6.0)[:, None]
        out += (glow[..., None] * np.array([40.0, 60.0, 70.0])).astype(np.float32)
    return out


def ground_depth(geo: Geometry) -> U16:
    """Distance (m) of the flat ground seen by each panorama pixel; sky is 'infinitely' far."""
    rows = np.arange(geo.height, dtype=np.float64) + 0.5
    depress = rows / geo.ppd - geo.elev_top_deg
    dist = np.where(depress > 0, geo.mast_m / np.tan(np.radians(np.maximum(depress, 1e-6))),
                    65535.0)
    col = np.clip(dist, 0.0, 65535.0).astype(np.uint16)
    return np.ascontiguousarray(np.repeat(col[:, None], geo.width360, axis=1))
