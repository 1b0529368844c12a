"""A throwaway PostgreSQL server on loopback for tests, or the one `INNOSEARCH_TEST_PG` names.

The PostgreSQL backend is tested against a real server because what matters is what the server
does with our SQL (tsvector weights, ts_headline, GIN overlaps, migrations), which no mock knows.
`running()` initialises a fresh cluster in a temporary directory, starts `postgres` on a free
127.0.0.1 port with its socket in that directory, waits until it accepts connections, and stops
it with SIGINT (a fast shutdown) at the end. Durability is switched off: the data is thrown away.

PostgreSQL refuses to run as root, so under root the cluster belongs to the `postgres` user.
Binaries are found through `INNOSEARCH_PG_BIN`, `pg_config --bindir`, the newest
/usr/lib/postgresql/*/bin (Debian's layout) or PATH.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit, urlunsplit

import psycopg
from psycopg import sql

from tests.loopback import free_port, stop

TEST_URL_ENV = "INNOSEARCH_TEST_PG"
_START_SECONDS = 30.0


class PostgresMissing(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The directory holding `initdb` and `postgres`."""
    candidates: list[str] = []
    if os.environ.get("INNOSEARCH_PG_BIN"):
        candidates.append(os.environ["INNOSEARCH_PG_BIN"])
    if shutil.which("pg_config"):
        with contextlib.suppress(OSError, subprocess.CalledProcessError):
            out = subprocess.run(
                ["pg_config", "--bindir"], capture_output=True, text=True, check=True
            )
            candidates.append(out.stdout.strip())
    versions = glob.glob("/usr/lib/postgresql/*/bin")
    candidates += sorted(versions, key=lambda p: int(Path(p).parent.name or 0), reverse=True)
    if shutil.which("initdb"):
        candidates.append(str(Path(shutil.which("initdb") or "").parent))
    for candidate in candidates:
        if (Path(candidate) / "initdb").exists() and (Path(candidate) / "postgres").exists():
            return Path(candidate)
    raise PostgresMissing(
        "PostgreSQL server binaries (initdb, postgres) not found: install Debian's "
        "postgresql package, or set INNOSEARCH_PG_BIN or INNOSEARCH_TEST_PG"
    )


class Server:
    """A running cluster: `url(dbname)` for connections, `create_database()` for a fresh one."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url  # a URL to the maintenance database `postgres`
        self._created = 0

    def url(self, dbname: str, **params: str) -> str:
        """A postgresql:// URL to `dbname` on this server, with extra query parameters."""
        parts = urlsplit(self.base_url)
        query = "&".join(filter(None, [parts.query, urlencode(params)]))
        return urlunsplit((parts.scheme, parts.netloc, "/" + dbname, query, ""))

    def create_database(self, prefix: str = "t") -> str:
        """A new empty database; returns its name."""
        self._created += 1
        name = f"innosearch_{prefix}_{os.getpid()}_{self._created}"
        with psycopg.connect(self.base_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return name


@contextlib.contextmanager
def running() -> Iterator[Server]:
    """A server for the duration of the block: the external one when configured, else our own."""
    external = os.environ.get(TEST_URL_ENV)
    if external:
        yield Server(external)
        return
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="innosearch-pg-"))
    data, sockets = root / "data", root / "sock"
    data.mkdir()
    sockets.mkdir()
    as_user = _run_as()
    if as_user:
        for path in (root, data, sockets):
            os.chown(path, as_user["uid"], as_user["gid"])
    popen: dict[str, Any] = (
        {"user": as_user["uid"], "group": as_user["gid"], "extra_groups": []} if as_user else {}
    )
    proc: subprocess.Popen[bytes] | None = None
    log = open(root / "server.log", "wb")  # noqa: SIM115 -- closed in `finally`
    try:
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--locale=C",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            cwd=root,
            **popen,
        )
        port = free_port()
        proc = subprocess.Popen(
            [
                str(bindir / "postgres"),
                "-D",
                str(data),
                "-p",
                str(port),
                "-k",
                str(sockets),
                "-c",
                "listen_addresses=127.0.0.1",
                "-c",
                "fsync=off",
                "-c",
                "synchronous_commit=off",
                "-c",
                "full_page_writes=off",
                "-c",
                "max_connections=100",
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            cwd=root,
            **popen,
        )
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        _wait_ready(url, proc, root / "server.log")
        yield Server(url)
    finally:
        if proc is not None:
            stop(proc, signal.SIGINT, timeout=20)  # fast shutdown: ends sessions, then exits
        log.close()
        shutil.rmtree(root, ignore_errors=True)


def _run_as() -> dict[str, int] | None:
    """The `postgres` user's ids when running as root (PostgreSQL refuses root), else None."""
    if os.geteuid() != 0:
        return None
    try:
        entry = pwd.getpwnam("postgres")
    except KeyError:
        raise PostgresMissing("running as root and no `postgres` user to own the cluster") from None
    return {"uid": entry.pw_uid, "gid": entry.pw_gid}


def _wait_ready(url: str, proc: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + _START_SECONDS
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"postgres exited at start: {log.read_text(errors='replace')}")
        try:
            with psycopg.connect(url, connect_timeout=2):
                return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise RuntimeError(f"postgres did not start in {_START_SECONDS:.0f} s") from None
            time.sleep(0.05)
