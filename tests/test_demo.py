"""`edge demo` end to end: samples -> workers -> embedded amqtt -> aggregator -> report and alerts."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from edge.config import BrokerConfig, load_site
from edge.demo.broker import EmbeddedBroker, free_port
from edge.demo.plan import DemoClip, sample_plan
from edge.demo.run import checkpoint_and_smoke, run_demo

REPO = Path(__file__).resolve().parents[1]
SITE = REPO / "configs" / "site.yaml"
needs_weights = pytest.mark.skipif(not (REPO / "models" / "helmet.pt").exists(),
                                   reason="the shipped helmet weights are missing")


@pytest.mark.slow
@needs_weights
def test_aggregator_counts_exactly_what_the_workers_published(tmp_path: Path) -> None:
    """Every rider the workers counted reaches the report once, through a real (embedded) broker."""
    os.environ.setdefault("YOLO_OFFLINE", "1")
    site = load_site(SITE)
    checkpoint, _ = checkpoint_and_smoke(site)
    plan = [c for c in sample_plan(REPO / "samples", checkpoint, None, site.site.timezone)
            if c.video.name == "checkpoint-night.mp4"]
    with EmbeddedBroker(port=free_port()) as broker:
        config = BrokerConfig(host=broker.host, port=broker.port, topic_prefix=site.broker.topic_prefix,
                              mqtt_version="3.1.1")
        result = run_demo(site, plan, config, tmp_path, min_riders=1, progress=False)

    (_, summary), = result.replays
    rows = [r for r in result.report.rows if r.camera == checkpoint]
    assert summary.riders > 20, "the shipped model should count most of the 32 two-wheelers"
    assert {r.direction: r.riders + r.unknown_vehicles for r in rows} == summary.riders_by_direction
    assert sum(r.no_helmet for r in rows) == summary.occupants_by_verdict.get("no_helmet", 0)
    assert sum(r.helmet + r.no_helmet + r.unknown for r in rows) == sum(summary.occupants_by_verdict.values())
    below = {r.direction for r in rows if r.status == "below"}
    alerted = {f.direction for a in result.helmet_alerts if a.active for f in a.findings}
    assert alerted == below
    assert result.alert_messages_seen >= len(alerted)
    assert (tmp_path / "evidence" / checkpoint).is_dir()


def test_plan_places_every_sample_in_one_week() -> None:
    site = load_site(SITE)
    plan: list[DemoClip] = sample_plan(REPO / "samples", "cp-baizhang-s", "smoke-tower-3", site.site.timezone)
    assert [c.video.name for c in plan] == ["checkpoint-day.mp4", "checkpoint-night.mp4", "smoke-nofire.mp4",
                                            "smoke-fire.mp4"]
    assert len({c.start.isocalendar()[:2] for c in plan}) == 1


def test_missing_samples_and_bad_broker_url_are_one_clear_error(tmp_path: Path) -> None:
    def demo(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "edge.cli", "demo", str(SITE), *args], cwd=REPO,
                              capture_output=True, text=True, timeout=60)

    missing = demo("--samples", str(tmp_path))
    assert missing.returncode == 2
    assert missing.stderr.strip().startswith("edge demo: sample clips missing:")
    bad = demo("--broker", "http://example.org")
    assert bad.returncode == 2
    assert "--broker: broker URL must start with mqtt://" in bad.stderr
