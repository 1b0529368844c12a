"""The run lock: a second overlapping run refuses at once; a killed run leaves no stale lock."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from innosearch.lock import LockedError, RunLock

# Holds the lock until its stdin closes (the test ends it) or it is killed: no timed sleep.
HOLD = """
import sys
from innosearch.lock import RunLock
with RunLock(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.read()
"""


def hold_in_child(path: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "held"
    return child


def test_second_run_refuses_with_the_holder_named(tmp_path: Path) -> None:
    path = tmp_path / "recrawl.lock"
    child = hold_in_child(path)
    try:
        started = time.monotonic()
        with pytest.raises(LockedError, match=f"pid {child.pid}"), RunLock(path):
            pass
        assert time.monotonic() - started < 1
    finally:
        child.kill()
        child.communicate()


def killed_holder(path: Path) -> int:
    """The pid of a run that took the lock and was killed with it held (SIGKILL: no clean-up)."""
    child = hold_in_child(path)
    os.kill(child.pid, signal.SIGKILL)
    child.communicate()
    return child.pid


def test_a_killed_holder_leaves_the_lock_free(tmp_path: Path) -> None:
    path = tmp_path / "recrawl.lock"
    killed_holder(path)
    with RunLock(path):
        assert str(os.getpid()) in path.read_text()


def test_the_next_run_learns_that_the_last_one_was_killed(tmp_path: Path) -> None:
    path = tmp_path / "recrawl.lock"
    pid = killed_holder(path)
    with RunLock(path) as lock:
        assert lock.stale is not None and f"pid {pid}" in lock.stale
    # A clean exit leaves nothing to report.
    with RunLock(path) as lock:
        assert lock.stale is None
    assert path.read_text() == ""


def test_the_refusal_names_what_is_locked(tmp_path: Path) -> None:
    path = tmp_path / "index.lock"
    with RunLock(path, what="index write"), pytest.raises(LockedError) as refused:
        RunLock(path, what="index write").__enter__()
    assert str(refused.value).startswith("another index write is in progress (pid ")
