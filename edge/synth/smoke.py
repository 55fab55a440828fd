"""Synthetic straw-burning smoke scenes seen by a high-mounted pan/tilt camera over farmland.

A scene builds a 360-degree panorama of procedurally generated farmland once, then for each
frame crops the view of the current pan/tilt pose and draws the moving layers on top: the smoke
plume with its flame, and negatives that look like smoke (clouds, haze, chimney steam, road
dust, headlights). Every random choice comes from one seeded generator, so the same arguments
give byte-identical frames and ground truth.

Conventions: the camera stands on a mast at the world origin. A pan angle is measured clockwise
from the camera's pan 0 (world +y), elevation is positive above the horizon. The panorama is
cylindrical: column = pan * px_per_deg, row = (top elevation - elevation) * px_per_deg; views
are linear crops of it, which is what `view_bearing_deg` inverts.
"""

from __future__ import annotations

import bisect
import dataclasses
import itertools
import logging
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray

from edge.labels import Label
from edge.synth.camera import SensorModel
from edge.synth.truth import (
    XYXY,
    Lighting,
    PresetTruth,
    SceneTruth,
    SmokeTruth,
    TruthBox,
    TruthFrame,
)

log = logging.getLogger(__name__)

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
U8 = NDArray[np.uint8]
U16 = NDArray[np.uint16]
RGB = tuple[float, float, float]

SMOKE_TRACK_ID = 1
FIRE_TRACK_ID = 2
DISTRACTOR_NAMES = ("clouds", "haze", "chimney_steam", "dust", "headlights")

# A pixel belongs to the plume box when its alpha exceeds this: below it smoke is invisible
# against haze and sensor noise, so labelling it would teach the model to hallucinate.
_ALPHA_BOX = 0.08
_TAU_BOX = -math.log(1.0 - _ALPHA_BOX)
_ALPHA_FIRE = 0.25
_MIN_FIRE_PX = 2.0
_DWELL_S = (20.0, 40.0)
_MOVE_S = (1.0, 2.0)
_HFOV_DEG = (50.0, 65.0)
_ELEV_MARGIN_DEG = 1.0
# Largest side of the buffer a plume is splatted into; big near plumes are rendered coarser
# (smoke is soft) so a plume costs a few milliseconds whatever its size on screen.
_MAX_SPLAT_PX = 320
_FARM_RADIUS_M = 3500.0
_MIN_OBJECT_M = 90.0
_STRIP_RADIUS_M = 1600.0
_TREE_RADIUS_M = 4000.0
# Exposure as a fraction of the frame interval: sets the motion blur length during a pan.
_EXPOSURE_FRACTION = 0.5
# A layer is hidden where the static surface is nearer than this fraction of its distance; the
# slack keeps the ground a fire stands on from hiding the fire itself.
_OCCLUSION_SLACK = 0.95

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
_SEASONS: dict[str, dict[str, float]] = {
    "summer": {"stubble": 0.5, "stubble_pale": 0.2, "ploughed": 0.08, "bare": 0.05,
               "green": 0.14, "burnt": 0.03},
    "autumn": {"stubble": 0.32, "stubble_pale": 0.1, "ploughed": 0.26, "bare": 0.1,
               "green": 0.18, "burnt": 0.04},
}
_TREE_RGB = {"summer": (54, 74, 42), "autumn": (88, 88, 52)}


@dataclass(frozen=True)
class _Palette:
    """Colours and light levels of one time of day (before the sensor's own gain)."""

    sky_horizon: RGB
    sky_top: RGB
    ambient: float
    smoke_dark: RGB
    smoke_light: RGB
    glow: float  # how much the flame lights its surroundings


_PALETTES: dict[str, _Palette] = {
    "day": _Palette((204, 214, 224), (118, 158, 212), 1.0, (116, 110, 102), (224, 220, 210), 0.0),
    "dusk": _Palette((238, 184, 140), (118, 124, 168), 0.8, (112, 102, 96), (226, 206, 190), 0.5),
    "night": _Palette((100, 104, 124), (40, 48, 74), 0.7, (70, 66, 62), (170, 164, 156), 1.0),
}


def view_bearing_deg(heading_deg: float, pan_deg: float, hfov_deg: float, x_norm: float) -> float:
    """Compass bearing of a horizontal image position (x_norm 0 = left edge, 1 = right edge).

    The views are linear in pan angle (cylindrical panorama), so the bearing is linear in x.
    """
    return (heading_deg + pan_deg + (x_norm - 0.5) * hfov_deg) % 360.0


def _smoothstep(x: F64 | float) -> Any:
    """Cubic ease from 0 to 1 on [0, 1], clamped outside."""
    c = np.clip(x, 0.0, 1.0)
    return c * c * (3.0 - 2.0 * c)


def _mix(a: RGB, b: RGB, f: float) -> RGB:
    """Linear blend of two colours, f = 0 gives a."""
    return (a[0] + (b[0] - a[0]) * f, a[1] + (b[1] - a[1]) * f, a[2] + (b[2] - a[2]) * f)


def _scale(c: RGB, k: float) -> RGB:
    return (c[0] * k, c[1] * k, c[2] * k)


def _bgr(c: RGB) -> tuple[float, float, float]:
    """OpenCV wants BGR; every colour in this module is written RGB for readability."""
    return (c[2], c[1], c[0])


def _fbm(rng: np.random.Generator, h: int, w: int, beta: float) -> F32:
    """Tileable fractal noise in [0, 1]: white noise shaped by 1/f^beta in the Fourier domain."""
    white = rng.standard_normal((h, w))
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.rfftfreq(w)[None, :]
    f = np.sqrt(fx * fx + fy * fy)
    f[0, 0] = 1.0
    spec = np.fft.rfft2(white) / f**beta
    spec[0, 0] = 0.0
    n = np.fft.irfft2(spec, s=(h, w))
    n = 0.5 + 0.2 * (n - n.mean()) / (n.std() + 1e-9)
    out: F32 = np.clip(n, 0.0, 1.0).astype(np.float32)
    return out


def _fbm_1d(rng: np.random.Generator, n: int, beta: float) -> F64:
    """Periodic 1-D fractal noise with zero mean and unit deviation."""
    spec = np.fft.rfft(rng.standard_normal(n))
    f = np.fft.rfftfreq(n)
    f[0] = 1.0
    spec = spec / f**beta
    spec[0] = 0.0
    out = np.fft.irfft(spec, n=n)
    return np.asarray((out - out.mean()) / (out.std() + 1e-9), dtype=np.float64)


# --------------------------------------------------------------------------- camera tour


@dataclass(frozen=True)
class _Preset:
    id: str
    pan_deg: float
    tilt_deg: float
    hfov_deg: float


@dataclass(frozen=True)
class _Pose:
    """Where the camera points at one instant; `preset` is None while it moves."""

    pan_deg: float
    tilt_deg: float
    hfov_deg: float
    preset: str | None
    pan_speed_deg_s: float


@dataclass(frozen=True)
class _Segment:
    start_s: float
    end_s: float
    src: int
    dst: int  # equal to src while dwelling


def _make_presets(rng: np.random.Generator) -> list[_Preset]:
    """3-4 presets spread around the mast, each with its own zoom and a slightly different tilt."""
    n = int(rng.integers(3, 5))
    start = rng.uniform(0.0, 360.0)
    base_tilt = rng.uniform(-6.0, -3.0)
    out = []
    for k in range(n):
        pan = (start + k * 360.0 / n + rng.uniform(-12.0, 12.0)) % 360.0
        tilt = base_tilt + rng.uniform(-1.5, 1.5)
        out.append(_Preset(f"p{k + 1}", round(pan, 3), round(tilt, 3),
                           round(rng.uniform(*_HFOV_DEG), 3)))
    return out


def _signed_deg(d: float) -> float:
    """Wrap an angle difference into [-180, 180)."""
    return (d + 180.0) % 360.0 - 180.0


class _Schedule:
    """The camera's preset tour: dwell at a preset, slew to the next, and so on."""

    def __init__(self, presets: list[_Preset], rng: np.random.Generator, duration_s: float) -> None:
        self.presets = presets
        k = int(rng.integers(len(presets)))
        dwell = rng.uniform(0.3, 1.0) * rng.uniform(*_DWELL_S)
        t = 0.0
        self.segments: list[_Segment] = []
        while t <= duration_s:
            self.segments.append(_Segment(t, t + dwell, k, k))
            t += dwell
            nxt = (k + 1) % len(presets)
            swing = abs(_signed_deg(presets[nxt].pan_deg - presets[k].pan_deg))
            move = _MOVE_S[0] + (_MOVE_S[1] - _MOVE_S[0]) * swing / 180.0
            self.segments.append(_Segment(t, t + move, k, nxt))
            t += move
            k = nxt
            dwell = rng.uniform(*_DWELL_S)
        self._starts = [s.start_s for s in self.segments]

    def segment(self, t_s: float) -> _Segment:
        return self.segments[max(0, bisect.bisect_right(self._starts, t_s) - 1)]

    def pose(self, t_s: float) -> _Pose:
        seg = self.segment(t_s)
        a, b = self.presets[seg.src], self.presets[seg.dst]
        if seg.src == seg.dst:
            return _Pose(a.pan_deg, a.tilt_deg, a.hfov_deg, a.id, 0.0)
        span = seg.end_s - seg.start_s
        x = (t_s - seg.start_s) / span
        s = float(_smoothstep(x))
        swing = _signed_deg(b.pan_deg - a.pan_deg)
        speed = swing * 6.0 * x * (1.0 - x) / span
        return _Pose((a.pan_deg + swing * s) % 360.0, a.tilt_deg + (b.tilt_deg - a.tilt_deg) * s,
                     a.hfov_deg + (b.hfov_deg - a.hfov_deg) * s, None, speed)

    def first_dwell_at(self, preset_index: int, after_s: float) -> _Segment | None:
        """The first dwell at a preset that is still running at or after `after_s`."""
        for seg in self.segments:
            if seg.src == seg.dst == preset_index and seg.end_s > after_s:
                return seg
        return None


# --------------------------------------------------------------------------- geometry


@dataclass(frozen=True)
class _Geometry:
    """Maps world points (metres, camera at the origin) to panorama pixels."""

    mast_m: float
    ppd: float
    width360: int
    elev_top_deg: float
    elev_bottom_deg: float

    @property
    def height(self) -> int:
        return math.ceil((self.elev_top_deg - self.elev_bottom_deg) * self.ppd)

    @property
    def horizon_row(self) -> float:
        return self.elev_top_deg * self.ppd

    def polar(self, x_m: F64, y_m: F64) -> tuple[F64, F64]:
        """Pan angle (deg, [0, 360)) and ground distance (m) of world points."""
        return np.degrees(np.arctan2(x_m, y_m)) % 360.0, np.hypot(x_m, y_m)

    def elev_deg(self, z_m: F64 | float, d_m: F64) -> F64:
        return np.degrees(np.arctan2(np.asarray(z_m) - self.mast_m, d_m))

    def to_pano(self, xy_m: F64, z_m: F64 | float = 0.0) -> tuple[F64, F64, F64]:
        """Continuous panorama (col, row) and distance of world points, columns unwrapped."""
        phi, d = self.polar(xy_m[:, 0], xy_m[:, 1])
        phi = np.degrees(np.unwrap(np.radians(phi)))
        return phi * self.ppd, (self.elev_top_deg - self.elev_deg(z_m, d)) * self.ppd, d

    def px_per_m(self, d_m: F64 | float) -> Any:
        """Panorama pixels spanned by one metre seen face-on at distance d."""
        return np.degrees(1.0 / np.maximum(d_m, 1.0)) * self.ppd


@dataclass(frozen=True)
class _View:
    """The linear map between a pose's image pixels and (pan, elevation) angles."""

    center_deg: float
    top_deg: float
    deg_per_px: float
    width: int
    height: int

    @classmethod
    def of(cls, pose: _Pose, width: int, height: int) -> _View:
        dpp = pose.hfov_deg / width
        return cls(pose.pan_deg, pose.tilt_deg + dpp * height / 2.0, dpp, width, height)

    def project(self, phi_deg: F64, elev_deg: F64) -> tuple[F64, F64]:
        """Continuous image coordinates (pixel i spans [i, i+1)) of directions."""
        rel = (phi_deg - self.center_deg + 180.0) % 360.0 - 180.0
        return rel / self.deg_per_px + self.width / 2.0, (self.top_deg - elev_deg) / self.deg_per_px

    def warp_matrix(self, geo: _Geometry) -> F64:
        """Inverse affine map from image pixel indices to panorama pixel indices."""
        s = geo.ppd * self.deg_per_px
        left = (self.center_deg - self.width / 2.0 * self.deg_per_px) % 360.0
        x0 = left * geo.ppd
        y0 = (geo.elev_top_deg - self.top_deg) * geo.ppd
        return np.array([[s, 0.0, x0 + 0.5 * s - 0.5], [0.0, s, y0 + 0.5 * s - 0.5]])


# --------------------------------------------------------------------------- world layout


@dataclass(frozen=True)
class _Parcel:
    poly_m: F64
    kind: str
    orient: int
    shade: float


@dataclass(frozen=True)
class _Road:
    path_m: F64
    width_m: float
    paved: bool

    def distance_m(self, p: F64) -> float:
        """Shortest distance from a point to the road's centre line."""
        a, b = self.path_m[:-1], self.path_m[1:]
        ab = b - a
        t = np.clip(((p - a) * ab).sum(1) / np.maximum((ab * ab).sum(1), 1e-9), 0.0, 1.0)
        return float(np.hypot(*(a + ab * t[:, None] - p).T).min())


@dataclass(frozen=True)
class _Building:
    corners_m: F64  # (4, 2)
    height_m: float
    wall: RGB
    roof: RGB


@dataclass(frozen=True)
class _Chimney:
    xy_m: tuple[float, float]
    height_m: float
    r_base_m: float
    r_top_m: float
    colour: RGB
    banded: bool


@dataclass
class _World:
    mast_m: float
    grid_deg: float
    season: str
    parcels: list[_Parcel]
    roads: list[_Road]
    villages: list[tuple[float, float, float]]
    trees: F64  # (N, 5): x, y, crown radius, crown centre height, crown height / width
    tree_tint: F64  # (N,) brightness factor
    buildings: list[_Building]
    chimney: _Chimney
    dust_tracks: list[_Road]

    def axes(self) -> tuple[F64, F64]:
        """Unit vectors along and across the field grid."""
        g = math.radians(self.grid_deg)
        return np.array([math.sin(g), math.cos(g)]), np.array([math.cos(g), -math.sin(g)])

    def is_clear_field(self, p: F64) -> bool:
        """True when a point is on farmland, away from villages, roads and the factory."""
        if float(np.hypot(*p)) < 150.0:
            return False
        for vx, vy, vr in self.villages:
            if math.hypot(p[0] - vx, p[1] - vy) < vr + 60.0:
                return False
        if math.hypot(p[0] - self.chimney.xy_m[0], p[1] - self.chimney.xy_m[1]) < 250.0:
            return False
        return all(r.distance_m(p) > 25.0 + r.width_m for r in [*self.roads, *self.dust_tracks])

    def mark_stubble(self, p: F64) -> None:
        """Makes the parcel under a point a stubble field: straw burns on harvested stubble."""
        for i, parcel in enumerate(self.parcels):
            contour = parcel.poly_m.astype(np.float32).reshape(-1, 1, 2)
            if cv2.pointPolygonTest(contour, (float(p[0]), float(p[1])), False) >= 0:
                self.parcels[i] = _Parcel(parcel.poly_m, "stubble", parcel.orient, parcel.shade)


def _point_in_view(rng: np.random.Generator, preset: _Preset, d_range_m: tuple[float, float],
                   spread: float = 0.4) -> F64:
    """A random ground point inside a preset's horizontal field of view."""
    phi = math.radians(preset.pan_deg + rng.uniform(-spread, spread) * preset.hfov_deg)
    d = math.exp(rng.uniform(math.log(d_range_m[0]), math.log(d_range_m[1])))
    return np.array([d * math.sin(phi), d * math.cos(phi)])


def _make_parcels(rng: np.random.Generator, grid_deg: float, season: str,
                  villages: list[tuple[float, float, float]]) -> list[_Parcel]:
    """Blocks of long narrow strips on a rotated grid, like the North China Plain."""
    g = math.radians(grid_deg)
    a = np.array([math.sin(g), math.cos(g)])
    b = np.array([math.cos(g), -math.sin(g)])
    along, across = rng.uniform(160.0, 320.0), rng.uniform(110.0, 220.0)
    off_u, off_v = rng.uniform(0, along), rng.uniform(0, across)
    names = list(_SEASONS[season])
    weights = np.array(list(_SEASONS[season].values()))
    weights /= weights.sum()
    nu, nv = int(_FARM_RADIUS_M / along) + 2, int(_FARM_RADIUS_M / across) + 2
    parcels: list[_Parcel] = []
    for i in range(-nu, nu):
        for j in range(-nv, nv):
            u0, v0 = i * along - off_u, j * across - off_v
            centre = a * (u0 + along / 2) + b * (v0 + across / 2)
            dist = float(np.hypot(*centre))
            if dist > _FARM_RADIUS_M or dist < 30.0:
                continue
            village = any(math.hypot(centre[0] - x, centre[1] - y) < r for x, y, r in villages)
            gap = rng.uniform(2.0, 4.0)  # ridge or track between blocks
            if village:
                cuts = [0.0, across]
            elif dist < _STRIP_RADIUS_M:
                cuts = [0.0]
                while cuts[-1] < across - 20.0:
                    cuts.append(min(across, cuts[-1] + rng.uniform(14.0, 48.0)))
                cuts[-1] = across
            else:
                cuts = [0.0, across * rng.uniform(0.3, 0.7), across]
            kind_block = names[int(rng.choice(len(names), p=weights))]
            orient = int(rng.integers(2))
            for c0, c1 in itertools.pairwise(cuts):
                kind = "village" if village else (
                    kind_block if rng.random() < 0.45 else names[int(rng.choice(len(names), p=weights))])
                u_lo, u_hi = u0 + gap / 2, u0 + along - gap / 2
                v_lo, v_hi = v0 + c0 + 0.6, v0 + c1 - 0.6
                corners = np.array([a * u_lo + b * v_lo, a * u_hi + b * v_lo,
                                    a * u_hi + b * v_hi, a * u_lo + b * v_hi])
                parcels.append(_Parcel(corners, kind, orient, float(rng.normal(1.0, 0.09))))
    return parcels


def _polyline(rng: np.random.Generator, through: F64, heading: F64, half_len_m: float,
              step_m: float, wander_m: float) -> F64:
    """A gently bending road through a point: a random walk of the lateral offset."""
    n = int(2 * half_len_m / step_m) + 1
    s = np.linspace(-half_len_m, half_len_m, n)
    normal = np.array([heading[1], -heading[0]])
    lateral = np.cumsum(rng.normal(0.0, wander_m, n))
    lateral -= lateral[n // 2]
    return np.asarray(through + s[:, None] * heading + lateral[:, None] * normal, dtype=np.float64)


def _make_trees_along(rng: np.random.Generator, path: F64, offset_m: float, spacing_m: float,
                      max_d_m: float) -> list[list[float]]:
    """Poplar rows along a road, both sides: the typical tree line of the plain."""
    out: list[list[float]] = []
    for p, q in itertools.pairwise(path):
        seg = q - p
        length = float(np.hypot(*seg))
        if length < 1e-6:
            continue
        t_hat = seg / length
        normal = np.array([t_hat[1], -t_hat[0]])
        for s in np.arange(0.0, length, spacing_m):
            for side in (-1.0, 1.0):
                c = p + t_hat * s + normal * side * offset_m + rng.normal(0.0, 0.6, 2)
                if float(np.hypot(*c)) < max_d_m:
                    h = rng.uniform(13.0, 20.0)
                    out.append([c[0], c[1], rng.uniform(1.6, 2.6), h * 0.62, 2.4])
    return out


def _make_village(rng: np.random.Generator, centre: F64, radius_m: float, grid_deg: float,
                  trees: list[list[float]], buildings: list[_Building]) -> None:
    """Houses on a rough grid inside a clump of trees."""
    g = math.radians(grid_deg)
    a = np.array([math.sin(g), math.cos(g)])
    b = np.array([math.cos(g), -math.sin(g)])
    roofs: list[RGB] = [(150, 72, 58), (112, 112, 118), (70, 108, 156), (168, 110, 80)]
    village_roofs = [roofs[int(i)] for i in rng.choice(len(roofs), size=2, replace=False)]
    for _ in range(int(radius_m * radius_m / 110.0)):
        r = radius_m * math.sqrt(rng.random())
        th = rng.uniform(0, 2 * math.pi)
        c = centre + r * np.array([math.cos(th), math.sin(th)])
        trees.append([c[0], c[1], rng.uniform(2.5, 5.0), rng.uniform(5.0, 9.0), 1.0])
    for u in np.arange(-radius_m * 0.75, radius_m * 0.75, 22.0):
        for v in np.arange(-radius_m * 0.75, radius_m * 0.75, 17.0):
            if u * u + v * v > (radius_m * 0.75) ** 2 or rng.random() < 0.25:
                continue
            c = centre + a * (u + rng.normal(0, 2.0)) + b * (v + rng.normal(0, 1.5))
            lu, lv = rng.uniform(9.0, 15.0) / 2, rng.uniform(6.0, 9.0) / 2
            corners = np.array([c - a * lu - b * lv, c + a * lu - b * lv,
                                c + a * lu + b * lv, c - a * lu + b * lv])
            wall: RGB = (212, 208, 198) if rng.random() < 0.6 else (168, 110, 88)
            buildings.append(_Building(corners, rng.uniform(3.5, 7.5), wall,
                                       village_roofs[int(rng.integers(2))]))


def _make_world(rng: np.random.Generator, presets: list[_Preset]) -> _World:
    """Lays out villages, roads, fields, trees and the factory chimney around the mast."""
    mast_m = rng.uniform(25.0, 40.0)
    grid_deg = rng.uniform(0.0, 90.0)
    season = "summer" if rng.random() < 0.5 else "autumn"
    g = math.radians(grid_deg)
    a = np.array([math.sin(g), math.cos(g)])
    b = np.array([math.cos(g), -math.sin(g)])

    villages: list[tuple[float, float, float]] = []
    while len(villages) < int(rng.integers(6, 13)):
        d = math.sqrt(rng.uniform(0.4**2, 5.5**2)) * 1000.0
        th = rng.uniform(0, 2 * math.pi)
        x, y, r = d * math.sin(th), d * math.cos(th), rng.uniform(80.0, 230.0)
        if all(math.hypot(x - vx, y - vy) > r + vr + 300.0 for vx, vy, vr in villages):
            villages.append((x, y, r))

    # The chimney stands where one of the presets can see it: a steam plume nobody sees
    # is not a distractor.
    chim_preset = presets[int(rng.integers(len(presets)))]
    chim_xy = _point_in_view(rng, chim_preset, (800.0, 2500.0), 0.42)
    kiln = rng.random() < 0.5
    chimney = _Chimney((float(chim_xy[0]), float(chim_xy[1])),
                       rng.uniform(32.0, 45.0) if kiln else rng.uniform(50.0, 75.0),
                       rng.uniform(1.8, 3.0), rng.uniform(1.0, 1.6),
                       (150, 84, 64) if kiln else (176, 174, 168), not kiln)

    roads: list[_Road] = []
    for k in range(int(rng.integers(2, 4))):
        p = presets[k % len(presets)]
        through = _point_in_view(rng, p, (250.0, 1500.0), 0.45)
        heading = a if rng.random() < 0.5 else b
        if rng.random() < 0.3:
            th = rng.uniform(0, 2 * math.pi)
            heading = np.array([math.cos(th), math.sin(th)])
        roads.append(_Road(_polyline(rng, through, heading, 6000.0, 100.0, 1.5),
                           rng.uniform(5.0, 8.0), True))
    dust_tracks: list[_Road] = []
    for _ in range(2):
        p = presets[int(rng.integers(len(presets)))]
        through = _point_in_view(rng, p, (350.0, 1800.0), 0.35)
        heading = a if rng.random() < 0.5 else b
        dust_tracks.append(_Road(_polyline(rng, through, heading, 450.0, 50.0, 0.5),
                                 rng.uniform(3.5, 5.0), False))

    trees: list[list[float]] = []
    buildings: list[_Building] = []
    for vx, vy, vr in villages:
        _make_village(rng, np.array([vx, vy]), vr, grid_deg, trees, buildings)
    for road in roads:
        if rng.random() < 0.7:
            trees += _make_trees_along(rng, road.path_m, road.width_m / 2 + 3.0,
                                       rng.uniform(5.0, 8.0), _TREE_RADIUS_M)
    for _ in range(int(rng.integers(4, 10))):  # tree lines along field edges
        start = _point_in_view(rng, presets[int(rng.integers(len(presets)))], (200.0, 3000.0), 0.6)
        heading = a if rng.random() < 0.5 else b
        path = np.array([start, start + heading * rng.uniform(150.0, 700.0)])
        trees += [t for i, t in enumerate(_make_trees_along(rng, path, 2.0, 6.0, _TREE_RADIUS_M))
                  if i % 2 == 0]
    # Factory sheds around the chimney.
    cx, cy = chimney.xy_m
    for _ in range(int(rng.integers(2, 5))):
        c = np.array([cx, cy]) + rng.normal(0.0, 30.0, 2)
        lu, lv = rng.uniform(20.0, 45.0) / 2, rng.uniform(12.0, 20.0) / 2
        corners = np.array([c - a * lu - b * lv, c + a * lu - b * lv,
                            c + a * lu + b * lv, c - a * lu + b * lv])
        buildings.append(_Building(corners, rng.uniform(7.0, 12.0), (190, 186, 178),
                                   (78, 118, 168) if rng.random() < 0.6 else (150, 150, 150)))

    parcels = _make_parcels(rng, grid_deg, season, villages)
    tree_arr = np.array(trees, dtype=np.float64).reshape(-1, 5)
    return _World(mast_m, grid_deg, season, parcels, roads, villages, tree_arr,
                  rng.uniform(0.75, 1.2, len(tree_arr)), buildings, chimney, dust_tracks)


# --------------------------------------------------------------------------- panorama


def _densify(poly: F64, max_seg_m: float) -> F64:
    """Subdivides a closed polygon's edges: straight ground lines are curves in the panorama."""
    nxt = np.roll(poly, -1, axis=0)
    pieces = []
    for p, q in zip(poly, nxt, strict=True):
        n = max(1, math.ceil(float(np.hypot(*(q - p))) / max_seg_m))
        t = np.arange(n)[:, None] / n
        pieces.append(p + (q - p) * t)
    return np.concatenate(pieces)


def _fill(img: NDArray[Any], cols: F64, rows: F64, colour: tuple[float, ...], width360: int,
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


def _ground_texture(rng: np.random.Generator, geo: _Geometry, rows: F64, dist_m: F64,
                    wx: F32, wy: F32) -> F32:
    """Soil and crop patchiness in world coordinates, filtered by each row's pixel footprint."""
    size = 512
    base = _fbm(rng, size, size, 1.5)
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


def _render_ground(world: _World, geo: _Geometry, pal: _Palette, rng: np.random.Generator,
                   vis_m: float) -> tuple[F32, int]:
    """Fields, tracks and roads below the horizon, textured and veiled by distance haze."""
    row0 = math.floor(geo.horizon_row)
    h, w = geo.height - row0, geo.width360
    colour = np.zeros((h, w, 3), np.uint8)
    kind_map = np.zeros((h, w), np.uint8)
    amb = pal.ambient
    # Beyond the parcels: one far-farmland colour, mottled by the texture and veiled by haze.
    far = _scale(_mix(_GROUND["stubble"][0], _GROUND["ploughed"][0], 0.5), amb)
    colour[:] = _bgr(far)

    def draw(poly: F64, kind: str, orient: int, shade: float) -> None:
        """Paints one ground polygon in colour and in the kind map that picks its texture."""
        d_min = float(np.hypot(poly[:, 0], poly[:, 1]).min())
        dense = _densify(poly, max(4.0, 0.08 * d_min))
        cols, rows, _ = geo.to_pano(dense, 0.0)
        rows = rows - row0
        rgb = _scale(_GROUND[kind][0], shade * amb)
        _fill(colour, cols, rows, _bgr(rgb), w)
        _fill(kind_map, cols, rows, (float(_KINDS.index(kind) * 2 + orient),), w, aa=False)

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
    haze_bgr = np.array(_bgr(_scale(pal.sky_horizon, 0.95)), np.float32)
    ground += (haze_bgr - ground) * haze[:, None, None].astype(np.float32)
    return ground, row0


def _draw_road(road: _Road, draw: Callable[[F64, str, int, float], None]) -> None:
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


def _render_sky(geo: _Geometry, pal: _Palette, rng: np.random.Generator, row0: int,
                lighting: Lighting) -> F32:
    """Sky gradient above the horizon, with a warm glow towards the sun at dusk."""
    rows = np.arange(row0 + 1, dtype=np.float64) + 0.5
    elev = np.maximum(geo.elev_top_deg - rows / geo.ppd, 0.0)
    f = (elev / max(geo.elev_top_deg, 1.0)) ** 0.6
    lo = np.array(_bgr(pal.sky_horizon))
    hi = np.array(_bgr(pal.sky_top))
    sky = lo[None, :] + (hi - lo)[None, :] * f[:, None]
    out = np.repeat(sky[:, None, :], geo.width360, axis=1).astype(np.float32)
    if lighting == "dusk":
        sun = rng.uniform(0, 360.0)
        dphi = np.abs((np.arange(geo.width360) / geo.ppd - sun + 180) % 360 - 180)
        glow = np.exp(-((dphi / 40.0) ** 2))[None, :] * np.exp(-elev / 6.0)[:, None]
        out += (glow[..., None] * np.array([40.0, 60.0, 70.0])).astype(np.float32)
    return out


@dataclass
class _Panorama:
    geo: _Geometry
    image: U8  # BGRA, alpha = sky mask; padded on the right for wrap-around crops
    depth: U16  # distance of the static surface at each pixel, m, same padding
    vis_m: float
    haze_bgr: tuple[float, float, float]


def _hill_profile(rng: np.random.Generator, geo: _Geometry) -> F64:
    """Height (deg above the horizon) of the far skyline: tree lines, sometimes low hills."""
    w = geo.width360
    trees = 0.05 + 0.05 * np.clip(_fbm_1d(rng, w, 0.6), -1.5, 2.0)
    hills = _fbm_1d(rng, w, 1.8)
    amp = rng.uniform(0.3, 1.2) if rng.random() < 0.45 else 0.0
    return np.asarray(np.maximum(trees, amp * np.clip(hills - 0.3, 0.0, None)), dtype=np.float64)


def _draw_tall(canvas: U8, mask: U8, depth: U16, world: _World, geo: _Geometry, pal: _Palette,
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
                trunk = _mix(_scale((70, 62, 52), pal.ambient), haze, veil)
                c8 = round((float(col[0]) % w - 0.5) * 8)
                cv2.line(canvas, (c8, round((float(row[0]) + rx * elong * 0.7) * 8)),
                         (c8, round(float(ground_row[0]) * 8)), _bgr(trunk),
                         max(1, round(rx * 0.15)), cv2.LINE_AA, 3)
            base = _scale(tree_rgb, pal.ambient * world.tree_tint[i])
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
    dark = _mix(_scale(base, 0.8), haze, veil)
    _ellipse(canvas, col, row, rx, ry, _bgr(dark), width360)
    n = min(7, int(rx))
    if n < 2:
        return
    for _ in range(n):
        ox, oy = rng.uniform(-0.55, 0.55), rng.uniform(-0.7, 0.45)
        k = rng.uniform(0.85, 1.12) + 0.12 * (-oy)
        lit = _mix(_scale(base, k), haze, veil)
        _ellipse(canvas, col + ox * rx, row + oy * ry, rx * rng.uniform(0.35, 0.55),
                 ry * rng.uniform(0.3, 0.5), _bgr(lit), width360)


def _ellipse(img: NDArray[Any], col: float, row: float, rx: float, ry: float,
             colour: tuple[float, ...], width360: int, aa: bool = True) -> None:
    c = (round((col % width360 - 0.5) * 8), round((row - 0.5) * 8))
    axes = (max(1, round(rx * 8)), max(1, round(ry * 8)))
    cv2.ellipse(img, c, axes, 0.0, 0.0, 360.0, colour, -1, cv2.LINE_AA if aa else cv2.LINE_8, 3)


def _draw_building(canvas: U8, depth: U16, b: _Building, geo: _Geometry, pal: _Palette,
                   veil: float) -> None:
    """A box house: the hull of its eight corners in wall colour, then the roof on top."""
    c0, r0, _ = geo.to_pano(b.corners_m, 0.0)
    c1, r1, _ = geo.to_pano(b.corners_m, b.height_m)
    hull_pts = np.stack([np.concatenate([c0, c1]), np.concatenate([r0, r1])], 1).astype(np.float32)
    hull = cv2.convexHull(hull_pts).reshape(-1, 2).astype(np.float64)
    wall = _mix(_scale(b.wall, pal.ambient * 0.82), pal.sky_horizon, veil)
    roof = _mix(_scale(b.roof, pal.ambient), pal.sky_horizon, veil)
    _fill(canvas, hull[:, 0], hull[:, 1], _bgr(wall), geo.width360)
    _fill(canvas, c1, r1, _bgr(roof), geo.width360)
    d = float(np.hypot(*b.corners_m.mean(0)))
    _fill(depth, hull[:, 0], hull[:, 1], (min(d, 65000.0),), geo.width360, aa=False)


def _draw_chimney(canvas: U8, mask: U8, depth: U16, ch: _Chimney, geo: _Geometry,
                  pal: _Palette, veil: float) -> None:
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
    body = _mix(_scale(ch.colour, pal.ambient), pal.sky_horizon, veil)
    _fill(canvas, cols, rows, _bgr(body), geo.width360)
    _fill(mask, cols, rows, (0.0,), geo.width360)
    _fill(depth, cols, rows, (float(min(d[0], 65000.0)),), geo.width360, aa=False)
    if ch.banded:
        red = _mix(_scale((176, 60, 52), pal.ambient), pal.sky_horizon, veil)
        for f0, f1 in ((0.0, 0.06), (0.12, 0.18)):
            r_hi, r_lo = rt + (rb - rt) * f0, rt + (rb - rt) * f1
            cols_b = np.array([c - wt, c + wt, c + wt, c - wt])
            _fill(canvas, cols_b, np.array([r_lo, r_lo, r_hi, r_hi]), _bgr(red), geo.width360)


def _render_panorama(world: _World, geo: _Geometry, lighting: Lighting,
                     rng: np.random.Generator, pad_px: int) -> _Panorama:
    """The static 360-degree world: sky, skyline, fields, roads, villages, chimney."""
    pal = _PALETTES[lighting]
    vis_m = rng.uniform(5000.0, 14000.0) if lighting == "day" else rng.uniform(3500.0, 9000.0)
    ground, row0 = _render_ground(world, geo, pal, rng, vis_m)
    sky = _render_sky(geo, pal, rng, row0, lighting)
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
    far_rgb = _mix(_scale(_TREE_RGB[world.season], pal.ambient), pal.sky_horizon,
                   rng.uniform(0.55, 0.8))
    far = np.array(_bgr(far_rgb), np.float32)
    cover32 = cover.astype(np.float32)[..., None]
    canvas[: row0 + 1] += (far - canvas[: row0 + 1]) * cover32
    mask[: row0 + 1] *= 1.0 - cover32[..., 0]
    img = np.clip(canvas, 0, 255).astype(np.uint8)
    mask8 = np.clip(mask * 255.0, 0, 255).astype(np.uint8)
    depth = _ground_depth(geo)
    _draw_tall(img, mask8, depth, world, geo, pal, vis_m, lighting, rng)
    bgra = np.dstack([img, mask8])
    bgra = np.concatenate([bgra, bgra[:, :pad_px]], axis=1)
    depth = np.concatenate([depth, depth[:, :pad_px]], axis=1)
    haze = _bgr(_scale(pal.sky_horizon, 0.95))
    return _Panorama(geo, np.ascontiguousarray(bgra), np.ascontiguousarray(depth), vis_m, haze)


def _ground_depth(geo: _Geometry) -> U16:
    """Distance (m) of the flat ground seen by each panorama pixel; sky is 'infinitely' far."""
    rows = np.arange(geo.height, dtype=np.float64) + 0.5
    depress = rows / geo.ppd - geo.elev_top_deg
    dist = np.where(depress > 0, geo.mast_m / np.tan(np.radians(np.maximum(depress, 1e-6))),
                    65535.0)
    col = np.clip(dist, 0.0, 65535.0).astype(np.uint16)
    return np.ascontiguousarray(np.repeat(col[:, None], geo.width360, axis=1))


# --------------------------------------------------------------------------- clouds and haze


def _cloud_layer(rng: np.random.Generator, geo: _Geometry, lighting: Lighting,
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
        tex = _fbm(rng, 256, 256, 1.7)
        lit = _fbm(rng, 256, 256, 1.4)
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
        fade = _smoothstep(np.degrees(elev) / 1.2)[:, None].astype(np.float32)
        a = np.clip((n - thr) / 0.12, 0.0, 1.0) * 0.9 * fade
        s = bright * (0.75 + 0.3 * cv2.remap(lit, mx, my, cv2.INTER_LINEAR,
                                             borderMode=cv2.BORDER_WRAP))
        shade = shade * (1 - a) + s * a
        alpha = alpha + a * (1 - alpha)
    if lighting == "night":
        shade *= 0.45
    pad = math.ceil(w * (_HFOV_DEG[1] + 5.0) / 360.0)
    layer = np.dstack([alpha, shade]).astype(np.float32)
    return np.ascontiguousarray(np.concatenate([layer, layer[:, :pad]], axis=1))


# --------------------------------------------------------------------------- particles


@dataclass(frozen=True)
class _PuffSpec:
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


class _Puffs:
    """A fixed population of puffs whose state is a closed-form function of time.

    All puffs, past and future, are drawn at construction, so any frame can be rendered
    alone and the plume does not depend on how often it is sampled.
    """

    def __init__(self, rng: np.random.Generator, spec: _PuffSpec, birth_s: F64, origin_m: F64,
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
        self.variant = rng.integers(0, _SpriteBank.VARIANTS, n)
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


class _SpriteBank:
    """Gaussian puff sprites cached per quantised size; noisy variants make smoke look wispy."""

    VARIANTS = 6
    _STEP = 1.12

    def __init__(self, rng: np.random.Generator) -> None:
        self._noise = [_fbm(rng, 48, 48, 1.2) for _ in range(self.VARIANTS)]
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
class _Splat:
    """Optical depth and shade of a particle layer over one clipped region of the image."""

    x0: int
    y0: int
    tau: F32
    shade: F32
    visible: float


def _splat(bank: _SpriteBank, width: int, height: int, u: F64, v: F64, sig_px: F64, dens: F64,
           shade: F64, variant: NDArray[np.int64]) -> _Splat | None:
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
    return _Splat(cx0, cy0, tau_full, shade_full, visible)


def _composite(img: F32, sp: _Splat, dark_bgr: F32, light_bgr: F32, self_shadow: float) -> F32:
    """Alpha-blends a splatted layer; dense cores are darker (self-shadowing). Returns alpha."""
    tau = sp.tau
    alpha = (1.0 - np.exp(-tau)).astype(np.float32)
    s = sp.shade / np.maximum(tau, 1e-6)
    col = dark_bgr + (light_bgr - dark_bgr) * s[..., None]
    col *= (1.0 - self_shadow * np.clip(tau - 1.0, 0.0, 1.5) / 1.5)[..., None]
    h, w = tau.shape
    _blend(img[sp.y0:sp.y0 + h, sp.x0:sp.x0 + w], col.astype(np.float32), alpha)
    return alpha


def _blend(dst: F32, src: F32, alpha: F32) -> None:
    """dst = dst * (1 - alpha) + src * alpha, in place; OpenCV does it in one fast pass."""
    dst[:] = cv2.blendLinear(dst, src, 1.0 - alpha, alpha)


def _occlude(sp: _Splat, depth: U16, near_m: float) -> None:
    """Hides the parts of a splat that lie behind nearer static things (trees, houses, ground)."""
    h, w = sp.tau.shape
    seen = depth[sp.y0:sp.y0 + h, sp.x0:sp.x0 + w] >= near_m * _OCCLUSION_SLACK
    sp.tau *= seen
    sp.shade *= seen


def _tight_box(mask: NDArray[np.bool_], x0: int, y0: int) -> XYXY | None:
    """Pixel-tight box of a mask, offset to image coordinates."""
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return (float(x0 + cols[0]), float(y0 + rows[0]), float(x0 + cols[-1] + 1),
            float(y0 + rows[-1] + 1))


# --------------------------------------------------------------------------- vehicles


@dataclass(frozen=True)
class _Vehicle:
    """A vehicle driving back and forth along a road (ping-pong keeps it in the area)."""

    path_m: F64
    cum_m: F64
    speed_m_s: float
    start_m: float
    rgb: RGB
    length_m: float
    height_m: float
    dusty: bool

    @classmethod
    def on(cls, road: _Road, rng: np.random.Generator, speed_m_s: float, rgb: RGB, length_m: float,
           height_m: float, dusty: bool) -> _Vehicle:
        seg = np.hypot(*np.diff(road.path_m, axis=0).T)
        cum = np.concatenate([[0.0], np.cumsum(seg)])
        return cls(road.path_m, cum, speed_m_s, rng.uniform(0, 2 * cum[-1]), rgb, length_m,
                   height_m, dusty)

    def at(self, t_s: F64) -> tuple[F64, F64]:
        """Positions (N,2) and unit headings (N,2) at times t."""
        total = float(self.cum_m[-1])
        s = np.mod(self.start_m + self.speed_m_s * t_s, 2 * total)
        back = s > total
        s = np.where(back, 2 * total - s, s)
        x = np.interp(s, self.cum_m, self.path_m[:, 0])
        y = np.interp(s, self.cum_m, self.path_m[:, 1])
        idx = np.clip(np.searchsorted(self.cum_m, s) - 1, 0, len(self.cum_m) - 2)
        seg = self.path_m[idx + 1] - self.path_m[idx]
        seg /= np.maximum(np.hypot(seg[:, 0], seg[:, 1]), 1e-9)[:, None]
        seg[back] *= -1.0
        return np.column_stack([x, y]), seg


# --------------------------------------------------------------------------- the scene


_SMOKE_SPEC = _PuffSpec(rise_w0=4.5, rise_tau_s=28.0, rise_w1=0.35, sigma0_m=4.0, spread=0.1,
                        diffuse_m_s=0.12, dens0=1.2, decay_s=45.0, life_s=150.0, fade_in_s=1.0,
                        shade0=0.35, shade_gain=0.5, jitter_m=3.0)
_STEAM_SPEC = _PuffSpec(rise_w0=4.0, rise_tau_s=4.0, rise_w1=0.5, sigma0_m=3.5, spread=0.35,
                        diffuse_m_s=1.5, dens0=2.2, decay_s=3.5, life_s=12.0, fade_in_s=0.3,
                        shade0=0.85, shade_gain=0.15, jitter_m=0.3)
_DUST_SPEC = _PuffSpec(rise_w0=0.6, rise_tau_s=4.0, rise_w1=0.08, sigma0_m=2.0, spread=0.3,
                       diffuse_m_s=1.2, dens0=1.4, decay_s=3.5, life_s=12.0, fade_in_s=0.4,
                       shade0=0.6, shade_gain=0.1, jitter_m=0.5)


@dataclass(frozen=True)
class _Fire:
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
        self._presets = _make_presets(rng_cam)
        self._schedule = _Schedule(self._presets, rng_cam, self.duration_s)
        self.distractors = self._choose_distractors(rng_dist)
        self._world = _make_world(rng_world, self._presets)
        self._geo = self._make_geometry()
        self._fire = self._make_fire(rng_fire)
        self._world.mark_stubble(self._fire.source_m)
        self._wind = self._make_wind(rng_fire)
        self._bank = _SpriteBank(rng_sprite)
        self._smoke = self._make_smoke_puffs(rng_fire)
        self._flicker = rng_fire.lognormal(0.0, 0.35, (self.frame_count, 12))
        self._tongues = rng_fire.uniform(-0.5, 0.5, 12)
        pad = math.ceil(_HFOV_DEG[1] * self._geo.ppd) + 8
        self._pano = _render_panorama(self._world, self._geo, self.lighting, rng_tex, pad)
        self._cloud_down = 4
        self._clouds = _cloud_layer(rng_cloud, self._geo, self.lighting, self._cloud_down)
        self._cloud_drift_deg_s = rng_cloud.uniform(0.03, 0.12) * (1 if rng_cloud.random() < 0.5
                                                                   else -1)
        self._haze = self._make_haze(rng_cloud)
        self._haze_img: F32 | None = None  # constant haze colour frame, made on first use
        self._vehicles, self._dust, self._steam = self._make_fx(rng_fx)

    # ------------------------------------------------------------------ construction

    def _choose_distractors(self, rng: np.random.Generator) -> list[str]:
        """A random subset, never fewer than three, of what fits the time of day."""
        allowed = {"day": ("clouds", "haze", "chimney_steam", "dust"),
                   "dusk": DISTRACTOR_NAMES,
                   "night": ("clouds", "haze", "chimney_steam", "headlights")}[self.lighting]
        keep = [name for name in allowed if rng.random() < 0.6]
        rest = [name for name in allowed if name not in keep]
        while len(keep) < 3:
            keep.append(rest.pop(int(rng.integers(len(rest)))))
        if self.lighting == "night" and "headlights" not in keep:
            keep.append("headlights")  # at night, traffic on the roads is always lit
        return [name for name in DISTRACTOR_NAMES if name in keep]

    def _make_geometry(self) -> _Geometry:
        """Panorama resolution follows the output: the widest zoom maps 1:1 or finer."""
        aspect = self.height / self.width
        w360 = round(360.0 * self.width / _HFOV_DEG[0])
        ppd = w360 / 360.0
        top = max(p.tilt_deg + p.hfov_deg * aspect / 2 for p in self._presets) + _ELEV_MARGIN_DEG
        bottom = min(p.tilt_deg - p.hfov_deg * aspect / 2 for p in self._presets) - _ELEV_MARGIN_DEG
        return _Geometry(self._world.mast_m, ppd, w360, top, bottom)

    def _make_fire(self, rng: np.random.Generator) -> _Fire:
        """Onset 20-70% into the clip, at a stubble field seen from the preset of the moment."""
        n = self.frame_count
        lo = max(1, math.ceil(0.2 * n))
        hi = max(lo, min(n - 1, math.floor(0.7 * n)))
        onset_frame = int(rng.integers(lo, hi + 1)) if n > 1 else 0
        onset_s = onset_frame / self.fps
        seg = self._schedule.segment(onset_s)
        pi = seg.dst
        if rng.random() < 0.15:  # sometimes the fire starts where the camera is not looking
            nxt = (pi + 1) % len(self._presets)
            later = self._schedule.first_dwell_at(nxt, onset_s)
            if later is not None and later.start_s < self.duration_s - 10.0:
                pi = nxt
        preset = self._presets[pi]
        src = _point_in_view(rng, preset, (350.0, 3500.0), 0.3)
        for _ in range(60):
            if self._world.is_clear_field(src) and self._clear_of_chimney(src):
                break
            src = _point_in_view(rng, preset, (350.0, 3500.0), 0.35)
        th = rng.uniform(0, 2 * math.pi)
        flame_p = 0.6 if self.lighting == "day" else 0.9
        return _Fire(src, onset_frame, onset_s, rng.uniform(3.0, 9.0), pi,
                     bool(rng.random() < flame_p), np.array([math.cos(th), math.sin(th)]),
                     rng.uniform(2.0, 6.0), rng.uniform(0.1, 0.5), rng.uniform(1.5, 3.5))

    def _clear_of_chimney(self, p: F64) -> bool:
        """Keeps the plume a few degrees away from the chimney so the negatives stay clean."""
        phi, _ = self._geo.polar(np.array([p[0]]), np.array([p[1]]))
        cphi, _ = self._geo.polar(np.array([self._world.chimney.xy_m[0]]),
                                  np.array([self._world.chimney.xy_m[1]]))
        return abs(_signed_deg(float(phi[0] - cphi[0]))) > 6.0

    def _make_wind(self, rng: np.random.Generator) -> tuple[float, float, F64]:
        """Mean wind speed (m/s), direction (rad) and meander parameters."""
        return (rng.uniform(0.6, 5.0), rng.uniform(0, 2 * math.pi),
                np.concatenate([rng.uniform(20.0, 70.0, 2), rng.uniform(0, 2 * math.pi, 2)]))

    def _wind_at(self, t_s: F64) -> F64:
        """Wind vector (N,2) felt by puffs born at times t: gusts and a swinging direction."""
        speed, direction, m = self._wind
        ang = direction + 0.3 * np.sin(2 * math.pi * t_s / m[0] + m[2])
        spd = speed * (1.0 + 0.25 * np.sin(2 * math.pi * t_s / m[1] + m[3]))
        return np.column_stack([spd * np.sin(ang), spd * np.cos(ang)])

    def _make_smoke_puffs(self, rng: np.random.Generator) -> _Puffs:
        """The plume: puffs at 3 per second from onset, growing in strength over the ramp."""
        f = self._fire
        rate = rng.uniform(2.5, 4.0)
        births = np.arange(f.onset_s, self.duration_s + 1.0, 1.0 / rate)
        births = births + rng.uniform(0.0, 0.5 / rate, births.size)
        births[0] = f.onset_s
        strength = 0.25 + 0.75 * _smoothstep((births - f.onset_s) / f.ramp_s)
        spec = dataclasses.replace(_SMOKE_SPEC, dens0=_SMOKE_SPEC.dens0 * rng.uniform(0.5, 1.6),
                                   rise_w0=_SMOKE_SPEC.rise_w0 * rng.uniform(0.7, 1.4),
                                   shade0=rng.uniform(0.3, 0.7))
        along = rng.uniform(-0.5, 0.5, births.size) * (f.front_m + f.front_growth_m_s
                                                      * (births - f.onset_s))
        origin = np.column_stack([f.source_m[0] + f.front_dir[0] * along,
                                  f.source_m[1] + f.front_dir[1] * along,
                                  np.full(births.size, 2.0)])
        self._smoke_tint = (rng.uniform(0.9, 1.0), rng.uniform(0.0, 0.08))
        return _Puffs(rng, spec, births, origin, self._wind_at(births), strength)

    def _make_haze(self, rng: np.random.Generator) -> tuple[F64, F64]:
        """Time-varying haze: level parameters and a periodic horizontal density profile."""
        params = np.array([rng.uniform(0.08, 0.2), rng.uniform(0.03, 0.09), rng.uniform(20.0, 60.0),
                           rng.uniform(0, 2 * math.pi), rng.uniform(0.05, 0.2)])
        profile = 1.0 + 0.35 * np.clip(_fbm_1d(rng, 720, 1.6), -2.5, 2.5)
        return params, profile

    def _make_fx(self, rng: np.random.Generator) -> tuple[list[_Vehicle], _Puffs | None,
                                                         _Puffs | None]:
        """Traffic on the roads, dust behind tractors on dirt tracks, steam from the chimney."""
        vehicles = []
        colours: list[RGB] = [(230, 230, 228), (40, 40, 44), (170, 40, 36), (60, 90, 150),
                              (150, 150, 152)]
        for road in self._world.roads:
            for _ in range(int(rng.integers(1, 4))):
                vehicles.append(_Vehicle.on(road, rng, rng.uniform(8.0, 18.0),
                                            colours[int(rng.integers(len(colours)))],
                                            rng.uniform(4.0, 9.0), rng.uniform(1.5, 3.0), False))
        dusty = [_Vehicle.on(track, rng, rng.uniform(4.0, 9.0), (60, 110, 70), 5.0, 2.5, True)
                 for track in self._world.dust_tracks]
        births_all, origins, winds = [], [], []
        for veh in dusty:
            births = np.arange(-_DUST_SPEC.life_s, self.duration_s + 1.0, 0.25)
            pos, head = veh.at(births)
            births_all.append(births)
            origins.append(np.column_stack([pos - head * 3.0, np.full(births.size, 1.0)]))
            winds.append(self._wind_at(births) * 0.6)
        dust = None
        if "dust" in self.distractors and dusty:
            vehicles += dusty
            b = np.concatenate(births_all)
            dust = _Puffs(rng, _DUST_SPEC, b, np.concatenate(origins), np.concatenate(winds),
                          np.ones(b.size))
        steam = None
        if "chimney_steam" in self.distractors:
            ch = self._world.chimney
            births = np.arange(-_STEAM_SPEC.life_s, self.duration_s + 1.0, 0.3)
            origin = np.tile([ch.xy_m[0], ch.xy_m[1], ch.height_m + 1.0], (births.size, 1))
            burst = 0.6 + 0.4 * np.sin(2 * math.pi * births / rng.uniform(8.0, 20.0)) ** 2
            steam = _Puffs(rng, _STEAM_SPEC, births, origin, self._wind_at(births) * 1.3, burst)
        return vehicles, dust, steam

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

    def _render_frame(self, i: int, t: float, pose: _Pose) -> tuple[F32, list[TruthBox]]:
        """All layers of one frame before the sensor model."""
        view = _View.of(pose, self.width, self.height)
        base = cv2.warpAffine(self._pano.image, view.warp_matrix(self._geo),
                              (self.width, self.height),
                              flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                              borderMode=cv2.BORDER_REPLICATE)
        img = base[..., :3].astype(np.float32)
        depth = np.asarray(cv2.warpAffine(self._pano.depth, view.warp_matrix(self._geo),
                                          (self.width, self.height),
                                          flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP,
                                          borderMode=cv2.BORDER_REPLICATE), dtype=np.uint16)
        if "clouds" in self.distractors:
            self._draw_clouds(img, np.asarray(base[..., 3], dtype=np.uint8), view, t)
        self._draw_vehicles(img, depth, view, t)
        pal = _PALETTES[self.lighting]
        for puffs, dark, light in ((self._dust, (150, 132, 108), (196, 178, 150)),
                                   (self._steam, (196, 198, 202), (248, 248, 248))):
            if puffs is not None:
                self._draw_puffs(img, depth, view, t, puffs, _scale(dark, pal.ambient),
                                 _scale(light, pal.ambient), 0.1)
        boxes: list[TruthBox] = []
        if self.fire and t >= self._fire.onset_s:
            boxes += self._draw_fire(img, depth, view, i, t)
        if "haze" in self.distractors:
            self._draw_haze(img, view, t)
        if pose.preset is None:
            blur_px = abs(pose.pan_speed_deg_s) * _EXPOSURE_FRACTION / self.fps / view.deg_per_px
            k = round(blur_px)
            if k >= 2:
                img = np.asarray(cv2.blur(img, (k, 1), borderType=cv2.BORDER_REPLICATE),
                                 dtype=np.float32)
        return img, boxes

    def _draw_clouds(self, img: F32, sky_mask: NDArray[np.uint8], view: _View, t: float) -> None:
        """Drifting clouds, only where the sky shows (behind the skyline and the chimney)."""
        horizon_v = view.top_deg / view.deg_per_px  # image row of elevation 0
        rows = min(self.height, math.ceil(horizon_v) + 1)
        if rows <= 0:
            return
        down = self._cloud_down
        m = view.warp_matrix(self._geo)
        m[:, :2] /= down
        m[:, 2] = (m[:, 2] + 0.5) / down - 0.5  # panorama index -> reduced layer index
        shift_px = self._cloud_drift_deg_s * t * self._geo.ppd / down
        m[0, 2] = (m[0, 2] - shift_px) % (self._geo.width360 / down)
        layer = cv2.warpAffine(self._clouds, m, (self.width, rows),
                               flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=0)
        alpha = layer[..., 0] * (sky_mask[:rows].astype(np.float32) / 255.0)
        pal = _PALETTES[self.lighting]
        lo = np.array(_bgr(_scale(pal.sky_horizon, 0.78)), np.float32)
        hi = np.array(_bgr(_mix(pal.sky_horizon, (255, 255, 255), 0.6)), np.float32)
        if self.lighting == "night":
            hi = np.array(_bgr(_scale(pal.sky_horizon, 1.3)), np.float32)
        col = lo + (hi - lo) * layer[..., 1:2]
        _blend(img[:rows], col, alpha)

    def _draw_haze(self, img: F32, view: _View, t: float) -> None:
        """A drifting veil, thickest near the horizon, breathing slowly over time."""
        params, profile = self._haze
        level = params[0] + params[1] * math.sin(2 * math.pi * t / params[2] + params[3])
        rows = (np.arange(self.height) + 0.5) * view.deg_per_px
        elev = view.top_deg - rows
        prof_v = 0.35 + 0.65 * np.exp(-np.abs(elev) / 5.0)
        cols = view.center_deg + (np.arange(self.width) + 0.5 - self.width / 2) * view.deg_per_px
        idx = np.mod((cols - params[4] * t * 10.0) / 360.0 * profile.size, profile.size)
        prof_h = np.interp(idx, np.arange(profile.size + 1),
                           np.concatenate([profile, profile[:1]]))
        hmap = (level * np.outer(prof_v, prof_h)).astype(np.float32)
        if self._haze_img is None:
            self._haze_img = np.empty((self.height, self.width, 3), np.float32)
            self._haze_img[:] = self._pano.haze_bgr
        _blend(img, self._haze_img, hmap)

    def _project_world(self, view: _View, xyz: F64) -> tuple[F64, F64, F64]:
        """Image coordinates and distance of world points."""
        phi, d = self._geo.polar(xyz[:, 0], xyz[:, 1])
        u, v = view.project(phi, self._geo.elev_deg(xyz[:, 2], d))
        return u, v, d

    def _draw_puffs(self, img: F32, depth: U16, view: _View, t: float, puffs: _Puffs, dark: RGB,
                    light: RGB, self_shadow: float) -> tuple[_Splat, F32] | None:
        """Projects, splats and composites one particle source; returns its splat and alpha."""
        st = puffs.state(t)
        if st is None:
            return None
        xyz, sigma, dens, shade, variant, _ = st
        u, v, d = self._project_world(view, xyz)
        near = np.abs(u - self.width / 2) < self.width * 2
        if not near.any():
            return None
        sig_px = np.degrees(sigma / d) / view.deg_per_px
        sp = _splat(self._bank, self.width, self.height, u[near], v[near], sig_px[near],
                    dens[near], shade[near], variant[near])
        if sp is None:
            return None
        _occlude(sp, depth, float(d[near].min()))
        veil = 1.0 - math.exp(-float(np.median(d)) / self._pano.vis_m)
        haze = self._pano.haze_bgr
        dark_v = np.array(_bgr(_mix(dark, (haze[2], haze[1], haze[0]), veil)), np.float32)
        light_v = np.array(_bgr(_mix(light, (haze[2], haze[1], haze[0]), veil)), np.float32)
        alpha = _composite(img, sp, dark_v, light_v, self_shadow)
        return sp, alpha

    def _draw_fire(self, img: F32, depth: U16, view: _View, i: int, t: float) -> list[TruthBox]:
        """The smoke plume and its flame; returns their truth boxes."""
        pal = _PALETTES[self.lighting]
        warm, brown = self._smoke_tint
        dark = _mix(pal.smoke_dark, (120, 96, 70), brown * 4)
        light = _scale(pal.smoke_light, warm)
        boxes: list[TruthBox] = []
        drawn = self._draw_puffs(img, depth, view, t, self._smoke, dark, light, 0.22)
        if drawn is not None:
            sp, alpha = drawn
            box = _tight_box(alpha > _ALPHA_BOX, sp.x0, sp.y0)
            if box is not None:
                boxes.append(TruthBox(track_id=SMOKE_TRACK_ID, label=Label.SMOKE, xyxy=box,
                                      visible=round(min(1.0, max(0.0, sp.visible)), 4)))
        if self._fire.has_flame:
            flame_box = self._draw_flame(img, depth, view, i, t, pal)
            if flame_box is not None:
                boxes.append(TruthBox(track_id=FIRE_TRACK_ID, label=Label.FIRE, xyxy=flame_box))
        return boxes

    def _draw_flame(self, img: F32, depth: U16, view: _View, i: int, t: float,
                    pal: _Palette) -> XYXY | None:
        """Flickering tongues scattered along the fire front, with a glow that matters after dark."""
        f = self._fire
        grow = float(_smoothstep((t - f.onset_s - 1.0) / f.ramp_s))
        if grow <= 0.05:
            return None
        front = f.front_m + f.front_growth_m_s * (t - f.onset_s)
        flicker = self._flicker[i]
        base = f.source_m[None, :] + (self._tongues * front)[:, None] * f.front_dir[None, :]
        heights = f.flame_h_m * grow * flicker
        u, v, d = self._project_world(view, np.column_stack([base, heights / 2]))
        if np.all((u < -20) | (u > self.width + 20) | (v < -20) | (v > self.height + 20)):
            return None
        px_m = np.degrees(1.0 / d) / view.deg_per_px
        sx = np.maximum(0.5, px_m * 0.45)
        sy = np.maximum(0.6, px_m * heights / 4.0)
        x0 = max(0, math.floor(float((u - 3 * sx).min())))
        x1 = min(self.width, math.ceil(float((u + 3 * sx).max())))
        y0 = max(0, math.floor(float((v - 3 * sy).min())))
        y1 = min(self.height, math.ceil(float((v + 3 * sy).max())))
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
        alpha *= depth[y0:y1, x0:x1] >= float(d.min()) * _OCCLUSION_SLACK
        # Flames are emitters: above 255 before the sensor gain so they stay bright after it.
        boost = 1.0 / {"day": 1.0, "dusk": 0.7, "night": 0.4}[self.lighting]
        edge = np.array(_bgr((240.0, 110.0, 30.0)), np.float32) * boost
        core = np.array(_bgr((255.0, 210.0, 120.0)), np.float32) * boost
        col = edge + (core - edge) * (alpha**2)[..., None]
        roi = img[y0:y1, x0:x1]
        roi += (col - roi) * alpha[..., None]
        if pal.glow > 0:
            self._add_glow(img, float(u.mean()), float(v.max()),
                           float(px_m.mean()) * (front + 6.0), pal.glow * grow * 45.0)
        mask = alpha > _ALPHA_FIRE
        return _tight_box(mask, x0, y0) if _box_big(mask) else None

    def _add_glow(self, img: F32, u: float, v: float, sigma_px: float, amp: float) -> None:
        """Additive orange light around the fire, on the ground and the base of the smoke."""
        spr = self._bank.plain(max(2.0, sigma_px))
        half = spr.shape[0] // 2
        cx, cy = round(u), round(v)
        x0, y0 = max(0, cx - half), max(0, cy - half)
        x1, y1 = min(self.width, cx + half + 1), min(self.height, cy + half + 1)
        if x1 <= x0 or y1 <= y0:
            return
        part = spr[y0 - (cy - half):y1 - (cy - half), x0 - (cx - half):x1 - (cx - half)]
        img[y0:y1, x0:x1] += part[..., None] * np.array(_bgr((1.0, 0.55, 0.2)), np.float32) * amp

    def _draw_vehicles(self, img: F32, depth: U16, view: _View, t: float) -> None:
        """Cars and tractors by day; head- or tail-lights when lit traffic is a distractor."""
        lit = "headlights" in self.distractors
        pal = _PALETTES[self.lighting]
        tt = np.array([t])
        for veh in self._vehicles:
            pos, head = veh.at(tt)
            d = float(np.hypot(*pos[0]))
            if d > 5000.0 or d < 40.0:
                continue
            xyz = np.array([[pos[0, 0], pos[0, 1], 0.0], [pos[0, 0], pos[0, 1], veh.height_m]])
            u, v, _ = self._project_world(view, xyz)
            if not (0 <= u[0] < self.width and 0 <= v[1] < self.height):
                continue
            mid_row = min(self.height - 1, max(0, int((v[0] + v[1]) / 2)))
            if depth[mid_row, int(u[0])] < d * _OCCLUSION_SLACK:
                continue  # behind a tree or a house
            px_m = math.degrees(1.0 / d) / view.deg_per_px
            sight = pos[0] / d
            across = abs(float(head[0, 0] * sight[1] - head[0, 1] * sight[0]))
            half_w = max(0.5, px_m * (veh.length_m * across + 2.0 * (1 - across)) / 2)
            if self.lighting != "night":
                rgb = _scale(veh.rgb, pal.ambient)
                pts = np.array([[u[0] - half_w, v[0]], [u[0] + half_w, v[0]],
                                [u[1] + half_w, v[1]], [u[1] - half_w, v[1]]])
                cv2.fillPoly(img, [np.round((pts - 0.5) * 8).astype(np.int32)], _bgr(rgb),
                             cv2.LINE_8, 3)
            if lit and not veh.dusty:
                towards = float(-(head[0] @ sight)) > 0
                amp = 900.0 if towards else 260.0
                rgb_l = (1.0, 0.95, 0.82) if towards else (1.0, 0.15, 0.1)
                self._add_light(img, float(u[0]), float(v[0] - 0.3 * (v[0] - v[1])),
                                max(0.8, px_m * 0.9), amp, rgb_l)

    def _add_light(self, img: F32, u: float, v: float, sigma_px: float, amp: float,
                   rgb: RGB) -> None:
        """A point light: a bright core and a wide faint halo (lens glare)."""
        for s, a in ((sigma_px, amp), (sigma_px * 5.0, amp * 0.06)):
            spr = self._bank.plain(s)
            half = spr.shape[0] // 2
            cx, cy = round(u), round(v)
            x0, y0 = max(0, cx - half), max(0, cy - half)
            x1, y1 = min(self.width, cx + half + 1), min(self.height, cy + half + 1)
            if x1 <= x0 or y1 <= y0:
                continue
            part = spr[y0 - (cy - half):y1 - (cy - half), x0 - (cx - half):x1 - (cx - half)]
            img[y0:y1, x0:x1] += part[..., None] * np.array(_bgr(rgb), np.float32) * a

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

    def _sees_source(self, preset: _Preset) -> bool:
        view = _View.of(_Pose(preset.pan_deg, preset.tilt_deg, preset.hfov_deg, preset.id, 0.0),
                        self.width, self.height)
        xyz = np.array([[self._fire.source_m[0], self._fire.source_m[1], 0.0]])
        u, v, _ = self._project_world(view, xyz)
        return bool(0 <= u[0] < self.width and 0 <= v[0] < self.height)

    def _truth_preset(self) -> _Preset:
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

    def _fallback_region(self, preset: _Preset) -> XYXY:
        """A small box around the source when the clip never shows the plume from `preset`."""
        view = _View.of(_Pose(preset.pan_deg, preset.tilt_deg, preset.hfov_deg, preset.id, 0.0),
                        self.width, self.height)
        xyz = np.array([[self._fire.source_m[0], self._fire.source_m[1], 0.0]])
        u, v, _ = self._project_world(view, xyz)
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


def _box_big(mask: NDArray[np.bool_]) -> bool:
    """A flame box only counts when it spans a couple of pixels each way."""
    rows = np.flatnonzero(mask.any(axis=1))
    cols = np.flatnonzero(mask.any(axis=0))
    return bool(rows.size and cols.size and rows[-1] - rows[0] + 1 >= _MIN_FIRE_PX
                and cols[-1] - cols[0] + 1 >= _MIN_FIRE_PX)
