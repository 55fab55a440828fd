"""Ground distractors: which ones a scene gets, traffic and its lights, tractor dust, chimney steam."""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

from edge.synth.smoke.common import F32, F64, OCCLUSION_SLACK, PALETTES, RGB, U16, bgr, scale
from edge.synth.smoke.geometry import Geometry, View, project_world
from edge.synth.smoke.particles import Puffs, PuffSpec, SpriteBank, Wind
from edge.synth.smoke.world.layout import Road, World
from edge.synth.truth import Lighting

DISTRACTOR_NAMES = ("clouds", "haze", "chimney_steam", "dust", "headlights")

_STEAM_SPEC = PuffSpec(rise_w0=4.0, rise_tau_s=4.0, rise_w1=0.5, sigma0_m=3.5, spread=0.35,
                        diffuse_m_s=1.5, dens0=2.2, decay_s=3.5, life_s=12.0, fade_in_s=0.3,
                        shade0=0.85, shade_gain=0.15, jitter_m=0.3)
_DUST_SPEC = PuffSpec(rise_w0=0.6, rise_tau_s=4.0, rise_w1=0.08, sigma0_m=2.0, spread=0.3,
                       diffuse_m_s=1.2, dens0=1.4, decay_s=3.5, life_s=12.0, fade_in_s=0.4,
                       shade0=0.6, shade_gain=0.1, jitter_m=0.5)


def choose_distractors(rng: np.random.Generator, lighting: Lighting) -> list[str]:
    """A random subset, never fewer than three, of what fits the time of day."""
    allowed = {"day": ("clouds", "haze", "chimney_steam", "dust"),
               "dusk": DISTRACTOR_NAMES,
               "night": ("clouds", "haze", "chimney_steam", "headlights")}[lighting]
    keep = [name for name in allowed if rng.random() < 0.6]
    rest = [name for name in allowed if name not in keep]
    while len(keep) < 3:
        keep.append(rest.pop(int(rng.integers(len(rest)))))
    if lighting == "night" and "headlights" not in keep:
        keep.append("headlights")  # at night, traffic on the roads is always lit
    return [name for name in DISTRACTOR_NAMES if name in keep]


@dataclass(frozen=True)
class Vehicle:
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
    def on(cls, road: Road, rng: np.random.Generator, speed_m_s: float, rgb: RGB, length_m: float,
           height_m: float, dusty: bool) -> Vehicle:
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


def make_fx(rng: np.random.Generator, world: World, wind: Wind, distractors: list[str],
            duration_s: float) -> tuple[list[Vehicle], Puffs | None, Puffs | None]:
    """Traffic on the roads, dust behind tractors on dirt tracks, steam from the chimney."""
    vehicles = []
    colours: list[RGB] = [(230, 230, 228), (40, 40, 44), (170, 40, 36), (60, 90, 150),
                          (150, 150, 152)]
    for road in world.roads:
        for _ in range(int(rng.integers(1, 4))):
            vehicles.append(Vehicle.on(road, rng, rng.uniform(8.0, 18.0),
                                       colours[int(rng.integers(len(colours)))],
                                       rng.uniform(4.0, 9.0), rng.uniform(1.5, 3.0), False))
    dusty = [Vehicle.on(track, rng, rng.uniform(4.0, 9.0), (60, 110, 70), 5.0, 2.5, True)
             for track in world.dust_tracks]
    births_all, origins, winds = [], [], []
    for veh in dusty:
        births = np.arange(-_DUST_SPEC.life_s, duration_s + 1.0, 0.25)
        pos, head = veh.at(births)
        births_all.append(births)
        origins.append(np.column_stack([pos - head * 3.0, np.full(births.size, 1.0)]))
        winds.append(wind.at(births) * 0.6)
    dust = None
    if "dust" in distractors and dusty:
        vehicles += dusty
        b = np.concatenate(births_all)
        dust = Puffs(rng, _DUST_SPEC, b, np.concatenate(origins), np.concatenate(winds),
                     np.ones(b.size))
    steam = None
    if "chimney_steam" in distractors:
        ch = world.chimney
        births = np.arange(-_STEAM_SPEC.life_s, duration_s + 1.0, 0.3)
        origin = np.tile([ch.xy_m[0], ch.xy_m[1], ch.height_m + 1.0], (births.size, 1))
        burst = 0.6 + 0.4 * np.sin(2 * math.pi * births / rng.uniform(8.0, 20.0)) ** 2
        steam = Puffs(rng, _STEAM_SPEC, births, origin, wind.at(births) * 1.3, burst)
    return vehicles, dust, steam


def draw_vehicles(img: F32, depth: U16, view: View, t: float, vehicles: list[Vehicle],
                  geo: Geometry, bank: SpriteBank, lighting: Lighting, lit: bool) -> None:
    """Cars and tractors by day; head- or tail-lights when lit traffic is a distractor."""
    pal = PALETTES[lighting]
    tt = np.array([t])
    for veh in vehicles:
        pos, head = veh.at(tt)
        d = float(np.hypot(*pos[0]))
        if d > 5000.0 or d < 40.0:
            continue
        xyz = np.array([[pos[0, 0], pos[0, 1], 0.0], [pos[0, 0], pos[0, 1], veh.height_m]])
        u, v, _ = project_world(geo, view, xyz)
        if not (0 <= u[0] < view.width and 0 <= v[1] < view.height):
            continue
        mid_row = min(view.height - 1, max(0, int((v[0] + v[1]) / 2)))
        if depth[mid_row, int(u[0])] < d * OCCLUSION_SLACK:
            continue  # behind a tree or a house
        px_m = math.degrees(1.0 / d) / view.deg_per_px
        sight = pos[0] / d
        across = abs(float(head[0, 0] * sight[1] - head[0, 1] * sight[0]))
        half_w = max(0.5, px_m * (veh.length_m * across + 2.0 * (1 - across)) / 2)
        if lighting != "night":
            rgb = scale(veh.rgb, pal.ambient)
            pts = np.array([[u[0] - half_w, v[0]], [u[0] + half_w, v[0]],
                            [u[1] + half_w, v[1]], [u[1] - half_w, v[1]]])
            cv2.fillPoly(img, [np.round((pts - 0.5) * 8).astype(np.int32)], bgr(rgb),
                         cv2.LINE_8, 3)
        if lit and not veh.dusty:
            towards = float(-(head[0] @ sight)) > 0
            amp = 900.0 if towards else 260.0
            rgb_l = (1.0, 0.95, 0.82) if towards else (1.0, 0.15, 0.1)
            _add_light(img, bank, float(u[0]), float(v[0] - 0.3 * (v[0] - v[1])),
                       max(0.8, px_m * 0.9), amp, rgb_l)


def _add_light(img: F32, bank: SpriteBank, u: float, v: float, sigma_px: float, amp: float,
               rgb: RGB) -> None:
    """A point light: a bright core and a wide faint halo (lens glare)."""
    height, width = img.shape[:2]
    for s, a in ((sigma_px, amp), (sigma_px * 5.0, amp * 0.06)):
        spr = bank.plain(s)
        half = spr.shape[0] // 2
        cx, cy = round(u), round(v)
        x0, y0 = max(0, cx - half), max(0, cy - half)
        x1, y1 = min(width, cx + half + 1), min(height, cy + half + 1)
        if x1 <= x0 or y1 <= y0:
            continue
        part = spr[y0 - (cy - half):y1 - (cy - half), x0 - (cx - half):x1 - (cx - half)]
        img[y0:y1, x0:x1] += part[..., None] * np.array(bgr(rgb), np.float32) * a
