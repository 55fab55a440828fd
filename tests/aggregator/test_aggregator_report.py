"""`edge report` in every format, raw and verified, from a store the engine filled."""

from __future__ import annotations

import argparse
import csv
import io
import json
from datetime import timedelta
from pathlib import Path

import pytest
from conftest import CP, MONDAY_W03, NOW, TOWER_A, Events, make_settings, message, write_site

from edge.aggregator.cli import add_parsers
from edge.aggregator.configure import settings_from
from edge.aggregator.engine import Engine
from edge.aggregator.store import SqliteStore
from edge.config import load_site


def _edge(*argv: str) -> int:
    parser = argparse.ArgumentParser()
    add_parsers(parser.add_subparsers())
    args = parser.parse_args(argv)
    return int(args.func(args))


@pytest.fixture
def site(tmp_path: Path, store: SqliteStore, events: Events) -> Path:
    """The district's week (3252 riders, 334 without helmet) after a compliant week, with coverage."""
    path = write_site(tmp_path, min_riders=100)
    engine = Engine(store, settings_from(load_site(path)), clock=lambda: NOW + timedelta(days=7))
    w03 = [events.rider(["no_helmet" if i < 334 else "helmet"], at=MONDAY_W03 + timedelta(minutes=2 * i))
           for i in range(3252)]
    w02 = [events.rider(["no_helmet" if i < 10 else "helmet"], at=MONDAY_W03 - timedelta(minutes=i + 1))
           for i in range(200)]
    stats = [events.stats(MONDAY_W03 + timedelta(hours=h), 3000.0, span_s=3600.0) for h in range(10)]
    engine.ingest([message(e) for e in w03 + w02 + stats])
    engine.ingest([message(events.review(w03[0].event_id, "reject"))])
    return path


def test_table_report_shows_truncated_rate_and_coverage(site: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert _edge("report", str(site), "--week", "2025-W03") == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "site baizhang, week 2025-W03 (2025-01-13 to 2025-01-19, Asia/Shanghai), raw figures"
    assert lines[1].split() == ["checkpoint", "direction", "riders", "helmet", "no", "helmet", "unknown",
                                "rate", "per", "person", "standard", "coverage", "status"]
    assert lines[2].split() == [CP, "southbound", "3252", "2918", "334", "0", "89.72%", "89.72%", "90.00%",
                                "8.3", "h", "(4.96%)", "below"]  # 30000 s analysed of the 604800 s week
    assert lines[3] == "fire incidents opened this week: 0"


def test_verified_report_leaves_the_rejected_violation_out(site: Path,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    assert _edge("report", str(site), "--week", "2025-W03", "--format", "csv") == 0
    raw = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert _edge("report", str(site), "--week", "2025-W03", "--format", "csv", "--verified") == 0
    verified = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert (raw[0]["riders"], raw[0]["no_helmet"], raw[0]["rate"]) == ("3252", "334", "89.72%")
    # 1 - 333/3251 = 0.897569...
    assert (verified[0]["riders"], verified[0]["no_helmet"], verified[0]["rate"]) == ("3251", "333", "89.75%")
    assert verified[0]["figures"] == "verified"
    assert verified[0]["rate_exact"] == "2918/3251"


def test_json_report_has_rows_and_trend(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "w03.json"
    assert _edge("report", str(site), "--week", "2025-W03", "--format", "json", "--out", str(out),
                 "--trend-weeks", "3") == 0
    document = json.loads(out.read_text())
    assert document["rows"][0]["status"] == "below"
    assert document["rows"][0]["coverage_s"] == 30000.0
    (trend,) = document["trend"]
    assert [w["week"] for w in trend["weeks"]] == ["2025-W01", "2025-W02", "2025-W03"]
    assert [w["rate"] for w in trend["weeks"]] == [None, "95.00%", "89.72%"]


def test_png_report_is_drawn(site: Path, tmp_path: Path) -> None:
    out = tmp_path / "w03.png"
    assert _edge("report", str(site), "--week", "2025-W03", "--format", "png", "--out", str(out)) == 0
    data = out.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 10_000


def test_report_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    site = write_site(tmp_path)
    assert _edge("report", str(site), "--week", "2025-13") == 2
    assert capsys.readouterr().err.startswith("--week: expected an ISO week")
    assert _edge("report", str(site), "--week", "2025-W03") == 2
    assert "no store at" in capsys.readouterr().err
    (tmp_path / "bad.yaml").write_text("site: {id: Bad}\n")
    assert _edge("report", str(tmp_path / "bad.yaml"), "--week", "2025-W03") == 2
    assert "bad.yaml" in capsys.readouterr().err


def test_smoke_cameras_stats_give_them_no_report_row_or_rates(store: SqliteStore, events: Events) -> None:
    """Smoke cameras send stats like any worker, but they have no riders, rates or rows."""
    from edge.aggregator.report import build_report
    from edge.aggregator.weeks import IsoWeek

    settings = make_settings()
    engine = Engine(store, settings, clock=lambda: NOW)
    engine.ingest([message(events.stats(MONDAY_W03, 60.0, camera=TOWER_A)),
                   message(events.rider(["helmet"], at=MONDAY_W03 + timedelta(hours=1)))])
    report = build_report(store, settings, IsoWeek.parse("2025-W03"), verified=False, now=NOW)
    assert {r.camera for r in report.rows} == {CP}
    assert TOWER_A not in engine.known_cameras(NOW)
