"""`open_source`: the FrameSource for a camera's `source:` config (file, RTSP/HTTP or device:N)."""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime

from edge.config import SourceConfig
from edge.source.backoff import Backoff
from edge.source.file import FileSource
from edge.source.live import LiveSource, StateCallback
from edge.source.rtsp import device_opener, network_opener

log = logging.getLogger(__name__)

# Spread reconnects of cameras that dropped together (one switch, one power cut) by up to 20%.
_RECONNECT_JITTER = 0.2


def open_source(config: SourceConfig, *, start: datetime | None = None, live: bool | None = None,
                on_state: StateCallback | None = None, seed: int | None = None) -> FileSource | LiveSource:
    """A started source for `config`.

    live=None means: network URLs and devices are live, files are replays. A replayed file runs
    on its own clock from `start` (default: file.DEFAULT_REPLAY_START), as fast as it is read. A
    file run live (a demo camera) plays in real time from `start` or the wall clock now.
    Network and device sources are always live. `seed` makes the reconnect jitter reproducible.
    """
    is_camera = config.is_network or config.is_device
    live = is_camera if live is None else live
    if not is_camera:
        if live:
            return FileSource(config.url, start=start or datetime.now(UTC), realtime=True, on_state=on_state)
        return FileSource(config.url, start=start, on_state=on_state)
    if not live:
        raise ValueError(f"{config.redacted_url()} is a live camera; replay a recorded file instead")
    if config.is_device:
        index = config.device_index
        assert index is not None
        opener = device_opener(index)
    else:
        opener = network_opener(config)
    backoff = Backoff(config.reconnect_initial_s, config.reconnect_max_s, jitter=_RECONNECT_JITTER,
                      rng=random.Random(seed))
    log.info("opening %s (live, stall timeout %g s)", config.redacted_url(), config.stall_timeout_s)
    return LiveSource(opener, name=config.redacted_url(), backoff=backoff,
                      stall_timeout_s=config.stall_timeout_s, on_state=on_state).start()
