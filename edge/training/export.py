"""`edge export`: OpenVINO and ONNX versions of a `.pt` weights file, written beside it."""

from __future__ import annotations

import importlib.util
import logging
import math
import shutil
from pathlib import Path

from edge.detector.yolo import load_yolo

log = logging.getLogger(__name__)

FORMATS = ("openvino", "onnx")


def input_shape(imgsz: int, frame_wh: tuple[int, int] | None) -> int | tuple[int, int]:
    """`imgsz` square, or the (height, width) of a frame of `frame_wh` letterboxed to imgsz.

    1280x720 at imgsz 960 gives 544x960: the 16:9 frame plus the padding to a multiple of 32,
    instead of 960x960 of which 40% is padding that the network still computes on.
    """
    if frame_wh is None:
        return imgsz
    w, h = frame_wh
    if w <= 0 or h <= 0:
        raise ValueError(f"frame size must be positive, got {w}x{h}")
    scale = imgsz / max(w, h)
    return (math.ceil(h * scale / 32) * 32, math.ceil(w * scale / 32) * 32)


def export(weights: Path, formats: tuple[str, ...] = FORMATS, imgsz: int = 640,
           frame_wh: tuple[int, int] | None = None, int8_data: Path | None = None) -> list[Path]:
    """Export `weights` to each format; returns the written paths (a folder for OpenVINO).

    With `frame_wh` the static input is that frame's letterboxed shape rather than a square.
    With `int8_data` (a data.yaml) the OpenVINO export is quantized to INT8 by NNCF, calibrated
    on that dataset's train split, into `<stem>_int8_openvino_model`.
    """
    if weights.suffix != ".pt":
        raise ValueError(f"export needs a .pt file, got {weights}")
    unknown = sorted(set(formats) - set(FORMATS))
    if unknown:
        raise ValueError(f"unknown export format(s) {unknown}; choose from {list(FORMATS)}")
    if int8_data is not None:
        _check_int8(formats, int8_data)
    written = []
    for fmt in formats:
        model = load_yolo(weights)
        # Static shapes: the CPU runtimes are fastest with fixed input. OpenVINO stores its
        # weights as FP16 (half the file, ~5 MB for a nano model) and its CPU plugin computes in
        # FP32 anyway; ONNX stays FP32, as ONNX Runtime's CPU kernels would upcast FP16 slowly.
        precision: dict[str, object] = {"half": fmt == "openvino"}
        if int8_data is not None:
            # Calibrated on train, never val: the quantization ranges must not see the frames
            # the export is then scored on. NNCF reads at most 300 of them.
            precision = {"quantize": 8, "data": str(int8_data), "split": "train", "batch": 1}
        out = Path(model.export(format=fmt, imgsz=input_shape(imgsz, frame_wh), dynamic=False,
                                simplify=True, **precision))
        written.append(out)
        log.info("exported %s -> %s", weights, out)
    # ultralytics leaves a copy of the ONNX graph beside OpenVINO exports' parents; keep it tidy.
    for folder in (f"{weights.stem}_openvino_model", f"{weights.stem}_int8_openvino_model"):
        for stray in (weights.parent / folder).glob("*.onnx"):
            stray.unlink()
    shutil.rmtree(weights.parent / "runs", ignore_errors=True)
    return written


def _check_int8(formats: tuple[str, ...], data: Path) -> None:
    """Refuse an INT8 export that would fail half-way or try to install NNCF at run time."""
    if tuple(formats) != ("openvino",):
        raise ValueError("INT8 is for the OpenVINO export only: use --formats openvino")
    if not data.is_file():
        raise FileNotFoundError(f"calibration data.yaml not found: {data}")
    # ultralytics would pip-install NNCF when it is missing; nothing is downloaded at run time.
    if importlib.util.find_spec("nncf") is None:
        raise ImportError("INT8 export needs NNCF: pip install 'checkpoint-vision[int8]'")
