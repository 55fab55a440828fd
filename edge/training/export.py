"""`edge export`: OpenVINO and ONNX versions of a `.pt` weights file, written beside it."""

from __future__ import annotations

import logging
import shutil
from pathlib import Path

from edge.detector.yolo import load_yolo

log = logging.getLogger(__name__)

FORMATS = ("openvino", "onnx")


def export(weights: Path, formats: tuple[str, ...] = FORMATS, imgsz: int = 640) -> list[Path]:
    """Export `weights` to each format; returns the written paths (a folder for OpenVINO)."""
    if weights.suffix != ".pt":
        raise ValueError(f"export needs a .pt file, got {weights}")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown export format(s) {unknown}; choose from {list(FORMATS)}")
    written = []
    for fmt in formats:
        model = load_yolo(weights)
        # Static shapes: the CPU runtimes are fastest with fixed input. OpenVINO stores its
        # weights as FP16 (half the file, ~5 MB for a nano model) and its CPU plugin computes in
        # FP32 anyway; ONNX stays FP32, as ONNX Runtime's CPU kernels would upcast FP16 slowly.
        out = Path(model.export(format=fmt, imgsz=imgsz, dynamic=False, half=fmt == "openvino",
                                simplify=True))
        written.append(out)
        log.info("exported %s -> %s", weights, out)
    # ultralytics leaves a copy of the ONNX graph beside OpenVINO exports' parents; keep it tidy.
    for stray in weights.parent.glob(f"{weights.stem}_openvino_model/*.onnx"):
        stray.unlink()
    shutil.rmtree(weights.parent / "runs", ignore_errors=True)
    return written
