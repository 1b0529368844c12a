"""The PostgreSQL index on a real server: the behaviours test_search.py checks on Whoosh, plus
writing (upserts, deletes, atomic runs, one writer), migrations, read replicas and errors.

The server is a throwaway cluster on loopback (tests/pg_server.py), or the one named by
INNOSEARCH_TEST_PG. Without PostgreSQL binaries the module skips, except on CI (CI=true),
where it fails: CI must test both backends.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from crawler.article import Article
from indexer.enrich import version as enrichment_version
from indexer.errors import IndexAccessError
from indexer.postgres.index import PostgresIndex
from indexer.postgres.schema import SCHEMA_VERSION, WRITE_LOCK, current_version, migrate
from indexer.postgres.search import run_search
from indexer.request import SearchRequest
from tests.conftest import CLI
from tests.pg_server import Server
from web import create_app


@pytest.fixture
def fresh_url(pg_server: Server) -> str:
    """A URL to a new empty database."""
    return pg_server.url(pg_server.create_database())


@pytest.fixture
def index(pg_built_index: PostgresIndex) -> PostgresIndex:
    """The fixture articles, indexed once for the read-only tests."""
    return pg_built_index


def ids(result: dict) -> list[str]:
    return [r["id"] for r in result["results"]]


def run(index: PostgresIndex, q: str = "", **kwargs: object) -> dict:
    return index.search(SearchRequest(q=q, **kwargs))  # type: ignore[arg-type]


def article(doc_id: str, title: str, text: str, url: str = "") -> Article:
    return Article(url=url or f"https://a.example/{doc_id}", id=doc_id, title=title, text=text)


def put(art: Article) -> tuple[Article, None, None, bool]:
    """A write item that adds or replaces an article."""
    return art, None, None, False


def gone(art: Article) -> tuple[Article, None, None, bool]:
    """A write item that deletes an article."""
    return art, None, None, True


# ---- writing -------------------------------------------------------------------------------------


def test_updates_replace_by_id_and_gone_deletes(fresh_url: str) -> None:
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        first = article("one", "Graphene sheets", "graphene")
        summary = ix.write([(first, None, None, False)])
        assert (summary.added, summary.total) == (1, 1)
        generation = ix.generation()
        assert ids(run(ix, "graphene")) == ["one"]
        changed = article("one", "Carbon fibre", "fibre")
        other = Article(url="https://a.example/2", text="graphene")
        ix.write([(changed, "2024-01-01T00:00:00Z", 200, False), (other, None, None, False)])
        assert ix.generation() == generation + 1
        assert run(ix, "")["total"] == 2
        assert ids(run(ix, "title:carbon")) == ["one"]
        assert run(ix, "graphene")["total"] == 1
        doc = ix.get_document("one")
        assert doc is not None and doc["http_status"] == 200
        summary = ix.write([gone(changed), gone(article("ghost", "", ""))])
        assert (summary.removed, summary.total) == (1, 1)
        assert ix.get_document("one") is None


def test_title_matches_rank_above_text_matches(fresh_url: str) -> None:
    body = "A report on materials for batteries mentions graphene once among other things."
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        ix.write(
            [
                put(article("text", "Materials report", body)),
                put(article("title", "Graphene", body)),
            ]
        )
        result = run(ix, "graphene")
        assert ids(result) == ["title", "text"]
        assert result["results"][0]["score"] > result["results"][1]["score"] > 0


def test_a_failed_run_leaves_the_last_committed_state(fresh_url: str) -> None:
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        ix.write([put(article("kept", "Hydrogen", "hydrogen"))], store_seq=5)
        generation = ix.generation()

        def crashing() -> Iterator[tuple[Article, None, None, bool]]:
            yield article("new", "Hydrogen too", "hydrogen"), None, None, False
            yield article("kept", "", ""), None, None, True
            raise RuntimeError("the crawl store went away")

        with pytest.raises(RuntimeError):
            ix.write(crashing(), store_seq=9)
        assert ids(run(ix, "hydrogen")) == ["kept"]
        assert ix.generation() == generation and ix.store_seq() == 5


def test_one_writer_at_a_time(fresh_url: str) -> None:
    with (
        PostgresIndex(fresh_url, migrate_schema=True) as ix,
        psycopg.connect(fresh_url, autocommit=True) as other,
    ):
        other.execute("SELECT pg_advisory_lock(%s)", (WRITE_LOCK,))
        with pytest.raises(IndexAccessError, match="another process"):
            ix.write([put(article("a", "A", "a"))])
        other.execute("SELECT pg_advisory_unlock(%s)", (WRITE_LOCK,))
        assert ix.write([put(article("a", "A", "a"))]).total == 1


def test_near_duplicates_are_one_story_with_the_copies_listed(fresh_url: str) -> None:
    story = (
        "The science park in Hefei opened a quantum computing laboratory on Monday with three "
        "universities and a state fund, and officials said the laboratory would train two "
        "hundred engineers a year for chip and sensor makers in the province."
    )
    copies = [
        article("orig", "Hefei opens quantum lab", story, "https://one.example/q"),
        article("copy", "Quantum lab in Hefei", story + " By staff.", "https://two.example/q"),
    ]
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        ix.write([put(copies[0])])
        ix.write([put(copies[1])])  # a later run still finds the first copy
        late = article("late", "Hefei quantum", story, "https://three.example/q")
        ix.write([put(late), put(article("other", "Quantum sensors", "quantum sensors " * 20))])
        result = run(ix, "quantum")
        assert result["total"] == 2
        hit = next(r for r in result["results"] if r["id"] == "orig")
        assert sorted(a["id"] for a in hit["also"]) == ["copy", "late"]
        assert {a["site"] for a in hit["also"]} == {"two.example", "three.example"}
        # A story is found through its original (its site, its facets), and counts once.
        assert ids(run(ix, "site:one.example")) == ["orig"]
        assert run(ix, "site:two.example")["total"] == 0
        assert sum(run(ix, "hefei")["facets"]["country"].values()) <= 1


def test_index_from_store_takes_only_changes(fresh_url: str) -> None:
    class Stored:
        def __init__(self, seq: int, art: Article, gone: bool = False) -> None:
            self.seq, self.article, self.gone = seq, art, gone
            self.fetched_at, self.http_status = "2024-01-01T00:00:00Z", 200

    class Store:
        def __init__(self) -> None:
            self.rows = [
                Stored(1, article("a", "Li", "lithium")),
                Stored(2, article("b", "Na", "x")),
            ]

        def max_seq(self) -> int:
            return max(r.seq for r in self.rows)

        def articles_since(self, seq: int) -> Iterator[Stored]:
            return iter([r for r in self.rows if r.seq > seq])

    store = Store()
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        assert ix.index_from_store(store).added == 2 and ix.store_seq() == 2
        store.rows[0] = Stored(3, article("a", "", ""), gone=True)  # one row per article
        summary = ix.index_from_store(store)
        assert (summary.added, summary.removed, summary.total) == (0, 1, 1)
        assert ix.rebuild_from_store(store).total == 1


def test_browsing_counts_are_cached_yet_never_stale(fresh_url: str) -> None:
    """Browsing (no words) takes its unfiltered counts from a cache kept per index generation:
    it answers exactly what the full statement answers, and a write run by another process is
    seen by the next search."""
    story = (
        "A battery factory in Germany will make cells for electric cars from next year, the "
        "company said, and hire a thousand workers at the plant near Berlin by the end of 2025."
    )

    def dated(doc_id: str, title: str, text: str, published: str) -> Article:
        return Article(
            url=f"https://{doc_id}.example/a",
            id=doc_id,
            title=title,
            text=text,
            published=published,
        )

    first = [
        dated("orig", "German battery plant", story, "2023-05-01"),
        dated("solar", "Solar farm in Spain", "A solar farm in Spain opened " * 8, "2022-02-03"),
        dated("chip", "Chip plant in Japan", "A chip plant in Japan opened " * 8, "2023-07-09"),
    ]
    with (
        PostgresIndex(fresh_url, migrate_schema=True) as ix,
        PostgresIndex(fresh_url) as writer,
        psycopg.connect(fresh_url, autocommit=True) as conn,
    ):
        ix.write(put(a) for a in first)
        # A copy that also names Spain: the story is counted by its original, not under Spain.
        copy = dated("copy", "Battery plant for Germany", story + " Also Spain.", "2023-05-01")
        ix.write([put(copy)])

        def same_as_uncached(**kwargs: object) -> dict:
            request = SearchRequest(q="", **kwargs)  # type: ignore[arg-type]
            cached = ix.search(request)
            assert cached == run_search(conn, request)  # no cache: the full statement
            return cached

        browse = same_as_uncached()
        assert browse["total"] == 3 and browse["facets"]["year"] == {"2023": 2, "2022": 1}
        assert ids(browse) == ["chip", "orig", "solar"]  # newest first, the copy folded in
        assert [a["id"] for a in browse["results"][1]["also"]] == ["copy"]
        assert ids(same_as_uncached(page=2, per_page=1)) == ["orig"]
        same_as_uncached(timeline=True, interval="month")
        same_as_uncached(filters={"year": ["2023"]})
        assert ids(same_as_uncached(filters={"country": ["es"]}, timeline=True)) == ["solar"]
        same_as_uncached(filters={"chain": ["no-such-chain"]})
        same_as_uncached(filters={"year": ["2023"]}, page=2, per_page=1)
        same_as_uncached(filters={"country": ["DE", "ES"]}, sort="date")
        same_as_uncached(filters={"year": ["2023"], "country": ["JP"]})

        # Another process writes: the cached counts (of the last generation) must not show.
        writer.write([put(dated("wind", "Wind farm", "A wind farm opened " * 8, "2024-01-02"))])
        browse = same_as_uncached()
        assert browse["total"] == 4 and browse["facets"]["year"]["2024"] == 1
        assert same_as_uncached(filters={"year": ["2022"]})["facets"]["year"]["2024"] == 1
        # The group's representative gone, the remaining copy stands for the story.
        writer.write([gone(first[0])])
        browse = same_as_uncached()
        assert browse["total"] == 4 and "copy" in ids(browse)
        assert browse["results"][ids(browse).index("copy")]["also"] == []


# ---- schema, replicas, errors --------------------------------------------------------------------


def test_an_older_schema_is_migrated_when_opened(fresh_url: str) -> None:
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn, target=1)  # the first release's schema: no accent folding
        conn.execute(
            "INSERT INTO documents (id, url, site, title, body, dup) "
            "VALUES ('c', 'https://a.example/c', 'a.example', 'Un café', 'Le café', 'c')"
        )
        found = conn.execute("SELECT count(*) FROM documents WHERE tsv @@ 'cafe'::tsquery")
        assert found.fetchone() == (0,)
    with pytest.raises(IndexAccessError, match="schema version 1"):
        PostgresIndex(fresh_url, migrate_schema=False)
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        assert ids(run(ix, "cafe")) == ["c"]
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        assert current_version(conn) == SCHEMA_VERSION
        assert migrate(conn) == (SCHEMA_VERSION, SCHEMA_VERSION)  # opening again changes nothing
        conn.execute("UPDATE schema_version SET version = 99")
    with pytest.raises(IndexAccessError, match="newer"):
        PostgresIndex(fresh_url, migrate_schema=True)


def test_rows_written_before_site_names_show_the_host_alone(fresh_url: str) -> None:
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn, target=3)  # before the site_name column
        conn.execute(
            "INSERT INTO documents (id, url, site, title, body, dup) "
            "VALUES ('old', 'https://a.example/old', 'a.example', 'Old lidar', 'lidar', 'old')"
        )
        conn.execute("UPDATE index_state SET enrichment = %s", (enrichment_version(),))
    with pytest.raises(IndexAccessError, match="innosearch migrate"):
        PostgresIndex(fresh_url)  # a search server says which command upgrades it
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        named = article("new", "New lidar", "lidar", "https://a.example/new")
        named.site_name = "A Daily"
        ix.write([put(named)])
        shown = {r["id"]: r["site_name"] for r in run(ix, "lidar")["results"]}
        assert shown == {"old": None, "new": "A Daily"}
        assert ix.get_document("old")["site_name"] is None


def test_the_originals_of_an_index_built_before_them_are_flagged_by_the_migration(
    fresh_url: str,
) -> None:
    """Migration 5 flags each story's original in the rows already indexed (the earliest
    published, then the first indexed), and the writer keeps them from there."""
    story = "A hydrogen refuelling network along the motorway opens stations every fifty km. " * 3
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn, target=3)
        conn.execute(
            "INSERT INTO documents (id, url, site, title, body, pubday, dup) VALUES "
            "('first', 'https://a.example/1', 'a.example', 'H2', %(s)s, '2024-02-02', 'first'),"
            "('early', 'https://b.example/1', 'b.example', 'H2', %(s)s, '2024-02-01', 'first'),"
            "('undated', 'https://c.example/1', 'c.example', 'H2', %(s)s, NULL, 'first'),"
            "('alone', 'https://d.example/1', 'd.example', 'Solar', 'solar', NULL, 'alone')",
            {"s": story},
        )
        conn.execute("UPDATE index_state SET enrichment = %s", (enrichment_version(),))
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        result = run(ix, "hydrogen")
        assert ids(result) == ["early"] and run(ix, "")["total"] == 2
        assert [a["id"] for a in result["results"][0]["also"]] == ["first", "undated"]
        ix.write([gone(article("early", "", ""))])
        assert ids(run(ix, "hydrogen")) == ["first"]


def test_an_index_migrated_to_version_6_searches_acronyms_and_common_words(
    fresh_url: str,
) -> None:
    """Migration 6 recomputes the tsvector from the stored text: the articles written before
    answer `US`, `the who` and `3D printing` without a rebuild."""
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn, target=5)
        conn.execute(
            "INSERT INTO documents (id, url, site, title, body, dup, representative) VALUES "
            "('a', 'https://a.example/a', 'a.example', 'US sanctions', 'Who? 3-D printing', 'a', "
            "true), ('b', 'https://a.example/b', 'a.example', 'Let us print', 'us', 'b', true)"
        )
    with PostgresIndex(fresh_url, migrate_schema=True) as ix:
        assert ids(run(ix, "US")) == ["a"]
        assert ids(run(ix, "who")) == ["a"]
        assert ids(run(ix, "3D printing")) == ["a"]
        assert sorted(ids(run(ix, "us"))) == ["a", "b"]


def test_the_web_app_never_changes_a_schema(fresh_url: str, cli: CLI) -> None:
    """Opened by the web app, an older schema stays as it is and the API says which command
    upgrades it; `innosearch migrate` does."""
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        migrate(conn, target=1)
    app = create_app({"INDEX_DIR": fresh_url, "TESTING": True})
    answer = app.test_client().get("/api/search?q=cafe")
    assert answer.status_code == 503 and "innosearch migrate" in answer.get_json()["error"]
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        assert current_version(conn) == 1
    code, out, _err = cli("migrate", "--index", fresh_url)
    assert code == 0 and f"schema version {SCHEMA_VERSION}" in out
    with psycopg.connect(fresh_url, autocommit=True) as conn:
        assert current_version(conn) == SCHEMA_VERSION


def test_searches_go_round_robin_to_the_read_urls(pg_server: Server) -> None:
    dbname = pg_server.create_database("replica")
    primary = pg_server.url(dbname)
    replicas = [pg_server.url(dbname, application_name=f"replica-{n}") for n in "ab"]
    with PostgresIndex(primary, read_urls=replicas, migrate_schema=True) as ix:
        ix.write([put(article("h", "Hydrogen", "hydrogen"))])
        for _ in range(4):
            assert ids(run(ix, "hydrogen")) == ["h"]
        with psycopg.connect(primary, autocommit=True) as conn:
            sessions = conn.execute(
                "SELECT application_name, query FROM pg_stat_activity WHERE datname = %s",
                (dbname,),
            ).fetchall()
            searched = {name for name, query in sessions if "ts_rank_cd" in query}
            assert searched == {"replica-a", "replica-b"}
            # Search sessions are read-only: a replica would refuse writes anyway.
            read_only = pytest.raises(psycopg.errors.ReadOnlySqlTransaction)
            with read_only, ix._reader() as reader:
                reader.execute("DELETE FROM documents")
        assert ix.doc_count() == 1


def test_connection_problems_are_one_line_without_the_password() -> None:
    with pytest.raises(IndexAccessError) as e:
        PostgresIndex("postgresql://someone:hunter2@127.0.0.1:1/innosearch")
    message = str(e.value)
    assert "127.0.0.1:1/innosearch" in message and "hunter2" not in message
    assert "\n" not in message
