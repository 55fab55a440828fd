"""What every synthetic scene offers, and the one function that turns a scene into files."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import numpy as np
from tqdm import tqdm

from edge.synth.truth import SceneTruth, TruthFrame
from edge.synth.video import H264Writer


class Scene(Protocol):
    """A deterministic renderer: the same constructor arguments give the same frames."""

    width: int
    height: int
    fps: float
    frame_count: int

    def render(self) -> Iterator[tuple[np.ndarray, TruthFrame]]:
        """Yield each BGR frame with its ground truth, in order."""
        ...

    def truth(self, frames: list[TruthFrame], video: str) -> SceneTruth:
        """The clip-level ground truth, given the per-frame records `render` produced."""
        ...


def write_clip(scene: Scene, video_path: Path, *, crf: int = 28, progress: bool = True) -> SceneTruth:
    """Render `scene` to an H.264 MP4 and a ground-truth JSON with the same stem."""
    video_path.parent.mkdir(parents=True, exist_ok=True)
    frames: list[TruthFrame] = []
    with H264Writer(video_path, scene.width, scene.height, scene.fps, crf=crf) as writer:
        for image, record in tqdm(scene.render(), total=scene.frame_count, unit="frame",
                                  desc=video_path.name, disable=not progress, leave=False):
            writer.write(image)
            frames.append(record)
    truth = scene.truth(frames, video_path.name)
    truth.write(video_path.with_suffix(".json"))
    return truth
