"""The static 360-degree panorama: backdrop, skyline, trees, houses and chimney, with a depth map."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.synth.smoke.common import F64, PALETTES, RGB, U8, U16, Palette, bgr, fbm_1d, mix, scale
from edge.synth.smoke.geometry import Geometry, View
from edge.synth.smoke.world.ground import fill, ground_depth, render_ground, render_sky
from edge.synth.smoke.world.layout import Building, Chimney, World
from edge.synth.truth import Lighting

_MIN_OBJECT_M = 90.0
_TREE_RGB = {"summer": (54, 74, 42), "autumn": (88, 88, 52)}


@dataclass
class Panorama:
    geo: Geometry
    image: U8  # BGRA, alpha = sky mask; padded on the right for wrap-around crops
    depth: U16  # distance of the static surface at each pixel, m, same padding
    vis_m: float
    haze_bgr: tuple[float, float, float]


def _hill_profile(rng: np.random.Generator, geo: Geometry) -> F64:
    """Height (deg above the horizon) of the far skyline: tree lines, sometimes low hills."""
    w = geo.width360
    trees = 0.05 + 0.05 * np.clip(fbm_1d(rng, w, 0.6), -1.5, 2.0)
    hills = fbm_1d(rng, w, 1.8)
    amp = rng.uniform(0.3, 1.2) if rng.random() < 0.45 else 0.0
    return np.asarray(np.maximum(trees, amp * np.clip(hills - 0.3, 0.0, None)), dtype=np.float64)


def _draw_tall(canvas: U8, mask: U8, depth: U16, world: World, geo: Geometry, pal: Palette,
               vis_m: float, lighting: Lighting, rng: np.random.Generator) -> None:
    """Trees, buildings and the chimney, far to near (painter's order), hazed by distance.

    Each also writes its distance into `depth`, so moving layers behind it are hidden.
    """
    haze = pal.sky_horizon
    items: list[tuple[float, int, int]] = []
    t = world.trees
    tree_d = np.hypot(t[:, 0], t[:, 1])
    items += [(float(d), 0, i) for i, d in enumerate(tree_d)]
    items += [(float(np.hypot(*b.corners_m.mean(0))), 1, i) for i, b in enumerate(world.buildings)]
    # Nothing stands right at the mast: a tree a few metres away would fill the view.
    items = [it for it in items if it[0] > _MIN_OBJECT_M]
    cx, cy = world.chimney.xy_m
    items.append((math.hypot(cx, cy), 2, 0))
    items.sort(key=lambda it: -it[0])
    tree_rgb = _TREE_RGB[world.season]
    w = geo.width360
    for d, kind, i in items:
        veil = 1.0 - math.exp(-d / vis_m)
        dv = (float(min(d, 65000.0)),)
        if kind == 0:
            x, y, r, zc, elong = t[i]
            col, row, _ = geo.to_pano(np.array([[x, y]]), zc)
            rx = max(0.5, float(geo.px_per_m(d)) * r)
            if rx > 3.0:  # a trunk shows below near crowns
                _, ground_row, _ = geo.to_pano(np.array([[x, y]]), 0.0)
                trunk = mix(scale((70, 62, 52), pal.ambient), haze, veil)
                c8 = round((float(col[0]) % w - 0.5) * 8)
                cv2.line(canvas, (c8, round((float(row[0]) + rx * elong * 0.7) * 8)),
                         (c8, round(float(ground_row[0]) * 8)), bgr(trunk),
                         max(1, round(rx * 0.15)), cv2.LINE_AA, 3)
            base = scale(tree_rgb, pal.ambient * world.tree_tint[i])
            _draw_crown(canvas, float(col[0]), float(row[0]), rx, rx * elong, base, haze, veil,
                        rng, w)
            _ellipse(depth, float(col[0]), float(row[0]), rx * 0.9, rx * elong * 0.9, dv, w,
                     aa=False)
        elif kind == 1:
            _draw_building(canvas, depth, world.buildings[i], geo, pal, veil)
            if lighting == "night" and i % 3 == 0:
                c = world.buildings[i].corners_m.mean(0)
                col, row, _ = geo.to_pano(c[None, :], 1.5)
                cv2.circle(canvas, (round(col[0] % w), round(row[0])), 1, (120, 200, 255), -1,
                           cv2.LINE_AA)
        else:
            _draw_chimney(canvas, mask, depth, world.chimney, geo, pal, veil)


def _draw_crown(canvas: U8, col: float, row: float, rx: float, ry: float, base: RGB, haze: RGB,
                veil: float, rng: np.random.Generator, width360: int) -> None:
    """A lumpy crown: a shadowed silhouette, then clumps lit from above."""
    dark = mix(scale(base, 0.8), haze, veil)
    _ellipse(canvas, col, row, rx, ry, bgr(dark), width360)
    n = min(7, int(rx))
    if n < 2:
        return
    for _ in range(n):
        ox, oy = rng.uniform(-0.55, 0.55), rng.uniform(-0.7, 0.45)
        k = rng.uniform(0.85, 1.12) + 0.12 * (-oy)
        lit = mix(scale(base, k), haze, veil)
        _ellipse(canvas, col + ox * rx, row + oy * ry, rx * rng.uniform(0.35, 0.55),
                 ry * rng.uniform(0.3, 0.5), bgr(lit), width360)


def _ellipse(img: NDArray[Any], col: float, row: float, rx: float, ry: float,
             colour: tuple[float, ...], width360: int, aa: bool = True) -> None:
    c = (round((col % width360 - 0.5) * 8), round((row - 0.5) * 8))
    axes = (max(1, round(rx * 8)), max(1, round(ry * 8)))
    cv2.ellipse(img, c, axes, 0.0, 0.0, 360.0, colour, -1, cv2.LINE_AA if aa else cv2.LINE_8, 3)


def _draw_building(canvas: U8, depth: U16, b: Building, geo: Geometry, pal: Palette,
                   veil: float) -> None:
    """A box house: the hull of its eight corners in wall colour, then the roof on top."""
    c0, r0, _ = geo.to_pano(b.corners_m, 0.0)
    c1, r1, _ = geo.to_pano(b.corners_m, b.height_m)
    hull_pts = np.stack([np.concatenate([c0, c1]), np.concatenate([r0, r1])], 1).astype(np.float32)
    hull = cv2.convexHull(hull_pts).reshape(-1, 2).astype(np.float64)
    wall = mix(scale(b.wall, pal.ambient * 0.82), pal.sky_horizon, veil)
    roof = mix(scale(b.roof, pal.ambient), pal.sky_horizon, veil)
    fill(canvas, hull[:, 0], hull[:, 1], bgr(wall), geo.width360)
    fill(canvas, c1, r1, bgr(roof), geo.width360)
    d = float(np.hypot(*b.corners_m.mean(0)))
    fill(depth, hull[:, 0], hull[:, 1], (min(d, 65000.0),), geo.width360, aa=False)


def _draw_chimney(canvas: U8, mask: U8, depth: U16, ch: Chimney, geo: Geometry,
                  pal: Palette, veil: float) -> None:
    """A tapered stack, banded red and white when it is a tall factory chimney."""
    xy = np.array([ch.xy_m])
    col, r_base, d = geo.to_pano(xy, 0.0)
    _, r_top, _ = geo.to_pano(xy, ch.height_m)
    k = float(geo.px_per_m(d[0]))
    c = float(col[0])
    wb, wt = max(0.7, ch.r_base_m * k), max(0.5, ch.r_top_m * k)
    rb, rt = float(r_base[0]), float(r_top[0])
    cols = np.array([c - wb, c + wb, c + wt, c - wt])
    rows = np.array([rb, rb, rt, rt])
    body = mix(scale(ch.colour, pal.ambient), pal.sky_horizon, veil)
    fill(canvas, cols, rows, bgr(body), geo.width360)
    fill(mask, cols, rows, (0.0,), geo.width360)
    fill(depth, cols, rows, (float(min(d[0], 65000.0)),), geo.width360, aa=False)
    if ch.banded:
        red = mix(scale((176, 60, 52), pal.ambient), pal.sky_horizon, veil)
        for f0, f1 in ((0.0, 0.06), (0.12, 0.18)):
            r_hi, r_lo = rt + (rb - rt) * f0, rt + (rb - rt) * f1
            cols_b = np.array([c - wt, c + wt, c + wt, c - wt])
            fill(canvas, cols_b, np.array([r_lo, r_lo, r_hi, r_hi]), bgr(red), geo.width360)


def render_panorama(world: World, geo: Geometry, lighting: Lighting,
                     rng: np.random.Generator, pad_px: int) -> Panorama:
    """The static 360-degree world: sky, skyline, fields, roads, villages, chimney."""
    pal = PALETTES[lighting]
    vis_m = rng.uniform(5000.0, 14000.0) if lighting == "day" else rng.uniform(3500.0, 9000.0)
    ground, row0 = render_ground(world, geo, pal, rng, vis_m)
    sky = render_sky(geo, pal, rng, row0, lighting)
    h, w = geo.height, geo.width360
    canvas = np.zeros((h, w, 3), np.float32)
    canvas[: row0 + 1] = sky
    canvas[row0:] = ground
    mask = np.zeros((h, w), np.float32)
    horizon = geo.horizon_row
    rows = np.arange(row0 + 1, dtype=np.float64) + 0.5
    mask[: row0 + 1] = np.clip(horizon - rows + 0.5, 0.0, 1.0)[:, None]
    # Skyline: distant tree lines and hills, already mostly dissolved into the haze.
    skyline = _hill_profile(rng, geo) * geo.ppd
    top = horizon - skyline[None, :]
    cover = np.clip(rows[:, None] - top + 0.5, 0.0, 1.0) * (rows[:, None] < horizon + 0.5)
    far_rgb = mix(scale(_TREE_RGB[world.season], pal.ambient), pal.sky_horizon,
                   rng.uniform(0.55, 0.8))
    far = np.array(bgr(far_rgb), np.float32)
    cover32 = cover.astype(np.float32)[..., None]
    canvas[: row0 + 1] += (far - canvas[: row0 + 1]) * cover32
    mask[: row0 + 1] *= 1.0 - cover32[..., 0]
    img = np.clip(canvas, 0, 255).astype(np.uint8)
    mask8 = np.clip(mask * 255.0, 0, 255).astype(np.uint8)
    depth = ground_depth(geo)
    _draw_tall(img, mask8, depth, world, geo, pal, vis_m, lighting, rng)
    bgra = np.dstack([img, mask8])
    bgra = np.concatenate([bgra, bgra[:, :pad_px]], axis=1)
    depth = np.concatenate([depth, depth[:, :pad_px]], axis=1)
    haze = bgr(scale(pal.sky_horizon, 0.95))
    return Panorama(geo, np.ascontiguousarray(bgra), np.ascontiguousarray(depth), vis_m, haze)


def crop(pano: Panorama, view: View) -> tuple[U8, U16]:
    """The view's BGRA image (alpha = sky mask) and static depth, cut out of the panorama."""
    base = cv2.warpAffine(pano.image, view.warp_matrix(pano.geo), (view.width, view.height),
                          flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                          borderMode=cv2.BORDER_REPLICATE)
    depth = cv2.warpAffine(pano.depth, view.warp_matrix(pano.geo), (view.width, view.height),
                           flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                           borderMode=cv2.BORDER_REPLICATE)
    return np.asarray(base, dtype=np.uint8), np.asarray(depth, dtype=np.uint16)
