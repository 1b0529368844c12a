"""`innosearch schedule --every 6h`: recrawl on an interval, in the foreground, for machines
without cron or systemd (a container, a laptop, a Windows box with WSL).

Runs start at fixed intervals from the first (a run that overruns is followed at once by the
next, never by two). Each run is logged when it starts and ends; a failed run is logged and the
loop goes on. SIGTERM or Ctrl-C stops the loop cleanly at any moment: between runs at once, and
during a run by interrupting it, which is safe because an interrupted crawl resumes next time and
the index commit is all-or-nothing.
"""

from __future__ import annotations

import logging
import re
import signal
import time
from collections.abc import Callable
from types import FrameType

from crawler.fetch import utc_now

log = logging.getLogger("innosearch.schedule")

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_PART = re.compile(r"(\d+(?:\.\d+)?)([smhd])")


def parse_interval(text: str) -> float:
    """Seconds in `6h`, `30m`, `1h30m`, `1d`, `90s` or a bare number of seconds."""
    spec = text.strip().lower()
    try:
        seconds = float(spec)
    except ValueError:
        parts = _PART.findall(spec)
        if not parts or "".join(n + u for n, u in parts) != spec:
            raise ValueError(
                f"not an interval: {text!r} (examples: 6h, 30m, 1h30m, 1d, 90s)"
            ) from None
        seconds = sum(float(n) * _UNITS[u] for n, u in parts)
    if not seconds > 0:
        raise ValueError(f"the interval must be longer than zero: {text!r}")
    return seconds


def run_schedule(every: float, run_once: Callable[[], int], max_runs: int | None = None) -> int:
    """Calls `run_once` (returning an exit status) every `every` seconds until stopped.

    Returns 0 when stopped by SIGTERM or Ctrl-C (a requested stop is a success for a service
    manager), or after `max_runs` runs.
    """

    def stop(signum: int, frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, stop)
    runs = 0
    try:
        log.info(
            "schedule: recrawl every %s, first run now (stop with Ctrl-C or SIGTERM)",
            _human(every),
            extra={"event": "schedule-start", "every_seconds": every},
        )
        while max_runs is None or runs < max_runs:
            runs += 1
            started = time.monotonic()
            log.info("schedule: run %d starting", runs, extra={"event": "run-start", "run": runs})
            try:
                status = run_once()
            except Exception:
                log.exception("schedule: run %d crashed", runs, extra={"event": "run-crash"})
                status = 1
            took = time.monotonic() - started
            wait = max(0.0, every - took)
            log.log(
                logging.INFO if status == 0 else logging.WARNING,
                "schedule: run %d %s in %.1f s; next run at %s",
                runs,
                "succeeded" if status == 0 else f"failed (exit status {status})",
                took,
                utc_now(wait),
                extra={
                    "event": "run-end",
                    "run": runs,
                    "status": status,
                    "seconds": round(took, 2),
                    "next_run": utc_now(wait),
                },
            )
            if max_runs is not None and runs >= max_runs:
                break
            time.sleep(wait)
    except KeyboardInterrupt:
        log.info(
            "schedule: stopped after %d runs", runs, extra={"event": "schedule-stop", "runs": runs}
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
