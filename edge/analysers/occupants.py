"""Who rides a two-wheeler: heads associated to its box, grouped into seats, and a helmet vote per seat.

Heads are small and fast, so a tracker often gives one person's head several ids over a
crossing, and swaps ids between a driver and a passenger. A seat is therefore followed by where
its head sits inside the two-wheeler's box, frame to frame, with head track ids only as a hint.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field

from edge.analysers.geometry import XYXY, centre
from edge.labels import Label, Verdict
from edge.tracker import Track

# A head belongs to a two-wheeler when its centre lies over the box (5% side margin) between
# 25% of the box height above it and 45% down into it: riders' heads sit in the top quarter of
# a two-wheeler+riders box, and a model that boxes the vehicle alone puts them just above it.
SIDE_MARGIN = 0.05
ABOVE = 0.25
DOWN_TO = 0.45
# A head moves less than this (in box widths/heights) relative to its two-wheeler between
# analysed frames (99% of the time in the samples); riders' heads are often only 0.1 apart.
SEAT_RADIUS = 0.1
CLIPPED_SEAT_RADIUS = 0.35
SAME_ID_BONUS = 0.03
MERGE_RADIUS = 0.15
# Below this confidence an observation is not "clear" and does not vote: just above the usual
# detection floor (0.25), so only the faintest heads are left out; the rest vote by confidence.
CLEAR_CONFIDENCE = 0.3
# A vote this split (winner's share of the weight) says "unknown" rather than guessing.
MIN_WINNER_SHARE = 0.6
MAX_OCCUPANTS = 3
# A seat seen in fewer frames is a head that passed by, or a fragment of a seat already counted.
MIN_SEAT_VIEWS = 3


@dataclass(frozen=True, slots=True)
class OccupantVerdict:
    """One person on a counted two-wheeler; seat 0 is the one seen most (normally the driver)."""

    seat: int
    verdict: Verdict
    helmet_votes: int
    no_helmet_votes: int
    confidence: float
    head_track_ids: tuple[int, ...]


def head_offset(head: XYXY, vehicle: XYXY) -> tuple[float, float] | None:
    """Where a head sits relative to a two-wheeler box (x in widths from the left edge, y in
    heights from the top), or None when it cannot be one of its riders."""
    w, h = vehicle[2] - vehicle[0], vehicle[3] - vehicle[1]
    if w <= 0 or h <= 0:
        return None
    cx, cy = centre(head)
    rx, ry = (cx - vehicle[0]) / w, (cy - vehicle[1]) / h
    if -SIDE_MARGIN <= rx <= 1 + SIDE_MARGIN and -ABOVE <= ry <= DOWN_TO:
        return rx, ry
    return None


def assign_heads(vehicles: list[Track], heads: list[Track]) -> dict[int, list[tuple[Track, float, float]]]:
    """Heads of this frame by vehicle track id, each with its offset; a head goes to one vehicle at
    most, the one whose driver position (centre, near the top) it is closest to."""
    out: dict[int, list[tuple[Track, float, float]]] = {}
    for head in heads:
        best: tuple[float, int, float, float] | None = None
        for vehicle in vehicles:
            offset = head_offset(head.xyxy, vehicle.xyxy)
            if offset is None:
                continue
            cost = abs(offset[0] - 0.5) + abs(offset[1] - 0.1)
            if best is None or cost < best[0]:
                best = (cost, vehicle.track_id, *offset)
        if best is not None:
            out.setdefault(best[1], []).append((head, best[2], best[3]))
    return out


@dataclass
class _Seat:
    rx: float  # where its head was last seen, relative to the two-wheeler box
    ry: float
    first_t: float
    last_t: float
    first_xy: tuple[float, float]
    last_head_id: int
    head_ids: set[int] = field(default_factory=set)
    seen_t: set[float] = field(default_factory=set)
    votes: list[tuple[Label, float]] = field(default_factory=list)

    def add(self, head: Track, rx: float, ry: float, t: float) -> None:
        self.rx, self.ry, self.last_t, self.last_head_id = rx, ry, t, head.track_id
        self.head_ids.add(head.track_id)
        self.seen_t.add(t)
        self.votes.append((head.label, head.confidence))

    def absorb(self, later: _Seat) -> None:
        self.rx, self.ry, self.last_t = later.rx, later.ry, later.last_t
        self.head_ids |= later.head_ids
        self.seen_t |= later.seen_t
        self.votes += later.votes


@dataclass
class Seats:
    """The seats of one two-wheeler over its whole track, fed one frame at a time.

    A head is matched to the seat whose head was last seen nearest (relative to the box), one
    head per seat per frame; the tracker's head id only breaks near-ties, because at 10 fps a
    head moves about its own size between frames and head ids fragment and swap.
    """

    seats: list[_Seat] = field(default_factory=list)

    def observe(self, heads: list[tuple[Track, float, float]], t: float, *, clipped: bool = False) -> None:
        """Add one frame's heads. `clipped`: the vehicle's box is cut by the image edge, so head
        positions relative to it jump; heads then join the nearest seat loosely, or are dropped."""
        pairs = sorted((math.hypot(seat.rx - rx, seat.ry - ry) - (SAME_ID_BONUS if head.track_id ==
                        seat.last_head_id else 0.0), h, s)
                       for h, (head, rx, ry) in enumerate(heads) for s, seat in enumerate(self.seats))
        used_heads: set[int] = set()
        used_seats: set[int] = set()
        radius = CLIPPED_SEAT_RADIUS if clipped else SEAT_RADIUS
        for cost, h, s in pairs:
            if cost <= radius and h not in used_heads and s not in used_seats:
                head, rx, ry = heads[h]
                self.seats[s].add(head, rx, ry, t)
                used_heads.add(h)
                used_seats.add(s)
        for h, (head, rx, ry) in enumerate(heads):
            if h not in used_heads and not (clipped and self.seats):
                seat = _Seat(rx, ry, t, t, (rx, ry), head.track_id)
                seat.add(head, rx, ry, t)
                self.seats.append(seat)

    def _merged(self) -> list[_Seat]:
        """Seats that follow one another without ever being seen together, where one ends and the
        next begins, are one person whose head was lost for a while."""
        out: list[_Seat] = []
        for seat in sorted(self.seats, key=lambda s: s.first_t):
            ends = [(math.hypot(e.rx - seat.first_xy[0], e.ry - seat.first_xy[1]), i)
                    for i, e in enumerate(out) if e.last_t < seat.first_t and not e.seen_t & seat.seen_t]
            near = min(ends, default=None)
            if near is not None and near[0] <= MERGE_RADIUS:
                out[near[1]].absorb(seat)
            else:
                out.append(dataclasses.replace(seat, head_ids=set(seat.head_ids), seen_t=set(seat.seen_t),
                                               votes=list(seat.votes)))
        return out

    def verdicts(self, min_head_votes: int) -> tuple[OccupantVerdict, ...]:
        """Up to three occupants; a seat seen once while others were seen often is a passer-by."""
        ranked = sorted(self._merged(), key=lambda s: (-len(s.votes), min(s.head_ids)))
        most = len(ranked[0].votes) if ranked else 0
        keep = [s for s in ranked if len(s.votes) >= max(MIN_SEAT_VIEWS, 0.3 * most)] or ranked[:1]
        out = [_vote(i, s, min_head_votes) for i, s in enumerate(keep[:MAX_OCCUPANTS])]
        # Every two-wheeler that crossed has a driver, even when no head was ever seen.
        return tuple(out) or (OccupantVerdict(0, Verdict.UNKNOWN, 0, 0, 0.0, ()),)


def _vote(seat_no: int, seat: _Seat, min_head_votes: int) -> OccupantVerdict:
    clear = [(label, conf) for label, conf in seat.votes if conf >= CLEAR_CONFIDENCE]
    helmet = [c for label, c in clear if label == Label.HEAD_HELMET]
    bare = [c for label, c in clear if label == Label.HEAD_NO_HELMET]
    total = sum(helmet) + sum(bare)
    ids = tuple(sorted(seat.head_ids))
    if len(clear) < min_head_votes or total <= 0:
        return OccupantVerdict(seat_no, Verdict.UNKNOWN, len(helmet), len(bare), 0.0, ids)
    winner, weight = ((Verdict.HELMET, sum(helmet)) if sum(helmet) >= sum(bare)
                      else (Verdict.NO_HELMET, sum(bare)))
    share = weight / total
    verdict = winner if share >= MIN_WINNER_SHARE else Verdict.UNKNOWN
    return OccupantVerdict(seat_no, verdict, len(helmet), len(bare), round(share, 4), ids)
