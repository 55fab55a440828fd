"""The helmet model's OpenVINO export in FP16 (shipped) against an INT8 one, side by side.

`edge export --int8 DATA.yaml` quantizes the OpenVINO export with NNCF, calibrated on DATA's
train split. This times both exports on the same decoded frames of the day sample, in
interleaved rounds (FP16, INT8, FP16, INT8, ...) so that a box whose speed drifts (this one
has run up to 2.7x slower on some nights) slows both alike, and prints per format the median
over rounds of the wall time of predict() per 1280x720 frame (pre- and post-processing
included, as the pipeline pays it) and of ultralytics' own inference part, and the ratios.
`--also EXPORT` (repeatable) times further exports in the same rounds, such as one written
for a smaller input (`edge export ... --imgsz 1024 --frame 1280x720`), each at its own input.

    .venv/bin/python benchmarks/int8_speed.py [--int8 models/helmet_int8_openvino_model]
        [--calibration data/checkpoint/data.yaml] [--also EXPORT ...] [--frames 30] [--rounds 6]

Without `--int8` it writes an INT8 export to a temporary folder first, calibrated on the
`--calibration` data.yaml (which must exist; `edge synth dataset checkpoint ...` writes one).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
os.environ.setdefault("YOLO_OFFLINE", "1")


def one_round(model: Any, frames: list[np.ndarray], size: Any) -> tuple[float, float]:
    """Mean wall ms per frame of predict() and mean ultralytics inference ms, over `frames`."""
    inference_ms = 0.0
    start = time.perf_counter()
    for frame in frames:
        result = model.predict(frame, imgsz=size, device="cpu", verbose=False)[0]
        inference_ms += float(result.speed["inference"])
    wall_ms = (time.perf_counter() - start) * 1000
    return wall_ms / len(frames), inference_ms / len(frames)


def main() -> int:
    from edge.detector.yolo import load_yolo, static_input_hw
    from edge.training.evaluate import read_frames
    from edge.training.export import export

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fp16", type=Path, default=REPO / "models" / "helmet_openvino_model")
    parser.add_argument("--int8", type=Path, help="an INT8 export (default: write one now)")
    parser.add_argument("--weights", type=Path, default=REPO / "models" / "helmet.pt",
                        help="the .pt the INT8 export is written from when --int8 is not given")
    parser.add_argument("--calibration", type=Path, help="data.yaml whose train split calibrates it")
    parser.add_argument("--video", type=Path, default=REPO / "samples" / "checkpoint-day.mp4")
    parser.add_argument("--also", type=Path, action="append", default=[],
                        help="a further OpenVINO export to time in the same rounds (repeatable)")
    parser.add_argument("--frames", type=int, default=30)
    parser.add_argument("--rounds", type=int, default=6)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="int8-") as tmp:
        frames = read_frames(args.video, args.frames)
        h, w = frames[0].shape[:2]
        int8 = args.int8
        if int8 is None:
            if args.calibration is None:
                parser.error("give --int8 EXPORT or --calibration DATA_YAML to write one")
            hw = static_input_hw(args.fp16)
            if hw is None:
                parser.error(f"{args.fp16} has no static input shape to match")
            weights = Path(tmp) / args.weights.name
            shutil.copy(args.weights, weights)
            # The same static input as the FP16 export: its imgsz, shaped like the clip's frames.
            (int8,) = export(weights, ("openvino",), imgsz=max(hw), frame_wh=(w, h),
                             int8_data=args.calibration)
        models = {"fp16": args.fp16, "int8": int8}
        for extra in args.also:
            hw = static_input_hw(extra)
            if hw is None:
                parser.error(f"{extra} is not an OpenVINO export with a static input shape")
            models[f"{extra.name} {hw[1]}x{hw[0]}"] = extra
        loaded = {name: (load_yolo(path), static_input_hw(path)) for name, path in models.items()}
        for model, size in loaded.values():  # warm-up: compile and first-run allocations
            one_round(model, frames[:3], size)
        walls: dict[str, list[float]] = {name: [] for name in models}
        infers: dict[str, list[float]] = {name: [] for name in models}
        for _ in range(args.rounds):
            for name, (model, size) in loaded.items():
                wall, infer = one_round(model, frames, size)
                walls[name].append(wall)
                infers[name].append(infer)

    print(f"{len(frames)} frames of {args.video.name} ({w}x{h}), {args.rounds} interleaved rounds, "
          f"median over rounds:")
    width = max(8, *(len(name) + 2 for name in models))
    print(f"{'export':<{width}}{'wall ms/frame':>16}{'inference ms':>16}{'x FP16 (wall)':>16}")
    fp16_wall = statistics.median(walls["fp16"])
    for name in models:
        wall = statistics.median(walls[name])
        print(f"{name:<{width}}{wall:>16.1f}{statistics.median(infers[name]):>16.1f}"
              f"{fp16_wall / wall:>16.2f}")
    infer_ratio = statistics.median(infers["fp16"]) / statistics.median(infers["int8"])
    print(f"INT8 is {fp16_wall / statistics.median(walls['int8']):.2f}x FP16 per frame, "
          f"{infer_ratio:.2f}x in inference alone")
    return 0


if __name__ == "__main__":
    sys.exit(main())
