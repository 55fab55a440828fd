"""`edge train`: a reproducible ultralytics training run that can be resumed."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from edge.detector.yolo import load_yolo

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainSpec:
    """One training run; the defaults are the recipe of the shipped nano models."""

    data: Path
    name: str
    model: str = "yolo11n.yaml"  # a YAML builds from scratch: no pretrained download
    epochs: int = 40
    time_h: float | None = None  # wall-clock cap; ultralytics fits its LR schedule to it
    imgsz: int = 640
    batch: int = 16
    workers: int = 2
    seed: int = 0
    project: Path = Path("runs")
    resume: bool = False
    cache: bool = True
    val: bool = True  # False: validate once, after the last epoch (saves CPU time per epoch)
    warmup_epochs: float = 3.0
    close_mosaic: int = 10
    # Mosaic and random scale show objects at sizes the camera never does; tiles cut at the
    # inference scale already hold every head at its real size, so a fine-tuning run on them
    # may turn both down (models/README.md: helmet stage 7 tried it, with no net gain).
    mosaic: float = 1.0
    scale: float = 0.5
    # "auto" lets ultralytics pick SGD at lr0 0.01 for long runs, AdamW at a derived rate for
    # short ones (and ignore lr0); continuing from trained weights wants a named optimizer and
    # a smaller lr0, or the first epochs undo what the previous run learned.
    optimizer: str = "auto"
    lr0: float = 0.01
    cos_lr: bool = False
    threads: int | None = None  # torch threads while training; None: every core


def thread_setter(threads: int) -> Any:
    """An ultralytics callback that trains on `threads` torch threads.

    ultralytics' select_device sets cores - 1 threads on CPU (leaving one for its data
    loader processes, which it then turns off on CPU): on a 2-core box that is one core idle
    while training runs.
    """

    def use_threads(trainer: Any) -> None:
        import torch

        torch.set_num_threads(threads)
        log.info("training on %d torch threads", torch.get_num_threads())

    return use_threads


def last_checkpoint(spec: TrainSpec) -> Path:
    return spec.project.resolve() / spec.name / "weights" / "last.pt"


def train(spec: TrainSpec) -> Path:
    """Train (or resume) and return the path of the best weights."""
    if not spec.data.exists():
        raise FileNotFoundError(f"dataset file not found: {spec.data}")
    last = last_checkpoint(spec)
    if spec.resume and not last.exists():
        raise FileNotFoundError(f"nothing to resume: {last} does not exist")
    if spec.resume or Path(spec.model).suffix == ".pt":
        model = load_yolo(last if spec.resume else Path(spec.model))
    else:
        from ultralytics import YOLO

        model = YOLO(spec.model, task="detect")
    model.add_callback("on_train_start", thread_setter(spec.threads or os.cpu_count() or 1))
    if spec.resume:
        log.info("resuming %s", last)
        model.train(resume=True)
    else:
        extra = {"time": spec.time_h} if spec.time_h else {}
        model.train(data=str(spec.data.resolve()), epochs=spec.epochs, imgsz=spec.imgsz,
                    batch=spec.batch, workers=spec.workers, seed=spec.seed, deterministic=True,
                    cache="ram" if spec.cache else False, plots=False, device="cpu",
                    project=str(spec.project.resolve()), name=spec.name, exist_ok=True, amp=False,
                    val=spec.val, warmup_epochs=spec.warmup_epochs,
                    close_mosaic=spec.close_mosaic, mosaic=spec.mosaic, scale=spec.scale,
                    optimizer=spec.optimizer, lr0=spec.lr0,
                    cos_lr=spec.cos_lr, **extra)
    best = last.with_name("best.pt")
    return best if best.exists() else last
