"""Loopback helpers for tests (and benchmarks) that start real servers: a free port, a
waitress server run in a thread and stopped safely, and stopping a server process that may not
want to stop."""

from __future__ import annotations

import signal
import socket
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on (it was free a moment ago)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def running(server: Any, timeout: float = 10) -> Iterator[None]:
    """Runs a waitress server (bound, not yet running: `web.server.serve_app`) in a thread, then
    stops it from inside its own loop and closes it once that thread has returned.

    Waitress's loop is not thread-safe. Closing the server from another thread while its loop
    runs (`server.close()`, as these tests did) closes the trigger pipe and the listening socket
    under the loop and its request threads, which may then use descriptors that are closed or
    already reused by the next test's files (the suspected cause of an `OSError: Bad file
    descriptor` in the server's thread that failed a teardown now and then); and a connection
    still open kept that loop running after the test, serving a closed server. So the stop is
    a thunk the loop runs itself (its trigger carries it): it takes every socket out of the
    loop's map, which ends the loop. Only then are the connections closed, the request threads
    stopped and the listening socket closed, from this thread, as the loop would close them.
    """
    thread = threading.Thread(target=server.run, name="waitress-loop", daemon=True)
    thread.start()
    try:
        yield
    finally:
        taken: list[Any] = []

        def leave_the_loop() -> None:
            taken.extend(server._map.values())  # the listener, its trigger, open connections
            server._map.clear()  # the loop runs while its map holds anything

        server.trigger.pull_trigger(leave_the_loop)
        thread.join(timeout)
        if thread.is_alive():
            raise RuntimeError(f"the waitress loop did not stop within {timeout} s")
        for connection in taken:
            if connection not in (server, server.trigger):
                connection.handle_close()  # its buffers too; a request thread writing gives up
        server.task_dispatcher.shutdown()
        server.close()  # the trigger and the listening socket


def stop(proc: subprocess.Popen[bytes], sig: int = signal.SIGTERM, timeout: float = 10) -> None:
    """Asks a running server to stop with `sig`, and kills it if it has not within `timeout`."""
    if proc.poll() is not None:
        return
    proc.send_signal(sig)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
