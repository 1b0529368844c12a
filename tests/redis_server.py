"""A throwaway `redis-server` on loopback for tests, or the one `INNOSEARCH_TEST_REDIS` names.

The distributed crawl is tested against a real server because what matters is what the server
does: Lua scripts run atomically, TIME is one clock for every worker, connections from several
processes interleave. The frontier's unit tests (test_frontier.py) use it too: 13 tests in
under a second, with nothing in between that could behave differently.

`running()` starts `redis-server` on a free 127.0.0.1 port in a temporary directory, without
persistence (the data is thrown away), waits until it answers PING, and stops it (SIGTERM, then
SIGKILL) at the end. The binary is found through `INNOSEARCH_REDIS_SERVER` or PATH (Debian's
`redis-server` package installs /usr/bin/redis-server).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import redis

from tests.loopback import free_port, stop

TEST_URL_ENV = "INNOSEARCH_TEST_REDIS"
_START_SECONDS = 15.0


class RedisMissing(RuntimeError):
    """No redis-server binary on this machine."""


def find_server() -> str:
    """The path of the `redis-server` binary."""
    candidate = os.environ.get("INNOSEARCH_REDIS_SERVER") or shutil.which("redis-server")
    if not candidate or not Path(candidate).exists():
        raise RedisMissing(
            "redis-server not found: install Debian's redis-server package, or set "
            "INNOSEARCH_REDIS_SERVER or INNOSEARCH_TEST_REDIS"
        )
    return candidate


@contextlib.contextmanager
def running() -> Iterator[str]:
    """A redis:// URL for the duration of the block: the external server when configured,
    else our own, stopped at the end."""
    external = os.environ.get(TEST_URL_ENV)
    if external:
        yield external
        return
    binary = find_server()
    root = Path(tempfile.mkdtemp(prefix="innosearch-redis-"))
    port = free_port()
    log = open(root / "server.log", "wb")  # noqa: SIM115 -- closed in `finally`
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(
            [
                binary,
                "--port",
                str(port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
                "--dir",
                str(root),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=root,
        )
        url = f"redis://127.0.0.1:{port}/0"
        _wait_ready(url, proc, root / "server.log")
        yield url
    finally:
        if proc is not None:
            stop(proc)
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    client = redis.Redis.from_url(url, socket_connect_timeout=1)
    try:
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"redis-server exited at start: {log.read_text('utf-8')}")
            try:
                if client.ping():
                    return
            except redis.ConnectionError:
                if time.monotonic() > deadline:
                    raise RuntimeError(
                        f"redis-server did not start in {_START_SECONDS:.0f} s"
                    ) from None
                time.sleep(0.05)
    finally:
        client.close()
