"""`innosearch schedule`: recrawl on an interval in the foreground, one log line per run start
and end, and a clean stop on SIGTERM whether it is waiting or in the middle of a run."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from innosearch.sample_site import serve
from innosearch.schedule import parse_interval
from tests.conftest import CLI
from tests.test_recrawl import INNOSEARCH, environment, write_config


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("6h", 21600), ("30m", 1800), ("1h30m", 5400), ("1d", 86400), ("90s", 90), ("0.5s", 0.5)],
)
def test_intervals(text: str, seconds: float) -> None:
    assert parse_interval(text) == seconds


@pytest.mark.parametrize("text", ["", "6x", "h", "0", "-5", "6h garbage", "0s", "6", "0.5"])
def test_bad_intervals_are_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_interval(text)


def test_a_bad_interval_is_a_one_line_error(cli: CLI) -> None:
    code, _out, err = cli("schedule", "--every", "soon")
    assert code == 1 and err.startswith("innosearch schedule: not an interval: 'soon'")
    assert err.count("\n") == 1
    code, _out, err = cli("schedule", "--every", "6")
    assert code == 1 and "give a unit" in err and "did you mean 6h?" in err


class Scheduler:
    """`innosearch schedule` in a child process, its JSON log lines collected as they come."""

    def __init__(self, tmp_path: Path, env: dict[str, str], every: str) -> None:
        self.process = subprocess.Popen(
            [*INNOSEARCH, "schedule", "--every", every],
            cwd=tmp_path,
            env=env,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: list[dict[str, Any]] = []
        self._logged = threading.Condition()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.process.stderr is not None
        for line in self.process.stderr:
            if line.startswith("{"):
                with self._logged:
                    self.events.append(json.loads(line))
                    self._logged.notify_all()
        with self._logged:  # the process ended: no more events will come
            self._logged.notify_all()

    def named(self, event: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e.get("event") == event]

    def wait_for(self, event: str, count: int = 1, timeout: float = 60) -> None:
        """Waits until ``event`` has been logged ``count`` times, woken by each log line."""
        with self._logged:
            logged = self._logged.wait_for(
                lambda: len(self.named(event)) >= count or not self._reader.is_alive(), timeout
            )
        assert logged and len(self.named(event)) >= count, f"no {count} {event} in {timeout} s"

    def stop(self, then: Callable[[], object] = lambda: None) -> int:
        """SIGTERM, ``then()``, and the exit status (within 10 s, or the test fails)."""
        self.process.send_signal(signal.SIGTERM)
        then()
        try:
            return self.process.wait(timeout=10)
        finally:
            self._reader.join(timeout=5)
            if self.process.poll() is None:
                self.process.kill()
                self.process.wait()
            if self.process.stderr is not None:
                self.process.stderr.close()


def test_runs_repeat_and_each_is_logged(tmp_path: Path) -> None:
    """With nothing to crawl every run fails fast: the loop logs it and carries on."""
    write_config(tmp_path, [])
    env = environment(tmp_path, delay=0)
    scheduler = Scheduler(tmp_path, env, every="0.5s")
    try:
        scheduler.wait_for("run-end", count=2, timeout=30)
    finally:
        code = scheduler.stop()
    assert code == 0
    second = scheduler.named("run-start")[1]
    assert second["run"] == 2
    ends = scheduler.named("run-end")
    assert ends[0]["status"] == 1 and "next_run" in ends[0]
    assert any("no sites to re-crawl" in e["message"] for e in scheduler.named("run-error"))
    assert scheduler.events[-1]["event"] == "schedule-stop"


def test_a_real_run_then_sigterm_while_waiting_and_while_crawling(tmp_path: Path) -> None:
    with serve() as site:
        write_config(tmp_path, [{"name": "herald", "seeds": [site.url()]}])
        scheduler = Scheduler(tmp_path, environment(tmp_path, delay=0), every="1h")
        try:
            # Logged just before it goes to sleep until the next run, an hour away.
            scheduler.wait_for("run-end", timeout=60)
        finally:
            started = time.monotonic()
            code = scheduler.stop()
        assert code == 0 and time.monotonic() - started < 5
        assert len(scheduler.named("run-start")) == 1  # stopped between the runs
        assert scheduler.named("run-end")[0]["status"] == 0
        assert scheduler.named("site")[0]["articles_new"] == len(site.articles)

        # Stopped in the middle of a crawl, while the site holds its sixth request (released
        # once the signal is sent: a request in flight finishes before the run stops): the run
        # ends at once and leaves the lock clean.
        site.touch(site.articles[0]["slug"], "2025-12-01")
        site.clear()
        with site.hold(after=5) as held:
            scheduler = Scheduler(tmp_path, environment(tmp_path, delay=0), every="1h")
            try:
                held.wait_arrived(timeout=30)
            finally:
                code = scheduler.stop(then=held.release)
        assert code == 0 and len(scheduler.named("run-start")) == 1
        end = scheduler.named("run-end")  # the interrupted run's end is logged
        assert len(end) == 1 and end[0]["interrupted"] and end[0]["next_run"] is None
        assert "stopped by SIGTERM" in end[0]["message"]
        assert scheduler.events[-1]["event"] == "schedule-stop"
        assert (tmp_path / "data" / "recrawl.lock").read_text() == ""


def test_the_last_of_runs_announces_no_next_run(caplog: pytest.LogCaptureFixture) -> None:
    from innosearch.schedule import run_schedule

    caplog.set_level("INFO", logger="innosearch.schedule")
    started = time.monotonic()
    assert run_schedule(3600, lambda: 0, max_runs=1) == 0
    assert time.monotonic() - started < 5  # no wait after the last run
    ends = [r for r in caplog.records if getattr(r, "event", "") == "run-end"]
    assert len(ends) == 1 and ends[0].next_run is None  # type: ignore[attr-defined]
    assert "next run" not in ends[0].getMessage() and "no further run" in ends[0].getMessage()
