"""Logging for the command line: plain messages for a person at a terminal, one JSON object a
line for cron, systemd and log collectors (anything that is not a terminal).

Callers log a readable message and put the facts in `extra={...}`; the JSON form carries both,
so a maintainer can `jq 'select(.event == "site")'` a month of recrawl logs without parsing
prose. Errors a user can fix are not logs: the CLI prints them as one plain line.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any, TextIO

# Attributes every LogRecord has; anything else on a record came from `extra=`.
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName"}


def facts(**fields: Any) -> dict[str, Any]:
    """`extra=` for a log call, without names LogRecord reserves (logging raises on those)."""
    return {k: v for k, v in fields.items() if k not in _STANDARD}


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, then the record's extra fields."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["error"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def use_json(log_format: str, stream: TextIO) -> bool:
    """Whether `log_format` ("auto", "json" or "text") means JSON lines on `stream`."""
    if log_format == "auto":
        isatty = getattr(stream, "isatty", None)
        return not (isatty and isatty())
    return log_format == "json"


def setup_logging(log_format: str = "auto", stream: TextIO | None = None) -> None:
    """Sends INFO and above to `stream` (stderr), as text or JSON lines; replaces any earlier
    setup, so the CLI can switch once the configuration has been read."""
    stream = sys.stderr if stream is None else stream
    handler = logging.StreamHandler(stream)
    if use_json(log_format, stream):
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    for old in root.handlers[:]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(logging.INFO)
