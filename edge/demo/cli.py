"""`edge demo`: what a new user runs first (README: `make demo`)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from edge.demo.plan import ClipTruth
    from edge.demo.run import DemoResult
    from edge.pipeline.replay import ReplaySummary

#: Two sample clips are about 100 s of traffic, not a week: alert from this many riders on.
DEMO_MIN_RIDERS = 20


def add_parsers(sub: Any) -> None:
    demo = sub.add_parser("demo", help="sample clips -> workers -> broker -> aggregator -> weekly report")
    demo.add_argument("config", nargs="?", default="configs/site.yaml", type=Path,
                      help="site YAML (default: configs/site.yaml)")
    demo.add_argument("--broker", metavar="URL",
                      help="use this broker (mqtt://[user@]host[:port]) instead of an embedded amqtt")
    demo.add_argument("--samples", type=Path, default=Path("samples"), help="default: samples/")
    demo.add_argument("--out", type=Path, default=Path("out/demo"),
                      help="store, outboxes, evidence and chart (default: out/demo, replaced each run)")
    demo.add_argument("--min-riders", type=int, default=DEMO_MIN_RIDERS,
                      help=f"riders a week needs before it can alert (default: {DEMO_MIN_RIDERS})")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(func=_demo, default_log_level="WARNING")


def _demo(args: argparse.Namespace) -> int:
    from edge.aggregator.chart import write_png
    from edge.aggregator.report import as_table
    from edge.config import BrokerConfig, ConfigError, load_site
    from edge.demo.broker import EmbeddedBroker
    from edge.demo.plan import sample_plan
    from edge.demo.run import checkpoint_and_smoke, missing_weights, run_demo

    try:
        site = load_site(args.config)
        checkpoint, smoke = checkpoint_and_smoke(site)
        plan = sample_plan(args.samples, checkpoint, smoke, site.site.timezone)
    except ConfigError as exc:
        print("\n".join(exc.messages), file=sys.stderr)
        return 2
    except (ValueError, FileNotFoundError) as exc:
        print(f"edge demo: {exc}", file=sys.stderr)
        return 2
    problems = missing_weights(site, [c.camera for c in plan])
    if problems:
        print("\n".join(f"edge demo: {p}" for p in problems), file=sys.stderr)
        return 2
    embedded = None
    if args.broker:
        try:
            given = BrokerConfig.from_url(args.broker)
        except ValueError as exc:
            print(f"--broker: {exc}", file=sys.stderr)
            return 2
        broker = given.model_copy(update={"topic_prefix": site.broker.topic_prefix})
    else:
        embedded = EmbeddedBroker().start()
        broker = BrokerConfig(host=embedded.host, port=embedded.port, topic_prefix=site.broker.topic_prefix,
                              mqtt_version="3.1.1")
    root = broker.topic_prefix.split("/")[0]
    print(f"broker {broker.address}{' (embedded amqtt)' if embedded else ''}; watch it with:\n"
          f"  mosquitto_sub -h {broker.host} -p {broker.port} -t '{root}/#' -v\n")
    try:
        result = run_demo(site, plan, broker, args.out, min_riders=args.min_riders,
                          progress=not args.quiet and sys.stderr.isatty())
    finally:
        if embedded is not None:
            embedded.stop()
    print(_replays(result))
    print(f"\nweek {result.report.week} ({result.report.timezone}), riders counted by the aggregator:")
    print(as_table(result.report))
    print(_alerts(result))
    chart = args.out / f"report-{site.site.id}-{result.report.week}.png"
    write_png(result.report, chart)
    print(f"\nchart: {chart}\nevidence: {args.out / 'evidence'}")
    return 0


def _replays(result: DemoResult) -> str:
    from edge.demo.plan import ClipTruth

    lines = ["replays (counted by the workers; truth from the renderer's ground truth):"]
    for clip, summary in result.replays:
        lines.append(f"  {clip.video.name} as {clip.camera}, from {clip.start:%a %Y-%m-%d %H:%M %Z}: "
                     f"{summary.frames} frames in {summary.wall_s:.0f} s "
                     f"({summary.video_s / max(summary.wall_s, 1e-9):.1f}x real time)")
        lines.append("    " + _against_truth(summary, ClipTruth.read(clip.video)))
    return "\n".join(lines)


def _against_truth(s: ReplaySummary, truth: ClipTruth | None) -> str:
    def vs(value: int | str, true: int | float | None) -> str:
        return f"{value}" if true is None else f"{value} (truth {true})"

    if truth is not None and truth.smoke_onset_s is None and not truth.vehicles:
        return f"smoke incidents {vs(s.smoke_incidents, 0)}"
    if truth is not None and truth.smoke_onset_s is not None:
        return f"smoke incidents {vs(s.smoke_incidents, 1)}, onset at {truth.smoke_onset_s:.1f} s"
    no_helmet = s.occupants_by_verdict.get("no_helmet", 0)
    occupants = sum(s.occupants_by_verdict.values())
    t = truth
    return (f"two-wheelers {vs(s.riders, t.vehicles if t else None)}, "
            f"occupants {vs(occupants, t.occupants if t else None)}, "
            f"without helmet {vs(no_helmet, t.no_helmet if t else None)}, "
            f"unknown {s.occupants_by_verdict.get('unknown', 0)}")


def _alerts(result: DemoResult) -> str:
    lines = [f"\nalerts ({result.alert_messages_seen} message(s) on the alerts topics):"]
    active = [a for a in result.helmet_alerts if a.active]
    for alert in active:
        for finding in alert.findings:
            lines += [f"  helmet {alert.camera} {alert.week} {finding.direction}:",
                      f"    {finding.text_zh}", f"    {finding.text_en}"]
    for inc in result.incidents:
        where = (f", at {inc.position.latitude_deg:.5f}, {inc.position.longitude_deg:.5f}"
                 if inc.position else "")
        sight = ", ".join(f"{s.camera} bearing {s.bearing_deg:.1f} deg" for s in inc.sightings)
        lines.append(f"  fire incident {inc.incident_id} ({inc.state}), "
                     f"opened {inc.opened_at:%Y-%m-%d %H:%M:%S}{' with flame' if inc.flame else ''}: "
                     f"{sight}{where}")
    if not active and not result.incidents:
        lines.append("  none")
    return "\n".join(lines)
