"""The camera's preset tour: presets, the dwell/slew schedule, and motion blur while it slews."""

from __future__ import annotations

import bisect
from dataclasses import dataclass

import cv2
import numpy as np

from edge.synth.smoke.common import F32, signed_deg, smoothstep
from edge.synth.smoke.geometry import Pose, View

_DWELL_S = (20.0, 40.0)
_MOVE_S = (1.0, 2.0)
HFOV_DEG = (50.0, 65.0)
# Exposure as a fraction of the frame interval: sets the motion blur length during a pan.
_EXPOSURE_FRACTION = 0.5


@dataclass(frozen=True)
class Preset:
    id: str
    pan_deg: float
    tilt_deg: float
    hfov_deg: float


@dataclass(frozen=True)
class Segment:
    start_s: float
    end_s: float
    src: int
    dst: int  # equal to src while dwelling


def make_presets(rng: np.random.Generator) -> list[Preset]:
    """3-4 presets spread around the mast, each with its own zoom and a slightly different tilt."""
    n = int(rng.integers(3, 5))
    start = rng.uniform(0.0, 360.0)
    base_tilt = rng.uniform(-6.0, -3.0)
    out = []
    for k in range(n):
        pan = (start + k * 360.0 / n + rng.uniform(-12.0, 12.0)) % 360.0
        tilt = base_tilt + rng.uniform(-1.5, 1.5)
        out.append(Preset(f"p{k + 1}", round(pan, 3), round(tilt, 3),
                           round(rng.uniform(*HFOV_DEG), 3)))
    return out


class Schedule:
    """The camera's preset tour: dwell at a preset, slew to the next, and so on."""

    def __init__(self, presets: list[Preset], rng: np.random.Generator, duration_s: float) -> None:
        self.presets = presets
        k = int(rng.integers(len(presets)))
        dwell = rng.uniform(0.3, 1.0) * rng.uniform(*_DWELL_S)
        t = 0.0
        self.segments: list[Segment] = []
        while t <= duration_s:
            self.segments.append(Segment(t, t + dwell, k, k))
            t += dwell
            nxt = (k + 1) % len(presets)
            swing = abs(signed_deg(presets[nxt].pan_deg - presets[k].pan_deg))
            move = _MOVE_S[0] + (_MOVE_S[1] - _MOVE_S[0]) * swing / 180.0
            self.segments.append(Segment(t, t + move, k, nxt))
            t += move
            k = nxt
            dwell = rng.uniform(*_DWELL_S)
        self._starts = [s.start_s for s in self.segments]

    def segment(self, t_s: float) -> Segment:
        return self.segments[max(0, bisect.bisect_right(self._starts, t_s) - 1)]

    def pose(self, t_s: float) -> Pose:
        seg = self.segment(t_s)
        a, b = self.presets[seg.src], self.presets[seg.dst]
        if seg.src == seg.dst:
            return Pose(a.pan_deg, a.tilt_deg, a.hfov_deg, a.id, 0.0)
        span = seg.end_s - seg.start_s
        x = (t_s - seg.start_s) / span
        s = float(smoothstep(x))
        swing = signed_deg(b.pan_deg - a.pan_deg)
        speed = swing * 6.0 * x * (1.0 - x) / span
        return Pose((a.pan_deg + swing * s) % 360.0, a.tilt_deg + (b.tilt_deg - a.tilt_deg) * s,
                     a.hfov_deg + (b.hfov_deg - a.hfov_deg) * s, None, speed)

    def first_dwell_at(self, preset_index: int, after_s: float) -> Segment | None:
        """The first dwell at a preset that is still running at or after `after_s`."""
        for seg in self.segments:
            if seg.src == seg.dst == preset_index and seg.end_s > after_s:
                return seg
        return None


def motion_blur(img: F32, pose: Pose, view: View, fps: float) -> F32:
    """Smears a frame along the pan while the camera moves between presets."""
    if pose.preset is None:
        blur_px = abs(pose.pan_speed_deg_s) * _EXPOSURE_FRACTION / fps / view.deg_per_px
        k = round(blur_px)
        if k >= 2:
            img = np.asarray(cv2.blur(img, (k, 1), borderType=cv2.BORDER_REPLICATE),
                             dtype=np.float32)
    return img
