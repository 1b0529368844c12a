"""`innosearch serve --workers 2` as a user meets it: a real master and two worker processes on
loopback. Answers come from both workers, a client's rate limit is one across them, a new
commit to the index is seen by each, and stopping the master (SIGTERM, Ctrl-C, even SIGKILL)
leaves no worker behind.

Which worker answered is read from outside, as an operator would: the worker processes are the
master's children (psutil), and the one holding the server end of a client's connection is the
one that answers on it.
"""

from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import psutil
import pytest

from tests.conftest import FIXTURES
from tests.test_live_refresh import Server, innosearch
from tests.test_recrawl import INNOSEARCH
from web.workers import EARLY

CLIENT = {"X-Forwarded-For": "203.0.113.7"}  # a client out on the internet, behind our proxy


@pytest.fixture
def index(tmp_path: Path) -> Path:
    index = tmp_path / "index"
    innosearch("index", "--from-jsonl", str(FIXTURES / "articles.jsonl"), "--index", str(index))
    return index


@pytest.fixture
def served(index: Path) -> Iterator[Server]:
    # The proxy is loopback, so the forwarded address is the client the rate limit counts.
    limits = {
        "INNOSEARCH_TRUSTED_PROXY": "127.0.0.1",
        "INNOSEARCH_RATE_LIMIT_PER_SECOND": "0.01",
        "INNOSEARCH_RATE_LIMIT_BURST": "4",
    }
    server = two_workers(index, limits)
    yield server
    server.close()


def until(condition: Callable[[], bool], timeout: float) -> bool:
    """Whether `condition` (a fact about processes, which no event announces) holds within
    `timeout` seconds, asking every 50 ms."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


def two_workers(index: Path, settings: dict[str, str] | None = None) -> Server:
    """`innosearch serve --workers 2`, once both workers run."""
    server = Server(index, "--workers", "2", settings=settings)
    assert until(lambda: len(workers(server)) == 2, timeout=20), "no two workers in 20 s"
    return server


def workers(server: Server) -> list[psutil.Process]:
    return psutil.Process(server.process.pid).children()


class Client:
    """One keep-alive connection, and the worker process at its other end."""

    def __init__(self, server: Server) -> None:
        host, port = server.url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        self.conn = http.client.HTTPConnection(host, int(port), timeout=20)
        self.server = server
        assert self.get("/healthz")[0] == 200
        self.worker = self._worker()

    def get(self, path: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        self.conn.request("GET", path, headers=headers or {})
        response = self.conn.getresponse()
        return response.status, response.read()

    def total(self, q: str) -> int:
        status, body = self.get(f"/api/search?q={q}")
        assert status == 200, body
        return int(json.loads(body)["total"])

    def _worker(self) -> int:
        assert self.conn.sock is not None
        port = self.conn.sock.getsockname()[1]
        holders = [
            w.pid
            for w in workers(self.server)
            for c in w.net_connections(kind="tcp")
            if c.raddr and c.raddr.port == port
        ]
        assert len(holders) == 1, holders
        return holders[0]

    def close(self) -> None:
        self.conn.close()


def one_on_each_worker(server: Server) -> list[Client]:
    """Opens connections until each worker holds one; returns one client per worker."""
    by_worker: dict[int, Client] = {}
    spare: list[Client] = []
    for _ in range(10):
        client = Client(server)
        if client.worker in by_worker:
            spare.append(client)
        else:
            by_worker[client.worker] = client
        if len(by_worker) == 2:
            break
    for client in spare:
        client.close()
    assert len(by_worker) == 2, "ten connections all went to one worker"
    return list(by_worker.values())


def test_answers_come_from_every_worker(served: Server) -> None:
    pids = {w.pid for w in workers(served)}
    assert len(pids) == 2 and served.process.pid not in pids
    clients = [Client(served) for _ in range(4)]
    try:
        assert all(c.total("chip") >= 1 for c in clients)
        # Held open together, the connections are spread: both workers answer.
        assert {c.worker for c in clients} == pids
    finally:
        for c in clients:
            c.close()


def test_the_rate_limit_counts_a_client_across_workers(served: Server) -> None:
    a, b = one_on_each_worker(served)
    try:
        statuses = [(a if n % 2 else b).get("/api/search?q=chip", CLIENT)[0] for n in range(8)]
        # A burst of 4 for the whole server, not 4 from each worker.
        assert statuses == [200] * 4 + [429] * 4
        assert a.get("/api/search?q=chip", {"X-Forwarded-For": "198.51.100.20"})[0] == 200
    finally:
        a.close()
        b.close()


def test_a_new_commit_is_seen_by_every_worker(served: Server, index: Path, tmp_path: Path) -> None:
    clients = one_on_each_worker(served)
    try:
        assert [c.total("zeolite") for c in clients] == [0, 0]
        new = tmp_path / "new.jsonl"
        record = {
            "id": "zeolite-1",
            "url": "https://news.example.com/zeolite",
            "title": "Zeolite membrane plant opens",
            "text": "A zeolite membrane plant opens beside the science park. " * 5,
            "published": "2024-05-02",
        }
        new.write_text(json.dumps(record) + "\n", encoding="utf-8")
        innosearch("index", "--from-jsonl", str(new), "--index", str(index))
        # The same connections, so the same workers, each without a restart.
        assert [c.total("zeolite") for c in clients] == [1, 1]
        assert {c.worker for c in clients} == {w.pid for w in workers(served)}
    finally:
        for c in clients:
            c.close()


def gone(processes: list[psutil.Process], timeout: float) -> bool:
    """Whether every process has exited within `timeout` (an exited process that its new
    parent has not reaped yet counts as gone)."""

    def exited(p: psutil.Process) -> bool:
        try:
            return p.status() == psutil.STATUS_ZOMBIE
        except psutil.NoSuchProcess:
            return True

    return until(lambda: all(exited(p) for p in processes), timeout)


@pytest.mark.parametrize(
    ("stop", "code"),
    [
        (lambda pid: os.kill(pid, signal.SIGTERM), 0),  # a service manager stopping it
        (lambda pid: os.killpg(pid, signal.SIGINT), 0),  # Ctrl-C: the terminal's whole group
        (lambda pid: os.kill(pid, signal.SIGKILL), -signal.SIGKILL),  # no time to clean up
    ],
    ids=["sigterm", "ctrl-c", "sigkill"],
)
def test_stopping_the_master_leaves_no_worker(index: Path, stop, code: int) -> None:
    server = two_workers(index)
    try:
        children = workers(server)
        assert len(children) == 2
        stop(server.process.pid)
        assert server.process.wait(timeout=20) == code
        assert gone(children, timeout=10), [p.pid for p in children]
    finally:
        server.close()


def test_a_worker_that_dies_is_replaced(served: Server) -> None:
    """Killed once running (a worker dying as it starts would die again: the master stops)."""
    before = workers(served)
    # create_time() is only good to about a second (the boot time it counts from is whole).
    time.sleep(max(0.0, EARLY + 1.5 - (time.time() - min(w.create_time() for w in before))))
    before[0].kill()
    assert until(lambda: len(workers(served)) == 2 and before[0] not in workers(served), 10)
    clients = one_on_each_worker(served)  # the new worker answers too
    try:
        assert all(c.total("chip") >= 1 for c in clients)
    finally:
        for c in clients:
            c.close()
    assert served.process.poll() is None and "starting another" in "".join(served.lines)


def test_a_workers_count_below_one_is_refused(index: Path) -> None:
    done = subprocess.run(
        [*INNOSEARCH, "serve", "--index", str(index), "--workers", "0"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2 and "--workers: expected 1 or more, got 0" in done.stderr
