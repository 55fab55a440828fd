"""A worker's retained status payload (`edge.status/1`, DESIGN.md 4): online, offline (last will), stopped."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from edge.events import StatusEvent
from edge.events.health import WorkerState

# The schema caps `details` at this length; longer text is cut rather than refused.
_MAX_DETAILS = 1024


def status_payload(site: str, camera: str, state: WorkerState, details: str = "",
                   at: datetime | None = None) -> bytes:
    """UTF-8 JSON of a StatusEvent stamped `at` (default: now); each status gets a fresh event id."""
    event = StatusEvent(event_id=str(uuid.uuid4()), site=site, camera=camera,
                        captured_at=at or datetime.now(UTC), state=state, details=details[:_MAX_DETAILS])
    return event.to_json()
