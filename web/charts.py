"""Chart geometry for the analysis views, computed here so the templates draw plain SVG without
script (as the search page's timeline does, `web.pages.timeline_chart`): small multiples of bars
(trends), lines on one timeline (comparisons), and the shaded bands where the crawl was thin
(`indexer.coverage`), which every time chart draws, the search page's included.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from flask import current_app

from indexer.coverage import crawl_coverage

# The plot area of every time chart, in SVG units, and the room for the axes' labels.
WIDTH, LEFT, BOTTOM = 600, 48, 18
MIN_BAND = 2.0  # a gap of a day in a chart of years still shows as a sliver
LABEL_MIN = 40.0  # narrower bands keep their label for the tooltip and the list below the chart
# Okabe and Ito's colour-blind-safe palette, each line also dashed its own way (grey print).
COLOURS = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00"]
DASHES = ["", "6 3", "2 2", "8 3 2 3", "1 3"]


def period_bounds(period: str) -> tuple[datetime, datetime]:
    """A period ("2021" or "2021-03") as [start, end) in UTC."""
    if len(period) == 4:
        year = int(period)
        return _utc(date(year, 1, 1)), _utc(date(year + 1, 1, 1))
    year, month = (int(p) for p in period.split("-"))
    following = date(year + month // 12, month % 12 + 1, 1)
    return _utc(date(year, month, 1)), _utc(following)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def charted_coverage(periods: list[str]) -> dict[str, Any]:
    """The app's crawl store coverage (`indexer.coverage`: DATA_DIR, and the configured SITES),
    with only the gaps that overlap the charted periods."""
    coverage = crawl_coverage(
        current_app.config.get("DATA_DIR"), current_app.config.get("SITES", ())
    )
    if not periods:
        return coverage | {"gaps": []}
    start = period_bounds(periods[0])[0].strftime("%Y-%m-%dT%H:%M:%SZ")
    end = period_bounds(periods[-1])[1].strftime("%Y-%m-%dT%H:%M:%SZ")
    return coverage | {
        "gaps": [g for g in coverage["gaps"] if g["start"] < end and g["end"] > start]
    }


def x_of(moment: datetime, periods: list[str], left: float, step: float) -> float | None:
    """Where a moment falls on a chart of `periods` (each `step` wide from `left`), or None
    outside it: within its period, in proportion to the time elapsed."""
    for i, period in enumerate(periods):
        start, end = period_bounds(period)
        if start <= moment < end:
            return left + step * (i + (moment - start) / (end - start))
    return None


def coverage_bands(
    gaps: list[dict[str, Any]], periods: list[str], left: float, step: float
) -> list[dict[str, Any]]:
    """The bands of the crawl's gaps that fall on the chart, clipped to it: x, width, a short
    label and the full sentence (the tooltip and the screen readers' text)."""
    if not periods:
        return []
    first, _ = period_bounds(periods[0])
    _, last = period_bounds(periods[-1])
    bands = []
    for gap in gaps:
        start = max(_parse(gap["start"]), first)
        end = min(_parse(gap["end"]), last)
        if start >= end:
            continue
        x0 = x_of(start, periods, left, step)
        x1 = x_of(end, periods, left, step) if end < last else left + step * len(periods)
        if x0 is None or x1 is None:
            continue
        width = max(MIN_BAND, x1 - x0)
        right = x0 > left + step * len(periods) / 2  # a label there reads leftwards
        bands.append(
            {
                "x": round(x0, 2),
                "width": round(width, 2),
                "label_x": round(x0 + width - 3 if right else x0 + 3, 2),
                "anchor": "end" if right else "start",
                "kind": gap["kind"],
                "label": f"{gap['site']}: {gap['kind']}" if width >= LABEL_MIN else "",
                "text": describe_gap(gap),
            }
        )
    return bands


def describe_gap(gap: dict[str, Any]) -> str:
    """One sentence for a gap: which site, what happened, from when to when."""
    until = "now" if gap.get("ongoing") else gap["end"][:10]
    what = (
        f"{gap['failed_runs']} failed run{'' if gap['failed_runs'] == 1 else 's'}"
        if gap["kind"] == "failed"
        else "not crawled"
    )
    return f"{gap['site']}: {what} from {gap['start'][:10]} to {until}"


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def levels(peak: float, height: float, fmt: Any = str) -> list[dict[str, Any]]:
    """Value-axis labels: 0, the middle and the peak, each at its height."""
    if not peak:
        return []
    return [
        {"label": fmt(v), "y": round(height * (1 - v / peak), 1)}
        for v in sorted({0, peak / 2, peak})
    ]


def percent(share: float | None) -> str:
    """A share as people quote it: 4.2%, or 0.04% when small, "n/a" with no denominator."""
    if share is None:
        return "n/a"
    value = share * 100
    if value == 0:
        return "0%"
    text = f"{value:.2g}" if value < 1 else f"{value:.1f}".removesuffix(".0")
    return text + "%"
