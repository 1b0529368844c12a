"""Progress on a terminal: one line, rewritten in place while a crawl runs.

Only when standard error is a terminal: there a person is waiting; elsewhere (a service
manager, a pipe, cron) the JSON log lines say the same for machines, and carriage returns would
only clutter them.
"""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO


def progress_line(p: Any) -> str:
    """A crawl's progress in words: "120 pages fetched (4.2 pages/s), 35 queued, 12 new
    articles, 1 error"."""
    parts = [
        f"{p.pages_fetched} page{'s' if p.pages_fetched != 1 else ''} fetched "
        f"({p.rate:.1f} pages/s)",
        f"{p.queued} queued",
        f"{p.articles_new} new article{'s' if p.articles_new != 1 else ''}",
    ]
    if p.revalidated:
        parts.append(f"{p.revalidated} revalidated")
    if p.articles_gone:
        parts.append(f"{p.articles_gone} gone")
    if p.errors:
        parts.append(f"{p.errors} error{'s' if p.errors != 1 else ''}")
    return ", ".join(parts)


class TerminalProgress:
    """A crawl's `progress` callback that keeps one line up to date (at most twice a second),
    after a `prefix` such as "[2/5 herald] "; `done()` ends the line."""

    def __init__(self, prefix: str = "", stream: TextIO | None = None) -> None:
        self.prefix = prefix
        self.stream = stream or sys.stderr
        self.active = self.stream.isatty()
        self._last = 0.0
        self._shown = False

    def __call__(self, p: Any) -> None:
        if not self.active or time.monotonic() - self._last < 0.5:
            return
        self._last = time.monotonic()
        # \r back to the start, ESC[K clears what a longer previous line left.
        print(f"\r\x1b[K{self.prefix}{progress_line(p)}", end="", file=self.stream, flush=True)
        self._shown = True

    def done(self) -> None:
        if self._shown:
            print(file=self.stream, flush=True)
            self._shown = False
