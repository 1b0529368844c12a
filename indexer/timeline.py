"""The attention chart: matching stories per month or year, with the gaps filled with zeros.

Both backends count stories per month (YYYYMM) their own way and hand the counts here, so the
chart's periods and its `auto` choice are the same whichever index answers.
"""

from __future__ import annotations

from collections import Counter
from typing import Any


def timeline_of(months: dict[int, int], undated: int, interval: str) -> dict[str, Any]:
    """Stories per month or year from counts per month (YYYYMM), gaps filled with zeros.

    `auto` picks months for spans up to four years and years beyond, so the chart stays readable.
    """
    counts = Counter({int(k): int(v) for k, v in months.items()})
    if not counts:
        return {
            "interval": "year" if interval == "auto" else interval,
            "counts": [],
            "undated": undated,
        }
    first, last = min(counts), max(counts)
    span = (last // 100 - first // 100) * 12 + last % 100 - first % 100 + 1
    if interval == "auto":
        interval = "month" if span <= 48 else "year"
    out: list[dict[str, Any]] = []
    if interval == "year":
        years: Counter[int] = Counter()
        for month, n in counts.items():
            years[month // 100] += n
        for year in range(min(years), max(years) + 1):
            out.append({"period": str(year), "count": years.get(year, 0)})
    else:
        year, month = divmod(first, 100)
        while year * 100 + month <= last:
            out.append(
                {"period": f"{year}-{month:02d}", "count": counts.get(year * 100 + month, 0)}
            )
            year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return {"interval": interval, "counts": out, "undated": undated}
