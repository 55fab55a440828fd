"""YOLO-format training sets rendered from the synthetic scenes, split by seed.

Validation images come from seeds never used for training, so a score on them says how the
model does on unseen scenes, not on neighbouring frames of a scene it has memorised.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import yaml
from tqdm import tqdm

from edge.labels import Label
from edge.synth.scene import Scene
from edge.synth.truth import TruthFrame

log = logging.getLogger(__name__)

CHECKPOINT_CLASSES: tuple[Label, ...] = (
    Label.TWO_WHEELER, Label.RIDER, Label.HEAD_HELMET, Label.HEAD_NO_HELMET)
SMOKE_CLASSES: tuple[Label, ...] = (Label.SMOKE, Label.FIRE)
# Boxes less visible than this are left unlabelled: a head 70% hidden behind another rider
# cannot be judged, and labelling it teaches the model to guess.
MIN_VISIBLE = 0.35
MIN_SIDE_PX = 4  # below this a box is noise at any input size


@dataclass(frozen=True)
class DatasetSpec:
    """What to render: which seeds, how many frames of each, and where to put them.

    `positive_share` asks for at least that share of each seed's frames to show an object
    (when the scene has that many): a smoke clip shows a plume in only a quarter of its
    frames, and evenly spaced frames would teach mostly empty farmland.
    """

    kind: str
    seeds: Sequence[int]
    frames_per_seed: int
    duration_s: float
    val_fraction: float
    out: Path
    positive_share: float = 0.0


# When frames are chosen by content every frame is a candidate: a plume is in view only
# while the tour dwells on its preset, a few seconds at a time. A 30 s clip's JPEGs are
# ~40 MB, held only until the seed's frames are chosen.


def pick_frames(has_objects: Sequence[bool], n: int, positive_share: float) -> list[int]:
    """Indices (into `has_objects`) of `n` frames, evenly spread, at least the share positive."""

    def spread(pool: list[int], k: int) -> list[int]:
        if k <= 0 or not pool:
            return []
        if k >= len(pool):
            return pool
        return [pool[round(i)] for i in np.linspace(0, len(pool) - 1, k)]

    positives = [i for i, p in enumerate(has_objects) if p]
    negatives = [i for i, p in enumerate(has_objects) if not p]
    chosen = spread(positives, min(len(positives), round(n * positive_share)))
    chosen += spread(negatives, n - len(chosen))
    if len(chosen) < n:  # too few negatives: fill with the positives not yet taken
        chosen += spread([i for i in positives if i not in set(chosen)], n - len(chosen))
    return sorted(chosen)


def yolo_lines(frame: TruthFrame, classes: Sequence[Label], width: int, height: int) -> list[str]:
    """YOLO label lines (class cx cy w h, normalised) for the usable boxes of one frame."""
    lines = []
    for box in frame.boxes:
        if box.label not in classes or box.visible < MIN_VISIBLE:
            continue
        x0, y0, x1, y1 = box.xyxy
        if x1 - x0 < MIN_SIDE_PX or y1 - y0 < MIN_SIDE_PX:
            continue
        cx, cy = (x0 + x1) / 2 / width, (y0 + y1) / 2 / height
        lines.append(f"{classes.index(box.label)} {cx:.6f} {cy:.6f} "
                     f"{(x1 - x0) / width:.6f} {(y1 - y0) / height:.6f}")
    return lines


def write_dataset(spec: DatasetSpec, make_scene: Callable[[int, float], Scene],
                  classes: Sequence[Label], progress: bool = True) -> Path:
    """Render `spec` and write images/, labels/ and data.yaml; returns the data.yaml path."""
    n_val = max(1, round(len(spec.seeds) * spec.val_fraction)) if spec.val_fraction > 0 else 0
    val_seeds = set(spec.seeds[len(spec.seeds) - n_val:])
    for split in ("train", "val"):
        (spec.out / "images" / split).mkdir(parents=True, exist_ok=True)
        (spec.out / "labels" / split).mkdir(parents=True, exist_ok=True)
    bar = tqdm(total=len(spec.seeds) * spec.frames_per_seed, unit="img", disable=not progress,
               desc=f"dataset {spec.kind}")
    counts = {label: 0 for label in classes}
    for seed in spec.seeds:
        split = "val" if seed in val_seeds else "train"
        scene = make_scene(seed, spec.duration_s)
        by_content = spec.positive_share > 0
        step = 1 if by_content else max(1, scene.frame_count // spec.frames_per_seed)
        # Each seed gets its own JPEG quality: compression artefacts vary between cameras.
        quality = int(np.random.default_rng(seed).integers(55, 95))
        candidates: list[tuple[int, bytes, list[str]]] = []
        for image, frame in scene.render():
            if not by_content and (frame.index % step
                                   or frame.index // step >= spec.frames_per_seed):
                continue
            ok, jpeg = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if not ok:
                raise RuntimeError(f"JPEG encoding failed for seed {seed} frame {frame.index}")
            candidates.append((frame.index, jpeg.tobytes(),
                               yolo_lines(frame, classes, scene.width, scene.height)))
        keep = pick_frames([bool(c[2]) for c in candidates], spec.frames_per_seed,
                           spec.positive_share)
        for index, jpeg_bytes, lines in (candidates[k] for k in keep):
            stem = f"{spec.kind}_{seed:06d}_{index:05d}"
            (spec.out / "images" / split / f"{stem}.jpg").write_bytes(jpeg_bytes)
            for line in lines:
                counts[classes[int(line.split()[0])]] += 1
            (spec.out / "labels" / split / f"{stem}.txt").write_text(
                "\n".join(lines) + ("\n" if lines else ""), encoding="utf-8")
            bar.update(1)
    bar.close()
    data = {"path": str(spec.out.resolve()), "train": "images/train", "val": "images/val",
            "names": {i: str(label) for i, label in enumerate(classes)}}
    data_yaml = spec.out / "data.yaml"
    data_yaml.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    log.info("dataset %s: %s boxes by class %s", spec.kind, spec.out,
             {str(k): v for k, v in counts.items()})
    return data_yaml
