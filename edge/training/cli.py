"""`edge train`, `edge export` and `edge eval`."""

from __future__ import annotations

import argparse
import functools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

Command = Callable[[argparse.Namespace], int]


def _one_line_errors(name: str) -> Callable[[Command], Command]:
    """Bad input (a missing file, an impossible option) ends in one message and exit 2."""
    def wrap(command: Command) -> Command:
        @functools.wraps(command)
        def run(args: argparse.Namespace) -> int:
            try:
                return command(args)
            except (ValueError, FileNotFoundError, ImportError) as exc:
                print(f"edge {name}: error: {exc}", file=sys.stderr)
                return 2
        return run
    return wrap


@_one_line_errors("train")
def _train(args: argparse.Namespace) -> int:
    from edge.training.train import TrainSpec, train

    spec = TrainSpec(data=Path(args.data), name=args.name, model=args.model, epochs=args.epochs,
                     time_h=args.time_h, imgsz=args.imgsz, batch=args.batch, workers=args.workers,
                     seed=args.seed, project=Path(args.project), resume=args.resume,
                     cache=not args.no_cache, val=not args.no_val,
                     warmup_epochs=args.warmup_epochs, close_mosaic=args.close_mosaic,
                     mosaic=args.mosaic, scale=args.scale,
                     optimizer=args.optimizer, lr0=args.lr0, cos_lr=args.cos_lr,
                     threads=args.threads)
    print(train(spec))
    return 0


@_one_line_errors("tile")
def _tile(args: argparse.Namespace) -> int:
    from edge.training.tiles import TileSpec, write_tiles

    spec = TileSpec(data=Path(args.data), out=Path(args.out), infer_imgsz=args.infer_imgsz,
                    size=args.size, empty_keep=args.empty_keep, seed=args.seed,
                    every=args.every)
    print(write_tiles(spec, progress=not args.quiet))
    return 0


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be 1 or more, got {value}")
    return value


def _frame_wh(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected WIDTHxHEIGHT such as 1280x720, got {text!r}") from None
    if w <= 0 or h <= 0:
        raise argparse.ArgumentTypeError(f"frame size must be positive, got {text!r}")
    return w, h


@_one_line_errors("export")
def _export(args: argparse.Namespace) -> int:
    from edge.training.export import export

    int8 = Path(args.int8) if args.int8 else None
    for path in export(Path(args.weights), tuple(args.formats.split(",")), args.imgsz, args.frame,
                       int8_data=int8):
        print(path)
    return 0


@_one_line_errors("eval")
def _eval(args: argparse.Namespace) -> int:
    from edge.training.evaluate import (
        accuracy,
        format_accuracy,
        format_bands,
        read_frames,
        recall_by_height,
        speed,
    )

    weights = [Path(w) for w in args.weights]
    if args.data:
        scores = accuracy(weights[0], Path(args.data), args.imgsz)
        print(f"accuracy of {weights[0]} on {args.data} (imgsz {args.imgsz}):")
        print(format_accuracy(scores))
        if args.by_height:
            bands = recall_by_height(weights[0], Path(args.data), args.imgsz, args.conf)
            print(f"recall by truth height (frame px; IoU >= 0.5, conf >= {args.conf}):")
            print(format_bands(bands))
    if args.video:
        frames = read_frames(Path(args.video), args.frames)
        print(f"speed on {len(frames)} frames of {args.video}:")
        base = None
        for w in weights:
            s = speed(w, frames, args.imgsz)
            base = base or s.ms_per_frame
            threads = f", torch threads {s.torch_threads}" if s.torch_threads else ""
            print(f"  {w}: {s.ms_per_frame:.1f} ms/frame ({base / s.ms_per_frame:.2f}x the first"
                  f"{threads})")
    return 0


def add_parsers(sub: Any) -> None:
    t = sub.add_parser("train", help="train YOLO weights on a YOLO dataset (resumable)")
    t.add_argument("data", help="data.yaml, e.g. from `edge synth dataset`")
    t.add_argument("--name", required=True, help="run name under --project")
    t.add_argument("--model", default="yolo11n.yaml", help="architecture YAML or .pt to fine-tune")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--time-h", type=float, help="stop after this many hours (schedule fits it)")
    t.add_argument("--imgsz", type=int, default=640)
    t.add_argument("--batch", type=int, default=16)
    t.add_argument("--workers", type=int, default=2)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--project", default="runs")
    t.add_argument("--resume", action="store_true", help="continue runs/NAME/weights/last.pt")
    t.add_argument("--no-cache", action="store_true", help="do not cache images in RAM")
    t.add_argument("--no-val", action="store_true", help="validate only after the last epoch")
    t.add_argument("--warmup-epochs", type=float, default=3.0, help="1 suits fine-tuning")
    t.add_argument("--close-mosaic", type=int, default=10, help="last epochs without mosaic")
    t.add_argument("--mosaic", type=float, default=1.0,
                   help="probability of a mosaic sample; 0 for fine-tuning on inference-scale tiles")
    t.add_argument("--scale", type=float, default=0.5,
                   help="random resize gain (+/-); smaller keeps objects near their real size")
    t.add_argument("--optimizer", default="auto",
                   help="SGD, AdamW, ... (auto ignores --lr0)")
    t.add_argument("--lr0", type=float, default=0.01,
                   help="initial learning rate; about 0.002 with SGD to continue trained weights")
    t.add_argument("--cos-lr", action="store_true", help="cosine learning-rate decay")
    t.add_argument("--threads", type=_positive_int, help="torch threads (default: every core; ultralytics "
                   "alone would leave one idle)")
    t.set_defaults(func=_train)

    g = sub.add_parser("tile", help="cut a YOLO dataset into inference-scale tiles (cheaper "
                                    "training at the same object size)")
    g.add_argument("data", help="data.yaml of full frames")
    g.add_argument("--out", required=True)
    g.add_argument("--infer-imgsz", type=int, default=640,
                   help="the imgsz the model will run at: frames are shrunk to it first")
    g.add_argument("--size", type=int, default=320, help="tile side in px (train at this imgsz)")
    g.add_argument("--empty-keep", type=float, default=0.2, help="share of empty tiles kept")
    g.add_argument("--seed", type=int, default=0)
    g.add_argument("--every", type=_positive_int, default=1, help="tile every n-th frame only")
    g.add_argument("--quiet", action="store_true")
    g.set_defaults(func=_tile)

    e = sub.add_parser("export", help="write OpenVINO and ONNX versions of a .pt file")
    e.add_argument("weights")
    e.add_argument("--formats", default="openvino,onnx")
    e.add_argument("--imgsz", type=int, default=640)
    e.add_argument("--frame", type=_frame_wh, metavar="WxH",
                   help="cameras' frame size, e.g. 1280x720: a static input of that aspect "
                        "(544x960 at imgsz 960) instead of a square one")
    e.add_argument("--int8", metavar="DATA_YAML",
                   help="quantize the OpenVINO export to INT8, calibrated on this dataset's train "
                        "split (needs the [int8] extra; about 1.25x faster on this CPU)")
    e.set_defaults(func=_export)

    v = sub.add_parser("eval", help="per-class accuracy on a held-out set; speed per format")
    v.add_argument("weights", nargs="+", help="one or more formats of the same model")
    v.add_argument("--data", help="data.yaml with a val split (accuracy of the first weights)")
    v.add_argument("--video", help="clip whose frames are timed (speed of every weights)")
    v.add_argument("--frames", type=_positive_int, default=50)
    v.add_argument("--imgsz", type=int, default=640)
    v.add_argument("--by-height", action="store_true",
                   help="also recall per class by truth-box height: how big must an object be")
    v.add_argument("--conf", type=float, default=0.25,
                   help="confidence a detection needs to count in --by-height")
    v.set_defaults(func=_eval)
