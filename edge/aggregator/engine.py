"""The aggregator's rules over a store, without MQTT: batches in, messages to publish out.

`ingest` stores a batch in one transaction (exactly-once by event_id) and applies smoke events
and operator commands in arrival order; `refresh` recomputes rates and helmet alerts of the
cameras that changed. Both return the messages to publish, so the service stays thin.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from edge.aggregator import alerts
from edge.aggregator.incidents import IncidentBook, TransitionRefusedError
from edge.aggregator.ingest import decode, rejection
from edge.aggregator.settings import Settings
from edge.aggregator.store import JournalRecord, Review, RiderRecord, StatsRecord, Store
from edge.aggregator.weekly import camera_week, rates_state
from edge.aggregator.weeks import IsoWeek, from_us, to_us
from edge.events import (
    FireIncident,
    HelmetAlert,
    IncidentCommand,
    PayloadError,
    RiderEvent,
    RiderReview,
    SmokeEvent,
    StatsEvent,
    StatusEvent,
)
from edge.transport import topics

log = logging.getLogger(__name__)

# Cameras seen this recently are kept on the periodic rates refresh even if not configured.
_RECENT = timedelta(days=8)


@dataclass(frozen=True)
class Outbound:
    """A message for the broker (always QoS 1)."""

    topic: str
    payload: bytes
    retain: bool


@dataclass
class Tally:
    """Running counts of what `ingest` did with the messages it got."""

    stored: int = 0
    duplicates: int = 0
    refused: int = 0


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _new_id() -> str:
    return uuid.uuid4().hex


def _rider_record(event: RiderEvent, raw: bytes) -> RiderRecord:
    helmet, no_helmet, unknown = event.tally()
    return RiderRecord(event.event_id, event.camera, event.direction, to_us(event.captured_at),
                       helmet, no_helmet, unknown, raw.decode("utf-8"))


class Engine:
    """Rules of one site's aggregator. Not thread-safe: one caller (the writer thread)."""

    def __init__(self, store: Store, settings: Settings, clock: Callable[[], datetime] = _utc_now,
                 new_id: Callable[[], str] = _new_id) -> None:
        self.store = store
        self.settings = settings
        self.tally = Tally()
        self.dirty: set[str] = set()  # cameras whose rates/alerts need recomputing
        self._clock = clock
        self._new_id = new_id
        self._book = IncidentBook(store, settings.smoke_cameras, settings.incident_rules)

    # --- ingest ---------------------------------------------------------------------------------

    def ingest(self, messages: Sequence[tuple[str, bytes]]) -> list[Outbound]:
        """Validate and store one batch in one transaction; returns alerts and refusals to publish."""
        out: list[Outbound] = []
        riders: list[RiderRecord] = []
        stats: list[StatsRecord] = []
        now = self._clock()
        with self.store.transaction():
            for topic, data in messages:
                try:
                    event = decode(self.settings.prefix, self.settings.site, topic, data, now)
                except PayloadError as exc:
                    out.append(self.refusal(topic, data, exc.reason))
                    continue
                if isinstance(event, RiderEvent):
                    riders.append(_rider_record(event, data))
                elif isinstance(event, StatsEvent):
                    stats.append(StatsRecord(event.event_id, event.camera, to_us(event.interval_start),
                                             to_us(event.interval_end), event.covered_s, data.decode()))
                else:
                    out.extend(self._apply(topic, data, event))
            new = self.store.add_riders(riders) if riders else []
            new_stats = self.store.add_stats(stats) if stats else 0
        self.tally.stored += len(new) + new_stats
        self.tally.duplicates += len(riders) - len(new) + len(stats) - new_stats
        self.dirty.update(r.camera for r in new)
        return out

    def _apply(self, topic: str, data: bytes,
               event: SmokeEvent | StatusEvent | RiderReview | IncidentCommand) -> list[Outbound]:
        text = data.decode()
        if isinstance(event, SmokeEvent):
            record = JournalRecord(event.event_id, "smoke", event.camera, to_us(event.captured_at), text)
        elif isinstance(event, StatusEvent):
            record = JournalRecord(event.event_id, "status", event.camera, to_us(event.captured_at), text)
        elif isinstance(event, RiderReview):
            record = JournalRecord(event.event_id, "rider_review", None, to_us(event.issued_at), text)
        else:
            record = JournalRecord(event.event_id, "incident_command", None, to_us(event.issued_at), text)
        if not self.store.add_journal(record):
            self.tally.duplicates += 1
            return []
        self.tally.stored += 1
        if isinstance(event, StatusEvent):
            log.info("camera %s is %s %s", event.camera, event.state, event.details)
            return []
        if isinstance(event, SmokeEvent):
            return [self._incident_message(self._book.on_smoke(event))]
        if isinstance(event, RiderReview):
            self._review(event)
            return []
        try:
            return [self._incident_message(self._book.on_command(event))]
        except TransitionRefusedError as exc:
            return [self.refusal(topic, data, exc.reason)]

    def _review(self, review: RiderReview) -> None:
        latest = self.store.set_review(Review(review.event_id, review.target_event_id, review.action,
                                              review.operator, to_us(review.issued_at)))
        camera = self.store.rider_camera(review.target_event_id)
        log.info("rider event %s %sed by %s%s", review.target_event_id, review.action, review.operator,
                 "" if camera else " (event not received yet)")
        if latest and camera is not None:
            self.dirty.add(camera)

    def refusal(self, topic: str, data: bytes, reason: str) -> Outbound:
        """Count, log and build the `rejected` message for a refused payload."""
        self.tally.refused += 1
        log.warning("refused message on %s: %s", topic, reason)
        message = rejection(self.settings.site, topic, data, reason, self._new_id(), self._clock())
        return Outbound(topics.rejected_topic(self.settings.prefix, self.settings.site), message.to_json(),
                        retain=False)

    def _incident_message(self, incident: FireIncident) -> Outbound:
        topic = topics.fire_alert_topic(self.settings.prefix, self.settings.site, incident.incident_id)
        return Outbound(topic, incident.to_json(), retain=True)

    def now(self) -> datetime:
        """The engine's clock (injectable for tests)."""
        return self._clock()

    # --- rates and alerts -----------------------------------------------------------------------

    def current_week(self, camera: str, now: datetime) -> IsoWeek:
        """The week of the camera's newest rider (a replay's own week), else this week."""
        latest_us = self.store.latest_rider_us(camera)
        instant = now if latest_us is None else from_us(latest_us)
        return IsoWeek.of(instant, self.settings.zone)

    def known_cameras(self, now: datetime) -> set[str]:
        """Configured checkpoints and any camera that sent riders or stats recently."""
        recent = set(self.store.rider_cameras(to_us(now - _RECENT), to_us(now + _RECENT)))
        recent -= set(self.settings.smoke_cameras)  # they send stats, never riders: no rates
        return set(self.settings.checkpoints) | recent | {a.camera for a in self.store.alerts()}

    def refresh(self, cameras: Iterable[str] | None = None) -> list[Outbound]:
        """Rates and changed alerts of `cameras` (default: those changed since the last refresh)."""
        now = self._clock()
        if cameras is None:
            cameras, self.dirty = self.dirty, set()
        out: list[Outbound] = []
        s = self.settings
        with self.store.transaction():  # one commit for all alert changes
            for camera in sorted(cameras):
                week = camera_week(self.store, s, camera, self.current_week(camera, now), now)
                state = rates_state(week, s, self._new_id(), now)
                rates_topic = topics.rates_topic(s.prefix, s.site, camera)
                out.append(Outbound(rates_topic, state.to_json(), retain=True))
                previous = self.store.get_alert(camera)
                alert = alerts.evaluate(previous, week, s, self._new_id(), now)
                if alert is not None:
                    self.store.save_alert(alert)
                    out.append(self._alert_message(alert))
                    self._log_alert(previous, alert)
        return out

    def _alert_message(self, alert: HelmetAlert) -> Outbound:
        topic = topics.helmet_alert_topic(self.settings.prefix, self.settings.site, alert.camera)
        return Outbound(topic, alert.to_json(), retain=True)

    @staticmethod
    def _log_alert(previous: HelmetAlert | None, alert: HelmetAlert) -> None:
        was_active = previous is not None and previous.active
        if alert.active and not was_active:
            for f in alert.findings:
                log.warning("helmet alert %s %s: %s", alert.camera, alert.week, f.text_en)
        elif was_active and not alert.active:
            log.info("helmet alert %s %s cleared", alert.camera, alert.week)

    def retained_state(self) -> list[Outbound]:
        """Alerts and open incidents to publish again after (re)connecting: the broker may have lost them."""
        out = [self._alert_message(a) for a in self.store.alerts()]
        out += [self._incident_message(i) for i in self.store.open_incidents()]
        return out
