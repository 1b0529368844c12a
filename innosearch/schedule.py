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
    """Seconds in `6h`, `30m`, `1h30m`, `1d` or `90s`. A bare number is refused: `6` could
    mean six hours as well as six seconds, and six seconds would hammer every site."""
    spec = text.strip().lower()
    parts = _PART.findall(spec)
    if not parts or "".join(n + u for n, u in parts) != spec:
        hint = f"; did you mean {spec}h?" if re.fullmatch(r"\d+(?:\.\d+)?", spec) else ""
        raise ValueError(
            f"not an interval: {text!r}: give a unit (examples: 6h, 30m, 1h30m, 1d, 90s){hint}"
        )
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
            except KeyboardInterrupt:
                _log_end(runs, started, None, interrupted=True)
                raise
            except Exception:
                log.exception("schedule: run %d crashed", runs, extra={"event": "run-crash"})
                status = 1
            last = max_runs is not None and runs >= max_runs
            wait = max(0.0, every - (time.monotonic() - started))
            _log_end(runs, started, status, next_run=None if last else utc_now(wait))
            if last:
                break
            time.sleep(wait)
    except KeyboardInterrupt:
        log.info(
            "schedule: stopped after %d runs", runs, extra={"event": "schedule-stop", "runs": runs}
        )
    finally:
        signal.signal(signal.SIGTERM, previous)
    return 0


def _log_end(
    run: int,
    started: float,
    status: int | None,
    next_run: str | None = None,
    interrupted: bool = False,
) -> None:
    """The `run-end` line: how the run went, and when the next one starts (if one does)."""
    took = time.monotonic() - started
    if interrupted:
        outcome, level = "stopped by SIGTERM or Ctrl-C", logging.WARNING
    elif status == 0:
        outcome, level = "succeeded", logging.INFO
    else:
        outcome, level = f"failed (exit status {status})", logging.WARNING
    then = f"; next run at {next_run}" if next_run else "; no further run"
    extra: dict[str, object] = {"event": "run-end", "run": run, "seconds": round(took, 2)}
    extra |= {"status": status, "interrupted": interrupted, "next_run": next_run}
    log.log(level, "schedule: run %d %s in %.1f s%s", run, outcome, took, then, extra=extra)


def _human(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{int(seconds // size)}{unit}"
    return f"{seconds:g}s"
