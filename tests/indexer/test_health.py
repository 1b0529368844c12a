"""`innosearch stats` as a maintainer reads it: each site's history from the crawl store, after
real recrawls of the sample site on loopback, and after upgrading a data dir of an older
innosearch that kept the history in site-runs.jsonl."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from crawler.store import DB_NAME, HISTORY_FILE
from indexer.health import index_stats
from innosearch.sample_site import serve
from tests.conftest import CLI
from tests.crawler.test_store import SCHEMA_2
from tests.loopback import free_port
from tests.pg_server import Server


@pytest.fixture
def maintainer(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A deployment directory: innosearch.toml, data/ and index/ beside it."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("INNOSEARCH_CONFIG", str(tmp_path / "innosearch.toml"))
    monkeypatch.setenv("INNOSEARCH_CRAWL_ALLOW_LOCAL", "1")
    monkeypatch.setenv("INNOSEARCH_CRAWL_DELAY", "0")
    monkeypatch.setenv("INNOSEARCH_CRAWL_RETRIES", "0")
    return tmp_path


def configure(folder: Path, sites: dict[str, str]) -> None:
    lines = ['data_dir = "data"', 'index_dir = "index"']
    for name, seed in sites.items():
        lines += ["[[sites]]", f"name = {json.dumps(name)}", f"seeds = [{json.dumps(seed)}]"]
    (folder / "innosearch.toml").write_text("\n".join(lines) + "\n", encoding="utf-8")


def sites_of(cli: CLI) -> dict[str, dict[str, Any]]:
    code, out, err = cli("stats", "--json")
    assert code == 0, err
    return {row["site"]: row for row in json.loads(out)["sites"]}


def test_two_recrawls_show_each_sites_last_run_failures_and_new_articles(
    cli: CLI, maintainer: Path
) -> None:
    down = f"http://localhost:{free_port()}/"
    with serve() as site:
        configure(maintainer, {"herald": site.url(), "down": down})
        assert cli("recrawl")[0] == 1  # a site failed
        first = sites_of(cli)
        assert cli("recrawl")[0] == 1
        sites = sites_of(cli)

    herald = sites["herald"]
    assert herald["new_per_run"] == [len(site.articles), 0]  # the second run found nothing new
    assert herald["last_run_ok"] and herald["failed_runs"] == 0 and herald["last_error"] is None
    # Times are to the second and the second run may end within the first's second: the runs
    # are told apart by new_per_run above, the time only must not go back.
    assert herald["last_run"] >= first["herald"]["last_run"] and herald["last_success"]
    assert herald["days_since_new_article"] == 0
    assert herald["articles"] == len(site.articles) and herald["fetch_failures"] == 0
    down_row = sites["down"]
    assert (down_row["last_run_ok"], down_row["failed_runs"]) == (False, 2)
    assert down_row["new_per_run"] == [0, 0] and down_row["last_success"] is None
    assert "nothing fetched" in down_row["last_error"]

    code, out, _err = cli("stats")
    assert code == 0 and "down: last error: nothing fetched" in out
    assert any(
        line.split()[:1] == ["herald"] and f"{len(site.articles)} 0" in line
        for line in out.splitlines()
    )
    assert not (maintainer / "data" / HISTORY_FILE).exists()  # the store is the only record


def test_an_old_data_dir_keeps_its_history_after_the_upgrade(cli: CLI, maintainer: Path) -> None:
    data = maintainer / "data"
    data.mkdir()
    db = sqlite3.connect(data / DB_NAME)
    db.executescript(SCHEMA_2)
    db.close()
    old = {"site": "herald", "command": "recrawl", "ok": True, "error": None}
    history = [
        {**old, "finished_at": "2026-01-01T06:00:00Z", "articles_new": 7, "pages_fetched": 9},
        {**old, "finished_at": "2026-01-02T06:00:00Z", "ok": False, "error": "HTTP 503"},
    ]
    (data / HISTORY_FILE).write_text("".join(json.dumps(r) + "\n" for r in history))

    with serve() as site:
        configure(maintainer, {"herald": site.url()})
        code, out, _err = cli("stats", "--json")  # stats only reads: it asks for the upgrade
        assert code == 0 and "innosearch migrate" in json.loads(out)["store"]["note"]
        code, out, err = cli("migrate")
        assert code == 0 and "crawl store in data is at schema version" in out, err
        herald = sites_of(cli)["herald"]
        assert herald["new_per_run"] == [7, 0] and herald["failed_runs"] == 1
        assert (
            herald["last_error"] == "HTTP 503" and herald["last_success"] == "2026-01-01T06:00:00Z"
        )

        assert cli("recrawl")[0] == 0
    herald = sites_of(cli)["herald"]
    assert herald["new_per_run"] == [7, 0, len(site.articles)]
    assert herald["failed_runs"] == 0 and herald["last_run"] > "2026-01-02"


def test_the_index_figures_come_from_either_backend(backend: Any) -> None:
    figures = index_stats("the backend given is used", backend)
    assert figures["exists"] and figures["documents"] == 7 and figures["generation"] >= 1
    assert figures["path"] != "the backend given is used"


def test_a_missing_index_is_reported_on_either_backend(tmp_path: Path, pg_server: Server) -> None:
    nothing = {"path": str(tmp_path / "none"), "exists": False, "documents": 0, "bytes": 0}
    assert index_stats(tmp_path / "none") == nothing
    empty = pg_server.url(pg_server.create_database())  # no index schema in it yet
    figures = index_stats(empty)
    assert (figures["exists"], figures["documents"]) == (False, 0)
    assert figures["path"].endswith(empty.rsplit("/", 1)[1]) and "://" not in figures["path"]
