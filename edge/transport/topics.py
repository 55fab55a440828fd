"""Topic builders and the parser back from a topic to (site, camera, kind) (DESIGN.md 4).

Camera topics are `{prefix}/{site}/{camera}/{kind}`; site-wide ones use a reserved second
level (`alerts`, `rates`, `commands`, `rejected`), so those words are not usable as camera ids.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

_ID_RE = re.compile(r"^[a-z0-9-]{1,64}$")


class TopicKind(StrEnum):
    """What a topic carries."""

    STATUS = "status"
    STATS = "stats"
    RIDER = "rider"
    SMOKE = "smoke"
    HELMET_ALERT = "helmet_alert"
    FIRE_ALERT = "fire_alert"
    RATES = "rates"
    COMMAND = "command"
    REJECTED = "rejected"


#: Kinds published by a camera's worker under `{prefix}/{site}/{camera}/`.
CAMERA_KINDS = (TopicKind.STATUS, TopicKind.STATS, TopicKind.RIDER, TopicKind.SMOKE)
_CAMERA_KIND_NAMES = frozenset(k.value for k in CAMERA_KINDS)
#: Second-level words that name site-wide topics rather than cameras.
RESERVED = frozenset({"alerts", "rates", "commands", "rejected"})
#: `{prefix}/{site}/commands/{name}` names.
# Not "rider": `commands/rider` would also match the aggregator's camera filter `+/rider`, and
# the broker would deliver each command twice. No command name may be a camera kind.
COMMAND_RIDER = "review"
COMMAND_INCIDENT = "incident"


@dataclass(frozen=True)
class TopicParts:
    """A parsed topic: `camera` for camera, rates and helmet-alert topics; `key` is the incident id
    of a fire alert or the command name."""

    site: str
    kind: TopicKind
    camera: str | None = None
    key: str | None = None


def _id(value: str, what: str) -> str:
    if not _ID_RE.match(value):
        raise ValueError(f"{what} {value!r} is not a valid id ([a-z0-9-]+, at most 64)")
    return value


def _camera(value: str) -> str:
    if value in RESERVED:
        raise ValueError(f"camera id {value!r} is reserved for site-wide topics")
    return _id(value, "camera")


def camera_topic(prefix: str, site: str, camera: str, kind: TopicKind) -> str:
    """`{prefix}/{site}/{camera}/{kind}` for the worker kinds."""
    if kind not in CAMERA_KINDS:
        raise ValueError(f"{kind} is not a camera topic kind")
    return f"{prefix}/{_id(site, 'site')}/{_camera(camera)}/{kind.value}"


def status_topic(prefix: str, site: str, camera: str) -> str:
    return camera_topic(prefix, site, camera, TopicKind.STATUS)


def stats_topic(prefix: str, site: str, camera: str) -> str:
    return camera_topic(prefix, site, camera, TopicKind.STATS)


def rider_topic(prefix: str, site: str, camera: str) -> str:
    return camera_topic(prefix, site, camera, TopicKind.RIDER)


def smoke_topic(prefix: str, site: str, camera: str) -> str:
    return camera_topic(prefix, site, camera, TopicKind.SMOKE)


def helmet_alert_topic(prefix: str, site: str, camera: str) -> str:
    return f"{prefix}/{_id(site, 'site')}/alerts/helmet/{_camera(camera)}"


def fire_alert_topic(prefix: str, site: str, incident: str) -> str:
    return f"{prefix}/{_id(site, 'site')}/alerts/fire/{_id(incident, 'incident')}"


def rates_topic(prefix: str, site: str, camera: str) -> str:
    return f"{prefix}/{_id(site, 'site')}/rates/{_camera(camera)}"


def command_topic(prefix: str, site: str, name: str) -> str:
    """`{prefix}/{site}/commands/{name}`: `rider` for rider reviews, `incident` for incident commands."""
    return f"{prefix}/{_id(site, 'site')}/commands/{_id(name, 'command')}"


def rejected_topic(prefix: str, site: str) -> str:
    return f"{prefix}/{_id(site, 'site')}/rejected"


def camera_filter(prefix: str, site: str, kind: TopicKind) -> str:
    """Subscription filter for one worker kind from every camera of a site."""
    if kind not in CAMERA_KINDS:
        raise ValueError(f"{kind} is not a camera topic kind")
    return f"{prefix}/{_id(site, 'site')}/+/{kind.value}"


def commands_filter(prefix: str, site: str) -> str:
    return f"{prefix}/{_id(site, 'site')}/commands/+"


def parse_topic(prefix: str, topic: str) -> TopicParts | None:
    """The parts of a topic under `prefix`, or None when it is not one of ours (wrong shape or ids)."""
    if not topic.startswith(prefix + "/"):
        return None
    levels = topic[len(prefix) + 1:].split("/")
    if not all(_ID_RE.match(level) for level in levels):
        return None
    site, rest = levels[0], levels[1:]
    match rest:
        case ["alerts", "helmet", camera] if camera not in RESERVED:
            return TopicParts(site, TopicKind.HELMET_ALERT, camera=camera)
        case ["alerts", "fire", incident]:
            return TopicParts(site, TopicKind.FIRE_ALERT, key=incident)
        case ["rates", camera] if camera not in RESERVED:
            return TopicParts(site, TopicKind.RATES, camera=camera)
        case ["commands", name]:
            return TopicParts(site, TopicKind.COMMAND, key=name)
        case ["rejected"]:
            return TopicParts(site, TopicKind.REJECTED)
        case [camera, kind] if camera not in RESERVED and kind in _CAMERA_KIND_NAMES:
            return TopicParts(site, TopicKind(kind), camera=camera)
    return None
