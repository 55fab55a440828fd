"""Where a worker's events go: the on-disk outbox, drained to the broker by the MQTT publisher.

The outbox (`edge.outbox.sqlite`) and publisher (`edge.transport.mqtt`) are their own stages;
this module only picks the broker and the outbox file for one camera.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Protocol

from edge.broker.accounts import worker_broker
from edge.config import BrokerConfig, SiteConfig
from edge.events.health import WorkerState
from edge.outbox import EventSink
from edge.transport.mqtt import open_publisher

log = logging.getLogger(__name__)

#: Where a worker keeps its outbox when not told otherwise (relative to the working directory).
DEFAULT_OUTBOX_DIR = Path("var/outbox")


class Delivery(Protocol):
    """An outbox plus its publisher, for one camera (`edge.transport.mqtt.MqttPublisher`)."""

    @property
    def sink(self) -> EventSink: ...

    def set_status(self, state: WorkerState, details: str = "") -> object: ...

    def drain(self, timeout_s: float) -> int:
        """Wait until the outbox is empty or `timeout_s` passed; returns what is still queued."""
        ...

    def stopped(self, details: str = "", timeout_s: float = 2.0) -> None:
        """Publish the retained `stopped` status (a clean exit, not the `offline` last will)."""
        ...

    def close(self, timeout_s: float = 5.0) -> None: ...


def default_outbox(site: SiteConfig, camera_id: str) -> Path:
    return DEFAULT_OUTBOX_DIR / f"{site.site.id}-{camera_id}.db"


def open_delivery(site: SiteConfig, camera_id: str, *, broker_url: str | None = None,
                  outbox_path: Path | None = None) -> Delivery:
    """A started publisher for `camera_id` over its outbox file; the broker is the site's (logged in
    with the camera's `mqtt` account when set), or `broker_url` (mqtt://[user@]host[:port], keeping
    the site's topic prefix)."""
    broker = worker_broker(site, site.camera(camera_id))  # the camera's own account, when it has one
    if broker_url is not None:
        given = BrokerConfig.from_url(broker_url)
        broker = given.model_copy(update={"topic_prefix": site.broker.topic_prefix,
                                          "client_id_prefix": site.broker.client_id_prefix})
    path = outbox_path if outbox_path is not None else default_outbox(site, camera_id)
    log.info("outbox %s, broker %s", path, broker.address)
    publisher: Delivery = open_publisher(broker, site=site.site.id, camera=camera_id, outbox_path=path)
    return publisher
