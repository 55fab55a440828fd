"""`edge aggregator`, `edge report` and `edge schema`."""

from __future__ import annotations

import argparse
import logging
import signal
import sqlite3
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.config import SiteConfig

log = logging.getLogger(__name__)


def _load(path: str) -> SiteConfig | None:
    """The site config, or None after printing its problems (one line each)."""
    from edge.config import ConfigError, load_site

    try:
        return load_site(Path(path))
    except ConfigError as exc:
        for message in exc.messages:
            print(message, file=sys.stderr)
        return None


def _aggregator(args: argparse.Namespace) -> int:
    from edge.aggregator.configure import client_id, settings_from
    from edge.aggregator.engine import Engine
    from edge.aggregator.service import AggregatorService
    from edge.aggregator.store import open_store
    from edge.config import SecretUnavailableError, summarize

    site = _load(args.config)
    if site is None:
        return 2
    log.info("%s", summarize(site))
    try:
        store = open_store(site.aggregator.store)
    except (NotImplementedError, ValueError, OSError, sqlite3.Error) as exc:
        print(f"{args.config}: aggregator.store: {exc}", file=sys.stderr)
        return 2
    try:
        service = AggregatorService(Engine(store, settings_from(site)), site.broker, client_id(site))
    except SecretUnavailableError as exc:
        print(f"{args.config}: {exc}", file=sys.stderr)
        return 2
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("stopping on signal %d", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    try:
        service.run(stop)
    finally:
        store.close()
    return 0


def _report(args: argparse.Namespace) -> int:
    from edge.aggregator.configure import settings_from
    from edge.aggregator.report import build_report, render
    from edge.aggregator.store import SqliteStore
    from edge.aggregator.weeks import IsoWeek

    try:
        week = IsoWeek.parse(args.week)
    except ValueError as exc:
        print(f"--week: {exc}", file=sys.stderr)
        return 2
    site = _load(args.config)
    if site is None:
        return 2
    path = site.aggregator.sqlite_path
    if path is None:
        print(f"{args.config}: aggregator.store: only sqlite stores can be reported on yet", file=sys.stderr)
        return 2
    if not path.exists():
        print(f"{args.config}: aggregator.store: no store at {path} (has the aggregator run?)",
              file=sys.stderr)
        return 2
    store = SqliteStore(path)
    try:
        report = build_report(store, settings_from(site), week, verified=args.verified,
                              now=datetime.now(UTC), trend_weeks=args.trend_weeks)
    finally:
        store.close()
    if args.format == "png":
        from edge.aggregator.chart import write_png

        out = Path(args.out or f"report-{site.site.id}-{week}.png")
        write_png(report, out)
        print(out)
        return 0
    text = render(report, args.format)
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
        print(args.out)
    else:
        sys.stdout.write(text)
    return 0


def _schema(args: argparse.Namespace) -> int:
    import json

    from edge.events import json_schemas, write_json_schemas

    if args.out:
        for path in write_json_schemas(Path(args.out)):
            print(path)
    else:
        sys.stdout.write(json.dumps(json_schemas(), indent=2, ensure_ascii=False) + "\n")
    return 0


def add_parsers(sub: Any) -> None:
    """Register `aggregator`, `report` and `schema` on an argparse subparsers object."""
    a = sub.add_parser("aggregator", help="run the site aggregator until stopped (SIGTERM / Ctrl-C)")
    a.add_argument("config", metavar="CONFIG", help="site YAML (edge config check validates it)")
    a.set_defaults(func=_aggregator)

    r = sub.add_parser("report", help="a week's helmet rates per checkpoint and direction")
    r.add_argument("config", metavar="CONFIG", help="site YAML")
    r.add_argument("--week", required=True, metavar="YYYY-Www", help="ISO week in the site's time zone")
    r.add_argument("--format", default="table", choices=("table", "csv", "json", "png"))
    r.add_argument("--verified", action="store_true", help="leave out findings operators rejected")
    r.add_argument("--out", metavar="FILE",
                   help="write here instead of stdout (png default: report-SITE-WEEK.png)")
    r.add_argument("--trend-weeks", type=int, default=8, help="weeks in the trend (json, png); default 8")
    r.set_defaults(func=_report)

    s = sub.add_parser("schema", help="export the payload JSON Schemas")
    s.add_argument("--out", metavar="DIR", help="write one file per schema here (default: all to stdout)")
    s.set_defaults(func=_schema)
