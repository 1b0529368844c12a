"""The production server (waitress) as a client meets it: requests that waitress refuses by
itself answer in the app's format, and idle or half-sent connections do not lock others out."""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests.web.test_search_under_commits import loopback_server
from web.errors import SECURITY_HEADERS


@pytest.fixture
def served(built_index: Path) -> Iterator[tuple[str, int]]:
    with loopback_server(built_index, {"IDLE_TIMEOUT": 30}) as url:
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        yield host, int(port)


def exchange(address: tuple[str, int], data: bytes) -> tuple[str, dict[str, str], bytes]:
    """Sends raw bytes; returns the status line, headers and body of the answer."""
    with socket.create_connection(address, timeout=10) as conn:
        with contextlib.suppress(OSError):  # the server may stop reading once it has answered
            conn.sendall(data)
        answer = b""
        try:
            while chunk := conn.recv(65536):
                answer += chunk
        except ConnectionResetError:
            pass  # unread bytes left behind make the close a reset; the answer came first
    head, _, body = answer.partition(b"\r\n\r\n")
    status, *lines = head.decode("latin-1").split("\r\n")
    headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines)}
    return status, headers, body


def assert_app_format(headers: dict[str, str]) -> None:
    for name, value in SECURITY_HEADERS.items():
        assert headers.get(name.lower()) == value, name


def test_a_declared_oversized_body_answers_413_in_json(served: tuple[str, int]) -> None:
    status, headers, body = exchange(
        served, b"POST /api/search HTTP/1.1\r\nHost: x\r\nContent-Length: 10000000\r\n\r\n"
    )
    assert status.startswith("HTTP/1.1 413")
    assert headers["content-type"] == "application/json"
    assert "too large" in json.loads(body)["error"]
    assert_app_format(headers)


def test_a_huge_chunked_body_answers_413_in_json(served: tuple[str, int]) -> None:
    chunk = b"10000\r\n" + b"a" * 0x10000 + b"\r\n"
    status, headers, body = exchange(
        served,
        b"POST /api/export.csv HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + chunk * 3,
    )
    assert status.startswith("HTTP/1.1 413")
    assert json.loads(body)["error"]
    assert_app_format(headers)


def test_huge_headers_and_a_malformed_request_answer_as_pages(served: tuple[str, int]) -> None:
    big = b"GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 300_000 + b"\r\n\r\n"
    status, headers, body = exchange(served, big)
    assert " 431 " in status and headers["content-type"].startswith("text/html")
    assert b"Error 431" in body
    assert_app_format(headers)
    status, headers, body = exchange(served, b"NONSENSE\r\n\r\n")
    assert " 400 " in status and b"Error 400" in body
    assert_app_format(headers)


def test_idle_half_open_connections_do_not_lock_others_out(served: tuple[str, int]) -> None:
    """110 clients that connect and send half a request line (more than waitress's default
    limit of 100 connections): the health check still answers at once."""
    idle = []
    try:
        for _ in range(110):
            conn = socket.create_connection(served, timeout=10)
            conn.sendall(b"GET /?q=chip HTTP/1.1\r\nHost: x\r\n")
            idle.append(conn)
        started = time.monotonic()
        health = requests.get(f"http://{served[0]}:{served[1]}/healthz", timeout=2)
        assert health.status_code == 200
        assert time.monotonic() - started < 2
    finally:
        for conn in idle:
            conn.close()


def test_a_silent_connection_is_closed_after_the_idle_timeout(built_index: Path) -> None:
    with loopback_server(built_index, {"IDLE_TIMEOUT": 2}) as url:
        host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
        with socket.create_connection((host, int(port)), timeout=10) as conn:
            conn.sendall(b"GET / HTTP/1.1\r\n")  # and then nothing
            started = time.monotonic()
            assert conn.recv(100) == b""  # closed by the server, not by our timeout
            assert time.monotonic() - started < 8


def test_a_server_run_in_a_thread_stops_with_its_connections(built_index: Path) -> None:
    """`tests.loopback.running`, under every thread-run server of the tests: leaving it ends
    the loop's thread at once and closes a connection still open, rather than leaving the loop
    serving a closed server while the next test reuses its descriptors."""
    before = set(threading.enumerate())
    with contextlib.ExitStack() as stack:
        with loopback_server(built_index) as url:
            host, port = url.removeprefix("http://").rstrip("/").rsplit(":", 1)
            conn = stack.enter_context(socket.create_connection((host, int(port)), timeout=10))
            conn.sendall(b"GET /api/search?q=chip HTTP/1.1\r\n")  # half a request, no more
            time.sleep(0.2)  # the server has taken the connection
            (loop,) = [t for t in set(threading.enumerate()) - before if t.name == "waitress-loop"]
            started = time.monotonic()
        assert conn.recv(100) == b"" and time.monotonic() - started < 5  # closed by the stop
    assert not loop.is_alive()
