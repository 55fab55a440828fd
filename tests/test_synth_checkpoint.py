"""The checkpoint renderer: determinism, consistent ground truth, readable H.264 clips."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.labels import Label
from edge.synth.checkpoint import NEGATIVE, POSITIVE, CheckpointScene
from edge.synth.dataset import CHECKPOINT_CLASSES, DatasetSpec, write_dataset, yolo_lines
from edge.synth.scene import write_clip
from edge.synth.truth import SceneTruth

SMALL = {"width": 640, "height": 360, "fps": 10.0}


def _digest(scene: CheckpointScene, n: int) -> tuple[str, list[str]]:
    h = hashlib.sha256()
    records = []
    for image, frame in scene.render():
        if frame.index >= n:
            break
        h.update(image.tobytes())
        records.append(frame.model_dump_json())
    return h.hexdigest(), records


def test_same_seed_same_frames_and_truth() -> None:
    a = _digest(CheckpointScene(3, 6.0, **SMALL), 40)
    b = _digest(CheckpointScene(3, 6.0, **SMALL), 40)
    c = _digest(CheckpointScene(4, 6.0, **SMALL), 40)
    assert a == b
    assert a[0] != c[0]


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, SceneTruth]:
    out = tmp_path_factory.mktemp("clip") / "checkpoint-21.mp4"
    truth = write_clip(CheckpointScene(21, 20.0, **SMALL, riders_per_min=60), out, progress=False)
    return out, truth


def test_clip_is_readable_with_expected_frames(clip: tuple[Path, SceneTruth]) -> None:
    video, truth = clip
    cap = cv2.VideoCapture(str(video))
    assert cap.isOpened()
    frames = 0
    while True:
        ok, image = cap.read()
        if not ok:
            break
        assert image.shape == (truth.height, truth.width, 3)
        frames += 1
    assert frames == truth.frame_count == 200
    assert SceneTruth.read(video.with_suffix(".json")) == truth


def test_boxes_inside_frame_with_positive_area(clip: tuple[Path, SceneTruth]) -> None:
    _, truth = clip
    n_boxes = 0
    for frame in truth.frames:
        for box in frame.boxes:
            x0, y0, x1, y1 = box.xyxy
            assert 0 <= x0 < x1 <= truth.width
            assert 0 <= y0 < y1 <= truth.height
            assert 0 < box.visible <= 1
            n_boxes += 1
    assert n_boxes > 500


def test_each_crossing_rider_has_one_verdict_per_occupant(clip: tuple[Path, SceneTruth]) -> None:
    _, truth = clip
    crossing = [r for r in truth.riders if r.crossing_frame is not None]
    assert len(crossing) >= 8
    assert {r.direction for r in crossing} == {POSITIVE, NEGATIVE}
    heads = [o.head_track_id for r in truth.riders for o in r.occupants]
    assert len(heads) == len(set(heads)), "a head belongs to one occupant"
    for rider in crossing:
        assert 0 <= rider.crossing_frame < truth.frame_count  # type: ignore[operator]
        assert [o.role for o in rider.occupants].count("driver") == 1
        assert 1 <= len(rider.occupants) <= 3
        for occupant in rider.occupants:
            assert occupant.verdict in ("helmet", "no_helmet")


def test_crossing_frame_matches_the_box_crossing_the_line(clip: tuple[Path, SceneTruth]) -> None:
    """The two-wheeler's bottom edge is on the far side of the line before the crossing
    frame and on the near side after it (or the reverse for riders going away)."""
    _, truth = clip
    assert truth.counting_line is not None
    line_y = (truth.counting_line.start_xy[1] + truth.counting_line.end_xy[1]) / 2
    # Only fully visible two-wheelers: an occluded one's visible box ends above its wheel.
    boxes = {(f.index, b.track_id): b for f in truth.frames for b in f.boxes
             if b.label == Label.TWO_WHEELER and b.visible > 0.97}
    checked = 0
    for rider in truth.riders:
        f = rider.crossing_frame
        if f is None or f < 1 or (f - 1, rider.track_id) not in boxes or (f, rider.track_id) not in boxes:
            continue
        before, after = boxes[(f - 1, rider.track_id)].xyxy[3], boxes[(f, rider.track_id)].xyxy[3]
        if rider.direction == POSITIVE:  # towards the camera: moving down the image
            assert before <= line_y + 2
            assert after >= line_y - 2
        else:
            assert before >= line_y - 2
            assert after <= line_y + 2
        checked += 1
    assert checked >= 5


def test_hard_cases_are_present() -> None:
    """Pedestrians, cars, passengers and no-helmet headwear that looks like a helmet."""
    scene = CheckpointScene(8, 120.0, width=320, height=180, fps=5.0)
    kinds = {a.kind for a in scene.actors}
    assert {"rider", "pedestrian", "car"} <= kinds
    riders = [a for a in scene.actors if a.kind == "rider"]
    headwear = {o.person.headwear for a in riders for o in a.occupants}
    assert {"cap", "hood", "bare_dark", "full_face", "half_shell"} <= headwear
    assert any(len(a.occupants) > 1 for a in riders)
    assert {a.vehicle for a in riders} >= {"e_bike", "motorcycle"}


def test_head_occlusion_lowers_visibility() -> None:
    """Some heads are partly hidden by nearer riders, and the truth says so."""
    scene = CheckpointScene(2, 30.0, **SMALL, riders_per_min=90)
    visibilities = [b.visible for _, f in scene.render() for b in f.boxes
                    if b.label in (Label.HEAD_HELMET, Label.HEAD_NO_HELMET)]
    assert min(visibilities) < 0.9
    assert np.median(visibilities) == 1.0


def test_dataset_split_by_seed(tmp_path: Path) -> None:
    spec = DatasetSpec("checkpoint", seeds=[1, 2, 3, 4, 5], frames_per_seed=3, duration_s=3.0,
                       val_fraction=0.4, out=tmp_path)
    data = write_dataset(spec, lambda s, d: CheckpointScene(s, d, **SMALL), CHECKPOINT_CLASSES,
                         progress=False)
    train = sorted(p.name for p in (tmp_path / "images" / "train").iterdir())
    val = sorted(p.name for p in (tmp_path / "images" / "val").iterdir())
    assert len(train) == 9
    assert len(val) == 6
    assert {n.split("_")[1] for n in val} == {"000004", "000005"}
    for name in train + val:
        split = "train" if name in train else "val"
        label = tmp_path / "labels" / split / name.replace(".jpg", ".txt")
        for line in label.read_text().splitlines():
            cls, *xywh = line.split()
            assert 0 <= int(cls) < len(CHECKPOINT_CLASSES)
            assert all(0 <= float(v) <= 1 for v in xywh)
    assert "head_no_helmet" in data.read_text()


def test_yolo_lines_drop_hidden_and_tiny_boxes() -> None:
    from edge.synth.truth import TruthBox, TruthFrame

    frame = TruthFrame(index=0, t_s=0.0, boxes=[
        TruthBox(track_id=1, label=Label.HEAD_HELMET, xyxy=(10, 10, 30, 34), visible=1.0),
        TruthBox(track_id=2, label=Label.HEAD_HELMET, xyxy=(10, 10, 30, 34), visible=0.2),
        TruthBox(track_id=3, label=Label.HEAD_NO_HELMET, xyxy=(10, 10, 12, 12), visible=1.0),
        TruthBox(track_id=4, label=Label.SMOKE, xyxy=(10, 10, 50, 50), visible=1.0),
    ])
    lines = yolo_lines(frame, CHECKPOINT_CLASSES, 100, 100)
    assert lines == ["2 0.200000 0.220000 0.200000 0.240000"]
