"""Counts two-wheelers crossing a checkpoint's counting line, once each, with their occupants (DESIGN.md 5).

The point that crosses is the box's bottom centre, where the wheels touch the road. A track
counts when it has passed the line by more than a hysteresis band from the side it came from,
and only once it has `min_track_hits` frames; it is reported when it ends or `report_after_s`
after crossing, so the helmet vote sees the riders as they come closest to the camera.
"""

from __future__ import annotations

import logging
import math
from datetime import datetime, timedelta

from edge.analysers.geometry import border_sides, centre, grow, iou, overlap_of_smaller
from edge.analysers.occupants import assign_heads
from edge.analysers.vehicle import CounterSettings, RiderCrossing, Vehicle, steady_speeds
from edge.config import CountingLine
from edge.labels import HEAD_LABELS, Label
from edge.source import Frame
from edge.tracker import Track

__all__ = ["CounterSettings", "RiderCounter", "RiderCrossing"]

log = logging.getLogger(__name__)

# Two vehicles' boxes overlap this much only when they are one vehicle boxed twice.
DUPLICATE_IOU = 0.5
# A vehicle that stood this many frames (boxes overlapping its first by STAY_IOU) is parked...
PARKED_HITS = 10
STAY_IOU = 0.7
# ... and a box of its tracker id overlapping its place less than this is another vehicle
# that the tracker gave the parked one's id while passing it.
LEFT_IOU = 0.5
_OUTWARD = {"left": (-1, 0), "right": (1, 0), "top": (0, -1), "bottom": (0, 1)}


class RiderCounter:
    """Feed every analysed frame's tracks to `update`; it returns each crossing once, when complete."""

    def __init__(self, line: CountingLine, *, min_track_hits: int, min_head_votes: int,
                 settings: CounterSettings | None = None) -> None:
        self.line, self.settings = line, settings or CounterSettings()
        self.min_track_hits, self.min_head_votes = min_track_hits, min_head_votes
        self._vehicles: dict[int, Vehicle] = {}  # by key
        self._alias: dict[int, int] = {}  # tracker id -> vehicle key
        self._next_key = 1
        self.continued_ids = 0  # new ids taken as the continuation of an earlier track
        self._now = float("-inf")  # time of the latest frame
        self._since: datetime | None = None  # the first frame since the start or the last flush

    def update(self, tracks: list[Track], frame: Frame) -> list[RiderCrossing]:
        t = self._now = frame.captured_at.timestamp()
        if self._since is None:
            self._since = frame.captured_at
        width, height = frame.size_wh
        vehicles = [tr for tr in tracks if tr.label == Label.TWO_WHEELER]
        heads = assign_heads(vehicles, [tr for tr in tracks if tr.label in HEAD_LABELS])
        seen: set[int] = set()
        # Tracks that own their vehicle first: a continuation (an id taken for an earlier one)
        # that turns out to be a second vehicle in the same frame is split off again.
        for track in sorted(vehicles, key=lambda tr: not self._owns(tr)):
            v = self._vehicle_for(track, t, seen)
            if v.key in seen:
                v = self._new_vehicle(track, t)
            seen.add(v.key)
            self._observe(v, track, t, frame, width, height, heads.get(track.track_id, []))
        return self._due(t)

    def flush(self) -> list[RiderCrossing]:
        """Report every counted vehicle not yet reported (end of stream or shutdown)."""
        out = []
        for v in self._vehicles.values():
            self._extrapolate_exit(v, self._now)
            if v.counted and not v.reported:
                out.append(self._report(v))
        self._vehicles.clear()
        self._alias.clear()
        self._since = None
        return sorted(out, key=lambda c: c.crossed_at)

    # ---- identity -----------------------------------------------------------------------------
    def _owns(self, track: Track) -> bool:
        v = self._vehicles.get(self._alias.get(track.track_id, 0))
        return v is not None and v.track_id == track.track_id

    def _vehicle_for(self, track: Track, t: float, seen: set[int]) -> Vehicle:
        v = self._vehicles.get(self._alias.get(track.track_id, 0))
        if v is not None:
            return self._new_vehicle(track, t) if self._left_its_place(v, track) else v
        parent = self._continued(track, t, seen)
        if parent is not None:
            self._alias[track.track_id] = parent.key
            self.continued_ids += 1
            log.debug("track %d continues track %d (id switch)", track.track_id, parent.track_id)
            return parent
        return self._new_vehicle(track, t)

    def _new_vehicle(self, track: Track, t: float) -> Vehicle:
        key, self._next_key = self._next_key, self._next_key + 1
        v = self._vehicles[key] = Vehicle(key, track.track_id, t, datetime.min, track.xyxy, place=track.xyxy)
        self._alias[track.track_id] = key
        return v

    def _left_its_place(self, v: Vehicle, track: Track) -> bool:
        """Whether a parked vehicle's tracker id now boxes something else; keeps `v.parked` up to date."""
        overlap = iou(v.place or track.xyxy, track.xyxy)
        if v.parked >= PARKED_HITS and overlap < LEFT_IOU:
            log.debug("track %d: parked vehicle's id now on a moving one", track.track_id)
            return True
        v.parked = v.parked + 1 if v.parked >= 0 and overlap >= STAY_IOU else -1  # -1: it moves
        return False

    def _continued(self, track: Track, t: float, seen: set[int]) -> Vehicle | None:
        """A vehicle that vanished moments ago (not out of the view) where this new id appears."""
        best: tuple[float, Vehicle] | None = None
        for v in self._vehicles.values():
            dt = t - v.last_t
            if v.key in seen or v.exiting or not 0 < dt <= self.settings.switch_window_s:
                continue
            x0, y0, x1, y1 = v.xyxy
            dx, dy = v.velocity_px_s[0] * dt, v.velocity_px_s[1] * dt
            predicted = (x0 + dx, y0 + dy, x1 + dx, y1 + dy)
            (px, py), (cx, cy) = centre(predicted), centre(track.xyxy)
            dist = math.hypot(px - cx, py - cy) / max(x1 - x0, y1 - y0, 1.0)
            # Grown boxes: a clipped sliver at the edge and the box it grows into barely overlap.
            overlap = overlap_of_smaller(grow(predicted, 0.5), grow(track.xyxy, 0.5))
            if (overlap >= 0.5 or dist <= 0.5) and (best is None or dist < best[0]):
                best = (dist, v)
        return best[1] if best else None

    # ---- crossing -----------------------------------------------------------------------------
    def _signed_px(self, x: float, y: float, width: int, height: int) -> float:
        """Distance of (x, y) from the line, > 0 on its right (the `positive` side), in pixels."""
        (sx, sy), (ex, ey) = self.line.start_xy, self.line.end_xy
        sx, sy, ex, ey = sx * width, sy * height, ex * width, ey * height
        return ((ex - sx) * (y - sy) - (ey - sy) * (x - sx)) / math.hypot(ex - sx, ey - sy)

    def _observe(self, v: Vehicle, track: Track, t: float, frame: Frame, width: int, height: int,
                 heads: list[tuple[Track, float, float]]) -> None:
        s = self.settings
        sides = border_sides(track.xyxy, width, height, s.border_margin_px)
        if t > v.last_t:
            (ox, oy), (nx, ny) = centre(v.xyxy), centre(track.xyxy)
            v.velocity_px_s = ((nx - ox) / (t - v.last_t), (ny - oy) / (t - v.last_t))
            if not sides and not v.clipped:  # speed in box heights: the same near and far
                heights = (v.xyxy[3] - v.xyxy[1] + track.xyxy[3] - track.xyxy[1]) / 2
                v.path_heights += math.hypot(nx - ox, ny - oy) / max(heights, 1.0)
                v.path_s += t - v.last_t
        v.last_t, v.last_at, v.xyxy, v.clipped = t, frame.captured_at, track.xyxy, bool(sides)
        v.exiting = any(_OUTWARD[side][0] * v.velocity_px_s[0] + _OUTWARD[side][1] * v.velocity_px_s[1] > 0
                        for side in sides)
        v.at_side = bool(sides & {"left", "right"})
        v.seats.observe(heads, t, clipped=bool(sides))
        if v.hits == 0:
            v.first_t, v.entered_sideways = t, v.at_side
        v.hits += 1
        v.conf_sum += track.confidence
        self._keep_best(v, track, frame, heads, bool(sides))
        # Cut at the left or right edge, the box's bottom is not where the wheels are (they may be
        # out of view): such frames say nothing about the line. Cut at the bottom, the wheels are
        # below the image edge, which is on the same side of any line drawn inside the image.
        if not sides & {"left", "right"}:
            x0, _, x1, y1 = track.xyxy
            v.band_px = max(s.min_band_px, s.band_fraction * (track.xyxy[3] - track.xyxy[1]))
            self._ground(v, t, self._signed_px((x0 + x1) / 2, y1, width, height))
        self._decide(v)

    def _ground(self, v: Vehicle, t: float, d: float) -> None:
        v.ground = [*v.ground[-2:], (t, d)]
        side = 1 if d > 0 else -1 if d < 0 else 0
        if v.origin == 0:
            v.origin = side
        elif v.crossing is None and len(v.ground) == 3 and v.entered_sideways and not v.entry_checked:
            self._extrapolate_entry(v)
        if v.crossing is None and v.origin != 0:
            if side == -v.origin and v.flip_t is None and v.prev is not None:
                pt, pd = v.prev  # interpolate the moment the ground point was on the line
                v.flip_t = pt + (t - pt) * abs(pd) / (abs(pd) + abs(d))
            elif side == v.origin:
                v.flip_t = None
            if side == -v.origin and abs(d) > v.band_px:
                self._crossed(v, v.flip_t if v.flip_t is not None else t)
        v.prev = (t, d)

    def _extrapolate_entry(self, v: Vehicle) -> None:
        """A vehicle that came into view sideways already past the line, moving away from it, crossed
        it out of sight just before: the line goes on beyond the image where the road does."""
        v.entry_checked = True
        speeds = steady_speeds(v.ground)
        (t0, d0), (_, d1) = v.ground[0], v.ground[-1]
        speed = speeds[0] if speeds is not None else 0.0  # its earliest motion
        if speed * v.origin <= 0 or abs(d1) <= v.band_px:
            return  # moving towards the line (it will cross in view), still on it, or unsteady
        at_t = t0 - d0 / speed
        if at_t >= v.first_t - self.settings.exit_extrapolate_s:
            v.origin = -v.origin
            # Not before the first frame seen: before it (the stream's start, or the camera coming
            # back after a gap) nobody saw the road, so the crossing is timed when it was first known.
            self._crossed(v, max(at_t, self._since.timestamp() if self._since is not None else at_t))

    def _crossed(self, v: Vehicle, at_t: float) -> None:
        v.crossing = (self.line.positive if v.origin < 0 else self.line.negative, at_t)

    def _decide(self, v: Vehicle) -> None:
        if v.crossing is None or v.counted or v.settled or v.hits < self.min_track_hits:
            return
        if v.crossing[0] not in self.line.count or self._duplicate_of_counted(v) or self._walking(v):
            v.settled = True
        else:
            v.counted = True
            log.debug("track %d counted %s", v.track_id, v.crossing[0])

    def _walking(self, v: Vehicle) -> bool:
        """Slower than a two-wheeler is ridden: a pedestrian taken for one, or a bike pushed."""
        if v.path_s < self.settings.speed_window_s:
            return False  # not seen unclipped long enough to judge
        slow = v.path_heights / v.path_s < self.settings.min_speed_heights_s
        if slow:
            log.debug("track %d not counted: %.2f box heights/s", v.track_id, v.path_heights / v.path_s)
        return slow

    def _duplicate_of_counted(self, v: Vehicle) -> bool:
        """A second box on one vehicle (a detector may box the vehicle alone and with its riders):
        a counted vehicle seen in the same frame, crossed the same way, overlapping it by half."""
        assert v.crossing is not None
        return any(o is not v and o.counted and o.last_t == v.last_t and o.crossing is not None
                   and o.crossing[0] == v.crossing[0] and iou(o.xyxy, v.xyxy) >= DUPLICATE_IOU
                   for o in self._vehicles.values())

    def _extrapolate_exit(self, v: Vehicle, now: float) -> None:
        """A vehicle that left the view sideways, heading for the line and about to reach it, crossed
        it out of sight: the line goes on beyond the image where the road does."""
        if v.crossing is not None or not v.at_side or v.origin == 0:
            return  # (the ground speed below says whether it was heading for the line)
        speeds = steady_speeds(v.ground)
        t1, d1 = v.ground[-1]
        speed = speeds[1] if speeds is not None else 0.0  # its latest motion
        if speed * v.origin >= 0:
            return  # not moving towards the line, or unsteady
        at_t = t1 - d1 / speed
        # Not beyond the last frame seen: at the end of a stream nobody knows what came next.
        if at_t <= min(v.last_t + self.settings.exit_extrapolate_s, now):
            self._crossed(v, at_t)
            self._decide(v)

    def _keep_best(self, v: Vehicle, track: Track, frame: Frame, heads: list[tuple[Track, float, float]],
                   clipped: bool) -> None:
        x0, y0, x1, y1 = track.xyxy
        score = (x1 - x0) * (y1 - y0) * track.confidence * (0.5 if clipped else 1.0)
        if any(h.label == Label.HEAD_NO_HELMET for h, _, _ in heads):
            score *= 2.0  # a violation's evidence should show the bare head
        if v.best is None or score > v.best[0]:
            v.best = (score, frame.image, track.xyxy, frame.captured_at)

    # ---- reporting ----------------------------------------------------------------------------
    def _due(self, t: float) -> list[RiderCrossing]:
        s, out = self.settings, []
        for v in list(self._vehicles.values()):
            lost = t - v.last_t > s.lost_after_s
            if lost:
                self._extrapolate_exit(v, t)
            if v.counted and not v.reported and v.crossing is not None and (
                    lost or t - v.crossing[1] >= s.report_after_s):
                out.append(self._report(v))
            if t - v.last_t > max(s.lost_after_s, s.switch_window_s) and (v.reported or not v.counted):
                del self._vehicles[v.key]
                for alias in [a for a, k in self._alias.items() if k == v.key]:
                    del self._alias[alias]
        return out

    def _report(self, v: Vehicle) -> RiderCrossing:
        assert v.crossing is not None
        v.reported = True
        crossed_at = v.last_at + timedelta(milliseconds=round((v.crossing[1] - v.last_t) * 1000))
        # Rounding to the millisecond must not put a crossing timed at the first frame after a gap
        # (see _extrapolate_entry) back inside the gap: nobody saw the road before that frame.
        if self._since is not None:
            crossed_at = max(crossed_at, self._since)
        _, image, xyxy, at = v.best if v.best is not None else (0.0, None, v.xyxy, crossed_at)
        return RiderCrossing(v.track_id, v.crossing[0], crossed_at, v.seats.verdicts(self.min_head_votes),
                             round(v.conf_sum / max(v.hits, 1), 4), v.hits, image, xyxy, at)
