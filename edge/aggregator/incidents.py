"""Fire incidents: smoke events about the same plume become one incident, which operators move
through new -> acknowledged -> dispatched -> resolved, or reject (DESIGN.md 1).

A smoke event joins the incident its (camera, plume_id) already belongs to. A new plume joins
the open incident it agrees with: seen within `window_s`, and either on the same camera's
bearing (within `same_camera_tolerance_deg`) or, from another camera, on a bearing that crosses
the incident's bearing ahead of both cameras within `max_range_m`. Otherwise it opens one.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import combinations

from edge.aggregator.geo import LatLon, bearing_difference_deg, intersect_bearings
from edge.aggregator.store import Store
from edge.events import FireIncident, IncidentCommand, Position, Sighting, SmokeEvent, Transition
from edge.events.incident import IncidentState

log = logging.getLogger(__name__)

#: action -> (states it applies to, state it leads to)
TRANSITIONS: dict[str, tuple[frozenset[IncidentState], IncidentState]] = {
    "acknowledge": (frozenset({"new"}), "acknowledged"),
    "dispatch": (frozenset({"acknowledged"}), "dispatched"),
    "resolve": (frozenset({"dispatched"}), "resolved"),
    "reject": (frozenset({"new", "acknowledged", "dispatched"}), "rejected"),
}
CLOSED_STATES: frozenset[IncidentState] = frozenset({"resolved", "rejected"})


@dataclass(frozen=True)
class IncidentRules:
    """When two sightings are the same plume."""

    window_s: float = 900.0
    same_camera_tolerance_deg: float = 5.0
    max_range_m: float = 20_000.0
    min_crossing_deg: float = 5.0


class TransitionRefusedError(ValueError):
    """An operator command that does not apply; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def incident_id_for(event_id: str) -> str:
    """A stable incident id from the event that opened it, so a replay yields the same ids."""
    return "fire-" + hashlib.sha256(event_id.encode("utf-8")).hexdigest()[:12]


def _sighting(event: SmokeEvent, first_seen_at: datetime | None = None) -> Sighting:
    first = event.captured_at if first_seen_at is None else min(event.captured_at, first_seen_at)
    return Sighting(camera=event.camera, plume_id=event.plume_id, preset=event.preset,
                    bearing_deg=event.bearing_deg, confidence=event.confidence, phase=event.phase,
                    flame=event.flame, first_seen_at=first, captured_at=event.captured_at,
                    event_id=event.event_id, evidence=event.evidence)


def estimate_position(sightings: tuple[Sighting, ...], cameras: Mapping[str, LatLon],
                      rules: IncidentRules) -> Position | None:
    """The fix from the pair of cameras whose bearings cross most squarely, if any pair crosses."""
    located = [s for s in sightings if s.camera in cameras]
    best = None
    for x, y in combinations(located, 2):
        if x.camera == y.camera:
            continue
        fix = intersect_bearings(cameras[x.camera], x.bearing_deg, cameras[y.camera], y.bearing_deg,
                                 max_range_m=rules.max_range_m, min_crossing_deg=rules.min_crossing_deg)
        if fix is not None and (best is None or fix.crossing_angle_deg > best[0].crossing_angle_deg):
            best = (fix, tuple(sorted((x.camera, y.camera))))
    if best is None:
        return None
    fix, pair = best
    return Position(latitude_deg=fix.position.latitude_deg, longitude_deg=fix.position.longitude_deg,
                    cameras=(pair[0], pair[1]), crossing_angle_deg=round(fix.crossing_angle_deg, 3))


def agreement(incident: FireIncident, event: SmokeEvent, cameras: Mapping[str, LatLon],
              rules: IncidentRules) -> float | None:
    """How well a new plume fits an open incident (lower is better), or None when it does not."""
    if incident.state in CLOSED_STATES:
        return None
    gap_s = min(abs((event.captured_at - s.captured_at).total_seconds()) for s in incident.sightings)
    if gap_s > rules.window_s:
        return None
    own = [s for s in incident.sightings if s.camera == event.camera]
    if own:
        diff = min(bearing_difference_deg(s.bearing_deg, event.bearing_deg) for s in own)
        return diff if diff <= rules.same_camera_tolerance_deg else None
    if event.camera not in cameras:
        return None
    for s in incident.sightings:
        if s.camera in cameras and intersect_bearings(
                cameras[event.camera], event.bearing_deg, cameras[s.camera], s.bearing_deg,
                max_range_m=rules.max_range_m, min_crossing_deg=rules.min_crossing_deg) is not None:
            return rules.same_camera_tolerance_deg  # a cross fix ranks after a same-camera match
    return None


def with_sighting(incident: FireIncident, event: SmokeEvent, cameras: Mapping[str, LatLon],
                  rules: IncidentRules) -> FireIncident:
    """The incident with this camera's plume updated; an older event than the one held only
    widens first_seen_at (events may arrive out of order)."""
    sightings = list(incident.sightings)
    for i, s in enumerate(sightings):
        if (s.camera, s.plume_id) == (event.camera, event.plume_id):
            if (event.captured_at, event.event_id) > (s.captured_at, s.event_id):
                sightings[i] = _sighting(event, s.first_seen_at)
            else:
                sightings[i] = s.model_copy(update={"first_seen_at": min(s.first_seen_at, event.captured_at)})
            break
    else:
        sightings.append(_sighting(event))
    ordered = tuple(sorted(sightings, key=lambda s: (s.first_seen_at, s.camera, s.plume_id)))
    return incident.model_copy(update={
        "revision": incident.revision + 1,
        "event_id": f"{incident.incident_id}:{incident.revision + 1}",
        "opened_at": min(incident.opened_at, event.captured_at),
        "updated_at": max(incident.updated_at, event.captured_at),
        "smoke_active": any(s.phase != "closed" for s in ordered),
        "flame": incident.flame or event.flame,
        "sightings": ordered,
        "position": estimate_position(ordered, cameras, rules),
    })


def new_incident(event: SmokeEvent) -> FireIncident:
    """An incident opened by its first smoke event."""
    incident_id = incident_id_for(event.event_id)
    return FireIncident(event_id=f"{incident_id}:1", site=event.site, incident_id=incident_id, revision=1,
                        state="new", opened_at=event.captured_at, updated_at=event.captured_at,
                        smoke_active=event.phase != "closed", flame=event.flame,
                        sightings=(_sighting(event),))


def apply_command(incident: FireIncident, command: IncidentCommand) -> FireIncident:
    """The incident after an operator command. Raises TransitionRefusedError for an illegal one."""
    allowed_from, to_state = TRANSITIONS[command.action]
    if incident.state not in allowed_from:
        raise TransitionRefusedError(
            f"cannot {command.action} incident {incident.incident_id}: it is {incident.state} "
            f"({command.action} applies to {' or '.join(sorted(allowed_from))})")
    step = Transition(action=command.action, from_state=incident.state, to_state=to_state,
                      operator=command.operator, issued_at=command.issued_at,
                      command_id=command.event_id, note=command.note)
    return incident.model_copy(update={
        "revision": incident.revision + 1,
        "event_id": f"{incident.incident_id}:{incident.revision + 1}",
        "state": to_state,
        "updated_at": max(incident.updated_at, command.issued_at),
        "history": (*incident.history, step),
    })


class IncidentBook:
    """Incident rules over the store: one call per accepted smoke event or command."""

    def __init__(self, store: Store, cameras: Mapping[str, LatLon], rules: IncidentRules | None = None):
        self._store = store
        self._cameras = dict(cameras)
        self._rules = rules or IncidentRules()

    def on_smoke(self, event: SmokeEvent) -> FireIncident:
        """The incident this smoke event created or changed (already saved)."""
        linked = self._store.incident_for_plume(event.camera, event.plume_id)
        incident = self._store.get_incident(linked) if linked is not None else None
        if incident is None:
            scored = [(score, i) for i in self._store.open_incidents()
                      if (score := agreement(i, event, self._cameras, self._rules)) is not None]
            if scored:
                incident = min(scored, key=lambda pair: (pair[0], -pair[1].updated_at.timestamp()))[1]
        if incident is None:
            incident = new_incident(event)
            log.info("fire incident %s opened by %s (preset %s, bearing %.1f deg)",
                     incident.incident_id, event.camera, event.preset, event.bearing_deg)
        else:
            incident = with_sighting(incident, event, self._cameras, self._rules)
        self._store.link_plume(event.camera, event.plume_id, incident.incident_id)
        self._store.save_incident(incident)
        return incident

    def on_command(self, command: IncidentCommand) -> FireIncident:
        """The incident after the command (saved). Raises TransitionRefusedError."""
        incident = self._store.get_incident(command.incident_id)
        if incident is None:
            raise TransitionRefusedError(f"unknown incident {command.incident_id!r}")
        incident = apply_command(incident, command)
        self._store.save_incident(incident)
        log.info("fire incident %s: %s by %s -> %s", incident.incident_id, command.action,
                 command.operator, incident.state)
        return incident
