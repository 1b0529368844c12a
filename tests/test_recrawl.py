"""`innosearch recrawl` as a maintainer's cron job meets it: real processes crawling the sample
site on loopback, two at once, one killed with SIGKILL mid-run, one site down."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from innosearch.config import Config, SiteConfig
from innosearch.recrawl import plan_sites
from innosearch.sample_site import LoopbackSite, Route, serve
from innosearch.sample_site.wire import build_news_site, unlink
from tests.conftest import CLI
from tests.loopback import free_port

_SCRIPT = Path(sys.executable).with_name("innosearch")
INNOSEARCH = [str(_SCRIPT)] if _SCRIPT.exists() else [sys.executable, "-m", "innosearch.cli"]


def write_config(tmp_path: Path, sites: list[dict[str, Any]]) -> Path:
    lines = ['data_dir = "data"', 'index_dir = "index"']
    for site in sites:
        lines.append("[[sites]]")
        lines += [f"{key} = {json.dumps(value)}" for key, value in site.items()]
    path = tmp_path / "innosearch.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def environment(tmp_path: Path, delay: float) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("INNOSEARCH_")}
    env.update(
        INNOSEARCH_CONFIG=str(tmp_path / "innosearch.toml"),
        INNOSEARCH_CRAWL_ALLOW_LOCAL="1",
        INNOSEARCH_CRAWL_DELAY=str(delay),
        INNOSEARCH_CRAWL_RETRIES="0",
        INNOSEARCH_CRAWL_CONNECT_TIMEOUT="2",
    )
    return env


def innosearch(tmp_path: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [*INNOSEARCH, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120
    )


def events(stderr: str) -> list[dict[str, Any]]:
    """The JSON log lines (stderr is a pipe, so logs are JSON)."""
    return [json.loads(line) for line in stderr.splitlines() if line.startswith("{")]


def test_overlapping_run_refuses_and_a_killed_run_is_taken_over(tmp_path: Path) -> None:
    with serve() as site:
        write_config(tmp_path, [{"name": "herald", "seeds": [site.url()]}])
        env = environment(tmp_path, delay=0)
        # The site keeps the first run's sixth request waiting until the end of the block: the
        # second run and the kill meet the first in the middle of its crawl, however fast.
        with site.hold(after=5) as held:
            first = subprocess.Popen(
                [*INNOSEARCH, "recrawl"], cwd=tmp_path, env=env, stderr=subprocess.DEVNULL
            )
            try:
                held.wait_arrived(timeout=30)

                started = time.monotonic()
                second = innosearch(tmp_path, env, "recrawl")
                took = time.monotonic() - started
                assert first.poll() is None, "the first run ended before the overlap was tested"
                assert second.returncode == 75
                assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
                assert second.stderr.startswith("innosearch recrawl: another run is in progress")
                assert f"pid {first.pid}" in second.stderr
                assert took < 10  # at once: the time to start Python, not to wait for the first

                os.kill(first.pid, signal.SIGKILL)
                assert first.wait(timeout=10) == -signal.SIGKILL
            finally:
                if first.poll() is None:
                    first.kill()
                    first.wait()

        third = innosearch(tmp_path, env, "recrawl")
        assert third.returncode == 0, third.stderr
        log = events(third.stderr)
        stale = [e for e in log if e.get("event") == "stale-lock"]
        assert stale and f"pid {first.pid}" in stale[0]["previous"]
        herald = next(e for e in log if e.get("event") == "site")
        assert herald["ok"] and herald["resumed"]
        summary = log[-1]
        assert summary["event"] == "recrawl" and summary["ok"] and summary["failed"] == []

        stats = json.loads(innosearch(tmp_path, env, "stats", "--json").stdout)
        assert stats["index"]["documents"] == stats["store"]["articles"] == len(site.articles)
    # The lock file is left empty by a run that finished: the next one reports no crash.
    assert (tmp_path / "data" / "recrawl.lock").read_text() == ""


def test_a_site_that_fails_fails_the_run_and_not_the_others(tmp_path: Path) -> None:
    down = f"http://localhost:{free_port()}/"  # another host than the herald's 127.0.0.1
    with serve() as site:
        write_config(
            tmp_path,
            [
                {"name": "herald", "seeds": [site.url()], "max_pages": 8},
                {"name": "down", "seeds": [down]},
            ],
        )
        env = environment(tmp_path, delay=0)
        run = innosearch(tmp_path, env, "recrawl")
        assert run.returncode == 1
        summary = events(run.stderr)[-1]
        assert summary["failed"] == ["down"] and summary["index_total"] > 0
        assert "1 failed (down: " in summary["message"]

        stats = json.loads(innosearch(tmp_path, env, "stats", "--json").stdout)
        sites = {row["site"]: row for row in stats["sites"]}
        assert sites["down"]["last_run_ok"] is False and sites["down"]["failed_runs"] == 1
        assert sites["down"]["last_error"] and sites["down"]["days_since_new_article"] is None
        herald = sites["herald"]
        assert herald["last_run_ok"] and herald["new_per_run"][0] > 0
        assert herald["days_since_new_article"] == 0 and herald["articles"] > 0
        assert stats["index"]["documents"] == herald["articles"]

        # Only the site that works: a run that succeeds, incremental, with no new articles.
        run = innosearch(tmp_path, env, "recrawl", "--site", "herald")
        assert run.returncode == 0, run.stderr
        text = innosearch(tmp_path, {**env, "INNOSEARCH_LOG_FORMAT": "text"}, "stats").stdout
        assert "herald" in text and "down" in text and "last error" in text


def test_user_mistakes_are_one_line(cli: CLI, tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    code, _out, err = cli("recrawl", "--data", str(tmp_path / "d"))
    assert code == 1 and err.startswith("innosearch recrawl: no sites to re-crawl")
    assert err.count("\n") == 1
    write_config(tmp_path, [{"name": "a", "seeds": ["https://a.example/"]}])
    code, _out, err = cli("--config", str(tmp_path / "innosearch.toml"), "recrawl", "--site", "b")
    assert code == 1 and "no site named b (sites: a)" in err and err.count("\n") == 1


def test_sites_come_from_the_configuration_then_the_store() -> None:
    config = Config(
        sites=[SiteConfig(name="Herald", seeds=["https://www.herald.example/"])],
        seeds=["https://extra.example/news/"],
    )
    known = [
        "https://herald.example/tech/",  # covered by the configured site: not crawled twice
        "https://other.example/",
        "https://other.example/business/",
    ]
    planned = {site.name: site.start_urls() for site in plan_sites(config, known)}
    assert planned == {
        "Herald": ["https://www.herald.example/"],
        "other.example": ["https://other.example/", "https://other.example/business/"],
        "extra.example": ["https://extra.example/news/"],
    }


def test_an_unlinked_article_that_answers_410_leaves_the_index(tmp_path: Path) -> None:
    with LoopbackSite() as site:
        build_news_site(site, crawl_delay=0.01)
        write_config(tmp_path, [{"name": "wire", "seeds": [site.url("/")]}])
        env = {**environment(tmp_path, delay=0), "INNOSEARCH_CRAWL_REVISIT_DAYS": "0"}
        first = innosearch(tmp_path, env, "recrawl")
        assert first.returncode == 0, first.stderr
        found = json.loads(innosearch(tmp_path, env, "search", "separator", "--json").stdout)
        assert [r["url"] for r in found["results"]] == [site.url("/news/alpha")]

        # Alpha is taken down and unlinked everywhere; epsilon is unlinked but unchanged.
        unlink(site, "/news/alpha", "/news/epsilon")
        site.routes["/news/alpha"] = Route(status=410, body=b"gone", etag=False)
        site.clear()
        second = innosearch(tmp_path, env, "recrawl")
        assert second.returncode == 0, second.stderr

        asked = [(h.path, h.status) for h in site.requests if h.path.startswith("/news/")]
        assert asked.count(("/news/alpha", 410)) == 1
        epsilon = [h for h in site.requests if h.path == "/news/epsilon"]
        assert [h.status for h in epsilon] == [304] and epsilon[0].headers["if-none-match"]
        wire = next(e for e in events(second.stderr) if e.get("event") == "site")
        assert (wire["revalidated"], wire["revalidated_gone"], wire["articles_gone"]) == (2, 1, 1)
        assert wire["revalidated_unchanged"] == 1
        assert "2 unlinked articles revalidated (1 unchanged, 1 gone)" in wire["message"]

        found = json.loads(innosearch(tmp_path, env, "search", "separator", "--json").stdout)
        assert found["total"] == 0
        # Epsilon is still indexed (the wire's templated stories are near-duplicates of each
        # other: it may be listed as a copy under its group's original).
        found = json.loads(innosearch(tmp_path, env, "search", "researchers", "--json").stdout)
        shown = [u for r in found["results"] for u in [r["url"], *(a["url"] for a in r["also"])]]
        assert site.url("/news/epsilon") in shown and site.url("/news/alpha") not in shown

        stats = json.loads(innosearch(tmp_path, env, "stats", "--json").stdout)
        assert stats["index"]["documents"] == stats["store"]["articles"] == 4
        (row,) = stats["sites"]
        assert (row["revalidated"], row["revalidated_unchanged"], row["revalidated_gone"]) == (
            2,
            1,
            1,
        )
        text = innosearch(tmp_path, {**env, "INNOSEARCH_LOG_FORMAT": "text"}, "stats").stdout
        assert "revalidated  unchanged  gone" in text
