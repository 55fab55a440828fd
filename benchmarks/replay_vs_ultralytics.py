"""Replay throughput of our pipeline against the plain ultralytics way, same clip, same weights.

Runs, one after the other in one process:

- ours:  `run_replay` (what `edge replay` runs): file source, YOLO at the camera's analysis_fps
         (10 of the clip's 15 frames a second), ByteTrack, rider counter, events into memory;
- plain: `YOLO(weights).track(source=clip, stream=True, persist=True)` on every frame, each result
         fed to `ultralytics.solutions.ObjectCounter` with the same counting line, counting
         two_wheeler crossings (IN + OUT);

and reports each one's frames of the clip per wall-clock second (model load included), the
ratio, and both counts against the ground truth (two-wheelers crossing, per direction).
With `--openvino` (default: on) both run again on an OpenVINO export of the same weights: the
camera's configured export when its config names one (the `.pt` beside it is then the PyTorch
side), else `--openvino-dir`, else one made with `edge export` into a temporary folder.

Needs shapely (ultralytics' solutions import it): `.venv/bin/pip install shapely`.

    .venv/bin/python benchmarks/replay_vs_ultralytics.py
    .venv/bin/python benchmarks/replay_vs_ultralytics.py --clip /tmp/short.mp4 --no-openvino
"""

from __future__ import annotations

import argparse
import logging
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO), str(REPO / "benchmarks")]
os.environ.setdefault("YOLO_OFFLINE", "1")
os.environ.setdefault("YOLO_AUTOINSTALL", "False")
os.environ.setdefault("YOLO_VERBOSE", "False")

from replay_accuracy import site_for  # noqa: E402

from edge.config import CheckpointCamera, SiteConfig, load_site  # noqa: E402
from edge.detector.yolo import static_input_hw  # noqa: E402
from edge.pipeline import MemorySink, run_replay  # noqa: E402
from edge.synth.truth import SceneTruth  # noqa: E402

START = datetime(2025, 5, 6, 8, 0, tzinfo=UTC)
TWO_WHEELER = "two_wheeler"


@dataclass(frozen=True)
class Run:
    name: str
    frames: int
    inferences: int
    wall_s: float
    by_direction: dict[str, int]

    @property
    def fps(self) -> float:
        return self.frames / self.wall_s

    @property
    def count(self) -> int:
        return sum(self.by_direction.values())


def truth_counts(truth: SceneTruth) -> dict[str, int]:
    return dict(Counter(r.direction for r in truth.riders if r.crossing_frame is not None))


def with_weights(site: SiteConfig, model_key: str, weights: Path) -> SiteConfig:
    models = {**site.models, model_key: site.models[model_key].with_weights(weights)}
    return site.model_copy(update={"models": models})


def run_ours(site: SiteConfig, camera_id: str, clip: Path, name: str) -> Run:
    t0 = time.perf_counter()
    summary = run_replay(site, camera_id, clip, START, MemorySink(), progress=False, evidence=None)
    wall_s = time.perf_counter() - t0
    return Run(name, summary.frames, summary.analysed_frames, wall_s, dict(summary.riders_by_direction))


def run_plain(weights: Path, clip: Path, line_px: list[tuple[int, int]], *, positive: str, negative: str,
              imgsz: int | tuple[int, int], conf: float, tracker: str, name: str) -> Run:
    """The ultralytics way: YOLO.track over the file, each result into an ObjectCounter."""
    from ultralytics.solutions import ObjectCounter

    class FedCounter(ObjectCounter):  # type: ignore[misc]
        """ObjectCounter whose tracks come from an outer `YOLO.track(stream=True)` loop instead of
        its own per-frame `model.track` call (the rest of `process` is ultralytics' own)."""

        result: Any = None

        def extract_tracks(self, im0: Any) -> None:
            self.tracks = self.result
            self.track_data = self.tracks.boxes
            if self.track_data and self.track_data.is_track:
                self.boxes = self.track_data.xyxy.cpu()
                self.clss = self.track_data.cls.cpu().tolist()
                self.track_ids = self.track_data.id.int().cpu().tolist()
                self.confs = self.track_data.conf.cpu().tolist()
            else:
                self.boxes, self.clss, self.track_ids, self.confs = [], [], [], []
            self.forget_tracks([t.track_id for t in self.model.predictor.trackers[0].removed_stracks_frame])

    t0 = time.perf_counter()
    counter = FedCounter(model=str(weights), region=line_px, show=False, verbose=False, conf=conf,
                         imgsz=imgsz, tracker=tracker, device="cpu")
    wanted = [i for i, n in counter.names.items() if n == TWO_WHEELER]
    frames = 0
    for result in counter.model.track(source=str(clip), stream=True, persist=True, tracker=tracker,
                                      imgsz=imgsz, conf=conf, classes=wanted, device="cpu", verbose=False):
        counter.result = result
        counter.process(result.orig_img)
        frames += 1
    wall_s = time.perf_counter() - t0
    # A horizontal line: IN is moving down the image, which is the positive (e.g. southbound) side.
    return Run(name, frames, frames, wall_s, {positive: counter.in_count, negative: counter.out_count})


def warm_up(weights: Path, imgsz: int | tuple[int, int]) -> None:
    """Load the weights and run them once, untimed, so neither timed run pays first-use costs
    (imports, kernel selection) the other does not."""
    import numpy as np

    from edge.detector.yolo import load_yolo

    load_yolo(weights).predict(np.zeros((720, 1280, 3), np.uint8), imgsz=imgsz, device="cpu", verbose=False)


def pt_and_openvino(weights: Path) -> tuple[Path, Path | None]:
    """The `.pt` to compare on, and the OpenVINO export when the config already names one.

    The shipped config runs an OpenVINO folder (`models/helmet_int8_openvino_model`); its `.pt`
    lies beside it under the folder's name less the suffix (`_int8_openvino_model` or
    `_openvino_model`, as `edge export` names them).
    """
    suffix = "_openvino_model"
    if weights.is_dir() and weights.name.endswith(suffix):
        stem = weights.name.removesuffix(suffix).removesuffix("_int8")
        pt = weights.with_name(stem + ".pt")
        if not pt.exists():
            raise SystemExit(f"{weights} has no {pt.name} beside it to compare the PyTorch runs on")
        return pt, weights
    return weights, None


def export_openvino(weights: Path, folder: Path, imgsz: int, frame_wh: tuple[int, int]) -> Path:
    """`edge export` of a copy of `weights` in `folder` (it writes beside the weights it is given),
    at the camera's imgsz and frame shape, as the shipped exports are (e.g. 736x1280, not square)."""
    copy = folder / weights.name
    shutil.copy2(weights, copy)
    subprocess.run([str(REPO / ".venv" / "bin" / "edge"), "export", str(copy), "--formats", "openvino",
                    "--imgsz", str(imgsz), "--frame", f"{frame_wh[0]}x{frame_wh[1]}"],
                   check=True, capture_output=True, timeout=600)
    out = folder / f"{weights.stem}_openvino_model"
    if not out.is_dir():
        raise RuntimeError(f"edge export wrote no {out}")
    return out


def report(ours: Run, plain: Run, truth: dict[str, int]) -> list[str]:
    n_true = sum(truth.values())

    def accuracy(run: Run) -> str:
        err = abs(run.count - n_true) / n_true if n_true else 0.0
        directions = set(truth) | set(run.by_direction)
        per_dir = sum(abs(run.by_direction.get(d, 0) - truth.get(d, 0)) for d in directions)
        return (f"counted {run.count:3d} vs truth {n_true} (error {100 * err:5.1f}%), by direction "
                f"{dict(sorted(run.by_direction.items()))}, direction-wise misses {per_dir}")

    lines = []
    for run in (plain, ours):
        lines.append(f"  {run.name:<34} {run.frames:5d} frames, {run.inferences:5d} inferences in "
                     f"{run.wall_s:6.1f} s = {run.fps:6.1f} frames/s; {accuracy(run)}")
    err_ours = abs(ours.count - n_true)
    err_plain = abs(plain.count - n_true)
    ratio = ours.fps / plain.fps
    per_inference = (ours.inferences / ours.wall_s) / (plain.inferences / plain.wall_s)
    lines.append(f"  ratio ours/plain: {ratio:.2f}x the frames per second "
                 f"(per inference: {per_inference:.2f}x); "
                 f"count error ours {err_ours} vs plain {err_plain}: "
                 f"target >= 3x at equal or better accuracy met? "
                 f"{'yes' if ratio >= 3.0 and err_ours <= err_plain else 'NO'}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", type=Path, default=REPO / "configs" / "site.yaml")
    parser.add_argument("--camera", default="cp-baizhang-s")
    parser.add_argument("--clip", type=Path, default=REPO / "samples" / "checkpoint-day.mp4",
                        help="a synthetic checkpoint clip with its truth JSON beside it")
    parser.add_argument("--tracker", default="bytetrack.yaml",
                        help="ultralytics tracker config for the plain run (default: bytetrack.yaml, "
                             "the algorithm ours uses)")
    parser.add_argument("--openvino", action=argparse.BooleanOptionalAction, default=True,
                        help="also compare on an OpenVINO export of the same weights (default: on)")
    parser.add_argument("--openvino-dir", type=Path, help="an existing *_openvino_model export to use")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("ultralytics").setLevel(logging.ERROR)

    truth = SceneTruth.read(args.clip.with_suffix(".json"))
    site = site_for(load_site(args.config), args.camera, truth)
    camera = site.camera(args.camera)
    assert isinstance(camera, CheckpointCamera)
    model = site.model_for(camera)
    line = camera.counting_line
    line_px = [(round(x * truth.width), round(y * truth.height)) for x, y in (line.start_xy, line.end_xy)]
    if abs(line_px[0][1] - line_px[1][1]) > abs(line_px[0][0] - line_px[1][0]):
        raise SystemExit("this comparison needs a mostly horizontal counting line "
                         "(ObjectCounter's IN = moving down)")
    # Ours: positive = crossing from the left of start->end to its right; for a left-to-right line
    # that is moving down the image, which ObjectCounter calls IN.
    positive, negative = ((line.positive, line.negative) if line_px[0][0] < line_px[1][0]
                          else (line.negative, line.positive))
    plain_kw = {"positive": positive, "negative": negative, "imgsz": model.imgsz, "conf": model.conf,
                "tracker": args.tracker}
    true_counts = truth_counts(truth)
    print(f"clip {args.clip.name}: {truth.frame_count} frames, {truth.width}x{truth.height} "
          f"at {truth.fps:g} fps; "
          f"truth: {sum(true_counts.values())} two-wheelers cross {dict(sorted(true_counts.items()))}")
    print(f"ours analyses at {camera.analysis_fps:g} fps (analysis_fps of {args.camera}); plain runs YOLO "
          f"on every frame with {args.tracker}; imgsz {model.imgsz}, conf {model.conf}; "
          f"torch threads {_torch_threads()}; fps = clip frames / wall s, model load included")

    pt, shipped_ov = pt_and_openvino(Path(model.weights))
    variants = [("PyTorch", pt)]
    with tempfile.TemporaryDirectory(prefix="edge-bench-ov-") as tmp:
        if args.openvino:
            if args.openvino_dir is not None:
                ov = args.openvino_dir
            elif shipped_ov is not None:
                ov = shipped_ov
            else:
                t0 = time.perf_counter()
                ov = export_openvino(Path(model.weights), Path(tmp), model.imgsz,
                                     (truth.width, truth.height))
                print(f"(exported {model.weights} to OpenVINO with edge export in "
                      f"{time.perf_counter() - t0:.0f} s)")
            variants.append(("OpenVINO", ov))
        results: dict[str, tuple[Run, Run]] = {}
        for label, weights in variants:
            # A static export takes exactly its input shape (e.g. 736x1280); ours does the same.
            size = static_input_hw(weights) or model.imgsz
            warm_up(weights, size)
            plain = run_plain(weights, args.clip, line_px, name=f"plain ultralytics, {label}",
                              **{**plain_kw, "imgsz": size})
            ours = run_ours(with_weights(site, camera.model, weights), args.camera, args.clip,
                            f"ours (run_replay), {label}")
            results[label] = (ours, plain)
            print(f"{label} weights {weights.name}:")
            print("\n".join(report(ours, plain, true_counts)))
        if "OpenVINO" in results:
            ours_ov, plain_pt = results["OpenVINO"][0], results["PyTorch"][1]
            print(f"ours on OpenVINO vs plain ultralytics on the .pt: {ours_ov.fps / plain_pt.fps:.2f}x "
                  f"the frames per second")
    return 0


def _torch_threads() -> int:
    import torch

    return int(torch.get_num_threads())


if __name__ == "__main__":
    sys.exit(main())
