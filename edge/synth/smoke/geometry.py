"""Camera geometry: world metres to panorama pixels, and the linear view crops of the panorama."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from edge.synth.smoke.common import F64


@dataclass(frozen=True)
class Pose:
    """Where the camera points at one instant; `preset` is None while it moves."""

    pan_deg: float
    tilt_deg: float
    hfov_deg: float
    preset: str | None
    pan_speed_deg_s: float


@dataclass(frozen=True)
class Geometry:
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
class View:
    """The linear map between a pose's image pixels and (pan, elevation) angles."""

    center_deg: float
    top_deg: float
    deg_per_px: float
    width: int
    height: int

    @classmethod
    def of(cls, pose: Pose, width: int, height: int) -> View:
        dpp = pose.hfov_deg / width
        return cls(pose.pan_deg, pose.tilt_deg + dpp * height / 2.0, dpp, width, height)

    def project(self, phi_deg: F64, elev_deg: F64) -> tuple[F64, F64]:
        """Continuous image coordinates (pixel i spans [i, i+1)) of directions."""
        rel = (phi_deg - self.center_deg + 180.0) % 360.0 - 180.0
        return rel / self.deg_per_px + self.width / 2.0, (self.top_deg - elev_deg) / self.deg_per_px

    def warp_matrix(self, geo: Geometry) -> F64:
        """Inverse affine map from image pixel indices to panorama pixel indices."""
        s = geo.ppd * self.deg_per_px
        left = (self.center_deg - self.width / 2.0 * self.deg_per_px) % 360.0
        x0 = left * geo.ppd
        y0 = (geo.elev_top_deg - self.top_deg) * geo.ppd
        return np.array([[s, 0.0, x0 + 0.5 * s - 0.5], [0.0, s, y0 + 0.5 * s - 0.5]])


def view_bearing_deg(heading_deg: float, pan_deg: float, hfov_deg: float, x_norm: float) -> float:
    """Compass bearing of a horizontal image position (x_norm 0 = left edge, 1 = right edge).

    The views are linear in pan angle (cylindrical panorama), so the bearing is linear in x.
    """
    return (heading_deg + pan_deg + (x_norm - 0.5) * hfov_deg) % 360.0


def project_world(geo: Geometry, view: View, xyz: F64) -> tuple[F64, F64, F64]:
    """Image coordinates and distance of world points."""
    phi, d = geo.polar(xyz[:, 0], xyz[:, 1])
    u, v = view.project(phi, geo.elev_deg(xyz[:, 2], d))
    return u, v, d
