"""World layout around the mast: villages, roads, field parcels, tree lines, houses and the chimney."""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.synth.smoke.common import F64, RGB
from edge.synth.smoke.tour import Preset

_FARM_RADIUS_M = 3500.0
_STRIP_RADIUS_M = 1600.0
_TREE_RADIUS_M = 4000.0
_SEASONS: dict[str, dict[str, float]] = {
    "summer": {"stubble": 0.5, "stubble_pale": 0.2, "ploughed": 0.08, "bare": 0.05,
               "green": 0.14, "burnt": 0.03},
    "autumn": {"stubble": 0.32, "stubble_pale": 0.1, "ploughed": 0.26, "bare": 0.1,
               "green": 0.18, "burnt": 0.04},
}


@dataclass(frozen=True)
class _Parcel:
    poly_m: F64
    kind: str
    orient: int
    shade: float


@dataclass(frozen=True)
class Road:
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
class Building:
    corners_m: F64  # (4, 2)
    height_m: float
    wall: RGB
    roof: RGB


@dataclass(frozen=True)
class Chimney:
    xy_m: tuple[float, float]
    height_m: float
    r_base_m: float
    r_top_m: float
    colour: RGB
    banded: bool


@dataclass
class World:
    mast_m: float
    grid_deg: float
    season: str
    parcels: list[_Parcel]
    roads: list[Road]
    villages: list[tuple[float, float, float]]
    trees: F64  # (N, 5): x, y, crown radius, crown centre height, crown height / width
    tree_tint: F64  # (N,) brightness factor
    buildings: list[Building]
    chimney: Chimney
    dust_tracks: list[Road]

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


def point_in_view(rng: np.random.Generator, preset: Preset, d_range_m: tuple[float, float],
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
                  trees: list[list[float]], buildings: list[Building]) -> None:
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
            buildings.append(Building(corners, rng.uniform(3.5, 7.5), wall,
                                       village_roofs[int(rng.integers(2))]))


def make_world(rng: np.random.Generator, presets: list[Preset]) -> World:
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
    chim_xy = point_in_view(rng, chim_preset, (800.0, 2500.0), 0.42)
    kiln = rng.random() < 0.5
    chimney = Chimney((float(chim_xy[0]), float(chim_xy[1])),
                       rng.uniform(32.0, 45.0) if kiln else rng.uniform(50.0, 75.0),
                       rng.uniform(1.8, 3.0), rng.uniform(1.0, 1.6),
                       (150, 84, 64) if kiln else (176, 174, 168), not kiln)

    roads: list[Road] = []
    for k in range(int(rng.integers(2, 4))):
        p = presets[k % len(presets)]
        through = point_in_view(rng, p, (250.0, 1500.0), 0.45)
        heading = a if rng.random() < 0.5 else b
        if rng.random() < 0.3:
            th = rng.uniform(0, 2 * math.pi)
            heading = np.array([math.cos(th), math.sin(th)])
        roads.append(Road(_polyline(rng, through, heading, 6000.0, 100.0, 1.5),
                           rng.uniform(5.0, 8.0), True))
    dust_tracks: list[Road] = []
    for _ in range(2):
        p = presets[int(rng.integers(len(presets)))]
        through = point_in_view(rng, p, (350.0, 1800.0), 0.35)
        heading = a if rng.random() < 0.5 else b
        dust_tracks.append(Road(_polyline(rng, through, heading, 450.0, 50.0, 0.5),
                                 rng.uniform(3.5, 5.0), False))

    trees: list[list[float]] = []
    buildings: list[Building] = []
    for vx, vy, vr in villages:
        _make_village(rng, np.array([vx, vy]), vr, grid_deg, trees, buildings)
    for road in roads:
        if rng.random() < 0.7:
            trees += _make_trees_along(rng, road.path_m, road.width_m / 2 + 3.0,
                                       rng.uniform(5.0, 8.0), _TREE_RADIUS_M)
    for _ in range(int(rng.integers(4, 10))):  # tree lines along field edges
        start = point_in_view(rng, presets[int(rng.integers(len(presets)))], (200.0, 3000.0), 0.6)
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
        buildings.append(Building(corners, rng.uniform(7.0, 12.0), (190, 186, 178),
                                   (78, 118, 168) if rng.random() < 0.6 else (150, 150, 150)))

    parcels = _make_parcels(rng, grid_deg, season, villages)
    tree_arr = np.array(trees, dtype=np.float64).reshape(-1, 5)
    return World(mast_m, grid_deg, season, parcels, roads, villages, tree_arr,
                  rng.uniform(0.75, 1.2, len(tree_arr)), buildings, chimney, dust_tracks)
