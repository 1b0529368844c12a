"""Serving on every core: several waitress processes (workers) accepting on one listening socket.

Searching is Python, under one interpreter lock per process, so one process answers two clients
no faster than it answers one. The master process binds the socket (a port in use is one clear
error, before anything forks), forks the workers, and then only watches over them: a worker that
dies is replaced, and SIGTERM or Ctrl-C stops them all and waits for them. Each worker is the
server one process would be (`web.server.serve_app`: its connection limit, idle timeout, body
limit, trusted proxy and app-format refusals), over the app the master built: the index is
opened lazily, so each worker opens its own after the fork and keeps its searchers fresh as a
single process does; the rate limit's table was made before the fork, so all workers count in it
(`web.ratelimit`). A worker whose master is gone, even killed with SIGKILL, stops by itself: it
watches a pipe that only the master holds open.

Waitress behind several processes rather than gunicorn: waitress's protections and the
app-format answers to the requests it refuses are tested and kept as they are, and no new
server comes in. Gunicorn's threaded workers would take connections by the same race, and its
sync workers hold a whole process for each slow client.

Connections go to the worker holding the fewest (each worker publishes its count in shared
memory). Workers on a shared socket race for each new connection, and two keep-alive clients
could both land on one worker and get no more than one core; so a worker holding more
connections than another lets a new one wait a moment (`DEFER` at most) for the other to
take it, and takes it itself if the other is too busy to.
"""

from __future__ import annotations

import contextlib
import logging
import mmap
import os
import signal
import socket
import struct
import threading
import time
from typing import Any

from flask import Flask
from waitress.adjustments import Adjustments

from web.server import listeners, serve_app

log = logging.getLogger("innosearch")

DEFER = 0.05  # seconds a worker holding more connections leaves a new one to the others
GRACE = 10.0  # seconds workers get to finish their requests when stopping, then SIGKILL
EARLY = 2.0  # a worker that dies this soon after starting is failing, not unlucky: stop
_GONE = 2**62  # the count published for a worker that is not running


class WorkerError(RuntimeError):
    """A worker died as soon as it started: replacing it would only fail again."""


class _Stop(Exception):
    """SIGTERM to the master."""


def default_workers() -> int:
    """One worker per core this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def bind(host: str, port: int) -> list[socket.socket]:
    """Listening sockets for `host` and `port`, as waitress itself would bind them (a name may
    stand for an IPv4 and an IPv6 address: one socket each)."""
    adj = Adjustments(host=host, port=port)
    sockets: list[socket.socket] = []
    try:
        for family, kind, proto, address in adj.listen:
            sock = socket.socket(family, kind, proto)
            sockets.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)
            sock.listen(adj.backlog)
    except OSError:
        for sock in sockets:
            sock.close()
        raise
    return sockets


class Balance:
    """Each worker's open connections, in memory shared by the master and its forks."""

    _COUNT = struct.Struct("q")

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self._counts = mmap.mmap(-1, self._COUNT.size * workers)  # MAP_SHARED across fork
        for slot in range(workers):
            self.publish(slot, _GONE)

    def publish(self, slot: int, count: int) -> None:
        self._COUNT.pack_into(self._counts, slot * self._COUNT.size, count)

    def fewest(self) -> int:
        return min(struct.unpack_from(f"{self.workers}q", self._counts))

    def hook(self, server: Any, slot: int) -> None:
        """Makes `server` (a worker's waitress server) publish its count at each turn of its
        loop and after each connection it takes, and leave a new connection to a worker with
        fewer for up to DEFER seconds. Waitress builds its listeners itself, so their methods
        are wrapped on the instances."""
        own = listeners(server)

        def count() -> int:
            return sum(len(listener.active_channels) for listener in own)

        deferred = {"since": 0.0, "last": 0.0}

        def wrap(listener: Any) -> None:
            readable, accept = listener.readable, listener.handle_accept

            def publishing_readable() -> bool:
                self.publish(slot, count())
                return bool(readable())

            def balanced_accept() -> None:
                now = time.monotonic()
                if count() > self.fewest():
                    if now - deferred["last"] > DEFER / 2:  # not deferring just now: a new one
                        deferred["since"] = now
                    deferred["last"] = now
                    if now - deferred["since"] < DEFER:
                        time.sleep(0.0005)  # the socket stays readable: poll() returns at once
                        return
                accept()
                self.publish(slot, count())

            listener.readable, listener.handle_accept = publishing_readable, balanced_accept

        for listener in own:
            wrap(listener)


class Master:
    """Binds `host`:`port` and runs `workers` waitress processes over `app` (`run()`)."""

    def __init__(self, app: Flask, workers: int, host: str, port: int, threads: int) -> None:
        self.app, self.workers, self.threads = app, workers, threads
        self.sockets = bind(host, port)
        self.balance = Balance(workers)
        self._running: dict[int, tuple[int, float]] = {}  # pid -> (slot, started)
        self._lifeline = (-1, -1)  # a pipe: workers read, only the master holds the write end

    @property
    def effective_host(self) -> str:
        return str(self.sockets[0].getsockname()[0])

    @property
    def effective_port(self) -> int:
        return int(self.sockets[0].getsockname()[1])

    def run(self) -> None:
        """Forks the workers and replaces those that die until SIGTERM or Ctrl-C, then stops
        them all. Raises WorkerError when a worker dies as it starts."""
        self._lifeline = os.pipe()
        previous = signal.signal(signal.SIGTERM, _raise_stop)
        try:
            for slot in range(self.workers):
                self._fork(slot)
            while True:
                pid, status = os.wait()
                slot, started = self._running.pop(pid)
                self.balance.publish(slot, _GONE)
                if os.waitstatus_to_exitcode(status) == 0:
                    # A worker ends cleanly only when told to stop, by a Ctrl-C to the whole
                    # process group among others: the server is being stopped.
                    raise _Stop
                how = _exit_description(status)
                if time.monotonic() - started < EARLY:
                    raise WorkerError(f"a server worker {how} as it started")
                log.warning(
                    f"serve: worker {pid} {how}; starting another",
                    extra={"event": "serve-worker-replaced", "pid": pid},
                )
                self._fork(slot)
        except _Stop:
            pass
        finally:
            self._stop_all()
            for fd in self._lifeline:
                os.close(fd)
            signal.signal(signal.SIGTERM, previous)

    def close(self) -> None:
        for sock in self.sockets:
            sock.close()

    def _fork(self, slot: int) -> None:
        # Stop signals wait while forking: one arriving in the middle (Ctrl-C reaches the whole
        # group) would be raised inside fork's handlers, which swallow it, and be lost.
        unblocked = signal.pthread_sigmask(signal.SIG_BLOCK, _STOP_SIGNALS)
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the master's code
            code = 1
            try:
                code = self._work(slot, unblocked)
            except (SystemExit, KeyboardInterrupt):
                code = 0
            except BaseException:
                log.exception("serve: a worker failed")
            finally:
                os._exit(code)
        self._running[pid] = (slot, time.monotonic())
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)  # a stop that came is raised now

    def _work(self, slot: int, unblocked: Any) -> int:
        signal.signal(signal.SIGTERM, _raise_exit)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.pthread_sigmask(signal.SIG_SETMASK, unblocked)
        read_end, write_end = self._lifeline
        os.close(write_end)
        threading.Thread(target=_stop_when_closed, args=(read_end,), daemon=True).start()
        server = serve_app(self.app, threads=self.threads, sockets=self.sockets, share=self.workers)
        self.balance.hook(server, slot)
        try:
            server.run()  # returns on SystemExit or KeyboardInterrupt, requests finished
        finally:
            server.close()
        return 0

    def _stop_all(self) -> None:
        """SIGTERM to every worker, GRACE seconds to finish, then SIGKILL; none is left."""
        signals = (signal.SIGINT, signal.SIGTERM)
        previous = [signal.signal(s, signal.SIG_IGN) for s in signals]
        try:
            # A worker may already be reaped without our knowing: a Ctrl-C that reaches the
            # master just as os.wait() returns a worker interrupts the assignment of its pid.
            # Only children that are still ours are signalled, and the wait ends when none is.
            for pid in self._running:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGTERM)
            deadline = time.monotonic() + GRACE
            while self._running and time.monotonic() < deadline:
                try:
                    pid, _status = os.waitpid(-1, os.WNOHANG)
                except ChildProcessError:  # no child left at all
                    self._running.clear()
                    break
                if pid:
                    self._running.pop(pid, None)
                else:
                    time.sleep(0.02)
            for pid in list(self._running):
                with contextlib.suppress(ProcessLookupError, ChildProcessError):
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                del self._running[pid]
        finally:
            for s, handler in zip(signals, previous, strict=True):
                signal.signal(s, handler)


_STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


def _raise_stop(signum: int, frame: Any) -> None:
    raise _Stop


def _raise_exit(signum: int, frame: Any) -> None:
    raise SystemExit(0)


def _stop_when_closed(fd: int) -> None:
    """Blocks until the master's end of the pipe closes (it exited or was killed), then
    stops this worker as SIGTERM would."""
    while os.read(fd, 1):
        pass
    os.kill(os.getpid(), signal.SIGTERM)


def _exit_description(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    return f"was killed by signal {-code}" if code < 0 else f"exited with status {code}"
