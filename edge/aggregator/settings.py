"""What the aggregator's rules need to know about a site, independent of the config files."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from fractions import Fraction
from functools import cached_property
from zoneinfo import ZoneInfo

from edge.aggregator.geo import LatLon
from edge.aggregator.incidents import IncidentRules


@dataclass(frozen=True)
class Checkpoint:
    """A checkpoint camera: its display names and its own standard (None: the site default)."""

    camera: str
    name: str
    standard: Fraction | None = None
    name_zh: str | None = None  # for the zh-CN alert text; `name` when not given


@dataclass(frozen=True)
class Settings:
    """Site-wide rules: weeks, standards, alert threshold and where smoke cameras stand."""

    site: str
    prefix: str = "edge/v1"
    timezone: str = "Asia/Shanghai"
    checkpoints: Mapping[str, Checkpoint] = field(default_factory=dict)
    smoke_cameras: Mapping[str, LatLon] = field(default_factory=dict)
    default_standard: Fraction = Fraction(9, 10)
    min_riders: int = 100
    rates_interval_s: float = 60.0
    incident_rules: IncidentRules = field(default_factory=IncidentRules)

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def standard_for(self, camera: str) -> Fraction:
        checkpoint = self.checkpoints.get(camera)
        if checkpoint is None or checkpoint.standard is None:
            return self.default_standard
        return checkpoint.standard

    def name_for(self, camera: str) -> str:
        checkpoint = self.checkpoints.get(camera)
        return camera if checkpoint is None else checkpoint.name

    def name_zh_for(self, camera: str) -> str:
        checkpoint = self.checkpoints.get(camera)
        if checkpoint is None or checkpoint.name_zh is None:
            return self.name_for(camera)
        return checkpoint.name_zh
