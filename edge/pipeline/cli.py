"""`edge worker` (one live camera) and `edge replay` (a recording, as fast as possible)."""

from __future__ import annotations

import argparse
import logging
import sys
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

log = logging.getLogger(__name__)


def _iso_time(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r} (e.g. 2025-05-06T08:00:00+08:00)"
                                         ) from None


def add_parsers(sub: Any) -> None:
    """Register `worker` and `replay` on the `edge` command's subparsers."""
    worker = sub.add_parser("worker", help="run one camera's worker (live) until SIGTERM/SIGINT")
    worker.add_argument("config", type=Path, metavar="CONFIG", help="site YAML")
    worker.add_argument("--camera", required=True, metavar="ID", help="camera id in the site config")
    worker.add_argument("--stats-interval-s", type=float, default=60.0, help="default: 60")
    worker.add_argument("--broker", metavar="URL",
                        help="mqtt://[user@]host[:port] (default: the site's broker)")
    worker.add_argument("--outbox", type=Path, metavar="PATH",
                        help="outbox database (default: var/outbox/SITE-CAMERA.db)")
    worker.set_defaults(func=_worker)

    replay = sub.add_parser("replay", help="replay a recording through a camera's pipeline")
    replay.add_argument("config", type=Path, metavar="CONFIG", help="site YAML")
    replay.add_argument("video", type=Path, metavar="VIDEO", help="video file")
    replay.add_argument("--camera", required=True, metavar="ID", help="camera id in the site config")
    replay.add_argument("--start", type=_iso_time, metavar="ISO-TIME",
                        help="capture time of the first frame (default: the file's modification time); "
                             "without an offset, the site's time zone")
    replay.add_argument("--broker", metavar="URL",
                        help="publish to this broker (mqtt://[user@]host[:port]) through an outbox; "
                             "default: count events without sending them")
    replay.add_argument("--outbox", type=Path, metavar="PATH",
                        help="outbox database with --broker (default: a temporary file; events not "
                             "acknowledged by the end are lost with it, and a second replay resends them)")
    replay.add_argument("--truth-detections", action="store_true",
                        help="use the clip's ground-truth boxes (VIDEO.json) instead of the model")
    replay.add_argument("--evidence-dir", type=Path, metavar="DIR",
                        help="write evidence JPEGs here (default: the camera's evidence_dir, if any)")
    replay.add_argument("--no-evidence", action="store_true", help="write no evidence files")
    replay.add_argument("--quiet", action="store_true", help="no progress bar")
    replay.set_defaults(func=_replay)


def _load(config: Path, camera_id: str) -> Any:
    from edge.config import ConfigError, load_site

    try:
        site = load_site(config)
    except ConfigError as exc:
        print(str(exc), file=sys.stderr)
        return None
    try:
        site.camera(camera_id)
    except KeyError:
        known = ", ".join(c.id for c in site.cameras) or "none"
        print(f"{config}: no camera {camera_id!r} (cameras: {known})", file=sys.stderr)
        return None
    return site


def _replay(args: argparse.Namespace) -> int:
    from edge.evidence import EvidenceStore
    from edge.pipeline.replay import default_evidence, run_replay
    from edge.pipeline.sinks import MemorySink

    site = _load(args.config, args.camera)
    if site is None:
        return 2
    if not args.video.is_file():
        print(f"{args.video}: no such file", file=sys.stderr)
        return 2
    zone = ZoneInfo(site.site.timezone)
    start = args.start or datetime.fromtimestamp(int(args.video.stat().st_mtime), zone)
    start = start if start.tzinfo is not None else start.replace(tzinfo=zone)
    camera = site.camera(args.camera)
    evidence = (None if args.no_evidence else EvidenceStore(args.evidence_dir) if args.evidence_dir
                else default_evidence(camera))
    progress = not args.quiet and sys.stderr.isatty()
    if args.broker is None:
        summary = run_replay(site, args.camera, args.video, start, MemorySink(), progress,
                             truth_detections=args.truth_detections, evidence=evidence)
        print(summary.table())
        print("(no --broker: events were counted, not sent)")
        return 0
    import tempfile

    from edge.pipeline.delivery import open_delivery

    with tempfile.TemporaryDirectory(prefix="edge-replay-") as tmp:
        outbox = args.outbox or Path(tmp) / "outbox.db"
        delivery = open_delivery(site, args.camera, broker_url=args.broker, outbox_path=outbox)
        try:
            summary = run_replay(site, args.camera, args.video, start, delivery.sink, progress,
                                 truth_detections=args.truth_detections, evidence=evidence)
            left = delivery.drain(timeout_s=60.0)
            delivery.stopped(f"replay of {args.video.name} done")
        finally:
            delivery.close()
    print(summary.table())
    if left:
        where = (f"; they stay in {args.outbox}" if args.outbox
                 else " and were dropped with the temporary outbox")
        print(f"{left} event(s) not acknowledged by the broker{where}", file=sys.stderr)
        return 1
    return 0


def _worker(args: argparse.Namespace) -> int:
    from edge.pipeline.live import run_worker

    site = _load(args.config, args.camera)
    if site is None:
        return 2
    return run_worker(site, args.camera, stats_interval_s=args.stats_interval_s, outbox_path=args.outbox,
                      broker_url=args.broker)
