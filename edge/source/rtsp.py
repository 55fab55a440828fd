"""Opening live cameras with OpenCV: RTSP/HTTP through FFmpeg, and local devices (`device:N`).

These are the openers a `LiveSource` calls on every (re)connect. The camera URL with its
password is built at that moment and never logged; logs name the redacted URL.
"""

from __future__ import annotations

import logging
import os

import cv2
import numpy as np

from edge.config import SourceConfig
from edge.source.live import Opener

log = logging.getLogger(__name__)

# A camera that has not answered within this long is treated as unreachable and retried with
# backoff; 10 s covers FFmpeg's stream probing (about 1.5 s on a 15 fps H.264 stream) with room.
OPEN_TIMEOUT_S = 10.0
_FFMPEG_OPTIONS_ENV = "OPENCV_FFMPEG_CAPTURE_OPTIONS"


class CvCapture:
    """A cv2.VideoCapture behind the `Capture` protocol."""

    def __init__(self, capture: cv2.VideoCapture) -> None:
        self._capture = capture

    def read(self) -> tuple[bool, np.ndarray | None]:
        ok, image = self._capture.read()
        return (True, np.asarray(image)) if ok and image is not None else (False, None)

    def release(self) -> None:
        self._capture.release()


def _opened(capture: cv2.VideoCapture) -> CvCapture | None:
    if capture.isOpened():
        return CvCapture(capture)
    capture.release()
    return None


def _use_rtsp_transport(transport: str) -> None:
    """Set FFmpeg's rtsp_transport in OpenCV's options variable, keeping any other options there.

    OpenCV reads FFmpeg's demuxer options only from this variable, at each open. One worker process
    serves one camera, so this cannot clash with another source; it is written only on a change.
    """
    current = os.environ.get(_FFMPEG_OPTIONS_ENV, "")
    others = [o for o in current.split("|") if o and not o.startswith("rtsp_transport;")]
    wanted = "|".join([f"rtsp_transport;{transport}", *others])
    if wanted != current:
        os.environ[_FFMPEG_OPTIONS_ENV] = wanted


def network_opener(config: SourceConfig, *, open_timeout_s: float = OPEN_TIMEOUT_S) -> Opener:
    """Opens `config.url` with FFmpeg over the configured RTSP transport (TCP by default).

    FFmpeg's read timeout is the stall timeout, so a silent stream ends a blocked read in time
    for the supervisor's own stall check.
    """
    if not config.is_network:
        raise ValueError(f"{config.redacted_url()} is not a network URL")
    is_rtsp = config.url.lower().startswith(("rtsp://", "rtsps://"))
    params = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, round(open_timeout_s * 1000),
              cv2.CAP_PROP_READ_TIMEOUT_MSEC, round(config.stall_timeout_s * 1000)]

    def open_network() -> CvCapture | None:
        if is_rtsp:
            _use_rtsp_transport(config.transport)
        url = config.resolved_url()
        return _opened(cv2.VideoCapture(url, cv2.CAP_FFMPEG, params))

    return open_network


def device_opener(index: int, *, api: int = cv2.CAP_ANY) -> Opener:
    """Opens local capture device `index` (e.g. /dev/video0 for `device:0`)."""

    def open_device() -> CvCapture | None:
        return _opened(cv2.VideoCapture(index, api))

    return open_device
