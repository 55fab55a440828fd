"""Detector stage: class maps for foreign weights, formats behind one interface, training."""

from __future__ import annotations

import logging
import os
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

from edge.analysers.geometry import iou
from edge.detector import Detection
from edge.detector.classmap import ClassMapError, resolve_class_map
from edge.detector.rivals import suppress_rivals
from edge.detector.yolo import YoloDetector, static_input_hw
from edge.labels import CHECKPOINT_LABELS, Label

FOREIGN = {0: "With Helmet", 1: "Without Helmet", 2: "Motorbike", 3: "Car"}
FOREIGN_MAP: dict[str, Label | None] = {
    "With Helmet": Label.HEAD_HELMET, "Without Helmet": Label.HEAD_NO_HELMET,
    "Motorbike": Label.TWO_WHEELER, "Car": None,
}


def test_foreign_names_map_to_canonical_labels() -> None:
    cm = resolve_class_map(FOREIGN, FOREIGN_MAP, 0.3, {Label.HEAD_NO_HELMET: 0.5},
                           required=CHECKPOINT_LABELS)
    assert dict(cm.labels) == {0: Label.HEAD_HELMET, 1: Label.HEAD_NO_HELMET, 2: Label.TWO_WHEELER}
    assert cm.indices == [0, 1, 2]  # "Car" is mapped to None: never requested from the model
    assert cm.thresholds[Label.HEAD_NO_HELMET] == 0.5
    assert cm.thresholds[Label.HEAD_HELMET] == 0.3
    assert cm.min_confidence == 0.3


def test_unknown_classes_are_ignored_with_one_warning(caplog: pytest.LogCaptureFixture) -> None:
    partial = {k: v for k, v in FOREIGN_MAP.items() if k != "Car"}
    with caplog.at_level(logging.WARNING):
        cm = resolve_class_map(FOREIGN, partial, 0.25, {}, weights="w.pt")
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1
    assert "Car" in warnings[0].getMessage()
    assert 3 not in cm.labels


def test_missing_required_label_is_an_error() -> None:
    no_bike = {"With Helmet": Label.HEAD_HELMET, "Without Helmet": Label.HEAD_NO_HELMET}
    with pytest.raises(ClassMapError, match=r"required label\(s\) \['two_wheeler'\]"):
        resolve_class_map(FOREIGN, no_bike, 0.25, {}, required=CHECKPOINT_LABELS)


def test_class_map_naming_an_absent_class_is_an_error() -> None:
    with pytest.raises(ClassMapError, match=r"\['Helmet'\] are not classes of these weights"):
        resolve_class_map(FOREIGN, {"Helmet": Label.HEAD_HELMET}, 0.25, {})


@pytest.fixture(scope="module")
def foreign_weights(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained nano model whose classes carry a third party's names."""
    import torch
    from ultralytics.nn.tasks import DetectionModel

    torch.manual_seed(0)
    model = DetectionModel("yolo11n.yaml", nc=len(FOREIGN), verbose=False)
    model.names = dict(FOREIGN)
    path = tmp_path_factory.mktemp("weights") / "foreign.pt"
    torch.save({"model": model, "train_args": {}}, path)
    return path


def _frame() -> np.ndarray:
    cap = cv2.VideoCapture("samples/checkpoint-day.mp4")
    ok, frame = cap.read()
    cap.release()
    assert ok
    return np.asarray(frame)


def test_foreign_weights_work_by_config_alone(foreign_weights: Path) -> None:
    det = YoloDetector(foreign_weights, FOREIGN_MAP, imgsz=320, conf=0.001,
                       required=CHECKPOINT_LABELS)
    detections = det.detect(_frame())
    # Untrained weights score every class near 0.01; what matters is what comes out.
    assert detections, "an untrained model at conf 0.001 still proposes boxes"
    assert {d.label for d in detections} <= {Label.HEAD_HELMET, Label.HEAD_NO_HELMET, Label.TWO_WHEELER}
    assert "Car" not in {d.source_class for d in detections}
    assert det.model_id.startswith("foreign@")


def test_per_label_threshold_filters(foreign_weights: Path) -> None:
    det = YoloDetector(foreign_weights, FOREIGN_MAP, imgsz=320, conf=0.001,
                       thresholds={Label.HEAD_NO_HELMET: 0.999})
    assert all(d.label != Label.HEAD_NO_HELMET for d in det.detect(_frame()))


def test_rival_labels_on_one_head_keep_the_more_confident_box() -> None:
    helmet = Detection(Label.HEAD_HELMET, 0.6, (100, 100, 120, 122), "h")
    bare_twin = Detection(Label.HEAD_NO_HELMET, 0.4, (101, 99, 121, 121), "n")
    bare_elsewhere = Detection(Label.HEAD_NO_HELMET, 0.3, (200, 100, 220, 122), "n")
    # A rider box sits inside its two-wheeler's: different objects, not rivals, both kept.
    vehicle = Detection(Label.TWO_WHEELER, 0.9, (90, 90, 140, 200), "v")
    rider = Detection(Label.RIDER, 0.8, (92, 92, 138, 180), "r")
    kept = suppress_rivals([vehicle, bare_twin, helmet, rider, bare_elsewhere], iou=0.5)
    assert kept == [vehicle, helmet, rider, bare_elsewhere]
    assert iou(vehicle.xyxy, rider.xyxy) > 0.5
    confident_bare = Detection(Label.HEAD_NO_HELMET, 0.7, bare_twin.xyxy, "n")
    assert suppress_rivals([helmet, confident_bare], iou=0.5) == [confident_bare]


def test_missing_weights_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match="weights not found"):
        YoloDetector(tmp_path / "nope.pt", FOREIGN_MAP)


@pytest.mark.slow
@pytest.mark.parametrize(("frame_wh", "shape"), [(None, (320, 320)), ((1280, 720), (192, 320))])
def test_openvino_and_onnx_agree_with_pt(foreign_weights: Path, tmp_path: Path,
                                         frame_wh: tuple[int, int] | None,
                                         shape: tuple[int, int]) -> None:
    """Square exports, and exports shaped like the camera's frame (.pt letterboxes a 1280x720
    frame to 320x192 at imgsz 320 by itself; a static graph must be given that shape)."""
    from edge.training.export import export

    weights = tmp_path / foreign_weights.name
    shutil.copy(foreign_weights, weights)
    paths = export(weights, ("openvino", "onnx"), imgsz=320, frame_wh=frame_wh)
    assert paths[0].is_dir()
    assert paths[0].name.endswith("_openvino_model")
    assert paths[1].suffix == ".onnx"
    frame = _frame()
    ref = YoloDetector(weights, FOREIGN_MAP, imgsz=320, conf=0.001).detect(frame)
    for path in paths:
        assert static_input_hw(path) == shape
        detector = YoloDetector(path, FOREIGN_MAP, imgsz=320, conf=0.001)
        assert detector.input_size == shape
        got = detector.detect(frame)
        # Same boxes and labels; scores match to float tolerance, so boxes right at the
        # threshold may fall either side of it: require most to match both ways.
        assert _matched(ref, got) >= 0.8
        assert _matched(got, ref) >= 0.8
        best_ref = max(ref, key=lambda d: d.confidence)
        best = max(got, key=lambda d: d.confidence)
        assert best.label == best_ref.label
        assert best.confidence == pytest.approx(best_ref.confidence, abs=2e-3)


@pytest.mark.slow
def test_int8_openvino_export_is_quantized_and_loads_like_the_others(foreign_weights: Path,
                                                                     tmp_path: Path) -> None:
    """`edge export --int8`: NNCF calibrates on the train split of a rendered dataset and writes
    `<stem>_int8_openvino_model`, with INT8 weights and the camera-shaped static input, which the
    detector loads like any other format. (Its accuracy is checked on the shipped model.)"""
    from edge.synth.checkpoint import CheckpointScene
    from edge.synth.dataset import CHECKPOINT_CLASSES, DatasetSpec, write_dataset
    from edge.training.export import export

    spec = DatasetSpec("checkpoint", seeds=[1, 2], frames_per_seed=2, duration_s=2.0,
                       val_fraction=0.5, out=tmp_path / "data")
    data = write_dataset(spec, lambda s, d: CheckpointScene(s, d, width=320, height=180, fps=5.0),
                         CHECKPOINT_CLASSES, progress=False)
    weights = tmp_path / foreign_weights.name
    shutil.copy(foreign_weights, weights)
    (path,) = export(weights, ("openvino",), imgsz=320, frame_wh=(1280, 720), int8_data=data)
    assert path.name == "foreign_int8_openvino_model"
    graph = (path / "foreign.xml").read_text()
    assert 'type="FakeQuantize"' in graph
    assert 'element_type="i8"' in graph
    assert static_input_hw(path) == (192, 320)
    detector = YoloDetector(path, FOREIGN_MAP, imgsz=320, conf=0.001)
    assert detector.input_size == (192, 320)
    assert {d.label for d in detector.detect(_frame())} <= {v for v in FOREIGN_MAP.values() if v}


def test_int8_export_refuses_other_formats_and_missing_calibration_data(foreign_weights: Path,
                                                                          tmp_path: Path) -> None:
    from edge.training.export import export

    with pytest.raises(ValueError, match="OpenVINO export only"):
        export(foreign_weights, ("openvino", "onnx"), int8_data=tmp_path / "data.yaml")
    with pytest.raises(FileNotFoundError, match=r"calibration data\.yaml not found"):
        export(foreign_weights, ("openvino",), int8_data=tmp_path / "data.yaml")


def _matched(ref: list[Detection], got: list[Detection]) -> float:
    hits = sum(any(g.label == r.label and iou(g.xyxy, r.xyxy) > 0.8 for g in got) for r in ref)
    return hits / max(1, len(ref))


@pytest.mark.slow
def test_tiny_training_run_produces_loadable_weights(tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    from edge.synth.checkpoint import CheckpointScene
    from edge.synth.dataset import CHECKPOINT_CLASSES, DatasetSpec, write_dataset
    from edge.training.train import TrainSpec, train

    spec = DatasetSpec("checkpoint", seeds=[1, 2, 3], frames_per_seed=2, duration_s=2.0,
                       val_fraction=0.34, out=tmp_path / "data")
    data = write_dataset(spec, lambda s, d: CheckpointScene(s, d, width=320, height=180, fps=5.0),
                         CHECKPOINT_CLASSES, progress=False)
    with caplog.at_level(logging.INFO, logger="edge.training.train"):
        best = train(TrainSpec(data=data, name="tiny", epochs=1, imgsz=128, batch=2, workers=0,
                               project=tmp_path / "runs", cache=False, optimizer="SGD", lr0=0.002,
                               mosaic=0.0, scale=0.2))
    assert best.exists()
    # ultralytics alone trains on cores - 1 torch threads; the run must use every core.
    assert f"training on {os.cpu_count()} torch threads" in caplog.messages
    args = (tmp_path / "runs" / "tiny" / "args.yaml").read_text()
    assert "optimizer: SGD" in args
    assert "lr0: 0.002" in args
    assert "mosaic: 0.0" in args
    assert "scale: 0.2" in args
    det = YoloDetector(best, {str(c): c for c in CHECKPOINT_CLASSES}, imgsz=128,
                       required=CHECKPOINT_LABELS)
    assert set(det.class_map.labels.values()) == set(CHECKPOINT_CLASSES)
