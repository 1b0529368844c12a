"""Near-duplicate grouping: syndicated copies share a group, separate reports do not."""

from __future__ import annotations

import csv
import gzip
import io
import re
import subprocess
import sys
import zlib
from collections.abc import Iterator
from datetime import date
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from whoosh import index as whoosh_index

from crawler.article import Article
from indexer.duplicates import _A, _B, SHINGLE_WORDS, THRESHOLD, PrintStore, fingerprint
from indexer.request import SearchRequest
from indexer.whoosh import index_articles, write
from indexer.whoosh.write import index_location

PRIME = 4294967311  # the smallest prime above 2**32

STORY = (
    "Nanjing's Jiangbei New Area opened a pilot line for gallium nitride power chips on Monday, "
    "the first complete third-generation semiconductor line in the district. The line, run by a "
    "joint venture of two local chip designers and a state-backed fund, can process 3,000 "
    "six-inch wafers a month in its first phase and will double that by the end of next year. "
    "Engineers said the chips would go into fast chargers, electric vehicle inverters and the "
    "power supplies of 5G base stations, markets where demand has grown faster than supply. "
    "The district has spent four years assembling suppliers of substrates, epitaxy equipment and "
    "packaging services, and officials expect the pilot line to anchor a cluster of more than "
    "forty firms. A research institute from the city's largest university will run a shared "
    "testing laboratory on the same campus, open to start-ups that cannot afford their own."
)
OTHER_REPORT = (
    "A gallium nitride chip line has started production in Nanjing, according to the operator, "
    "which told reporters that monthly output would reach several thousand wafers. Analysts "
    "said competition in power semiconductors is rising as carmakers and phone makers look for "
    "smaller chargers and more efficient inverters, and that the district's incentives had "
    "attracted suppliers from several provinces. The operator declined to give the cost of the "
    "plant or name its customers, but said sample chips had passed qualification at two firms."
)


def copy_of(text: str) -> str:
    """A syndicated copy: a dateline, the same body, an agency's closing line."""
    return "NANJING, March 14 (Wire) - " + text + " Reporting by the Wire's Nanjing bureau."


def test_a_syndicated_copy_is_similar_and_a_separate_report_is_not() -> None:
    original, copy, other = (
        fingerprint(STORY),
        fingerprint(copy_of(STORY)),
        fingerprint(OTHER_REPORT),
    )
    assert original and copy and other
    assert original.similarity(copy.signature) >= THRESHOLD
    assert set(original.bands) & set(copy.bands)
    assert original.similarity(other.signature) < 0.3


def test_short_texts_are_never_called_copies() -> None:
    assert fingerprint("Chip line opens in Nanjing.") is None


def test_signatures_are_the_same_in_another_process() -> None:
    code = (
        f"from indexer.duplicates import fingerprint; print(fingerprint({STORY!r}).signature.hex())"
    )
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert other.stdout.strip() == fingerprint(STORY).signature.hex()  # type: ignore[union-attr]


def test_signatures_are_minhash_by_its_definition() -> None:
    """Indexes keep signatures (the prints beside a Whoosh index, the PostgreSQL table), so a
    faster computation must give the very same values: min over shingles of (a*h + b) mod p,
    h the CRC-32 of the shingle's four words."""
    text = f"{STORY} Ünïcode wörds, and ÇAPITALS too."
    words = re.findall(r"\w+", text.lower())
    hashes = [
        zlib.crc32(" ".join(words[i : i + SHINGLE_WORDS]).encode("utf-8"))
        for i in range(len(words) - SHINGLE_WORDS + 1)
    ]
    pairs = zip(_A.tolist(), _B.tolist(), strict=True)
    expected = [min((a * h + b) % PRIME for h in hashes) for a, b in pairs]
    signature = fingerprint(text).signature  # type: ignore[union-attr]
    assert np.frombuffer(signature, np.uint32).tolist() == expected


def groups(index_dir: Path) -> dict[str, str]:
    ix = whoosh_index.open_dir(index_location(index_dir))
    try:
        with ix.searcher() as searcher:
            return {d["id"]: d["dup"] for d in searcher.all_stored_fields()}
    finally:
        ix.close()


@pytest.mark.parametrize("held", [PrintStore.PENDING, 1])
def test_copies_on_two_sites_share_a_group_within_one_run_and_across_runs(
    tmp_path: Path, held: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Also when the prints of a run are written to the file as they come (`held` 1) rather
    than held in memory until the commit."""
    monkeypatch.setattr(PrintStore, "PENDING", held)
    index_articles(
        tmp_path,
        [
            Article(url="https://news.example.com/a", id="a", title="GaN line opens", text=STORY),
            Article(
                url="https://wire.example.org/b",
                id="b",
                title="Wire: GaN line",
                text=copy_of(STORY),
            ),
            Article(
                url="https://other.example.net/c", id="c", title="Chip line", text=OTHER_REPORT
            ),
        ],
    )
    assert groups(tmp_path) == {"a": "a", "b": "a", "c": "c"}
    # A copy crawled later finds the committed original; re-indexing the original keeps it.
    index_articles(
        tmp_path,
        [
            Article(url="https://third.example.com/d", id="d", title="GaN", text=copy_of(STORY)),
            Article(url="https://news.example.com/a", id="a", title="GaN line opens", text=STORY),
        ],
    )
    assert groups(tmp_path) == {"a": "a", "b": "a", "c": "c", "d": "a"}


def test_real_copies_in_real_news_are_grouped(shared: Path, tmp_path: Path) -> None:
    """CNN and Al Jazeera both published the full text of one speech (NewsArticles, 2017)."""
    with gzip.open(shared / "data" / "news" / "NewsArticles.csv.gz", "rb") as f:
        rows = list(csv.DictReader(io.TextIOWrapper(f, encoding="utf-8", errors="replace")))
    window = rows[1600:1800]
    articles = [
        Article(url=r["article_source_link"], id=r["article_id"], title=r["title"], text=r["text"])
        for r in window
        if r["text"].strip()
    ]
    index_articles(tmp_path, articles)
    found = groups(tmp_path)
    speech = [a.id for a in articles if "Congress speech" in a.title]
    assert len(speech) == 2 and found[speech[0]] == found[speech[1]]
    # Every group holds texts that really are alike, read independently of MinHash.
    texts = {a.id: a.text for a in articles}
    members: dict[str, list[str]] = {}
    for doc_id, key in found.items():
        members.setdefault(key, []).append(doc_id)
    for ids in members.values():
        for other in ids[1:]:
            assert SequenceMatcher(None, texts[ids[0]], texts[other]).quick_ratio() > 0.8
    assert sum(len(ids) - 1 for ids in members.values()) < len(articles) * 0.05


def _article(doc_id: str, text: str) -> Article:
    return Article(
        url=f"https://site-{doc_id}.example.com/{doc_id}", id=doc_id, title=doc_id, text=text
    )


def test_a_changed_article_no_longer_attracts_copies_of_its_old_text(tmp_path: Path) -> None:
    index_articles(tmp_path, [_article("a", STORY)])
    index_articles(tmp_path, [_article("a", OTHER_REPORT)])  # the page now tells another story
    index_articles(tmp_path, [_article("e", copy_of(STORY))])
    assert groups(tmp_path) == {"a": "a", "e": "e"}


def test_a_gone_article_no_longer_attracts_copies(tmp_path: Path) -> None:
    index_articles(tmp_path, [_article("a", STORY)])
    write.write_items(
        tmp_path, [(_article("a", STORY), None, None, True)], None
    )  # gone from its site
    index_articles(tmp_path, [_article("e", copy_of(STORY))])
    assert groups(tmp_path) == {"e": "e"}


def test_a_failed_run_leaves_no_fingerprints(tmp_path: Path) -> None:
    index_articles(tmp_path, [_article("c", OTHER_REPORT)])

    def dies_midway() -> Iterator[Article]:
        yield _article("x", STORY)
        raise RuntimeError("the crawl store went away")

    with pytest.raises(RuntimeError):
        index_articles(tmp_path, dies_midway())
    index_articles(tmp_path, [_article("y", copy_of(STORY))])
    # "x" was never indexed, so "y" must not be filed under it.
    assert groups(tmp_path) == {"c": "c", "y": "y"}


# ---- which copy stands for the story: its original, on both backends ----------------------------


def _dated(doc_id: str, site: str, published: str | None, text: str = STORY, **kw: str) -> Article:
    return Article(
        url=f"https://{site}/gan-line",
        id=doc_id,
        title=f"GaN pilot line ({site})",
        text=text,
        published=published,
        **kw,
    )


def _story(backend: Any, q: str = "gallium", **kwargs: Any) -> tuple[list[str], list[list[str]]]:
    """The ids of the results, and for each the ids of the copies listed under it."""
    result = backend.search(SearchRequest(q=q, **kwargs))
    assert result["total"] == len(result["results"])  # every story fits on the page here
    return [r["id"] for r in result["results"]], [
        [a["id"] for a in r["also"]] for r in result["results"]
    ]


def _put(*articles: Article) -> list[tuple[Article, None, None, bool]]:
    return [(a, None, None, False) for a in articles]


def test_the_earliest_published_copy_is_the_result_with_the_others_under_it(
    empty_backend: Any,
) -> None:
    """Three copies crawled in another order than their dates: the wire's copy, crawled last,
    was published first; the copies are listed earliest first."""
    empty_backend.write(
        _put(
            _dated("herald", "herald.example.com", "2024-03-15", copy_of(STORY)),
            _dated("daily", "daily.example.org", "2024-03-16", copy_of(STORY)),
            _dated("wire", "wire.example.net", "2024-03-14"),
        )
    )
    assert _story(empty_backend) == (["wire"], [["herald", "daily"]])
    result = empty_backend.search(SearchRequest(q="", filters={"year": ["2024"]}, timeline=True))
    assert result["total"] == 1 and result["facets"]["year"] == {"2024": 1}
    assert result["timeline"]["counts"] == [{"period": "2024-03", "count": 1}]


def test_an_earlier_copy_arriving_in_a_later_run_becomes_the_result(empty_backend: Any) -> None:
    empty_backend.write(_put(_dated("herald", "herald.example.com", "2024-03-15", copy_of(STORY))))
    empty_backend.write(_put(_dated("daily", "daily.example.org", "2024-03-16", copy_of(STORY))))
    assert _story(empty_backend) == (["herald"], [["daily"]])
    empty_backend.write(_put(_dated("wire", "wire.example.net", "2024-03-14")))
    assert _story(empty_backend) == (["wire"], [["herald", "daily"]])
    # Counted once, under the original's date: browsing, a year, the copies' own day.
    assert _story(empty_backend, q="", sort="date") == (["wire"], [["herald", "daily"]])
    assert empty_backend.search(SearchRequest(q="", date_from=date(2024, 3, 16)))["total"] == 0
    # The original gone from its site: the next earliest stands for the story.
    empty_backend.write([(_dated("wire", "wire.example.net", "2024-03-14"), None, None, True)])
    assert _story(empty_backend) == (["herald"], [["daily"]])
    # A copy re-crawled with an earlier date than the others takes the story over.
    empty_backend.write(_put(_dated("daily", "daily.example.org", "2024-03-01", copy_of(STORY))))
    assert _story(empty_backend) == (["daily"], [["herald"]])


def test_without_dates_the_first_crawled_copy_stands_for_the_story(empty_backend: Any) -> None:
    empty_backend.write(_put(_dated("first", "one.example.com", None, copy_of(STORY))))
    empty_backend.write(
        _put(
            _dated("second", "two.example.com", None),
            _dated("dated", "three.example.com", "2024-05-01", copy_of(STORY)),
        )
    )
    # A dated copy is earlier than undated ones; without it, the first crawled.
    assert _story(empty_backend) == (["dated"], [["first", "second"]])
    empty_backend.write([(_dated("dated", "three.example.com", "2024-05-01"), None, None, True)])
    assert _story(empty_backend) == (["first"], [["second"]])


def test_a_copy_naming_another_as_its_canonical_source_defers_to_it(empty_backend: Any) -> None:
    """The reprint is dated earlier (a time zone, a wrong date), but its page names the wire's
    article as the canonical one: the wire's copy is the original."""
    wire = _dated("wire", "wire.example.net", "2024-03-14")
    reprint = _dated(
        "reprint",
        "herald.example.com",
        "2024-03-13",
        copy_of(STORY),
        original_url="https://wire.example.net/gan-line",
    )
    elsewhere = _dated("other", "daily.example.org", "2024-03-12", copy_of(STORY))
    empty_backend.write(_put(reprint))
    assert _story(empty_backend) == (["reprint"], [[]])  # the source is not indexed (yet)
    empty_backend.write(_put(wire))
    assert _story(empty_backend) == (["wire"], [["reprint"]])
    # A copy that names no source and is earlier still is the original.
    empty_backend.write(_put(elsewhere))
    assert _story(empty_backend) == (["other"], [["reprint", "wire"]])
