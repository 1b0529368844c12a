"""The `innosearch` command as INTERFACE.md promises it: JSON out, one-line errors, exit codes."""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import json
import re
from pathlib import Path

from tests.conftest import CLI, FIXTURES


def test_index_from_jsonl_then_search_json(cli: CLI, tmp_path: Path) -> None:
    index = str(tmp_path / "ix")
    code, _out, err = cli(
        "index", "--from-jsonl", str(FIXTURES / "articles.jsonl"), "--index", index
    )
    assert code == 0 and "7 articles indexed" in err
    code, out, _ = cli("search", "semiconductor", "--index", index, "--json")
    body = json.loads(out)
    assert code == 0 and body["total"] == 2 and set(body["facets"]) == {"year", "chain", "country"}
    assert {r["id"] for r in body["results"]} == {"chips-nanjing", "xss"}
    code, out, _ = cli("search", "", "--index", index, "--json", "--chain", "nev", "--limit", "1")
    assert json.loads(out)["results"][0]["id"] == "ev-batteries"
    code, out, _ = cli("search", "vaccine", "--index", index)
    assert code == 0 and "Biotech firm starts vaccine trial" in out


def test_index_from_jsonl_keeps_given_ids_and_skips_bad_lines(cli: CLI, tmp_path: Path) -> None:
    records = tmp_path / "in.jsonl"
    records.write_text(
        '{"id": 42, "url": "https://x.example/a", "title": "Graphene", "text": "graphene film",'
        ' "published": "2020-05-06T10:00:00Z"}\nnot json\n'
        '{"url": "https://x.example/b", "title": "Rail", "text": "maglev", "published": "soon"}\n',
        encoding="utf-8",
    )
    index = str(tmp_path / "ix")
    code, _, err = cli("index", "--from-jsonl", str(records), "--index", index)
    assert code == 1 and "1 line skipped: line 2: not JSON" in err  # the rest is indexed
    body = json.loads(cli("search", "graphene", "--index", index, "--json")[1])
    assert body["results"][0]["id"] == "42" and body["results"][0]["published"] == "2020-05-06"
    body = json.loads(cli("search", "maglev", "--index", index, "--json")[1])
    assert body["results"][0]["published"] is None  # an unreadable date is no date


def test_user_mistakes_are_one_line_errors(cli: CLI, tmp_path: Path) -> None:
    cases = [
        ("search", "chips", "--index", str(tmp_path / "none")),
        ("index", "--from-jsonl", str(tmp_path / "missing.jsonl"), "--index", str(tmp_path)),
        ("crawl", "ftp://example.com/"),
        ("index", "--data", str(tmp_path / "nodata"), "--index", str(tmp_path / "ix")),
    ]
    for args in cases:
        code, _out, err = cli(*args)
        assert code != 0, args
        assert err.count("\n") == 1 and "Traceback" not in err, err
        assert err.startswith("innosearch "), err


def test_bad_query_from_the_shell(cli: CLI, built_index: Path) -> None:
    code, _out, err = cli("search", '"unclosed', "--index", str(built_index))
    assert code == 1 and "unbalanced quote" in err and "Traceback" not in err


def test_stats_json(cli: CLI, built_index: Path, tmp_path: Path) -> None:
    code, out, _ = cli("stats", "--json", "--index", str(built_index), "--data", str(tmp_path))
    stats = json.loads(out)
    assert code == 0 and stats["index"]["documents"] == 7 and stats["index"]["bytes"] > 0
    assert stats["store"]["pages"] == 0


def test_extract_reads_plain_and_gzipped_files(cli: CLI, tmp_path: Path) -> None:
    page = (
        "<html lang='en'><head><title>Fab opens | Example News</title>"
        "<meta property='article:published_time' content='2021-10-20T08:00:00Z'></head>"
        "<body><nav><a href='/'>Home</a></nav><article><h1>Fab opens</h1>"
        + "<p>The new wafer fab in Nanjing opened on Wednesday with two production lines.</p>" * 6
        + "</article><footer>Copyright Example News</footer></body></html>"
    )
    (tmp_path / "a.html").write_text(page, encoding="utf-8")
    (tmp_path / "b.html.gz").write_bytes(gzip.compress(page.encode()))
    code, out, _ = cli("extract", str(tmp_path / "a.html"), str(tmp_path / "b.html.gz"))
    lines = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and [r["id"] for r in lines] == ["a", "b"]
    for r in lines:
        assert set(r) == {
            "id",
            "title",
            "text",
            "published",
            "authors",
            "language",
            "canonical_url",
        }
        assert "wafer fab in Nanjing" in r["text"] and "Copyright" not in r["text"]
        assert r["published"] == "2021-10-20" and r["title"] == "Fab opens"


def test_enrich_reads_lines_and_writes_facets(cli: CLI, tmp_path: Path, monkeypatch) -> None:
    src = tmp_path / "in.jsonl"
    src.write_text((FIXTURES / "articles.jsonl").read_text(encoding="utf-8"), encoding="utf-8")
    code, out, _ = cli("enrich", str(src))
    rows = {r["id"]: r for r in map(json.loads, out.splitlines())}
    assert code == 0 and len(rows) == 7
    assert set(rows["chips-nanjing"]) == {"id", "year", "chains", "countries"}
    assert rows["chips-nanjing"]["year"] == 2021 and "CN" in rows["chips-nanjing"]["countries"]
    assert rows["nodate"]["year"] is None


def test_logs_are_json_lines_when_not_on_a_terminal(cli: CLI, tmp_path: Path, monkeypatch) -> None:
    index = str(tmp_path / "ix")
    code, _out, err = cli(
        "index", "--from-jsonl", str(FIXTURES / "articles.jsonl"), "--index", index
    )
    entry = json.loads(err.splitlines()[-1])
    assert code == 0 and entry["event"] == "index" and entry["added"] == 7
    assert entry["level"] == "info" and entry["time"].endswith("Z")
    assert "7 articles indexed" in entry["message"]
    monkeypatch.setenv("INNOSEARCH_LOG_FORMAT", "text")
    code, _out, err = cli(
        "index", "--from-jsonl", str(FIXTURES / "articles.jsonl"), "--index", index
    )
    assert code == 0 and err.startswith("index: 7 articles indexed")


def test_a_second_index_writer_is_refused(cli: CLI, tmp_path: Path) -> None:
    from innosearch.recrawl import index_lock

    index = tmp_path / "ix"
    with index_lock(index):
        code, _out, err = cli(
            "index", "--from-jsonl", str(FIXTURES / "articles.jsonl"), "--index", str(index)
        )
    assert code == 75 and err.count("\n") == 1
    assert err.startswith("innosearch index: another index write is in progress (pid ")
    code, _out, err = cli("index", "--rebuild", "--from-jsonl", "x.jsonl", "--index", str(index))
    assert code == 1 and "cannot take --from-jsonl" in err


def test_stats_text_without_anything_yet(cli: CLI, tmp_path: Path) -> None:
    code, out, _err = cli("stats", "--data", str(tmp_path / "d"), "--index", str(tmp_path / "i"))
    assert code == 0 and "0 documents (no index)" in out and "0 pages" in out


def test_web_settings_reach_the_served_app(built_index: Path) -> None:
    from innosearch.config import load_config
    from innosearch.services import app_settings
    from web.server import make_server

    env = {
        "INNOSEARCH_RATE_LIMIT_PER_SECOND": "5",
        "INNOSEARCH_MAX_QUERY_STRING": "2048",
        "INNOSEARCH_STATS_TOKEN": "s3cret-token-for-tests",
        "INNOSEARCH_DATA_DIR": "/srv/data",
    }
    server = make_server(built_index, port=0, config=app_settings(load_config(environ=env)))
    try:
        app = server.flask_app
        assert app.config["RATE_LIMIT_PER_SECOND"] == 5.0 and app.config["MAX_QUERY_STRING"] == 2048
        assert app.config["STATS_TOKEN"] == "s3cret-token-for-tests"
        assert app.config["DATA_DIR"] == "/srv/data"  # /stats reads the configured store
        assert not app.debug
    finally:
        server.close()
    env["INNOSEARCH_TRUSTED_PROXY"] = "10.0.0.1"
    server = make_server(built_index, port=0, config=app_settings(load_config(environ=env)))
    try:
        assert server.adj.trusted_proxy == "10.0.0.1"  # waitress reads X-Forwarded-For from it
    finally:
        server.close()


def test_search_flags_read_like_the_api_parameters(cli: CLI, built_index: Path) -> None:
    index = ("--index", str(built_index))
    code, out, _ = cli("search", "semiconducter", *index)
    assert code == 0 and "did you mean: semiconductor?" in out
    code, out, _ = cli("search", "", *index, "--from", "2021", "--to", "2021", "--json")
    assert code == 0 and {r["year"] for r in json.loads(out)["results"]} == {2021}
    code, out, _ = cli("search", "vaccine battery", *index, "--any", "--json")
    assert (
        json.loads(out)["total"]
        > json.loads(cli("search", "vaccine battery", *index, "--json")[1])["total"]
    )
    code, _, err = cli("search", "chip", *index, "--year", "21")
    assert code == 1 and "year must be four digits" in err and "Traceback" not in err
    code, _, err = cli("search", "chip", *index, "--limit", "5000")
    assert code == 1 and "--limit must be" in err and "per_page" not in err
    code, _, err = cli("search", "chip", *index, "--country", "China")
    assert code == 1 and err.splitlines()[-1] == "innosearch search: try --country CN"


def test_every_search_option_says_what_it_does(capsys) -> None:
    from innosearch.cli import main

    for command in ("search", "export"):
        with contextlib.suppress(SystemExit):
            main([command, "--help"])
        text = capsys.readouterr().out.split("options:", 1)[1]
        # One entry an option: its flags, then its help on the same line after two spaces or
        # on the lines below, indented (argparse's layout).
        entries = re.split(r"\n(?=  -)", text.strip("\n"))
        for entry in entries:
            first, *rest = entry.splitlines()
            same_line = re.split(r"(?<=\S)\s{2,}", first.strip(), maxsplit=1)[1:]
            assert "".join(same_line + rest).strip(), f"{command}: {first.strip()} has no help"
        assert len(entries) >= 10
        for flag in ("--page", "--sort") if command == "search" else ("--format", "--output"):
            assert flag in text
        assert "per_page" not in text


def test_export_writes_what_the_api_exports(cli: CLI, built_index: Path, tmp_path: Path) -> None:
    from web import create_app, get_index

    app = create_app({"INDEX_DIR": str(built_index)})
    client = app.test_client()
    target = tmp_path / "out.csv"
    code, _, err = cli("export", "chip OR vaccine", "--index", str(built_index), "-o", str(target))
    assert code == 0 and "stories written to" in err
    api = client.get("/api/export.csv?q=chip%20OR%20vaccine").data
    assert target.read_bytes() == api and api.count(b"\r\n") >= 3
    assert not list(tmp_path.glob("*.partial"))
    code, out, _ = cli(
        "export", "", "--index", str(built_index), "--format", "jsonl", "--chain", "nev"
    )
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows and all("nev" in r["chains"] for r in rows)
    assert out.encode() == client.get("/api/export.jsonl?chain=nev").data
    get_index(app).close()


def test_export_writes_its_citation_beside_it_and_cite_checks_it_later(
    cli: CLI, tmp_path: Path
) -> None:
    from indexer.whoosh import index_articles
    from tests.conftest import fixture_articles

    index = str(tmp_path / "index")
    index_articles(index, fixture_articles())
    target = tmp_path / "chips.jsonl"
    code, _, err = cli("export", "chip OR battery", "--index", index, "--format", "jsonl",
                       "-o", str(target))  # fmt: skip
    companion = json.loads((tmp_path / "chips.jsonl.cite.json").read_text())
    ids = sorted(json.loads(line)["id"] for line in target.read_text().splitlines())
    assert code == 0 and companion["stories"] == len(ids) and companion["sha256"] in err
    code, out, _ = cli("cite", "chip OR battery", "--index", index)
    cited = json.loads(out)
    assert code == 0 and cited["sha256"] == companion["sha256"] and cited["recorded"]
    code, out, _ = cli("cite", "chip OR battery", "--index", index, "--sha256", cited["sha256"])
    assert json.loads(out)["check"] == {
        "same": True, "stories_then": len(ids), "stories_now": len(ids), "recorded": True,
        "added": 0, "removed": 0,
    }  # fmt: skip
    code, out, _ = cli("cite", "chip", "--index", index, "--country-all", "CN")
    assert json.loads(out)["country_all"] == ["CN"]
    code, _, err = cli("cite", "chip", "--index", index, "--country-all", "China")
    assert code == 1 and "did you mean CN" in err


def test_version(capsys) -> None:
    from innosearch.cli import main

    try:
        main(["--version"])
    except SystemExit as stop:
        assert stop.code == 0
    assert capsys.readouterr().out.startswith("innosearch 0.")


def test_search_and_export_name_the_site_before_its_host(
    cli: CLI, built_index: Path, tmp_path: Path
) -> None:
    from innosearch.config import load_config
    from innosearch.services import app_settings

    index = ("--index", str(built_index))
    code, out, _ = cli("search", "semiconductor", *index)
    lines = out.splitlines()
    assert code == 0 and "[2021-10-20] Example News · news.example.com" in out  # og:site_name
    assert next(line for line in lines if "Chip <b>news" in line).endswith("] evil.example.com")
    config = tmp_path / "innosearch.toml"
    config.write_text(
        '[[sites]]\nname = "The Example Daily"\nseeds = ["https://www.news.example.com/"]\n',
        encoding="utf-8",
    )
    code, out, _ = cli("--config", str(config), "search", "semiconductor", *index)
    assert code == 0 and "[2021-10-20] The Example Daily · news.example.com" in out
    served = app_settings(load_config(config, environ={}))  # what `serve` hands the web app
    assert served["SITE_NAMES"] == {"news.example.com": "The Example Daily"}
    code, out, _ = cli("--config", str(config), "export", "semiconductor", *index)
    rows = list(csv.reader(io.StringIO(out.removeprefix("\ufeff"))))
    assert rows[0][-2:] == ["also_urls", "site_name"]  # the columns before keep their places
    shown = {row[rows[0].index("site")]: row[-1] for row in rows[1:]}
    assert shown == {"news.example.com": "The Example Daily", "evil.example.com": ""}
    code, out, _ = cli(
        "--config", str(config), "export", "semiconductor", *index, "--format", "jsonl"
    )
    shown = {row["site"]: row["site_name"] for row in map(json.loads, out.splitlines())}
    assert shown == {"news.example.com": "The Example Daily", "evil.example.com": None}


def test_search_takes_acronyms_common_words_and_3_d(cli: CLI, typed_index: str) -> None:
    """`US`, `the who`, `C++` exited 1 with "too common" (issue 16); on both backends."""
    for q, expected in [
        ("US", {"us-sanctions"}),
        ("the who", {"the-who"}),
        ("C++", {"cpp"}),
        ("3D printing", {"printing-joined", "printing-apart"}),
    ]:
        code, out, err = cli("search", q, "--index", typed_index, "--json")
        assert code == 0, err
        assert {r["id"] for r in json.loads(out)["results"]} == expected
    code, out, _ = cli("search", "IT services", "--index", typed_index)
    assert code == 0 and "IT services firms hire" in out
