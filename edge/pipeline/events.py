"""Analyser results to versioned payloads (edge.events), with deterministic event ids.

An event id is a UUID5 of what the event is about (site, camera, track or plume, capture time),
so a second replay of the same recording yields the same ids and the aggregator's store
ignores the repeats (DESIGN.md 6).
"""

from __future__ import annotations

import uuid
from datetime import datetime

from edge.analysers import RiderCrossing, SmokeUpdate
from edge.events import Box, Evidence, ModelRef, Occupant, RiderEvent, SmokeEvent, StatsEvent, Votes
from edge.evidence import EvidenceRef

_MIN_SIDE = 1e-4

#: Fixed namespace of this project's event ids; never change it, or replays stop deduplicating.
EVENT_NAMESPACE = uuid.UUID("5b0f6d6e-3c1a-5d0e-9a57-6a1e2c0de7e1")


def event_id(*parts: str) -> str:
    return str(uuid.uuid5(EVENT_NAMESPACE, "/".join(parts)))


def rider_event_id(site: str, camera: str, crossing: RiderCrossing) -> str:
    return event_id(site, camera, "rider", str(crossing.track_id), crossing.crossed_at.isoformat())


def smoke_event_id(site: str, camera: str, update: SmokeUpdate) -> str:
    return event_id(site, camera, "smoke", update.plume_id, update.phase, update.captured_at.isoformat())


def stats_event_id(site: str, camera: str, interval_end: datetime) -> str:
    return event_id(site, camera, "stats", interval_end.isoformat())


def _evidence(ref: EvidenceRef | None) -> Evidence | None:
    return Evidence(uri=ref.uri, sha256=ref.sha256) if ref is not None else None


def rider_event(site: str, camera: str, crossing: RiderCrossing, model: ModelRef,
                evidence: EvidenceRef | None = None) -> RiderEvent:
    occupants = tuple(
        Occupant(seat=o.seat, verdict=o.verdict,
                 votes=Votes(helmet=o.helmet_votes, no_helmet=o.no_helmet_votes),
                 confidence=float(min(max(o.confidence, 0.0), 1.0)))
        for o in crossing.occupants)
    return RiderEvent(event_id=rider_event_id(site, camera, crossing), site=site, camera=camera,
                      captured_at=crossing.crossed_at, track_id=crossing.track_id,
                      direction=crossing.direction, occupants=occupants, model=model,
                      evidence=_evidence(evidence))


def smoke_event(site: str, camera: str, update: SmokeUpdate, model: ModelRef,
                evidence: EvidenceRef | None = None) -> SmokeEvent:
    x1, y1, x2, y2 = update.box_norm
    # The schema wants x1 < x2 and y1 < y2; a sliver box clipped at the image edge may not be.
    x1, y1 = min(x1, 1.0 - _MIN_SIDE), min(y1, 1.0 - _MIN_SIDE)
    x2, y2 = max(x2, x1 + _MIN_SIDE), max(y2, y1 + _MIN_SIDE)
    return SmokeEvent(event_id=smoke_event_id(site, camera, update), site=site, camera=camera,
                      captured_at=update.captured_at, plume_id=update.plume_id, phase=update.phase,
                      preset=update.preset, bearing_deg=float(update.bearing_deg),
                      box=Box(x1=float(x1), y1=float(y1), x2=float(x2), y2=float(y2)),
                      confidence=float(min(max(update.confidence, 0.0), 1.0)), flame=update.flame,
                      model=model, evidence=_evidence(evidence))


def stats_event(site: str, camera: str, *, interval_start: datetime, interval_end: datetime, covered_s: float,
                fps_in: float, fps_out: float, dropped_frames: int, inference_ms: float, outbox_depth: int,
                reconnects: int, shed_events: int) -> StatsEvent:
    return StatsEvent(event_id=stats_event_id(site, camera, interval_end), site=site, camera=camera,
                      captured_at=interval_end, interval_start=interval_start, interval_end=interval_end,
                      covered_s=round(covered_s, 3), fps_in=round(min(fps_in, 1000.0), 2),
                      fps_out=round(min(fps_out, 1000.0), 2), dropped_frames=dropped_frames,
                      inference_ms=round(inference_ms, 2), outbox_depth=outbox_depth, reconnects=reconnects,
                      shed_events=shed_events)
