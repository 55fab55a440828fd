"""A real RTSP server for tests: GStreamer's rtsp-server serving an H.264 MP4, looping.

As a script it runs under the system Python (/usr/bin/python3), where GStreamer's bindings live:

    /usr/bin/python3 tests/rtsp_server.py CLIP.mp4 --port 8554 --path /cam

Imported by tests (under the venv), `RtspServer` starts, stops, restarts, pauses (SIGSTOP: the
connection stays open but nothing flows, a stalled camera) and resumes that script. Nothing
GStreamer is imported at module level, so the venv can import this file.
"""

from __future__ import annotations

import argparse
import functools
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType
from typing import Any

SYSTEM_PYTHON = "/usr/bin/python3"
HOST = "127.0.0.1"
_PROBE = ("import gi; gi.require_version('Gst', '1.0'); gi.require_version('GstRtspServer', '1.0'); "
          "from gi.repository import Gst, GstRtspServer; Gst.init(None); "
          "assert all(Gst.ElementFactory.find(e) for e in ('qtdemux', 'h264parse', 'rtph264pay'))")


@functools.cache
def rtsp_unavailable() -> str | None:
    """Why the GStreamer RTSP server cannot run here, or None when it can."""
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        return f"{SYSTEM_PYTHON} not found"
    probe = subprocess.run([SYSTEM_PYTHON, "-c", _PROBE], capture_output=True, text=True, timeout=30,
                           check=False)
    if probe.returncode != 0:
        last = (probe.stderr.strip().splitlines() or ["unknown error"])[-1]
        return f"GStreamer RTSP server unavailable (gir1.2-gst-rtsp-server-1.0, python3-gi, plugins): {last}"
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class RtspServer:
    """The script below as a subprocess on a fixed port, so clients reconnect to the same URL."""

    def __init__(self, clip: Path, log_path: Path, *, path: str = "/cam", port: int | None = None) -> None:
        self.clip, self.log_path, self.path = clip, log_path, path
        self.port = port or free_port()
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"rtsp://{HOST}:{self.port}{self.path}"

    def start(self, timeout_s: float = 15.0) -> None:
        """Start serving; returns once the server answers an RTSP OPTIONS request."""
        if self._process is not None:
            raise RuntimeError("RTSP server already running")
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                [SYSTEM_PYTHON, __file__, str(self.clip), "--port", str(self.port), "--path", self.path],
                stdout=subprocess.PIPE, stderr=log)
        deadline = time.monotonic() + timeout_s
        assert self._process.stdout is not None
        ready, _, _ = select.select([self._process.stdout], [], [], timeout_s)
        line = self._process.stdout.readline() if ready else b""
        if line.strip() != b"ready" or not self._answers(deadline):
            self.stop()
            log_tail = self.log_path.read_text(errors="replace")[-2000:]
            raise RuntimeError(f"RTSP server did not come up: {log_tail}")

    def _answers(self, deadline: float) -> bool:
        request = f"OPTIONS {self.url} RTSP/1.0\r\nCSeq: 1\r\n\r\n".encode()
        try:
            timeout_s = max(deadline - time.monotonic(), 0.1)
            with socket.create_connection((HOST, self.port), timeout=timeout_s) as s:
                s.sendall(request)
                return s.recv(64).startswith(b"RTSP/1.0 200")
        except OSError:
            return False

    def stop(self) -> None:
        """Kill the server at once, as a camera losing power would."""
        process, self._process = self._process, None
        if process is None:
            return
        process.send_signal(signal.SIGCONT)  # a paused process must wake to die cleanly
        process.kill()
        process.wait(timeout=10)
        if process.stdout is not None:
            process.stdout.close()

    def restart(self) -> None:
        self.stop()
        self.start()

    def pause(self) -> None:
        """Freeze the server: connections stay open, no frames flow (a stalled stream)."""
        if self._process is not None:
            self._process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        if self._process is not None:
            self._process.send_signal(signal.SIGCONT)

    def __enter__(self) -> RtspServer:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def serve(clip: Path, port: int, path: str) -> None:  # pragma: no cover - runs under /usr/bin/python3
    """Serve `clip` at rtsp://127.0.0.1:port/path until killed, looping it seamlessly."""
    import gi  # type: ignore[import-not-found]

    gi.require_version("Gst", "1.0")
    gi.require_version("GstRtspServer", "1.0")
    from gi.repository import GLib, Gst, GstRtspServer  # type: ignore[import-not-found]

    Gst.init(None)
    seek_from_start = (1.0, Gst.Format.TIME, Gst.SeekFlags.SEGMENT, Gst.SeekType.SET, 0,
                       Gst.SeekType.NONE, -1)

    class LoopingMedia(GstRtspServer.RTSPMedia):  # type: ignore[misc]
        # Segment seeks loop without an EOS and without resetting running time, so the RTP clock
        # keeps going forward and the client sees one endless stream.
        def do_handle_message(self, message: Any) -> bool:
            if message.type == Gst.MessageType.SEGMENT_DONE:
                self.get_element().get_parent().seek(*seek_from_start)
                return True
            return bool(GstRtspServer.RTSPMedia.do_handle_message(self, message))

    def on_state(media: Any, state: int) -> None:
        # rtsp-media seeks (flushing, no SEGMENT flag) when a client plays; take over after that.
        if state == Gst.State.PLAYING and not getattr(media, "looping", False):
            media.looping = True
            rate, fmt, flags, *rest = seek_from_start
            media.get_element().get_parent().seek(rate, fmt, flags | Gst.SeekFlags.FLUSH, *rest)

    factory = GstRtspServer.RTSPMediaFactory()
    factory.set_launch(f'( filesrc location="{clip}" ! qtdemux ! h264parse ! '
                       "rtph264pay name=pay0 pt=96 config-interval=1 )")
    factory.set_media_gtype(LoopingMedia)
    factory.set_shared(False)
    factory.connect("media-configure", lambda _factory, media: media.connect("new-state", on_state))
    server = GstRtspServer.RTSPServer()
    server.set_address(HOST)
    server.set_service(str(port))
    server.get_mount_points().add_factory(path, factory)
    if server.attach(None) == 0:
        raise SystemExit(f"cannot listen on {HOST}:{port}")
    print("ready", flush=True)
    GLib.MainLoop().run()


if __name__ == "__main__":  # pragma: no cover
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("clip", type=Path)
    parser.add_argument("--port", type=int, default=8554)
    parser.add_argument("--path", default="/cam")
    args = parser.parse_args()
    serve(args.clip.resolve(), args.port, args.path)
    sys.exit(0)
