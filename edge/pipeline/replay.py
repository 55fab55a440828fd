"""Building a camera's worker from the site config, and replaying a recording through it.

A replay runs as fast as frames decode, on the recording's own clock (`start` + frame time),
so events and their ids are the same on every replay of the same file (DESIGN.md 6).
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tqdm import tqdm

from edge.analysers import PresetProvider, TourPresets, TruthPresets
from edge.config import CheckpointCamera, SiteConfig, SmokeCamera, SourceConfig
from edge.evidence import EvidenceStore
from edge.outbox import EventSink
from edge.pipeline.analysis import Analysis, CheckpointAnalysis, SmokeAnalysis
from edge.pipeline.detectors import FrameDetector, ModelDetector, TruthDetector
from edge.pipeline.sources import open_frames
from edge.pipeline.worker import Worker, WorkerReport, WorkerSettings
from edge.source import Frame
from edge.synth.truth import SceneTruth

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class ReplaySummary:
    """What a replay saw and reported."""

    camera: str
    video: str
    frames: int
    analysed_frames: int
    video_s: float
    wall_s: float
    riders: int = 0
    riders_by_direction: dict[str, int] = field(default_factory=dict)
    occupants_by_verdict: dict[str, int] = field(default_factory=dict)
    violations: int = 0
    smoke_incidents: int = 0
    smoke_closed: int = 0
    evidence_files: int = 0
    events_published: int = 0
    events_by_kind: dict[str, int] = field(default_factory=dict)

    def rows(self) -> list[tuple[str, str]]:
        """(label, value) rows for a printed table."""
        rows = [("camera", self.camera), ("video", self.video), ("frames", str(self.frames)),
                ("analysed frames", str(self.analysed_frames)), ("video seconds", f"{self.video_s:.1f}"),
                ("wall seconds", f"{self.wall_s:.1f}"),
                ("speed", f"{self.video_s / self.wall_s:.1f}x real time" if self.wall_s > 0 else "-")]
        if self.riders or self.riders_by_direction or self.occupants_by_verdict:
            rows.append(("riders counted", str(self.riders)))
            rows += [(f"  {name}", str(n)) for name, n in sorted(self.riders_by_direction.items())]
            rows += [(f"occupants {verdict}", str(n))
                     for verdict, n in sorted(self.occupants_by_verdict.items())]
            rows.append(("violations (riders)", str(self.violations)))
        if self.smoke_incidents or self.smoke_closed:
            rows += [("smoke incidents opened", str(self.smoke_incidents)),
                     ("smoke incidents closed", str(self.smoke_closed))]
        rows.append(("evidence files", str(self.evidence_files)))
        rows.append(("events published", str(self.events_published)))
        rows += [(f"  {kind}", str(n)) for kind, n in sorted(self.events_by_kind.items())]
        return rows

    def table(self) -> str:
        width = max(len(label) for label, _ in self.rows())
        return "\n".join(f"{label:<{width}}  {value}" for label, value in self.rows())


def truth_beside(video: Path) -> Path | None:
    """The ground-truth JSON written beside a synthetic clip, if there is one."""
    path = video.with_suffix(".json")
    return path if path.is_file() else None


def build_analysis(site: SiteConfig, camera: CheckpointCamera | SmokeCamera, detector: FrameDetector, *,
                   evidence: EvidenceStore | None, presets: PresetProvider | None = None) -> Analysis:
    if isinstance(camera, CheckpointCamera):
        return CheckpointAnalysis(site.site.id, camera, detector.model, evidence=evidence)
    return SmokeAnalysis(site.site.id, camera, detector.model, presets or TourPresets(camera),
                         evidence=evidence)


def default_evidence(camera: CheckpointCamera | SmokeCamera) -> EvidenceStore | None:
    """The camera's configured evidence folder (checkpoint cameras only have one), if any."""
    folder = getattr(camera, "evidence_dir", None)
    return EvidenceStore(Path(folder)) if folder is not None else None


def run_replay(site_config: SiteConfig, camera_id: str, video: Path, start: datetime, sink: EventSink,
               progress: bool = True, *, truth_detections: bool = False,
               detector: FrameDetector | None = None, evidence: EvidenceStore | None = None,
               stats_interval_s: float = 60.0) -> ReplaySummary:
    """Replay `video` as camera `camera_id` into `sink`, as fast as possible.

    `truth_detections` feeds the clip's ground-truth boxes (`<video>.json`) instead of running
    the configured model. A smoke camera follows the truth's presets when the truth exists, else
    its configured tour. Evidence goes to `evidence` (None: no evidence files).
    """
    camera = site_config.camera(camera_id)
    truth_path = truth_beside(video)
    if detector is None:
        if truth_detections:
            if truth_path is None:
                raise FileNotFoundError(f"no ground truth beside {video}: "
                                        f"expected {video.with_suffix('.json')}")
            detector = TruthDetector(truth_path, site_config.model_for(camera).labels)
        else:
            detector = ModelDetector.for_camera(site_config, camera)
    presets: PresetProvider | None = None
    if isinstance(camera, SmokeCamera) and truth_path is not None:
        presets = TruthPresets(SceneTruth.read(truth_path), camera)
    analysis = build_analysis(site_config, camera, detector, evidence=evidence, presets=presets)
    source = open_frames(SourceConfig(url=str(video)), start=start, live=False)
    total = getattr(source, "frame_count", None)
    bar = tqdm(total=total if isinstance(total, int) and total > 0 else None, unit="frame",
               desc=f"replay {camera_id}", disable=not progress, leave=False)

    def tick(_: Frame) -> None:
        bar.update(1)

    worker = Worker(site_id=site_config.site.id, camera_id=camera_id,
                    topic_prefix=site_config.broker.topic_prefix, source=source, detector=detector,
                    analysis=analysis, sink=sink, analysis_fps=camera.analysis_fps,
                    settings=WorkerSettings(stats_interval_s=stats_interval_s), on_frame=tick)
    try:
        report = worker.run()
    finally:
        bar.close()
        source.close()
    return summarise(camera_id, video, report, analysis)


def summarise(camera_id: str, video: Path, report: WorkerReport, analysis: Analysis) -> ReplaySummary:
    tally = analysis.tally
    video_s = ((report.last_frame_at - report.first_frame_at).total_seconds()
               if report.first_frame_at and report.last_frame_at else 0.0)
    verdicts: Counter[str] = Counter({str(v): n for v, n in tally.occupants.items()})
    return ReplaySummary(camera=camera_id, video=str(video), frames=report.frames,
                         analysed_frames=report.analysed_frames, video_s=video_s, wall_s=report.wall_s,
                         riders=tally.riders, riders_by_direction=dict(tally.by_direction),
                         occupants_by_verdict=dict(verdicts), violations=tally.violations,
                         smoke_incidents=tally.plumes_opened, smoke_closed=tally.plumes_closed,
                         evidence_files=tally.evidence_files, events_published=report.events,
                         events_by_kind=report.events_by_kind)
