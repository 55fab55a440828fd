"""From the site config (edge.config) to the aggregator's own settings: the one place they meet."""

from __future__ import annotations

from edge.aggregator.geo import LatLon
from edge.aggregator.rates import exact
from edge.aggregator.settings import Checkpoint, Settings
from edge.config import CheckpointCamera, SiteConfig, SmokeCamera


def settings_from(site: SiteConfig) -> Settings:
    """Aggregator settings for a loaded site config."""
    checkpoints = {c.id: Checkpoint(c.id, c.name, None if c.standard is None else exact(c.standard),
                                    c.name_zh)
                   for c in site.cameras if isinstance(c, CheckpointCamera)}
    smoke = {c.id: LatLon(c.latitude, c.longitude) for c in site.cameras if isinstance(c, SmokeCamera)}
    agg = site.aggregator
    return Settings(site=site.site.id, prefix=site.broker.topic_prefix, timezone=site.site.timezone,
                    checkpoints=checkpoints, smoke_cameras=smoke,
                    default_standard=exact(agg.default_standard), min_riders=agg.min_riders,
                    rates_interval_s=agg.rates_interval_s)


def client_id(site: SiteConfig) -> str:
    """The aggregator's fixed MQTT client id: the broker keeps its session under this name."""
    return f"{site.broker.client_id_prefix}-aggregator-{site.site.id}"
