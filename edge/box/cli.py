"""`edge run SITE.yaml --box NAME`: every worker assigned to the box (`box:` on its camera), supervised.

Each worker is an `edge worker` process; one that dies is restarted after a capped backoff, and
all their output comes out as one stream, each line prefixed with the camera id. Secrets are
checked before anything starts, so a missing password is one clear error, not a restart loop.
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
from functools import partial
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.config import CheckpointCamera, SiteConfig, SmokeCamera

log = logging.getLogger(__name__)


def box_cameras(site: SiteConfig, box: str) -> list[CheckpointCamera | SmokeCamera]:
    """The cameras whose worker runs on `box`, in config order."""
    return [camera for camera in site.cameras if camera.box == box]


def secret_problems(site: SiteConfig, cameras: list[CheckpointCamera | SmokeCamera]) -> list[str]:
    """One line per camera or broker password the workers would fail to read; nothing is kept."""
    from edge.config import SecretUnavailableError

    problems = []
    for camera in cameras:
        broker = site.broker.password if camera.mqtt is None else partial(camera.mqtt.password, "mqtt")
        for read in (camera.source.resolved_url, broker):
            try:
                read()
            except SecretUnavailableError as exc:
                problems.append(f"camera {camera.id}: {exc}")
    return problems


def worker_argv(config: Path, site_id: str, camera_id: str, *, log_level: str | None, stats_interval_s: float,
                outbox_dir: Path | None) -> tuple[str, ...]:
    """The `edge worker` command line for one camera, run with this Python."""
    argv = [sys.executable, "-m", "edge", *(["--log-level", log_level] if log_level else []), "worker",
            str(config), "--camera", camera_id, "--stats-interval-s", f"{stats_interval_s:g}"]
    if outbox_dir is not None:
        argv += ["--outbox", str(outbox_dir / f"{site_id}-{camera_id}.db")]
    return tuple(argv)


def _run(args: argparse.Namespace) -> int:
    from edge.box.supervisor import Child, RestartPolicy, Supervisor
    from edge.config import ConfigError, load_site

    if args.restart_initial_s > args.restart_max_s:
        print("--restart-initial-s must not exceed --restart-max-s", file=sys.stderr)
        return 2
    try:
        site = load_site(args.config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return 2
    cameras = box_cameras(site, args.box)
    if not cameras:
        boxes = sorted({c.box for c in site.cameras if c.box is not None})
        print(f"{args.config}: no camera has box {args.box!r} (boxes: {', '.join(boxes) or 'none'})",
              file=sys.stderr)
        return 2
    problems = secret_problems(site, cameras)
    if problems:
        for problem in problems:
            print(f"{args.config}: {problem}", file=sys.stderr)
        return 2
    children = [Child(c.id, worker_argv(args.config, site.site.id, c.id, log_level=args.log_level,
                                        stats_interval_s=args.stats_interval_s, outbox_dir=args.outbox_dir))
                for c in cameras]
    policy = RestartPolicy(initial_s=args.restart_initial_s, max_s=args.restart_max_s)
    supervisor = Supervisor(children, policy=policy)
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("%s: stopping the workers", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    log.info("box %s: %d worker(s): %s", args.box, len(children), ", ".join(c.name for c in children))
    supervisor.run(stop)
    log.info("box %s: all workers stopped", args.box)
    return 0


def _positive(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text}")
    return value


def add_parsers(sub: Any) -> None:
    """Register `run` on the `edge` command's subparsers."""
    p = sub.add_parser("run", help="run every worker assigned to a box, restarting any that dies")
    p.add_argument("config", type=Path, metavar="CONFIG", help="site YAML")
    p.add_argument("--box", required=True, metavar="NAME", help="the `box:` named on the cameras to run")
    p.add_argument("--stats-interval-s", type=_positive, default=60.0, help="default: 60")
    p.add_argument("--outbox-dir", type=Path, metavar="DIR",
                   help="outboxes here as SITE-CAMERA.db (default: the worker's, var/outbox/)")
    p.add_argument("--restart-initial-s", type=_positive, default=1.0,
                   help="first delay before restarting a worker that died; doubles each time (default: 1)")
    p.add_argument("--restart-max-s", type=_positive, default=60.0, help="cap on that delay (default: 60)")
    p.set_defaults(func=_run)
