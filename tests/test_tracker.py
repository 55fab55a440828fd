"""Tracker stage: stable, deterministic ids from ultralytics' BYTETracker behind our own types."""

from __future__ import annotations

import itertools

import pytest

from edge.detector import Detection
from edge.labels import Label
from edge.tracker import ByteTracker, Track


def det(label: Label, x: float, y: float, w: float = 60, h: float = 120, conf: float = 0.9) -> Detection:
    return Detection(label, conf, (x, y, x + w, y + h), str(label))


def test_two_objects_keep_their_ids_and_ids_start_at_one_per_instance() -> None:
    frames = [[det(Label.TWO_WHEELER, 100 + 12 * i, 50 + 20 * i),
               det(Label.TWO_WHEELER, 800 - 12 * i, 600 - 20 * i)] for i in range(12)]
    for _ in range(2):  # a second tracker in the same process numbers from 1 again
        tracker = ByteTracker(10.0)
        seen = [sorted((t.xyxy[0], t.track_id) for t in tracker.update(d)) for d in frames]
        assert all(len(s) == 2 for s in seen)
        assert [tid for _, tid in seen[0]] == [1, 2]
        assert all([tid for _, tid in s] == [1, 2] for s in seen)


def test_after_a_reset_nothing_continues_an_earlier_track_and_no_id_is_reused() -> None:
    tracker = ByteTracker(10.0)
    before = [tracker.update([det(Label.TWO_WHEELER, 100 + 5 * i, 100)]) for i in range(5)]
    assert {t.track_id for ts in before for t in ts} == {1}
    tracker.update([])  # the last analysed frame before the camera went away: the track is lost
    tracker.reset()
    after = [tracker.update([det(Label.TWO_WHEELER, 125 + 5 * i, 100)]) for i in range(5)]
    assert {t.track_id for ts in after for t in ts} == {2}
    assert after[-1][0].hits == 5
    # Without the reset, the same box one frame later is the lost track found again.
    tracker = ByteTracker(10.0)
    for i in range(5):
        tracker.update([det(Label.TWO_WHEELER, 100 + 5 * i, 100)])
    tracker.update([])
    assert [t.track_id for t in tracker.update([det(Label.TWO_WHEELER, 125, 100)])] == [1]


def test_track_carries_this_frames_detection_and_counts_hits() -> None:
    tracker = ByteTracker(10.0)
    last: list[Track] = []
    for i in range(5):
        last = tracker.update([det(Label.TWO_WHEELER, 100 + 5 * i, 100, conf=0.5 + 0.1 * i)])
    (track,) = last
    assert track.xyxy == (120.0, 100.0, 180.0, 220.0)  # the detection's box, not a filtered estimate
    assert track.confidence == pytest.approx(0.9)
    assert track.hits == 5
    assert track.age_frames == 5
    assert track.bottom_centre_xy == (150.0, 220.0)


def test_fast_object_moving_its_own_size_per_frame_keeps_its_id() -> None:
    # A head 20 px wide moving 18 px per analysed frame: plain IoU matching would lose it.
    tracker = ByteTracker(10.0)
    ids = {t.track_id for i in range(10)
           for t in tracker.update([det(Label.HEAD_HELMET, 100 + 18 * i, 300, w=20, h=22)])}
    assert ids == {1}


def test_head_class_flicker_keeps_the_id_and_reports_each_frames_label() -> None:
    tracker = ByteTracker(10.0)
    labels, ids = [], set()
    flicker = itertools.cycle([Label.HEAD_HELMET, Label.HEAD_NO_HELMET])
    for i, label in enumerate(itertools.islice(flicker, 8)):
        (track,) = tracker.update([det(label, 300 + 3 * i, 200, w=24, h=26)])
        labels.append(track.label)
        ids.add(track.track_id)
    assert ids == {1}
    assert labels[:2] == [Label.HEAD_HELMET, Label.HEAD_NO_HELMET]


def test_overlapping_labels_are_tracked_apart() -> None:
    # A rider's body sits inside its two-wheeler's box; tracked in separate groups they never swap.
    tracker = ByteTracker(10.0)
    by_label: dict[Label, set[int]] = {}
    for i in range(8):
        x = 400 + 10 * i
        pair = [det(Label.TWO_WHEELER, x, 300, 70, 150), det(Label.RIDER, x + 5, 290, 60, 100)]
        for t in tracker.update(pair):
            by_label.setdefault(t.label, set()).add(t.track_id)
    assert len(by_label[Label.TWO_WHEELER]) == 1
    assert len(by_label[Label.RIDER]) == 1
    assert by_label[Label.TWO_WHEELER] != by_label[Label.RIDER]


def test_box_unclipping_at_the_image_edge_keeps_its_id() -> None:
    # Entering at the right edge: the box starts as a thin sliver and grows to its real shape.
    tracker = ByteTracker(10.0)
    ids = set()
    for i in range(8):
        x0 = max(1280 - 25 * (i + 1), 1180 - 12 * i)
        box = Detection(Label.TWO_WHEELER, 0.9, (x0, 300 - 15 * i, 1280, 480 - 15 * i), "tw")
        ids |= {t.track_id for t in tracker.update([box])}
    assert ids == {1}


def test_new_track_is_reported_from_its_first_frame() -> None:
    tracker = ByteTracker(10.0)
    assert [t.track_id for t in tracker.update([det(Label.TWO_WHEELER, 10, 10)])] == [1]
