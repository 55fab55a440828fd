"""Rider counter on scripted tracks: one count per two-wheeler, whatever the tracker does (DESIGN.md 5)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from edge.analysers import CounterSettings, RiderCounter, RiderCrossing
from edge.config import CountingLine
from edge.labels import Label, Verdict
from edge.source import Frame
from edge.tracker import Track

START = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)
IMAGE = np.zeros((720, 1280, 3), np.uint8)
STEP_S = 0.1
# y = 360 px; moving down the image is southbound.
LINE = CountingLine(start_xy=(0.0, 0.5), end_xy=(1.0, 0.5), positive="southbound", negative="northbound",
                    count=("southbound", "northbound"))
W, H = 80.0, 160.0


def bike(track_id: int, x: float, bottom: float, *, hits: int = 1) -> Track:
    return Track(track_id, Label.TWO_WHEELER, (x, bottom - H, x + W, bottom), 0.9, hits, hits)


def head(track_id: int, of: Track, label: Label = Label.HEAD_HELMET, rx: float = 0.5, ry: float = 0.1,
         conf: float = 0.8) -> Track:
    x0, y0, x1, y1 = of.xyxy
    cx, cy = x0 + rx * (x1 - x0), y0 + ry * (y1 - y0)
    return Track(track_id, label, (cx - 10, cy - 11, cx + 10, cy + 11), conf, 1, 1)


def run(frames: Iterable[list[Track]], line: CountingLine = LINE, min_track_hits: int = 5,
        min_head_votes: int = 3, settings: CounterSettings | None = None
        ) -> tuple[list[RiderCrossing], RiderCounter]:
    counter = RiderCounter(line, min_track_hits=min_track_hits, min_head_votes=min_head_votes,
                           settings=settings)
    out: list[RiderCrossing] = []
    for i, tracks in enumerate(frames):
        frame = Frame(IMAGE, i, i * STEP_S, START + timedelta(seconds=i * STEP_S))
        out += counter.update(tracks, frame)
    return out + counter.flush(), counter


def ride(track_id: int, bottoms: Iterable[float], x: float = 500, head_id: int | None = None,
         label: Label = Label.HEAD_HELMET) -> list[list[Track]]:
    frames = []
    for b in bottoms:
        v = bike(track_id, x, b)
        frames.append([v] + ([head(head_id, v, label)] if head_id is not None else []))
    return frames


def test_a_crossing_counts_once_with_its_direction_time_and_rider() -> None:
    crossings, _ = run(ride(1, range(200, 540, 20), head_id=50))
    (c,) = crossings
    assert c.direction == "southbound"
    assert c.crossed_at == START + timedelta(seconds=0.8)  # bottom at 360 px on frame 8
    assert [(o.seat, o.verdict, o.helmet_votes) for o in c.occupants] == [(0, Verdict.HELMET, 17)]
    assert not c.violation
    assert c.evidence_image is IMAGE


def test_flicker_on_the_line_does_not_count_until_the_line_is_really_passed() -> None:
    wobble = [300, 330, 356, 364, 357, 363, 355, 365, 358, 362, 356, 364]
    crossings, _ = run(ride(1, wobble))
    assert crossings == []
    crossings, _ = run(ride(1, [*wobble, 380, 400, 420]))
    assert len(crossings) == 1


def test_back_and_forth_across_the_line_counts_once() -> None:
    path = [*range(260, 440, 20), *range(440, 260, -20), *range(260, 460, 20)]
    crossings, _ = run(ride(1, path))
    assert [c.direction for c in crossings] == ["southbound"]


def test_id_switch_after_the_count_does_not_count_again() -> None:
    # Track 1 crosses and is counted; the tracker then gives the same bike id 2, its first box
    # jittering back onto the line: without continuation, id 2 would cross and count again.
    frames = ride(1, range(260, 400, 20)) + ride(2, [354, 376, 396, 416, 436, 456, 476])
    crossings, counter = run(frames)
    assert [c.track_id for c in crossings] == [1]
    assert counter.continued_ids == 1


def test_id_switch_before_the_line_is_one_vehicle_with_all_its_hits() -> None:
    # Neither id alone has min_track_hits (5); together they are one stable vehicle.
    frames = ride(1, [240, 260, 280]) + ride(2, [320, 340, 380, 400])
    crossings, _ = run(frames)
    assert [(c.track_id, c.hits) for c in crossings] == [(1, 7)]


def test_short_lived_track_never_counts() -> None:
    crossings, _ = run(ride(1, [300, 340, 380, 420]))
    assert crossings == []


def test_pedestrian_is_not_a_rider() -> None:
    walker = [[Track(9, Label.HEAD_NO_HELMET, (700, y, 720, y + 22), 0.9, 1, 1)] for y in range(250, 470, 10)]
    crossings, _ = run(walker)
    assert crossings == []
    # A pedestrian's head over a passing bike for one frame is not one of its riders.
    frames = ride(1, range(200, 540, 20), head_id=50)
    frames[6].append(head(77, frames[6][0], Label.HEAD_NO_HELMET, rx=0.9, ry=0.3))
    (c,) = run(frames)[0]
    assert [o.verdict for o in c.occupants] == [Verdict.HELMET]


def test_passenger_gets_a_verdict_of_its_own_even_when_its_head_ids_fragment() -> None:
    frames = []
    for i, b in enumerate(range(200, 540, 20)):
        v = bike(1, 500, b)
        passenger_id = 60 + i // 3  # a new head id every third frame
        frames.append([v, head(50, v, Label.HEAD_HELMET, rx=0.3, ry=0.1),
                       head(passenger_id, v, Label.HEAD_NO_HELMET, rx=0.7, ry=0.14)])
    (c,) = run(frames)[0]
    assert [(o.seat, o.verdict) for o in c.occupants] == [(0, Verdict.HELMET), (1, Verdict.NO_HELMET)]
    assert set(c.occupants[1].head_track_ids) == set(range(60, 66))
    assert c.violation


def test_both_directions_are_counted_apart() -> None:
    down = ride(1, range(200, 540, 20), x=300)
    up = ride(2, range(540, 200, -20), x=900)
    crossings, _ = run([a + b for a, b in zip(down, up, strict=True)])
    assert sorted(c.direction for c in crossings) == ["northbound", "southbound"]


def test_a_direction_not_in_count_is_not_reported() -> None:
    south_only = LINE.model_copy(update={"count": ("southbound",)})
    down = ride(1, range(200, 540, 20), x=300)
    up = ride(2, range(540, 200, -20), x=900)
    crossings, _ = run([a + b for a, b in zip(down, up, strict=True)], line=south_only)
    assert [c.direction for c in crossings] == ["southbound"]


@pytest.mark.parametrize(("heads", "votes"), [(2, 2), (0, 0)])
def test_too_few_head_views_give_unknown(heads: int, votes: int) -> None:
    frames = ride(1, range(200, 540, 20))
    for i in range(heads):
        frames[i].append(head(50, frames[i][0]))
    (c,) = run(frames)[0]
    assert [(o.verdict, o.helmet_votes) for o in c.occupants] == [(Verdict.UNKNOWN, votes)]


def test_unclear_views_do_not_vote() -> None:
    frames = ride(1, range(200, 540, 20))
    for tracks in frames:
        tracks.append(head(50, tracks[0], Label.HEAD_NO_HELMET, conf=0.2))
    (c,) = run(frames)[0]
    assert c.occupants[0].verdict == Verdict.UNKNOWN


def test_leaving_the_view_sideways_just_before_the_line_counts() -> None:
    # The road runs on beyond the image: a bike cut by the left edge 20 px before the line,
    # heading for it, crosses it out of sight.
    later: list[list[Track]] = [[] for _ in range(15)]
    frames = [[bike(1, 300 - 60 * i, 200 + 20 * i)] for i in range(7)]  # last box cut at x = 0
    crossings, _ = run(frames + later)
    assert [c.direction for c in crossings] == ["southbound"]
    assert crossings[0].crossed_at == START + timedelta(seconds=0.8)  # 80 px short at 200 px/s, at 0.4 s
    far = [[bike(1, 300 - 60 * i, 100 + 10 * i)] for i in range(7)]  # leaves 200 px before the line
    assert run(far + later)[0] == []
    # At the end of a stream, a crossing that would come after the last frame is not assumed.
    assert run(frames)[0] == []


def test_entering_the_view_sideways_just_past_the_line_counts() -> None:
    # Mirror image of the above: a northbound bike appears at the right edge already above the line.
    frames = [[Track(1, Label.TWO_WHEELER, (max(1200 - 60 * i, 0), 340 - 20 * i - H, 1280 if i == 0 else
                                            max(1200 - 60 * i, 0) + W, 340 - 20 * i), 0.9, 1, 1)]
              for i in range(8)]
    crossings, _ = run(frames)
    assert [c.direction for c in crossings] == ["northbound"]


def test_a_crossing_timed_at_the_first_frame_after_a_gap_is_not_inside_the_gap() -> None:
    # The bike appears past the line, so its crossing is timed at the first frame seen after the
    # flush that ends a camera outage. At 15 fps frame times are not whole milliseconds apart.
    counter = RiderCounter(LINE, min_track_hits=5, min_head_votes=3)
    before = Frame(IMAGE, 0, 0.0, START)
    counter.update([], before)
    counter.flush()  # the camera was away
    back = START + timedelta(seconds=10, microseconds=123_457)
    crossings: list[RiderCrossing] = []
    for i in range(8):
        box = (max(1200 - 60 * i, 0), 340 - 20 * i - H, 1280 if i == 0 else max(1200 - 60 * i, 0) + W,
               340 - 20 * i)
        frame = Frame(IMAGE, 1 + i, 10 + i / 15, back + timedelta(seconds=i / 15))
        crossings += counter.update([Track(1, Label.TWO_WHEELER, box, 0.9, 1, 1)], frame)
    (c,) = crossings + counter.flush()
    assert c.crossed_at == back


def test_a_pedestrian_taken_for_a_two_wheeler_walks_too_slowly_to_count() -> None:
    # 5 px per frame at 10 fps for a 160 px box: 0.3 box heights a second, a walking pace.
    crossings, _ = run(ride(1, range(300, 420, 5)))
    assert crossings == []


def test_one_vehicle_boxed_twice_counts_once() -> None:
    bottoms = range(200, 540, 20)
    twice = [[*a, bike(2, 506, b + 4)] for a, b in zip(ride(1, bottoms), bottoms, strict=True)]
    crossings, _ = run(twice)
    assert len(crossings) == 1


def test_a_parked_bikes_id_moving_on_with_a_passing_rider_does_not_count_again() -> None:
    # Bike 1 stands just above the line; rider 2 passes it and is counted; then the tracker
    # hands the parked bike's id to the rider's box (and drops id 2).
    frames = [[bike(1, 520, 340)] for _ in range(12)]
    frames += [[bike(1, 520, 340), bike(2, 500, b)] for b in range(200, 400, 20)]
    frames += [[bike(1, 500, b)] for b in range(400, 600, 20)]
    crossings, _ = run(frames)
    assert [c.track_id for c in crossings] == [2]
    # Even when speed says nothing (a parked bike's id could go on to travel far).
    crossings, _ = run(frames, settings=CounterSettings(min_speed_heights_s=0.0))
    assert [c.track_id for c in crossings] == [2]
