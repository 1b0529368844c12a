"""Progress as a person at a terminal sees it: `crawl` and `recrawl` run under a real
pseudo-terminal keep one plain line up to date (pages with their rate in pages/s, queued, new
articles; recrawl names the site and its place among the sites)."""

from __future__ import annotations

import os
import pty
import subprocess
from pathlib import Path

from innosearch.sample_site import serve
from tests.test_recrawl import INNOSEARCH, environment, write_config


def on_a_terminal(args: list[str], env: dict[str, str], cwd: Path) -> tuple[int, str]:
    """Runs the command with its standard error on a pseudo-terminal; (status, what it wrote)."""
    leader, follower = pty.openpty()
    child = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=follower, env=env, cwd=cwd
    )
    os.close(follower)
    chunks = []
    while True:
        try:
            chunk = os.read(leader, 4096)
        except OSError:  # the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(leader)
    return child.wait(timeout=120), b"".join(chunks).decode("utf-8", "replace")


def test_crawl_and_recrawl_show_plain_progress_on_a_terminal(tmp_path: Path) -> None:
    with serve() as site:
        write_config(tmp_path, [{"name": "herald", "seeds": [site.url()]}])
        env = environment(tmp_path, delay=0.03)  # about two seconds of crawling: lines to see
        code, shown = on_a_terminal([*INNOSEARCH, "crawl", site.url()], env, tmp_path)
        assert code == 0, shown
        lines = [line for line in shown.split("\r") if line.startswith("\x1b[K")]  # redrawn
        assert lines, shown
        assert "pages/s)" in lines[-1] and "queued" in lines[-1] and "new article" in lines[-1]
        assert "status 200" not in shown

        site.touch(site.articles[0]["slug"], "2025-12-01")
        code, shown = on_a_terminal([*INNOSEARCH, "recrawl"], env, tmp_path)
        assert code == 0, shown
        assert "[site 1/1: herald] " in shown and "pages fetched" in shown
