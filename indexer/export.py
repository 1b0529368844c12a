"""Export rows as CSV or JSON Lines: what `/api/export.*` streams and `innosearch export`
writes, the same bytes from both.

CSV is UTF-8 with a byte-order mark (spreadsheets then read it as UTF-8), every text cell
quoted, and cells a spreadsheet could take for a formula defused.
"""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

COLUMNS = ("id", "url", "title", "published", "year", "chains", "countries", "site")
# site_name came later: last, so the columns before it keep their places.
CSV_HEADER = (*COLUMNS, "also_urls", "site_name")
FORMATS = {"csv": "text/csv", "jsonl": "application/jsonl"}


def lines(rows: Iterable[dict[str, Any]], fmt: str) -> Iterator[str]:
    """The export of `rows` in `fmt` ("csv" or "jsonl"), a line (or the BOM) at a time."""
    if fmt == "jsonl":
        for row in rows:
            yield json.dumps(row, ensure_ascii=False) + "\n"
        return
    yield "\ufeff"
    yield from csv_lines([CSV_HEADER], crawled=True)
    for row in rows:
        yield from csv_lines([_csv_row(row)], crawled=True)


def _csv_row(row: dict[str, Any]) -> list[Any]:
    values = [row.get(c) for c in COLUMNS]
    values[COLUMNS.index("chains")] = ";".join(row["chains"])
    values[COLUMNS.index("countries")] = ";".join(row["countries"])
    values = ["" if v is None else v for v in values]
    return [*values, " ".join(a["url"] for a in row.get("also", [])), row.get("site_name") or ""]


def csv_lines(rows: Iterable[Iterable[Any]], crawled: bool = False) -> Iterator[str]:
    """CSV lines; with ``crawled`` (cells of crawled text) every text cell is quoted, so a
    spreadsheet that splits on ";" (many locales) keeps "a;=1+1" in one cell."""
    buffer = io.StringIO()
    quoting = csv.QUOTE_NONNUMERIC if crawled else csv.QUOTE_MINIMAL
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=quoting)
    for row in rows:
        writer.writerow([_defuse(v) for v in row])
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


# A cell a spreadsheet could read as a formula (OWASP's list: = + - @), also behind leading
# white space or line breaks, which spreadsheets skip, or behind a ";" or "," that a
# spreadsheet set to another list separator would split the cell at.
_FORMULA = re.compile(r"(?:^|[;,])\s*[=+\-@]|^\s")


def _defuse(value: Any) -> Any:
    """Such a cell is prefixed with a quote, which makes it text (every text cell is quoted
    too, so a separator inside it does not split it)."""
    if isinstance(value, str) and _FORMULA.search(value):
        return "'" + value
    return value
