"""The weights in models/ load offline and find what the samples' ground truth says is there.

The samples (seeds 102 and 106) were never trained on: the helmet model saw seeds 1000-1099.
The asserted recalls are regression guards a little under what the shipped weights measured
(models/README.md has the figures), not the issue's targets, which these weights do not meet.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.analysers.geometry import iou
from edge.config import load_site
from edge.detector import yolo
from edge.detector.types import Detection
from edge.detector.yolo import YoloDetector
from edge.labels import HEAD_LABELS, Label
from edge.synth.truth import SceneTruth, TruthBox

REPO = Path(__file__).resolve().parents[1]
MODELS = REPO / "models"
STEP = 15  # one frame a second of the 15 fps clip: neighbouring frames add little
# A head counts as findable when mostly unoccluded and at least this tall (pixels, of 720).
MIN_VISIBLE, MIN_HEAD_PX = 0.6, 12
# Measured with the shipped helmet.pt (stage 8) at the site's imgsz 1280 on checkpoint-day:
# heads found 0.88, with the right helmet label 0.84 (one box per head: a head boxed with both
# labels does not count as right); two-wheelers 0.91 (models/README.md; its INT8 export, which
# the site runs, scores the same). The guards leave 0.02-0.06 for the exports and retraining noise.
HEAD_RECALL, HEAD_LABEL_RECALL, TWO_WHEELER_RECALL = 0.82, 0.82, 0.85
# Smoke, at the site's imgsz and smoke threshold, two frames a second: a plume at least 20 px
# tall (smaller ones are mostly missed: models/README.md) was found in 55 of 57 frames of
# smoke-fire (stage 3: 43 of 56, which this guard would fail); nothing else in either smoke clip
# scored as smoke.
SMOKE_STEP, MIN_PLUME_PX, PLUME_RECALL = 5, 20, 0.85

pytestmark = pytest.mark.slow


def _frames(clip: str, step: int = STEP) -> Iterator[tuple[np.ndarray, list[TruthBox]]]:
    truth = SceneTruth.read(REPO / "samples" / f"{clip}.json")
    cap = cv2.VideoCapture(str(REPO / "samples" / f"{clip}.mp4"))
    try:
        for index in range(truth.frame_count):
            ok, frame = cap.read()
            assert ok, f"{clip}: frame {index} unreadable"
            if index % step == 0:
                yield frame, truth.frames[index].boxes
    finally:
        cap.release()


def _detector(weights: Path, model: str = "helmet") -> YoloDetector:
    """The shipped weights as the example site runs them (its imgsz and thresholds)."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    if not weights.exists():
        pytest.fail(f"shipped weights missing: {weights}")
    config = load_site(REPO / "configs" / "site.yaml").models[model]
    return YoloDetector.from_config(config.with_weights(weights))


def _recall(truths: list[TruthBox], found: list[Detection], labels: frozenset[Label], min_iou: float) -> int:
    return sum(1 for t in truths if any(d.label in labels and iou(d.xyxy, t.xyxy) >= min_iou for d in found))


@pytest.mark.parametrize("weights", ["helmet.pt", "helmet_int8_openvino_model"])
def test_helmet_model_finds_the_ground_truth_heads_and_two_wheelers(weights: str) -> None:
    detector = _detector(MODELS / weights)
    heads = head_hits = label_hits = wheels = wheel_hits = 0
    for frame, boxes in _frames("checkpoint-day"):
        found = detector.detect(frame)
        true_heads = [b for b in boxes if b.label in HEAD_LABELS and b.visible >= MIN_VISIBLE
                      and b.xyxy[3] - b.xyxy[1] >= MIN_HEAD_PX]
        true_wheels = [b for b in boxes if b.label == Label.TWO_WHEELER and b.visible >= MIN_VISIBLE]
        heads, wheels = heads + len(true_heads), wheels + len(true_wheels)
        head_hits += _recall(true_heads, found, HEAD_LABELS, 0.4)
        label_hits += sum(_recall([t], found, frozenset({t.label}), 0.4) for t in true_heads)
        wheel_hits += _recall(true_wheels, found, frozenset({Label.TWO_WHEELER}), 0.5)
    assert heads > 50, "the sample should hold enough heads to measure recall"
    assert wheels > 100, "the sample should hold enough two-wheelers to measure recall"
    assert head_hits / heads >= HEAD_RECALL, f"head recall {head_hits}/{heads}"
    assert label_hits / heads >= HEAD_LABEL_RECALL, f"heads with the right label {label_hits}/{heads}"
    assert wheel_hits / wheels >= TWO_WHEELER_RECALL, f"two-wheeler recall {wheel_hits}/{wheels}"


def test_no_head_is_boxed_as_both_helmeted_and_bare(monkeypatch: pytest.MonkeyPatch) -> None:
    """YOLO's per-class NMS leaves a hesitant head boxed twice, once per label; the detector keeps
    the more confident box, or the rider counter would see a phantom passenger."""
    detector = _detector(MODELS / "helmet_openvino_model")
    frames = [frame for frame, _ in islice(_frames("checkpoint-night", 5), 40)]

    def twins() -> int:
        pairs = 0
        for frame in frames:
            heads = [d for d in detector.detect(frame) if d.label in HEAD_LABELS]
            pairs += sum(1 for i, a in enumerate(heads) for b in heads[i + 1:]
                         if a.label != b.label and iou(a.xyxy, b.xyxy) > detector.iou)
        return pairs

    assert twins() == 0
    with monkeypatch.context() as m:  # what per-class NMS alone lets through
        m.setattr(yolo, "suppress_rivals", lambda detections, iou: detections)
        assert twins() > 5


@pytest.mark.parametrize("export", ["helmet_openvino_model", "helmet_int8_openvino_model"])
def test_shipped_openvino_export_agrees_with_the_pt(export: str) -> None:
    """Every confident detection of one format has a twin of the same label in the other.

    OpenVINO holds FP16 (or INT8) weights, so scores differ in the second decimal: a box near a
    threshold, or a head the model hesitates between two labels on, may differ; a confident one
    may not.
    """
    pt = _detector(MODELS / "helmet.pt")
    ov = _detector(MODELS / export)
    compared = 0
    for n, (frame, _) in enumerate(_frames("checkpoint-day")):
        if n >= 8:
            break
        a, b = pt.detect(frame), ov.detect(frame)
        for ours, theirs in ((a, b), (b, a)):
            for d in (d for d in ours if d.confidence >= 0.6):
                compared += 1
                assert any(e.label == d.label and iou(e.xyxy, d.xyxy) >= 0.85 for e in theirs), (
                    f"frame {n * STEP}: {d} has no twin")
    assert compared >= 10


def test_smoke_model_finds_the_plume_and_nothing_else() -> None:
    """Recall on the plume once it is big enough to see, and no smoke where there is none.

    smoke-nofire holds the distractors the threshold was set against (chimney steam, dust,
    haze, clouds), so a false plume there would open a false incident in the demo.
    """
    detector = _detector(MODELS / "smoke.pt", "smoke")
    plumes = plume_hits = 0
    for clip in ("smoke-fire", "smoke-nofire"):
        for n, (frame, boxes) in enumerate(_frames(clip, SMOKE_STEP)):
            found = [d for d in detector.detect(frame) if d.label == Label.SMOKE]
            truths = [b for b in boxes if b.label == Label.SMOKE]
            stray = [d for d in found if all(iou(d.xyxy, t.xyxy) < 0.1 for t in truths)]
            assert not stray, f"{clip} frame {n * SMOKE_STEP}: smoke where there is none: {stray}"
            big = [t for t in truths if t.xyxy[3] - t.xyxy[1] >= MIN_PLUME_PX]
            plumes += len(big)
            plume_hits += _recall(big, found, frozenset({Label.SMOKE}), 0.3)
    assert plumes >= 40, "smoke-fire should show the plume in enough frames to measure recall"
    assert plume_hits / plumes >= PLUME_RECALL, f"plume recall {plume_hits}/{plumes}"
