"""Keeps a box's worker processes running: restarts one that dies after a capped backoff, and
merges their output into one stream, each line prefixed with the child's name (the camera id).

Every forwarded line passes through `edge.config.redact`, so a camera URL with a password that
some library prints (FFmpeg, OpenCV) still leaves the box without it.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import IO, TextIO

from edge.config import redact
from edge.source.backoff import Backoff

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Child:
    """One supervised process: its name (the log prefix) and its command line."""

    name: str
    argv: tuple[str, ...]


@dataclass
class ChildRecord:
    """What happened to one child so far (read by `edge run` and tests)."""

    starts: int = 0
    exit_codes: list[int] = field(default_factory=list)
    delays_s: list[float] = field(default_factory=list)  # waits before each restart


@dataclass(frozen=True)
class RestartPolicy:
    """Restart delays double from `initial_s` up to `max_s`; a run of `healthy_s` resets them."""

    initial_s: float = 1.0
    max_s: float = 60.0
    healthy_s: float = 60.0


class Supervisor:
    """Starts `children`, restarts each when it exits, and stops them all on `stop()`."""

    def __init__(self, children: Sequence[Child], *, out: TextIO | None = None,
                 policy: RestartPolicy | None = None, stop_timeout_s: float = 20.0,
                 env: Mapping[str, str] | None = None) -> None:
        names = [c.name for c in children]
        if len(set(names)) != len(names):
            raise ValueError(f"child names must be unique: {names}")
        self.children = list(children)
        self.records = {c.name: ChildRecord() for c in children}
        self._out = out if out is not None else sys.stderr
        self._policy, self._stop_timeout_s = policy or RestartPolicy(), stop_timeout_s
        # Unbuffered children: their lines reach the stream as they are written, in order.
        self._env = {**(os.environ if env is None else env), "PYTHONUNBUFFERED": "1"}
        self._lock = threading.Lock()  # guards _procs and the stopping decision
        self._out_lock = threading.Lock()
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._stopping = threading.Event()
        self._threads = [threading.Thread(target=self._keep_running, args=(c,), name=f"supervise-{c.name}",
                                          daemon=True) for c in children]

    def start(self) -> Supervisor:
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        """SIGTERM to every child, SIGKILL to any still running after stop_timeout_s; no restarts."""
        with self._lock:
            self._stopping.set()
            running = list(self._procs.values())
        for proc in running:
            if proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + self._stop_timeout_s
        for thread in self._threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        for proc in running:
            if proc.poll() is None:
                log.warning("pid %d did not stop within %.0f s; killing it", proc.pid, self._stop_timeout_s)
                proc.kill()
        for thread in self._threads:
            thread.join(5.0)

    def run(self, stop: threading.Event) -> None:
        """Start, block until `stop` is set, then stop every child."""
        self.start()
        try:
            stop.wait()
        finally:
            self.stop()

    def emit(self, name: str, text: str) -> None:
        """Write one line to the shared stream as `name | text`, with URL passwords redacted."""
        with self._out_lock:
            self._out.write(f"{name} | {redact(text)}\n")
            self._out.flush()

    # --- one thread per child -------------------------------------------------------------------

    def _keep_running(self, child: Child) -> None:
        backoff = Backoff(self._policy.initial_s, self._policy.max_s)
        record = self.records[child.name]
        while True:
            started = time.monotonic()
            code = self._run_once(child, record)
            if code is None or self._stopping.is_set():
                return
            if time.monotonic() - started >= self._policy.healthy_s:
                backoff.reset()
            delay_s = backoff.next_delay_s()
            record.delays_s.append(delay_s)
            log.warning("worker %s exited with status %d after %.1f s; restarting in %.1f s", child.name,
                        code, time.monotonic() - started, delay_s)
            if self._stopping.wait(delay_s):
                return

    def _run_once(self, child: Child, record: ChildRecord) -> int | None:
        """Run the child until it exits; its exit status (-1 when it could not start), None when stopping."""
        with self._lock:
            if self._stopping.is_set():
                return None
            try:
                proc = subprocess.Popen(child.argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, env=self._env)
            except OSError as exc:
                log.error("worker %s could not start: %s", child.name, exc)
                record.exit_codes.append(-1)
                return -1
            self._procs[child.name] = proc
            record.starts += 1
        log.info("worker %s started (pid %d)", child.name, proc.pid)
        assert proc.stdout is not None
        self._pump(child.name, proc.stdout)
        code = proc.wait()
        record.exit_codes.append(code)
        return code

    def _pump(self, name: str, stream: IO[bytes]) -> None:
        for raw in iter(stream.readline, b""):
            self.emit(name, raw.decode("utf-8", errors="replace").rstrip("\r\n"))
        stream.close()
