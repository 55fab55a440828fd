"""Where two cameras' bearings cross: a local flat-earth (ENU) approximation, fine below ~20 km.

Around an origin (lat0, lon0), a point (lat, lon) sits at
    east_m  = R * cos(lat0) * (lon - lon0)     (angles in radians)
    north_m = R * (lat - lat0)
A compass bearing b (degrees clockwise from north) points along d = (sin b, cos b). With
camera A at the origin and camera B at P_B, the rays A + t*d_A and P_B + s*d_B meet where
    t = cross(P_B, d_B) / cross(d_A, d_B),   s = cross(P_B, d_A) / cross(d_A, d_B)
with cross(u, v) = u_e * v_n - u_n * v_e. The fix counts only ahead of both cameras (t, s > 0),
within range, and when the rays are not near-parallel (|cross(d_A, d_B)| = sin of the angle).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_M = 6_371_008.8  # mean radius (IUGG)


@dataclass(frozen=True)
class LatLon:
    """A position in degrees (WGS84; the approximation does not care about the datum)."""

    latitude_deg: float
    longitude_deg: float


@dataclass(frozen=True)
class Fix:
    """An estimated position and how good the geometry is."""

    position: LatLon
    range_a_m: float
    range_b_m: float
    crossing_angle_deg: float  # 90: perpendicular bearings (best); near 0: almost parallel


def to_enu(origin: LatLon, point: LatLon) -> tuple[float, float]:
    """(east_m, north_m) of `point` around `origin`."""
    lat0 = math.radians(origin.latitude_deg)
    east = EARTH_RADIUS_M * math.cos(lat0) * math.radians(point.longitude_deg - origin.longitude_deg)
    north = EARTH_RADIUS_M * math.radians(point.latitude_deg - origin.latitude_deg)
    return east, north


def from_enu(origin: LatLon, east_m: float, north_m: float) -> LatLon:
    """Inverse of `to_enu`."""
    lat0 = math.radians(origin.latitude_deg)
    return LatLon(origin.latitude_deg + math.degrees(north_m / EARTH_RADIUS_M),
                  origin.longitude_deg + math.degrees(east_m / (EARTH_RADIUS_M * math.cos(lat0))))


def _direction(bearing_deg: float) -> tuple[float, float]:
    b = math.radians(bearing_deg)
    return math.sin(b), math.cos(b)


def _cross(u: tuple[float, float], v: tuple[float, float]) -> float:
    return u[0] * v[1] - u[1] * v[0]


def intersect_bearings(a: LatLon, bearing_a_deg: float, b: LatLon, bearing_b_deg: float, *,
                       max_range_m: float = 20_000.0, min_crossing_deg: float = 5.0) -> Fix | None:
    """Where the bearing from `a` meets the bearing from `b`; None when they do not meet usefully."""
    d_a, d_b = _direction(bearing_a_deg), _direction(bearing_b_deg)
    denom = _cross(d_a, d_b)
    crossing_deg = math.degrees(math.asin(min(1.0, abs(denom))))
    if crossing_deg < min_crossing_deg:
        return None
    p_b = to_enu(a, b)
    t = _cross(p_b, d_b) / denom
    s = _cross(p_b, d_a) / denom
    if t <= 0 or s <= 0 or t > max_range_m or s > max_range_m:
        return None
    return Fix(from_enu(a, t * d_a[0], t * d_a[1]), t, s, crossing_deg)


def bearing_difference_deg(x_deg: float, y_deg: float) -> float:
    """Smallest angle between two compass bearings, 0..180."""
    diff = abs(x_deg - y_deg) % 360.0
    return min(diff, 360.0 - diff)
