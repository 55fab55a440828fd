"""Training-set preparation (frames chosen by content, inference-scale tiles), and recall by size."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.synth.dataset import CHECKPOINT_CLASSES, SMOKE_CLASSES, DatasetSpec, pick_frames, write_dataset
from edge.training.evaluate import band_recall, found_truths, recall_by_height
from edge.training.tiles import Box, TileSpec, crop_boxes, read_labels, tile_origins, write_tiles


def test_pick_frames_meets_the_positive_share_and_spreads_the_rest() -> None:
    has = [i % 10 == 0 for i in range(100)]  # 10 positives among 100 frames
    picked = pick_frames(has, 8, 0.5)
    assert len(picked) == 8
    assert picked == sorted(set(picked))
    assert sum(has[i] for i in picked) == 4
    negatives = [i for i in picked if not has[i]]
    assert negatives[0] < 20
    assert negatives[-1] > 80


def test_pick_frames_fills_from_what_there_is() -> None:
    few_pos = pick_frames([True] * 3 + [False] * 50, 10, 0.8)
    assert len(few_pos) == 10
    assert {0, 1, 2} <= set(few_pos)
    few_neg = pick_frames([False] * 2 + [True] * 50, 10, 0.1)
    assert len(few_neg) == 10
    assert {0, 1} <= set(few_neg)
    assert pick_frames([True, False], 5, 0.5) == [0, 1]
    assert pick_frames([False] * 9, 3, 0.0) == [0, 4, 8]


def test_tiles_cover_the_frame_with_overlap() -> None:
    rng = np.random.default_rng(0)
    origins = tile_origins(640, 360, 320, rng)
    xs = sorted({x for x, _ in origins})
    assert xs == [0, 160, 320]  # half-tile overlap: any object up to 160 px is whole in one
    assert len({y for _, y in origins}) == 1
    assert 0 <= origins[0][1] <= 40
    big = tile_origins(1000, 1000, 320, rng)
    covered = np.zeros((1000, 1000), bool)
    for x, y in big:
        covered[y:y + 320, x:x + 320] = True
    assert covered.all()


def test_boxes_cut_by_a_tile_edge_are_kept_only_if_mostly_inside() -> None:
    boxes = [Box(0, (10, 10, 30, 30)), Box(1, (300, 10, 340, 30)), Box(2, (310, 10, 340, 30))]
    kept = crop_boxes(boxes, 0, 0, 320)
    assert [b.cls for b in kept] == [0, 1]  # 50% inside is kept, 33% is dropped
    assert kept[1].xyxy == (300, 10, 320, 30)
    moved = crop_boxes(boxes, 160, 0, 320)
    assert [b.xyxy for b in moved] == [(140, 10, 180, 30), (150, 10, 180, 30)]


@pytest.fixture(scope="module")
def full_frames(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from edge.synth.checkpoint import CheckpointScene

    spec = DatasetSpec("checkpoint", seeds=[5, 6], frames_per_seed=3, duration_s=6.0,
                       val_fraction=0.5, out=tmp_path_factory.mktemp("full"))
    return write_dataset(spec, lambda s, d: CheckpointScene(s, d, helmet_rate=0.5),
                         CHECKPOINT_CLASSES, progress=False)


def test_tiles_keep_objects_at_their_inference_size(full_frames: Path, tmp_path: Path) -> None:
    out = write_tiles(TileSpec(data=full_frames, out=tmp_path / "tiles", empty_keep=1.0),
                      progress=False)
    root = full_frames.parent
    scale = 640 / 1280
    for split in ("train", "val"):
        tiles = sorted((tmp_path / "tiles" / "images" / split).glob("*.jpg"))
        assert tiles, split
        for frame in sorted((root / "images" / split).glob("*.jpg")):
            whole = [Box(b.cls, tuple(v * scale for v in b.xyxy))  # type: ignore[arg-type]
                     for b in read_labels(root / "labels" / split / f"{frame.stem}.txt",
                                          1280, 720)]
            mine = [t for t in tiles if t.stem.startswith(frame.stem + "_t")]
            assert len(mine) == 3  # 640x360 -> three 320x320 tiles across
            sizes = set()
            for tile in mine:
                assert cv2.imread(str(tile)).shape == (320, 320, 3)
                for b in read_labels(tile.parent.parent.parent / "labels" / split
                                     / f"{tile.stem}.txt", 320, 320):
                    sizes.add((b.cls, round(b.xyxy[2] - b.xyxy[0]), round(b.xyxy[3] - b.xyxy[1])))
            # Every small object of the frame is in some tile, at the size it has at imgsz 640.
            for b in whole:
                w, h = b.xyxy[2] - b.xyxy[0], b.xyxy[3] - b.xyxy[1]
                inside_y = b.xyxy[1] >= 40 and b.xyxy[3] <= 320
                if w < 150 and inside_y:
                    assert (b.cls, round(w), round(h)) in sizes, (frame.name, b)
    assert "names" in out.read_text()


def test_positive_share_gives_more_frames_with_smoke(tmp_path: Path) -> None:
    from edge.synth.smoke import SmokeScene

    def make(seed: int, duration_s: float) -> SmokeScene:
        return SmokeScene(seed, duration_s, width=320, height=180)

    def positives(share: float) -> int:
        spec = DatasetSpec("smoke", seeds=[7], frames_per_seed=6, duration_s=12.0,
                           val_fraction=0.0, out=tmp_path / f"s{share}", positive_share=share)
        write_dataset(spec, make, SMOKE_CLASSES, progress=False)
        labels = list((spec.out / "labels" / "train").glob("*.txt"))
        assert len(labels) == 6
        return sum(bool(p.read_text().strip()) for p in labels)

    assert positives(0.8) >= 4 > positives(0.0)


def test_found_truths_needs_the_same_class_and_enough_overlap() -> None:
    truth = np.array([[0, 0, 10, 20], [100, 100, 120, 140], [200, 0, 210, 10]], dtype=float)
    truth_cls = np.array([2, 3, 2])
    pred = np.array([[1, 1, 10, 20], [100, 100, 120, 140], [200, 0, 230, 30]], dtype=float)
    pred_cls = np.array([2, 2, 2])  # the second is the right box with the wrong label
    assert found_truths(truth, truth_cls, pred, pred_cls).tolist() == [True, False, False]
    assert found_truths(truth, truth_cls, pred[:0], pred_cls[:0]).tolist() == [False] * 3


def test_band_recall_groups_by_class_and_height() -> None:
    heights = np.array([5.0, 15.0, 15.0, 90.0, 30.0])
    classes = np.array([0, 0, 0, 0, 1])
    found = np.array([False, True, False, True, True])
    bands = band_recall({0: "head_helmet", 1: "smoke"}, heights, classes, found)
    assert [(b.name, b.low_px, b.boxes, b.found) for b in bands] == [
        ("head_helmet", 0.0, 1, 0), ("head_helmet", 12.0, 2, 1), ("head_helmet", 80.0, 1, 1),
        ("smoke", 20.0, 1, 1)]
    assert bands[1].recall == 0.5


def test_recall_by_height_counts_every_truth_box_of_the_split(full_frames: Path) -> None:
    bands = recall_by_height(Path("models/helmet.pt"), full_frames, imgsz=960)
    root = full_frames.parent
    rows = [line.split() for f in (root / "labels" / "val").glob("*.txt")
            for line in f.read_text().splitlines() if line.strip()]
    assert sum(b.boxes for b in bands) == len(rows) > 0
    # The shipped model sees whole two-wheelers (>= 40 px tall) in a scene it never trained on.
    big = [b for b in bands if b.name == "two_wheeler" and b.low_px >= 40]
    assert sum(b.boxes for b in big) >= 3
    assert sum(b.found for b in big) / sum(b.boxes for b in big) >= 0.8


def test_edge_eval_reports_each_class_and_each_format(full_frames: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    from edge.cli import main

    weights = ["models/helmet.pt", "models/helmet_openvino_model"]
    assert main(["eval", *weights, "--data", str(full_frames), "--imgsz", "1280",
                 "--video", "samples/checkpoint-day.mp4", "--frames", "3"]) == 0
    out = capsys.readouterr().out
    rows = {cells[0]: cells[1:] for cells in map(str.split, out.splitlines())
            if cells and cells[0] in {str(c) for c in CHECKPOINT_CLASSES}}
    assert "two_wheeler" in rows
    for images, boxes, *scores in rows.values():
        assert int(images) > 0
        assert int(boxes) > 0
        assert all(0.0 <= float(v) <= 1.0 for v in scores)
        assert len(scores) == 4
    # Two-wheelers are big and easy: the shipped model must score them on unseen scenes.
    assert float(rows["two_wheeler"][4]) >= 0.7
    speeds = [line for line in out.splitlines() if "ms/frame" in line]
    assert [line.split(":")[0].strip() for line in speeds] == weights
    assert all(float(line.split(":")[1].split()[0]) > 0 for line in speeds)
    assert "torch threads" in speeds[0]
    assert "torch threads" not in speeds[1]
