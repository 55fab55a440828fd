"""A real Mosquitto for tests: its own port and generated config, started, stopped and restarted.

Not a test module: test files import `Broker` and `MOSQUITTO` from here and build fixtures on them.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
HOST = "127.0.0.1"


def mosquitto_available() -> bool:
    return os.access(MOSQUITTO, os.X_OK)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


class Broker:
    """One Mosquitto process on 127.0.0.1, anonymous, no persistence: its sessions live in memory.

    `extra` lines are appended to the generated mosquitto.conf. The port stays the same across
    restarts, so clients reconnect to it. With `config_file`, that file is used as it is instead
    (`extra` must then be empty): it must listen on 127.0.0.1 at `port`, which it was written for.
    """

    def __init__(self, workdir: Path, extra: Sequence[str] = (), *, config_file: Path | None = None,
                 port: int | None = None) -> None:
        self.workdir = workdir
        self.port = port if port is not None else free_port()
        self.host = HOST
        self.log = workdir / "mosquitto.log"
        self._process: subprocess.Popen[bytes] | None = None
        if config_file is not None:
            if extra or port is None:
                raise ValueError("config_file takes the port it listens on and no extra lines")
            self.config = config_file
            return
        self.config = workdir / "mosquitto.conf"
        # Sessions must hold a whole benchmark backlog; 0 would mean unlimited.
        lines = [f"listener {self.port} {HOST}", "allow_anonymous true", "persistence false",
                 "log_dest stderr", "log_type error", "log_type warning", "log_type notice",
                 "max_queued_messages 200000", *extra]
        self.config.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def start(self, timeout_s: float = 10.0) -> None:
        """Start Mosquitto and return once it accepts TCP connections."""
        if self._process is not None:
            raise RuntimeError("broker already running")
        with self.log.open("ab") as log:
            self._process = subprocess.Popen([MOSQUITTO, "-c", str(self.config)], stdout=log,
                                             stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while True:
            if self._process.poll() is not None:
                raise RuntimeError(f"mosquitto exited with {self._process.returncode}: "
                                   f"{self.log.read_text(errors='replace')[-2000:]}")
            try:
                with socket.create_connection((HOST, self.port), timeout=0.5):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise TimeoutError(f"mosquitto did not listen on {self.port} in {timeout_s} s") from None
                time.sleep(0.02)  # polling interval, not a wait for readiness

    def stop(self) -> None:
        """Terminate Mosquitto (its in-memory sessions and retained messages go with it)."""
        process, self._process = self._process, None
        if process is None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def __enter__(self) -> Broker:
        self.start()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
