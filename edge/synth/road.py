"""Pole-mounted camera geometry and the static road background of a checkpoint scene."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np


@dataclass(frozen=True)
class PoleCamera:
    """Pinhole camera `height_m` above the road, looking along +Z and pitched down.

    X is metres to the right of the camera, Y metres up, Z metres along the road. Checkpoint
    cameras sit on 5-7 m poles pitched 25-35 degrees down so riders' heads are large enough
    to judge over roughly 5-30 m of road.
    """

    width: int
    height: int
    focal_px: float
    height_m: float
    pitch_deg: float

    @property
    def _sin_cos(self) -> tuple[float, float]:
        p = np.deg2rad(self.pitch_deg)
        return float(np.sin(p)), float(np.cos(p))

    def depth_m(self, z_m: float, y_m: float = 0.0) -> float:
        """Distance along the optical axis of a point at height y_m, Z = z_m."""
        s, c = self._sin_cos
        return (self.height_m - y_m) * s + z_m * c

    def project(self, x_m: float, y_m: float, z_m: float) -> tuple[float, float]:
        """Image position (u, v) in pixels of a world point."""
        s, c = self._sin_cos
        depth = (self.height_m - y_m) * s + z_m * c
        up = (y_m - self.height_m) * c + z_m * s
        return (self.width / 2 + self.focal_px * x_m / depth,
                self.height / 2 - self.focal_px * up / depth)

    def ground_grid(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Ground coordinates (X, Z) seen by every pixel, and a mask of pixels that see ground."""
        s, c = self._sin_cos
        vv, uu = np.mgrid[0:self.height, 0:self.width].astype(np.float32)
        dx = (uu - self.width / 2) / self.focal_px
        dy = -(vv - self.height / 2) / self.focal_px
        # Ray direction in world coordinates for camera axes (right, up, forward).
        ry = dy * c - s
        rz = dy * s + c
        hits = ry < -1e-3
        t = np.where(hits, self.height_m / -np.minimum(ry, -1e-3), 0.0)
        return dx * t, rz * t, hits

    def z_at_row(self, v: float) -> float:
        """Ground distance Z seen at image row v (on the optical centre column)."""
        s, c = self._sin_cos
        dy = -(v - self.height / 2) / self.focal_px
        ry, rz = dy * c - s, dy * s + c
        return float(self.height_m / -ry * rz)


@dataclass(frozen=True)
class RoadLayout:
    """Lateral layout of the road in metres (X of each edge), right-hand traffic."""

    centre_x_m: float
    lane_w_m: float
    bike_lane_w_m: float
    sidewalk_w_m: float

    @property
    def motor_half_m(self) -> float:
        return self.lane_w_m

    def bike_lane_x_m(self, towards_camera: bool) -> float:
        """Centre of the non-motorised lane used by riders in one direction."""
        side = -1.0 if towards_camera else 1.0
        return self.centre_x_m + side * (self.lane_w_m + self.bike_lane_w_m / 2)

    def motor_lane_x_m(self, towards_camera: bool) -> float:
        side = -1.0 if towards_camera else 1.0
        return self.centre_x_m + side * self.lane_w_m / 2

    def sidewalk_x_m(self, left: bool) -> float:
        side = -1.0 if left else 1.0
        return self.centre_x_m + side * (self.lane_w_m + self.bike_lane_w_m + self.sidewalk_w_m / 2)


def render_background(cam: PoleCamera, road: RoadLayout, rng: np.random.Generator) -> np.ndarray:
    """The static scene: asphalt, markings, kerbs, pavements and verges, in BGR."""
    gx, gz, hits = cam.ground_grid()
    ax = np.abs(gx - road.centre_x_m)
    asphalt = np.array(rng.uniform(70, 105)) + np.array([0.0, 2.0, 4.0])
    pavement = np.array([150, 160, 165]) * rng.uniform(0.8, 1.05)
    verge = np.array(rng.choice([[60, 110, 80], [70, 95, 110], [95, 120, 135]]), dtype=np.float64)

    img = np.empty((cam.height, cam.width, 3), np.float32)
    img[:] = verge
    road_half = road.lane_w_m + road.bike_lane_w_m
    on_road = ax <= road_half
    on_walk = (ax > road_half) & (ax <= road_half + road.sidewalk_w_m)
    img[on_road] = asphalt
    img[on_walk] = pavement
    # Pavement tiles: a 0.5 m grid darkens joints.
    joints = on_walk & ((np.mod(gz, 0.5) < 0.03) | (np.mod(gx, 0.5) < 0.03))
    img[joints] *= 0.85
    white = np.array([215, 220, 220], np.float32)
    yellow = np.array([40, 170, 215], np.float32)
    line_w = 0.12
    centre_line = np.abs(gx - road.centre_x_m) < line_w
    dashes = np.mod(gz, 9.0) < 3.0  # 3 m dash, 6 m gap: urban lane dashes
    img[centre_line] = yellow
    bike_sep = (np.abs(ax - road.lane_w_m) < line_w / 2 + 0.03) & dashes
    img[bike_sep] = white
    kerb = np.abs(ax - road_half) < 0.15
    img[kerb] = np.array([185, 190, 190], np.float32)
    img[~hits] = np.array([200, 190, 170], np.float32)

    coarse = rng.normal(0.0, 1.0, size=(cam.height // 4 + 1, cam.width // 4 + 1)).astype(np.float32)
    texture = np.asarray(cv2.resize(coarse, (cam.width, cam.height), interpolation=cv2.INTER_LINEAR))
    img += (texture * 6.0)[..., None]
    # Oil stains and patches make the asphalt less uniform for the detector.
    for _ in range(int(rng.integers(3, 9))):
        u, v = int(rng.integers(0, cam.width)), int(rng.integers(cam.height // 3, cam.height))
        axes = (int(rng.integers(15, 60)), int(rng.integers(5, 20)))
        cv2.ellipse(img, (u, v), axes, 0, 0, 360, (asphalt * rng.uniform(0.7, 0.9)).tolist(), -1)
    return np.asarray(cv2.GaussianBlur(img, (3, 3), 0.8).clip(0, 255).astype(np.uint8))
