"""The PostgreSQL index schema, created and upgraded by ordered migrations.

A shared index outlives any one release, so the schema is never "created if missing" in its
latest shape: it is the result of applying `MIGRATIONS` in order, and `schema_version` records
how many have run. Opening an index built by an older innosearch applies the missing ones in
one transaction (DDL is transactional in PostgreSQL: a failed upgrade leaves the old schema);
an index built by a newer innosearch is refused rather than misread.

Append new migrations at the end; never edit one that has shipped.
"""

from __future__ import annotations

import psycopg

from indexer.errors import IndexAccessError

# The text search configuration ordinary queries are normalised with (see migration 2), and its
# copy that keeps stop words, which documents, phrases and queries of common words use (6).
TS_CONFIG = "innosearch"
WORDS_CONFIG = "innosearch_words"

# pg_advisory_xact_lock keys: one process migrates at a time, one process writes at a time.
MIGRATE_LOCK = 0x1A5E_0001
WRITE_LOCK = 0x1A5E_0002

_V1_DOCUMENTS = """
CREATE TABLE documents (
    id text PRIMARY KEY,
    url text NOT NULL,
    site text NOT NULL,
    title text NOT NULL,
    body text NOT NULL,
    published text,                        -- as extracted: an ISO date, or NULL
    pubday date,                           -- its day, for date ranges and newest-first order
    year integer,                          -- the year facet (TAXONOMY.md: none when undated)
    chains text[] NOT NULL DEFAULT '{}',   -- the chain facet, ids as in indexer/enrich/data
    countries text[] NOT NULL DEFAULT '{}',-- the country facet, upper-case ISO codes
    authors jsonb NOT NULL DEFAULT '[]',
    language text NOT NULL DEFAULT '',
    evidence jsonb NOT NULL DEFAULT '{}',  -- why each chain and country was given
    fetched_at text NOT NULL DEFAULT '',
    http_status integer,
    extraction_method text NOT NULL DEFAULT '',
    -- Near-duplicates (indexer/duplicates.py): the group key, the MinHash band tokens that find
    -- candidates (GIN overlap), and the signature that confirms them.
    dup text NOT NULL,
    lsh text[] NOT NULL DEFAULT '{}',
    minhash bytea,
    tsv tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') ||
        setweight(to_tsvector('english', body), 'B')
    ) STORED
);
CREATE INDEX documents_tsv ON documents USING gin (tsv);
-- No pending list: a write run looks up the bands of rows it inserted moments before, and a
-- pending list is scanned linearly for every lookup (1 s per batch of 500 instead of 0.1 s).
CREATE INDEX documents_lsh ON documents USING gin (lsh) WITH (fastupdate = off);
CREATE INDEX documents_dup ON documents (dup);
CREATE INDEX documents_newest ON documents (pubday DESC NULLS LAST, id);
CREATE TABLE index_state (
    singleton boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    generation bigint NOT NULL DEFAULT 0,  -- bumped by every committed write run
    store_seq bigint NOT NULL DEFAULT 0,   -- the last crawl-store change indexed
    written_at timestamptz
);
INSERT INTO index_state DEFAULT VALUES;
"""

# Accent folding, as the Whoosh analyzer does ("cafe" finds "café"): an `english` copy that runs
# words through `unaccent` before stemming. unaccent is a trusted extension (PostgreSQL 13+), so
# a database owner without superuser rights can create it.
_V2_UNACCENT = f"""
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE TEXT SEARCH CONFIGURATION {TS_CONFIG} (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {TS_CONFIG}
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
ALTER TABLE documents DROP COLUMN tsv;
ALTER TABLE documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('{TS_CONFIG}', title), 'A') ||
    setweight(to_tsvector('{TS_CONFIG}', body), 'B')
) STORED;
CREATE INDEX documents_tsv ON documents USING gin (tsv);
"""

# The version of the enrichment data (chain model, vocabularies) the documents were enriched
# with: a write with other data asks for a rebuild (see indexer.enrich.version).
_V3_ENRICHMENT = """
ALTER TABLE index_state ADD COLUMN enrichment text NOT NULL DEFAULT '';
"""

# The name the site's pages declare (og:site_name...), shown before the host; NULL in the rows
# written before it, which show the host alone until they are written again.
_V4_SITE_NAME = """
ALTER TABLE documents ADD COLUMN site_name text;
"""

# Each story's original (indexer.duplicates.original), kept by the writer as a flag on one row
# of its group, so a search reads one row per story through indexes that hold only those rows:
# at a million articles, a common word's 143,778 matching rows were 3,461 stories. `named` is
# the URL a copy names as its original (none is known for the rows already indexed). The flags
# of existing rows follow the same rule: the earliest published, then the first indexed. The
# old indexes are dropped before the update so it does not write into them.
_V5_ORIGINALS = """
ALTER TABLE documents ADD COLUMN named text NOT NULL DEFAULT '',
    ADD COLUMN representative boolean NOT NULL DEFAULT false;
DROP INDEX documents_tsv;
DROP INDEX documents_newest;
UPDATE documents d SET representative = true FROM (
    SELECT DISTINCT ON (dup) id FROM documents
    ORDER BY dup, pubday ASC NULLS LAST, id <> dup, id) r
WHERE d.id = r.id;
CREATE INDEX documents_tsv ON documents USING gin (tsv) WHERE representative;
CREATE INDEX documents_newest ON documents (pubday DESC NULLS LAST, id) WHERE representative;
-- Browsing one year walks that year only, not every newer one first.
CREATE INDEX documents_year ON documents (year, pubday DESC NULLS LAST, id) WHERE representative;
ANALYZE documents;
"""

# Words as researchers type them (issue 16; what indexer/whoosh/analysis.py indexes alike):
# - `WORDS_CONFIG`, a copy of TS_CONFIG whose stemmer keeps stop words: the documents are indexed
#   with it (a query of common words searches them, a phrase keeps them), and ordinary queries
#   are normalised with TS_CONFIG, which leaves them out;
# - innosearch_words(text) joins a number, a hyphen and one letter (3-D -> 3D) and spells C++
#   and C# as single words (cplusplus, csharp), which the parser would cut to a letter; queries
#   pass through it too;
# - innosearch_acronyms(text): each word of 2 to 5 capital letters (US, IT, AI) as written, a
#   lexeme that to_tsvector (which lowercases) never makes, numbered in order of appearance;
#   none from a text of two words or more set wholly in capitals (`indexer.querylang.shouted`).
# The tsvector is recomputed from title and body, so an index migrated to this version answers
# these queries without a rebuild.
_V6_WORDS = rf"""
CREATE TEXT SEARCH DICTIONARY {TS_CONFIG}_stem (TEMPLATE = snowball, Language = english);
CREATE TEXT SEARCH CONFIGURATION {WORDS_CONFIG} (COPY = {TS_CONFIG});
ALTER TEXT SEARCH CONFIGURATION {WORDS_CONFIG}
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {TS_CONFIG}_stem;
ALTER TEXT SEARCH CONFIGURATION {WORDS_CONFIG}
    ALTER MAPPING FOR asciiword, asciihword, hword_asciipart WITH {TS_CONFIG}_stem;
CREATE FUNCTION innosearch_words(t text) RETURNS text
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN regexp_replace(regexp_replace(regexp_replace(t,
        '\m([0-9]+)-([[:alpha:]])\M', '\1\2', 'g'),
        '\m([[:alpha:]])\+\+(?![[:alnum:]_+#])', '\1plusplus', 'g'),
        '\m([[:alpha:]])#(?![[:alnum:]_+#])', '\1sharp', 'g');
CREATE FUNCTION innosearch_acronyms(t text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    RETURN (SELECT coalesce(string_agg(m[1] || ':' || least(n, 16383), ' '), '')::tsvector
            FROM regexp_matches(t, '\m([A-Z]{{2,5}})\M', 'g') WITH ORDINALITY AS x(m, n)
            WHERE t <> upper(t)
               OR (SELECT count(*) FROM regexp_matches(t, '[[:alpha:]]{{2,}}', 'g')) < 2);
ALTER TABLE documents DROP COLUMN tsv;
ALTER TABLE documents ADD COLUMN tsv tsvector GENERATED ALWAYS AS (
    setweight(to_tsvector('{WORDS_CONFIG}', innosearch_words(title))
              || innosearch_acronyms(title), 'A') ||
    setweight(to_tsvector('{WORDS_CONFIG}', innosearch_words(body))
              || innosearch_acronyms(body), 'B')
) STORED;
CREATE INDEX documents_tsv ON documents USING gin (tsv) WHERE representative;
"""

# Citations (indexer/cite.py): the ids of each cited result set, by their SHA-256, compressed.
_V7_CITATIONS = """
CREATE TABLE citations (
    sha256 text PRIMARY KEY,
    stories integer NOT NULL,
    ids bytea NOT NULL,
    cited_at timestamptz NOT NULL DEFAULT now()
);
"""

# Migration n (1-based) is MIGRATIONS[n - 1].
MIGRATIONS: tuple[str, ...] = (
    _V1_DOCUMENTS,
    _V2_UNACCENT,
    _V3_ENRICHMENT,
    _V4_SITE_NAME,
    _V5_ORIGINALS,
    _V6_WORDS,
    _V7_CITATIONS,
)
SCHEMA_VERSION = len(MIGRATIONS)


def current_version(conn: psycopg.Connection) -> int:
    """The schema version of the database (0 when innosearch never touched it)."""
    exists = conn.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT version FROM schema_version").fetchone()
    return int(row[0]) if row else 0


def migrate(conn: psycopg.Connection, target: int = SCHEMA_VERSION) -> tuple[int, int]:
    """Brings the schema up to `target` in one transaction; returns (version before, after).

    The advisory lock makes concurrent openers (several web workers starting at once) wait for
    the first one's upgrade instead of running the same DDL twice.
    """
    with conn.transaction():
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATE_LOCK,))
        before = current_version(conn)
        if before > SCHEMA_VERSION:
            raise IndexAccessError(
                f"the PostgreSQL index has schema version {before}, newer than this innosearch "
                f"knows ({SCHEMA_VERSION}): upgrade innosearch"
            )
        if before == 0:
            conn.execute("CREATE TABLE schema_version (version integer NOT NULL)")
            conn.execute("INSERT INTO schema_version VALUES (0)")
        for number in range(before + 1, target + 1):
            conn.execute(MIGRATIONS[number - 1].encode())
            conn.execute("UPDATE schema_version SET version = %s", (number,))
        return before, max(before, target)
