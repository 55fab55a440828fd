"""The analysis half of a worker per camera kind: detections in, payloads (and evidence) out."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import numpy as np

from edge.analysers import PresetProvider, PresetState, RiderCounter, RiderCrossing, SmokeUpdate, SmokeWatch
from edge.analysers.geometry import XYXY
from edge.config import CheckpointCamera, SmokeCamera
from edge.detector import Detection
from edge.events import ModelRef, Payload, RiderEvent, SmokeEvent
from edge.evidence import EvidenceRef, EvidenceStore
from edge.labels import Verdict
from edge.outbox import EventKind
from edge.pipeline import events
from edge.source import Frame
from edge.tracker import ByteTracker, Tracker

log = logging.getLogger(__name__)


@dataclass
class Tally:
    """What the analysis reported so far: the replay summary's figures."""

    riders: int = 0
    by_direction: Counter[str] = field(default_factory=Counter)
    occupants: Counter[Verdict] = field(default_factory=Counter)
    violations: int = 0
    plumes_opened: int = 0
    plumes_closed: int = 0
    evidence_files: int = 0


class Analysis(Protocol):
    """One camera kind's analysis; `observe` sees every frame, `analyse` only the detected ones."""

    tally: Tally

    def observe(self, frame: Frame) -> tuple[bool, list[tuple[EventKind, Payload]]]:
        """(whether to run detection on this frame, events due now regardless)."""
        ...

    def analyse(self, frame: Frame, detections: list[Detection]) -> list[tuple[EventKind, Payload]]: ...

    def flush(self) -> list[tuple[EventKind, Payload]]: ...


class CheckpointAnalysis:
    """Tracker + rider counter; one rider event per counted two-wheeler, evidence for violations."""

    def __init__(self, site_id: str, camera: CheckpointCamera, model: ModelRef, *,
                 tracker: Tracker | None = None, evidence: EvidenceStore | None = None) -> None:
        self.site_id, self.camera, self.model, self.evidence = site_id, camera, model, evidence
        self.tracker = tracker if tracker is not None else ByteTracker(camera.analysis_fps)
        self.counter = RiderCounter(camera.counting_line, min_track_hits=camera.min_track_hits,
                                    min_head_votes=camera.min_head_votes)
        self.tally = Tally()

    def observe(self, frame: Frame) -> tuple[bool, list[tuple[EventKind, Payload]]]:
        return True, []

    def analyse(self, frame: Frame, detections: list[Detection]) -> list[tuple[EventKind, Payload]]:
        crossings = self.counter.update(self.tracker.update(detections, frame.image), frame)
        return [(EventKind.RIDER, self._event(c)) for c in crossings]

    def flush(self) -> list[tuple[EventKind, Payload]]:
        self.tracker.reset()  # ByteTrack keeps lost tracks for a number of frames, not seconds
        return [(EventKind.RIDER, self._event(c)) for c in self.counter.flush()]

    def _event(self, crossing: RiderCrossing) -> RiderEvent:
        ref: EvidenceRef | None = None
        if crossing.violation and self.evidence is not None and crossing.evidence_image is not None:
            stem = events.rider_event_id(self.site_id, self.camera.id, crossing)
            ref = _save(self.evidence, stem, crossing.evidence_image, crossing.evidence_xyxy,
                        crossing.evidence_at)
            self.tally.evidence_files += ref is not None
        event = events.rider_event(self.site_id, self.camera.id, crossing, self.model, ref)
        self.tally.riders += 1
        self.tally.by_direction[crossing.direction] += 1
        self.tally.occupants.update(o.verdict for o in crossing.occupants)
        self.tally.violations += crossing.violation
        return event


class SmokeAnalysis:
    """Preset tracking + smoke watch; smoke events per plume phase, evidence when a plume opens."""

    def __init__(self, site_id: str, camera: SmokeCamera, model: ModelRef, presets: PresetProvider, *,
                 evidence: EvidenceStore | None = None) -> None:
        self.site_id, self.camera, self.model, self.evidence = site_id, camera, model, evidence
        self.presets = presets
        self.watch = SmokeWatch(camera.confirm, camera.settle_s)
        self._state = PresetState(None, True)
        self.tally = Tally()

    def observe(self, frame: Frame) -> tuple[bool, list[tuple[EventKind, Payload]]]:
        self._state = self.presets.at(frame)
        due: list[tuple[EventKind, Payload]] = [(EventKind.SMOKE, self._event(u))
                                                for u in self.watch.expire(frame)]
        return self.watch.should_analyse(frame, self._state), due

    def analyse(self, frame: Frame, detections: list[Detection]) -> list[tuple[EventKind, Payload]]:
        updates = self.watch.update(detections, frame, self._state)
        return [(EventKind.SMOKE, self._event(u)) for u in updates]

    def flush(self) -> list[tuple[EventKind, Payload]]:
        return []  # a plume still burning at shutdown stays open: the aggregator decides

    def _event(self, update: SmokeUpdate) -> SmokeEvent:
        ref: EvidenceRef | None = None
        if update.phase == "opened" and self.evidence is not None and update.evidence_image is not None:
            stem = events.smoke_event_id(self.site_id, self.camera.id, update)
            ref = _save(self.evidence, stem, update.evidence_image, update.evidence_xyxy, update.captured_at)
            self.tally.evidence_files += ref is not None
        self.tally.plumes_opened += update.phase == "opened"
        self.tally.plumes_closed += update.phase == "closed"
        return events.smoke_event(self.site_id, self.camera.id, update, self.model, ref)


def _save(store: EvidenceStore, stem: str, image: np.ndarray, xyxy: XYXY, at: datetime) -> EvidenceRef | None:
    try:
        return store.save(stem, image, xyxy, at)
    except OSError:
        # Evidence is a courtesy: a full disk must not stop counting.
        log.exception("could not write evidence %s", stem)
        return None
