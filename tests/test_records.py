"""JSON lines in: a bad line is skipped with its number and reason, the rest indexed; text is
made valid and implausible dates dropped where records enter, so no page or export meets them."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from innosearch.records import Skipped, publication_date, read_articles, to_article
from tests.conftest import CLI
from tests.test_crash_safety import write_records
from web import create_app, get_index

HOSTILE = [
    b'{"id": "utf8", "title": "\xff\xfe not UTF-8"}',
    json.dumps({"id": "typed", "title": 5, "text": "x"}).encode(),
    json.dumps({"id": "authors", "title": "A", "authors": "not a list"}).encode(),
    json.dumps({"id": {"nested": 1}, "title": "B"}).encode(),
    b"[1, 2, 3]",
    b"not json at all",
]
# Valid JSON, but text no UTF-8 encoder can write, and dates from no real newsroom.
SURROGATE = (
    b'{"id": "lone", "url": "https://n.example/lone", "title": "Chip \\ud800 fab",'
    b' "text": "Wafer \\udc00 news", "published": "0001-01-01"}'
)
FAR = b'{"id": "far", "url": "https://n.example/far", "title": "Chip far", "text": "Wafer",'
FAR += b' "published": "9999-12-31"}'


def test_each_bad_line_is_skipped_with_its_number_and_reason(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    good = json.dumps({"id": "ok", "url": "https://n.example/ok", "title": "Fine"}).encode()
    path.write_bytes(b"\n".join([good, *HOSTILE, good.replace(b'"ok"', b'"ok2"')]) + b"\n")
    skipped = Skipped()
    kept = [a.id for a in read_articles(str(path), skipped)]
    assert kept == ["ok", "ok2"]
    assert skipped.count == len(HOSTILE)
    summary = skipped.summary()
    for number, reason in [
        (2, "invalid UTF-8"),
        (3, "'title' must be a string"),
        (4, "'authors' must be a list"),
        (5, "'id' must be a string or a number"),
        (6, "not a JSON object"),
        (7, "not JSON"),
    ]:
        assert f"line {number}: {reason}" in summary


def test_lone_surrogates_are_replaced_and_implausible_dates_dropped() -> None:
    article = to_article(json.loads(SURROGATE))
    assert article.title == "Chip \ufffd fab" and article.text == "Wafer \ufffd news"
    article.title.encode("utf-8")  # writable
    assert article.published is None
    assert publication_date("9999-12-31") is None
    assert publication_date("1987-03-02T10:00:00Z") == "1987-03-02"  # Reuters 1987 is real
    assert publication_date("next tuesday") is None


def test_a_bulk_build_with_bad_lines_indexes_every_good_one(tmp_path: Path, cli: CLI) -> None:
    """2,500 good records (a bulk build, one writer process per core) with hostile lines
    among them: every good record is indexed, the command names the skipped lines and exits 1."""
    good = tmp_path / "good.jsonl"
    write_records(good, 2500)
    lines = good.read_bytes().splitlines()
    for position, bad in zip((3, 700, 1500, 2200, 2400, 2499), HOSTILE, strict=True):
        lines.insert(position, bad)
    path = tmp_path / "mixed.jsonl"
    path.write_bytes(b"\n".join([*lines, SURROGATE, FAR]) + b"\n")
    code, _out, err = cli("index", "--from-jsonl", str(path), "--index", str(tmp_path / "ix"))
    assert code == 1
    assert f"{len(HOSTILE)} lines skipped" in err and "line 4: invalid UTF-8" in err
    app = create_app({"INDEX_DIR": str(tmp_path / "ix"), "TESTING": True})
    try:
        assert get_index(app).doc_count() == 2502
        client = app.test_client()
        # The surrogate record shows on the page, in its view and in complete exports.
        page = client.get("/?q=fab")
        assert page.status_code == 200 and "Chip \ufffd fab" in page.get_data(as_text=True)
        assert client.get("/article/lone").status_code == 200
        assert client.get("/?q=far").status_code == 200
        exported = client.get("/api/export.csv").get_data(as_text=True).lstrip("\ufeff")
        assert len(list(csv.DictReader(io.StringIO(exported)))) == 2502
        lines_out = client.get("/api/export.jsonl").get_data(as_text=True).splitlines()
        assert len(lines_out) == 2502
        timeline = client.get("/api/timeline?interval=month").get_json()
        assert timeline["undated"] == 2 and len(timeline["counts"]) < 200
    finally:
        get_index(app).close()


@pytest.mark.parametrize("payload", [b"", b"\n\n"])
def test_an_empty_input_indexes_nothing_and_succeeds(
    tmp_path: Path, cli: CLI, payload: bytes
) -> None:
    path = tmp_path / "empty.jsonl"
    path.write_bytes(payload)
    code, _out, err = cli("index", "--from-jsonl", str(path), "--index", str(tmp_path / "ix"))
    assert code == 0, err
