"""`edge report --format png`: the week's rates per checkpoint against the standard, and a trend.

Drawn with matplotlib's Agg canvas (no GUI, no pyplot state) in the bundled DejaVu font;
labels use camera ids, which are ASCII, so no CJK font is needed.
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

from edge.aggregator.report import Report

_COLOURS = {"below": "#c0392b", "ok": "#27ae60", "insufficient": "#95a5a6", "no_data": "#d5d8dc"}


def _percent(value: Fraction) -> float:
    # Truncated like every displayed rate, so the bar never sits above what the table says.
    return float(Fraction((value * 10_000).__floor__(), 100))


def write_png(report: Report, path: Path) -> None:
    """Draw the report's chart into a PNG file."""
    from matplotlib.figure import Figure  # heavy: imported only when drawing

    fig = Figure(figsize=(12, 5), dpi=100, layout="constrained")
    bars_ax, trend_ax = fig.subplots(1, 2, width_ratios=(3, 2))
    kind = "verified" if report.verified else "raw"
    rows = [r for r in report.rows if r.rate_exact is not None]
    labels = [f"{r.camera}\n{r.direction}" for r in rows]
    values = [_percent(1 - Fraction(r.no_helmet, r.riders)) for r in rows]
    standards = [float(r.standard.rstrip("%")) for r in rows]
    xs = range(len(rows))
    bars_ax.bar(xs, values, width=0.6, color=[_COLOURS[r.status] for r in rows])
    for x, std in zip(xs, standards, strict=True):
        bars_ax.hlines(std, x - 0.4, x + 0.4, colors="black", linestyles="dashed")
    for x, value in zip(xs, values, strict=True):  # inside the bar top, clear of the standard line
        bars_ax.annotate(f"{value:.2f}%", (x, value), xytext=(0, -14), textcoords="offset points",
                         ha="center", fontsize=8, color="white", fontweight="bold")
    default = _percent(report.default_standard)
    floor = min([*values, *standards, default], default=default)
    pad = max(0.7, (3 - len(rows)) / 2)  # a lone bar stays narrow and centred
    bars_ax.set_xlim(-pad, len(rows) - 1 + pad)
    bars_ax.set_ylim(max(0.0, floor - 5), 101)
    bars_ax.set_xticks(list(xs), labels, fontsize=8)
    bars_ax.set_ylabel("helmet rate (%)")
    bars_ax.set_title(f"{report.site} {report.week}: helmet rate per checkpoint ({kind})")
    bars_ax.plot([], [], color="black", linestyle="dashed", label="standard")
    bars_ax.legend(loc="upper right")

    low = default
    weeks = [p.week for p in next(iter(report.trend.values()), ())]
    for (camera, direction), line in report.trend.items():
        rates = [float("nan") if p.rate is None else _percent(p.rate) for p in line]
        trend_ax.plot(range(len(line)), rates, marker="o", label=f"{camera} {direction}")
        low = min([low, *(r for r in rates if r == r)])  # r == r skips NaN
    trend_ax.axhline(default, color="black", linestyle="dashed", label=f"standard {default:.2f}%")
    trend_ax.set_xticks(range(len(weeks)), weeks, rotation=45, ha="right", fontsize=8)
    trend_ax.set_xlim(-0.5, max(len(weeks), 1) - 0.5)
    trend_ax.set_ylim(max(0.0, low - 5), 101)
    trend_ax.set_title(f"trend, last {len(weeks)} weeks ({kind})")
    trend_ax.legend(fontsize=7, loc="lower left")
    fig.savefig(path, format="png")
