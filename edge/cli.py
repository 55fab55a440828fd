"""The `edge` command: the one entry point, and the only place logging is configured."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from edge import __version__
from edge.aggregator import cli as aggregator_cli
from edge.box import cli as box_cli
from edge.broker import cli as broker_cli
from edge.demo import cli as demo_cli
from edge.pipeline import cli as pipeline_cli
from edge.synth import cli as synth_cli
from edge.training import cli as training_cli


def _config_check(args: argparse.Namespace) -> int:
    from edge.config.loader import check

    worst = 0
    for path in args.files:
        code, lines = check(Path(path))
        stream = sys.stdout if code == 0 else sys.stderr
        for line in lines:
            print(line, file=stream)
        worst = max(worst, code)
    return worst


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="edge", description="Checkpoint Vision: helmet-rule riders and straw-burning smoke at the edge.")
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument("--log-level", choices=["DEBUG", "INFO", "WARNING", "ERROR"],
                        help="default: INFO (WARNING for `edge demo`, whose output is its report)")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    config = sub.add_parser("config", help="configuration files").add_subparsers(
        dest="config_command", required=True, metavar="ACTION")
    check = config.add_parser("check", help="validate site or camera YAML files")
    check.add_argument("files", nargs="+", metavar="FILE")
    check.set_defaults(func=_config_check)

    synth_cli.add_parser(sub)
    training_cli.add_parsers(sub)
    aggregator_cli.add_parsers(sub)
    pipeline_cli.add_parsers(sub)
    broker_cli.add_parsers(sub)
    box_cli.add_parsers(sub)
    demo_cli.add_parsers(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    level = args.log_level or getattr(args, "default_log_level", "INFO")
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # The embedded broker and its state machine log every session change at INFO.
    for noisy in ("amqtt", "transitions"):
        logging.getLogger(noisy).setLevel(max(logging.getLevelName(level), logging.WARNING))
    try:
        return int(args.func(args))
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
