"""A road checkpoint seen from a pole: riders, passengers, pedestrians, cars and parked bikes.

Riders are counted where their ground point crosses a line across the road at `line_z_m`;
the renderer knows each crossing frame and each occupant's helmet verdict exactly.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass, field

import cv2
import numpy as np

from edge.labels import Label, Verdict
from edge.synth import sprites, vehicles
from edge.synth.camera import SensorModel
from edge.synth.road import PoleCamera, RoadLayout, render_background
from edge.synth.truth import (
    CountingLineTruth,
    Lighting,
    OccupantTruth,
    OtherTruth,
    RiderTruth,
    SceneTruth,
    TruthBox,
    TruthFrame,
)

Z_NEAR_M = 1.5   # behind the bottom edge of the view: actors enter and leave out of sight
Z_FAR_M = 34.0   # beyond the top edge for every camera pose drawn below (top edge < 30 m)
POSITIVE, NEGATIVE = "southbound", "northbound"  # positive = towards the camera (downwards)
WARMUP_S = 8.0   # simulate before frame 0 so the first frame already has traffic


@dataclass
class Occupant:
    person: sprites.Person
    head_track_id: int
    role: str
    dx_m: float
    hip_y_m: float
    in_front: bool = False  # a child standing in front of the driver
    body_track_id: int = 0


@dataclass
class Actor:
    """Anything moving along the road: z(t) = z0 + speed * (t - t0)."""

    track_id: int
    kind: str  # rider | pedestrian | car | parked_bike
    x_m: float
    z0_m: float
    t0_s: float
    speed_mps: float
    colour: sprites.Colour
    vehicle: str = ""
    occupants: list[Occupant] = field(default_factory=list)
    sway_m: float = 0.0
    sway_hz: float = 0.3
    basket: bool = False

    def z_at(self, t_s: float) -> float:
        return self.z0_m + self.speed_mps * (t_s - self.t0_s)

    def x_at(self, t_s: float) -> float:
        return self.x_m + self.sway_m * float(np.sin(2 * np.pi * self.sway_hz * (t_s - self.t0_s)))

    @property
    def facing(self) -> bool:
        return self.speed_mps < 0 or (self.speed_mps == 0 and self.track_id % 2 == 0)


@dataclass
class _Labelled:
    """Ids drawn for one labelled object in one frame, and how many pixels it had unoccluded."""

    track_id: int
    label: Label
    ids: tuple[int, ...]
    window: tuple[int, int, int, int]
    drawn_px: int = 0


class CheckpointScene:
    """Deterministic checkpoint traffic for `seed`; implements `edge.synth.scene.Scene`."""

    def __init__(self, seed: int, duration_s: float, *, width: int = 1280, height: int = 720,
                 fps: float = 15.0, lighting: Lighting | None = None,
                 helmet_rate: float | None = None, riders_per_min: float | None = None) -> None:
        if duration_s <= 0:
            raise ValueError("duration_s must be positive")
        self.seed, self.width, self.height, self.fps = seed, width, height, fps
        self.frame_count = max(1, round(duration_s * fps))
        rng = np.random.default_rng(seed)
        self._rng = rng
        drawn = str(rng.choice(["day", "dusk", "night"], p=[0.6, 0.2, 0.2]))
        self.lighting: Lighting = lighting or ("night" if drawn == "night" else
                                               "dusk" if drawn == "dusk" else "day")
        self.helmet_rate = helmet_rate if helmet_rate is not None else float(rng.uniform(0.7, 0.95))
        scale = width / 1280
        self.cam = PoleCamera(width, height, focal_px=float(rng.uniform(1000, 1200)) * scale,
                              height_m=float(rng.uniform(5.0, 7.0)),
                              pitch_deg=float(rng.uniform(32, 38)))
        self.road = RoadLayout(centre_x_m=float(rng.uniform(-1.0, 1.0)),
                               lane_w_m=float(rng.uniform(2.8, 3.4)),
                               bike_lane_w_m=float(rng.uniform(1.6, 2.4)),
                               sidewalk_w_m=float(rng.uniform(2.0, 3.5)))
        bottom_z = self.cam.z_at_row(height)
        self.line_z_m = bottom_z + float(rng.uniform(2.0, 3.5))
        self.background = render_background(self.cam, self.road, rng)
        if self.lighting == "night":
            self.background = self._street_lamps(self.background)
        self.sensor = SensorModel(rng, width, height, self.lighting,
                                  blur_px=float(rng.uniform(0.0, 1.0)))
        per_min = riders_per_min if riders_per_min is not None else float(rng.uniform(30, 55))
        self._next_id = 1
        self.actors = self._spawn_all(per_min / 60.0)

    # ---- simulation -------------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def _person(self, helmet: bool, scale: float = 1.0) -> sprites.Person:
        rng = self._rng
        if helmet:
            kind = str(rng.choice(sprites.HELMET_KINDS, p=[0.35, 0.45, 0.2]))
            colour = sprites.HELMET_COLOURS[int(rng.integers(len(sprites.HELMET_COLOURS)))]
        else:
            kind = str(rng.choice(sprites.BARE_KINDS, p=[0.4, 0.1, 0.25, 0.15, 0.1]))
            palette = sprites.HELMET_COLOURS if kind == "cap" else sprites.CLOTH_COLOURS
            colour = palette[int(rng.integers(len(palette)))]
        def pick(xs: list[sprites.Colour]) -> sprites.Colour:
            return xs[int(rng.integers(len(xs)))]

        return sprites.Person(kind, colour, pick(sprites.SKIN_TONES), pick(sprites.HAIR_COLOURS),
                              pick(sprites.CLOTH_COLOURS), pick(sprites.CLOTH_COLOURS), scale)

    def _rider(self, t0: float, towards: bool) -> Actor:
        rng = self._rng
        vehicle = str(rng.choice(["e_bike", "motorcycle", "bicycle"], p=[0.62, 0.3, 0.08]))
        speed = float(rng.uniform(3.0, 7.0) if vehicle != "motorcycle" else rng.uniform(5.0, 10.0))
        in_motor_lane = rng.random() < 0.12
        x = (self.road.motor_lane_x_m(towards) if in_motor_lane
             else self.road.bike_lane_x_m(towards)) + float(rng.uniform(-0.7, 0.7))
        occupants = [Occupant(self._person(rng.random() < self.helmet_rate), self._new_id(),
                              "driver", 0.0, vehicles.SEAT_Y_M)]
        n_pass = 0 if vehicle == "bicycle" else int(rng.choice([0, 1, 2], p=[0.72, 0.23, 0.05]))
        if n_pass >= 1:
            occupants.append(Occupant(self._person(rng.random() < self.helmet_rate * 0.8),
                                      self._new_id(), "passenger", float(rng.uniform(-0.14, 0.14)),
                                      vehicles.SEAT_Y_M + 0.08))
        if n_pass == 2:
            occupants.append(Occupant(self._person(rng.random() < 0.4, scale=0.65), self._new_id(),
                                      "passenger", 0.0, vehicles.SEAT_Y_M + 0.05, in_front=True))
        for o in occupants:
            o.body_track_id = self._new_id()
        colour = sprites.CLOTH_COLOURS[int(rng.integers(len(sprites.CLOTH_COLOURS)))]
        return Actor(self._new_id(), "rider", x, Z_FAR_M if towards else Z_NEAR_M, t0,
                     -speed if towards else speed, sprites.shade(colour, 1.3), vehicle, occupants,
                     sway_m=float(rng.uniform(0.0, 0.15)), sway_hz=float(rng.uniform(0.1, 0.5)),
                     basket=vehicle == "e_bike" and rng.random() < 0.4)

    def _spawn_all(self, riders_per_s: float) -> list[Actor]:
        rng, road = self._rng, self.road
        end_s = self.frame_count / self.fps
        actors: list[Actor] = []
        for towards in (True, False):
            t = -WARMUP_S
            while True:
                t += float(rng.exponential(2.0 / riders_per_s))
                if t >= end_s:
                    break
                actors.append(self._rider(t, towards))
            t = -WARMUP_S
            while True:
                t += float(rng.exponential(1 / 0.12))
                if t >= end_s:
                    break
                actors.append(Actor(self._new_id(), "car", road.motor_lane_x_m(towards)
                                    + float(rng.uniform(-0.4, 0.4)), Z_FAR_M if towards else Z_NEAR_M,
                                    t, float(rng.uniform(7, 13)) * (-1 if towards else 1),
                                    sprites.CLOTH_COLOURS[int(rng.integers(10))]))
        t = -WARMUP_S * 3
        while True:
            t += float(rng.exponential(1 / 0.12))
            if t >= end_s:
                break
            towards = rng.random() < 0.5
            # Most walk on the pavement; some walk in the bike lane and cross the counting line.
            x = (road.bike_lane_x_m(rng.random() < 0.5) if rng.random() < 0.15
                 else road.sidewalk_x_m(rng.random() < 0.5)) + float(rng.uniform(-0.5, 0.5))
            ped = Actor(self._new_id(), "pedestrian", x, Z_FAR_M if towards else Z_NEAR_M,
                        t, float(rng.uniform(1.0, 1.6)) * (-1 if towards else 1), (0, 0, 0))
            ped.occupants.append(Occupant(self._person(False), self._new_id(), "walker", 0, 0))
            actors.append(ped)
        for _ in range(int(rng.integers(0, 4))):
            left = rng.random() < 0.5
            edge = road.lane_w_m + road.bike_lane_w_m + 0.5
            bike = Actor(self._new_id(), "parked_bike", road.centre_x_m + (-edge if left else edge),
                         float(rng.uniform(self.line_z_m - 3, self.line_z_m + 12)), 0.0, 0.0,
                         sprites.CLOTH_COLOURS[int(rng.integers(10))], "e_bike")
            actors.append(bike)
        return actors

    def _street_lamps(self, background: np.ndarray) -> np.ndarray:
        pool = np.ones(background.shape[:2], np.float32)
        side = self.road.lane_w_m + self.road.bike_lane_w_m
        for z in np.arange(6.0, 40.0, 12.0):
            for sx in (-side, side):
                u, v = self.cam.project(self.road.centre_x_m + sx * 0.6, 0.0, float(z))
                r = max(20, int(self.cam.focal_px * 4.0 / self.cam.depth_m(float(z))))
                cv2.circle(pool, (int(u), int(v)), r, 1.8, -1)
        pool = np.asarray(cv2.GaussianBlur(pool, (0, 0), 25), np.float32)
        return np.asarray((background * pool[..., None]).clip(0, 255).astype(np.uint8))

    # ---- rendering ----------------------------------------------------------------------
    def _painter(self, image: np.ndarray, ids: np.ndarray, x: float, z: float, facing: bool
                 ) -> sprites.Painter:
        u0, v0 = self.cam.project(x, 0.0, z)
        _, v_top = self.cam.project(x, 1.0, z)
        sx = self.cam.focal_px / self.cam.depth_m(z)
        return sprites.Painter(image, ids, u0, v0, sx, v0 - v_top, mirror=not facing)

    def _draw_actor(self, a: Actor, t: float, image: np.ndarray, ids: np.ndarray,
                    frame_id: list[int]) -> list[_Labelled]:
        z, x = a.z_at(t), a.x_at(t)
        p = self._painter(image, ids, x, z, a.facing)
        if p.sx < 6:
            return []
        u0, v0 = int(p.u0), int(p.v0)
        half_w, tall = int(p.sx * 1.3) + 4, int(p.sy * 2.4) + 4
        window = (max(0, u0 - half_w), max(0, v0 - tall), min(self.width, u0 + half_w),
                  min(self.height, v0 + 6))
        if window[0] >= window[2] or window[1] >= window[3]:
            return []

        def nid() -> int:
            frame_id[0] += 1
            return frame_id[0]

        # Shadow on the road only: never on the id map.
        cv2.ellipse(image, (u0, v0), (max(1, int(p.sx * 0.5)), max(1, int(p.sx * 0.12))), 0, 0,
                    360, (35, 35, 35), -1, cv2.LINE_AA)
        out: list[_Labelled] = []
        if a.kind == "car":
            vehicles.draw_car(p, a.colour, a.facing, nid())
            return out
        if a.kind == "pedestrian":
            person = a.occupants[0]
            body, head = nid(), nid()
            vehicles.draw_pedestrian(p, person.person, a.facing, z * 2.2, body, head)
            out.append(_Labelled(person.head_track_id, Label.HEAD_NO_HELMET, (head,), window))
            return out
        vehicle_id = nid()
        unit_ids: list[int] = [vehicle_id]
        drawn: list[tuple[Occupant, int, int]] = []
        driver = a.occupants[0] if a.occupants else None
        behind = [o for o in a.occupants[1:] if not o.in_front]
        front = [o for o in a.occupants[1:] if o.in_front]

        def seat(o: Occupant, hands: bool) -> None:
            body, head = nid(), nid()
            q = dataclasses.replace(p, u0=p.u0 + (o.dx_m if a.facing else -o.dx_m) * p.sx)
            vehicles.draw_seated(q, o.person, a.facing, body, head, o.hip_y_m, hands)
            drawn.append((o, body, head))
            unit_ids.extend((body, head))

        # Painter's order: what is farther from the camera is drawn first.
        near_first, far_first = (front, behind) if a.facing else (behind, front)
        for o in far_first:
            seat(o, hands=False)
        if driver is not None:
            vehicles.draw_legs(p, driver.person, vehicles.SEAT_Y_M)
        vehicles.draw_two_wheeler(p, a.vehicle, a.colour, a.facing, vehicle_id, a.basket)
        if driver is not None:
            seat(driver, hands=True)
        for o in near_first:
            seat(o, hands=False)
        out.append(_Labelled(a.track_id, Label.TWO_WHEELER, tuple(unit_ids), window))
        for o, body, head in drawn:
            out.append(_Labelled(o.body_track_id, Label.RIDER, (body, head), window))
            label = Label.HEAD_HELMET if o.person.has_helmet else Label.HEAD_NO_HELMET
            out.append(_Labelled(o.head_track_id, label, (head,), window))
        return out

    def _measure(self, ids: np.ndarray, item: _Labelled) -> tuple[int, tuple[int, int, int, int]]:
        x0, y0, x1, y1 = item.window
        mask = np.isin(ids[y0:y1, x0:x1], item.ids)
        count = int(mask.sum())
        if count == 0:
            return 0, (0, 0, 0, 0)
        ys, xs = np.nonzero(mask)
        return count, (x0 + int(xs.min()), y0 + int(ys.min()), x0 + int(xs.max()) + 1,
                       y0 + int(ys.max()) + 1)

    def render(self) -> Iterator[tuple[np.ndarray, TruthFrame]]:
        ids = np.zeros((self.height, self.width), np.uint16)
        for index in range(self.frame_count):
            t = index / self.fps
            image = self.background.copy()
            ids[:] = 0
            frame_id = [0]
            live = [a for a in self.actors if Z_NEAR_M - 1 < a.z_at(t) < Z_FAR_M + 1
                    and (a.kind == "parked_bike" or a.t0_s <= t)]
            live.sort(key=lambda a: -a.z_at(t))
            labelled: list[_Labelled] = []
            for actor in live:
                items = self._draw_actor(actor, t, image, ids, frame_id)
                for item in items:
                    item.drawn_px = self._measure(ids, item)[0]
                labelled.extend(items)
            boxes = []
            for item in labelled:
                count, xyxy = self._measure(ids, item)
                if count < 6 or item.drawn_px == 0:
                    continue
                boxes.append(TruthBox(track_id=item.track_id, label=item.label,
                                      xyxy=(float(xyxy[0]), float(xyxy[1]), float(xyxy[2]), float(xyxy[3])),
                                      visible=round(min(1.0, count / item.drawn_px), 3)))
            frame = self.sensor.apply(image)
            if self.lighting != "day":
                self._headlights(frame, live, t)
            yield frame, TruthFrame(index=index, t_s=round(t, 4), boxes=boxes)

    def _headlights(self, frame: np.ndarray, live: list[Actor], t: float) -> None:
        """Lamps stay bright after the sensor's exposure drop, as they do on real footage."""
        for a in live:
            if a.kind in ("pedestrian", "parked_bike") or not a.facing:
                continue
            p = self._painter(frame, frame[..., 0], a.x_at(t), a.z_at(t), True)
            y = 0.75 if a.kind == "car" else 0.86
            r = max(2, int(p.sx * 0.08))
            for dx in ((-0.85, 0.85) if a.kind == "car" else (0.0,)):
                u, v = p.u0 + dx * p.sx, p.v0 - y * p.sy
                cv2.circle(frame, (int(u), int(v)), r * 2, (150, 170, 175), -1, cv2.LINE_AA)
                cv2.circle(frame, (int(u), int(v)), r, (245, 252, 255), -1, cv2.LINE_AA)

    # ---- truth ----------------------------------------------------------------------------
    def counting_line(self) -> CountingLineTruth:
        edge = self.road.lane_w_m + self.road.bike_lane_w_m + 0.3
        a = self.cam.project(self.road.centre_x_m - edge, 0.0, self.line_z_m)
        b = self.cam.project(self.road.centre_x_m + edge, 0.0, self.line_z_m)
        return CountingLineTruth(start_xy=(round(a[0], 2), round(a[1], 2)),
                                 end_xy=(round(b[0], 2), round(b[1], 2)),
                                 positive=POSITIVE, negative=NEGATIVE)

    def _crossing_frame(self, a: Actor) -> int | None:
        if a.speed_mps == 0:
            return None
        t_cross = a.t0_s + (self.line_z_m - a.z0_m) / a.speed_mps
        frame = int(np.ceil(t_cross * self.fps - 1e-9))
        return frame if 0 <= frame < self.frame_count else None

    def truth(self, frames: list[TruthFrame], video: str) -> SceneTruth:
        riders, others = [], []
        for a in self.actors:
            if a.kind == "rider":
                occupants = [OccupantTruth(
                    head_track_id=o.head_track_id, role="driver" if o.role == "driver" else "passenger",
                    verdict=Verdict.HELMET if o.person.has_helmet else Verdict.NO_HELMET,
                    headwear=o.person.headwear) for o in a.occupants]
                riders.append(RiderTruth(track_id=a.track_id, vehicle=a.vehicle,
                                         direction=POSITIVE if a.speed_mps < 0 else NEGATIVE,
                                         crossing_frame=self._crossing_frame(a),
                                         occupants=occupants))
            else:
                others.append(OtherTruth(track_id=a.track_id, kind=a.kind))
        return SceneTruth(kind="checkpoint", seed=self.seed, width=self.width, height=self.height,
                          fps=self.fps, frame_count=self.frame_count, lighting=self.lighting,
                          video=video, counting_line=self.counting_line(), riders=riders,
                          others=others, frames=frames)
