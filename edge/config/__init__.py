"""Configuration: pydantic models for sites and cameras, and the YAML loader."""

from edge.config.loader import ConfigError, check, load_any, load_camera, load_site, summarize
from edge.config.models import (
    AggregatorConfig,
    BrokerConfig,
    CameraConfig,
    CheckpointCamera,
    CountingLine,
    ModelConfig,
    Preset,
    SecretUnavailableError,
    SiteConfig,
    SiteInfo,
    SmokeCamera,
    SmokeConfirm,
    SourceConfig,
    TlsConfig,
    redact,
)

__all__ = [
    "AggregatorConfig",
    "BrokerConfig",
    "CameraConfig",
    "CheckpointCamera",
    "ConfigError",
    "CountingLine",
    "ModelConfig",
    "Preset",
    "SecretUnavailableError",
    "SiteConfig",
    "SiteInfo",
    "SmokeCamera",
    "SmokeConfirm",
    "SourceConfig",
    "TlsConfig",
    "check",
    "load_any",
    "load_camera",
    "load_site",
    "redact",
    "summarize",
]
