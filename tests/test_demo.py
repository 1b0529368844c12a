"""`innosearch demo` as a newcomer runs it: a busy port fails at once, the sample site stays up
while the demo serves, and SIGTERM (as from a service manager or `kill`) cleans up like Ctrl-C."""

from __future__ import annotations

import re
import signal
import socket
import subprocess
import time
from pathlib import Path

import requests

from tests.loopback import free_port
from tests.test_recrawl import INNOSEARCH


def start(port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [*INNOSEARCH, "demo", "--port", str(port)],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=Path(__file__).parent,  # no innosearch.toml there: the defaults, as on a new machine
    )


def test_a_busy_port_fails_before_crawling() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        started = time.monotonic()
        demo = start(port)
        _out, err = demo.communicate(timeout=60)
    assert demo.returncode == 1, err
    assert f"127.0.0.1:{port}" in err and "--port" in err and "Traceback" not in err
    assert "sample news site" not in err  # nothing was crawled
    assert time.monotonic() - started < 30


def test_the_demo_serves_its_site_and_sigterm_removes_its_folder() -> None:
    port = free_port()
    demo = start(port)
    lines: list[str] = []
    try:
        assert demo.stderr is not None
        for line in demo.stderr:
            lines.append(line)
            if "innosearch: serving" in line:  # logged once the port is bound
                break
        text = "".join(lines)
        workdir = Path(re.search(r"demo: working in (\S+)", text).group(1))  # type: ignore[union-attr]
        site = re.search(r"sample news site at (\S+)", text).group(1)  # type: ignore[union-attr]
        results = requests.get(f"http://127.0.0.1:{port}/api/search?q=semiconductor", timeout=30)
        original = results.json()["results"][0]["url"]
        assert original.startswith(site.rstrip("/"))
        assert requests.get(original, timeout=10).status_code == 200  # the "original" link works
        assert workdir.is_dir()
    finally:
        demo.send_signal(signal.SIGTERM)
        demo.communicate(timeout=60)
    assert demo.returncode == 0, "".join(lines)
    assert not workdir.exists()
