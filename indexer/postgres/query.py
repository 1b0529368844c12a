"""The query language (`indexer.querylang`) translated for the PostgreSQL index.

Each word or phrase of the tree is normalised by PostgreSQL itself (`plainto_tsquery`,
`phraseto_tsquery`, `to_tsquery` for prefixes, after `innosearch_words`) so stemming and accent
folding are exactly those of the indexed tsvector. Ordinary words are normalised with
TS_CONFIG, which leaves common words out; phrases, and the words of a query that has nothing
else, with WORDS_CONFIG, which keeps them as the documents do; an acronym (US) is its lexeme as
written (see migration 6 in `indexer.postgres.schema`). The tree then becomes:

- `where`: an SQL condition over `d` (the documents row) with its parameters, one tsquery
  match when the query is all text (one GIN scan), else text matches combined with facet
  conditions by AND / OR / NOT;
- `rank`: a tsquery of the query's positive text, for ts_rank_cd and ts_headline (None when
  nothing is ranked, as for `chain:ai` alone).

`title:` keeps a lexeme to weight A (the title part of the weighted tsvector), `text:` to B.
What PostgreSQL cannot do as Whoosh does is listed in `indexer.querylang`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import psycopg

from crawler.article import bare_host
from indexer.postgres.schema import TS_CONFIG, WORDS_CONFIG
from indexer.querylang import (
    Days,
    Facet,
    Group,
    Node,
    Not,
    QueryError,
    Words,
    leaves,
    nothing_to_search,
    parse,
)

__all__ = ["Translated", "normalise", "parse", "translate"]

_LEXEME = re.compile(r"('(?:[^']|'')*')(?::([*A-D]+))?")
_WEIGHTS = {"title": "A", "text": "B"}
# A tsquery per word leaf of a tree, by the leaf's identity (filled by `normalise`).
Lexemes = dict[int, str]


@dataclass
class Translated:
    """A query ready for SQL: the WHERE condition, its parameters, and the ranking tsquery."""

    where: str
    params: list[Any]
    rank: str | None


# ---- normalising words with PostgreSQL, then building SQL ----------------------------------------

_FUNCTIONS = {"plain": "plainto_tsquery", "phrase": "phraseto_tsquery"}


def normalise(conn: psycopg.Connection, node: Node, keep_common: bool = False) -> Lexemes:
    """The tsquery of each word leaf, by the index's own text configuration (one round trip);
    `keep_common` keeps the common words of plain words too.

    A proximity phrase ("chip factory"~5) becomes all of its words: tsquery has exact
    distances only. A wildcard inside a word cannot be expressed at all (QueryError).
    """
    words = [leaf for leaf in leaves(node) if isinstance(leaf, Words)]
    found = {id(leaf): f"'{leaf.text}'" for leaf in words if leaf.kind == "acronym"}
    calls, params, asked = [], [], []
    for leaf in words:
        if leaf.kind == "acronym":
            continue
        if leaf.kind == "wildcard":
            raise QueryError(
                f"'{leaf.text}': the PostgreSQL index supports * only at the end of a word "
                "(semicond*)",
                leaf.text.replace("?", "").replace("*", "") or None,
            )
        kind = "plain" if leaf.kind == "phrase" and leaf.slop else leaf.kind
        if kind == "prefix":
            calls.append(f"to_tsquery('{TS_CONFIG}', %s)::text")
            params.append("'" + leaf.text.replace("\\", "\\\\").replace("'", "''") + "':*")
        else:
            config = WORDS_CONFIG if keep_common or leaf.kind == "phrase" else TS_CONFIG
            calls.append(f"{_FUNCTIONS[kind]}('{config}', innosearch_words(%s))::text")
            params.append(leaf.text)
        asked.append(id(leaf))
    if calls:
        row = conn.execute(f"SELECT {', '.join(calls)}".encode(), params).fetchone()
        found.update(zip(asked, row or (), strict=True))
    return {
        id(leaf): _weighted(found[id(leaf)] or "", _WEIGHTS.get(leaf.scope or "", ""))
        for leaf in words
    }


def _weighted(tsquery: str, weight: str) -> str:
    """Restricts every lexeme of a tsquery to one weight ('vaccin' -> 'vaccin':A)."""
    if not weight or not tsquery:
        return tsquery

    def one(m: re.Match[str]) -> str:
        prefix = "*" if "*" in (m.group(2) or "") else ""
        return f"{m.group(1)}:{prefix}{weight}"

    return _LEXEME.sub(one, tsquery)


def translate(conn: psycopg.Connection, node: Node, text: str) -> Translated:
    """The SQL for a tree, its words normalised; when only common words were typed, they are
    searched (QueryError when not even those are left)."""
    where = _sql(node, lexemes := normalise(conn, node))
    if where is None:
        where = _sql(node, lexemes := normalise(conn, node, keep_common=True))
    if where is None:
        raise nothing_to_search(text)
    rank = _tsquery(_positive(node), lexemes)
    if where[0] == "tsq":
        return Translated("d.tsv @@ %s::tsquery", [where[1]], rank)
    return Translated(where[1], where[2], rank)


def _tsquery(node: Node | None, lexemes: Lexemes) -> str | None:
    """The tsquery text of a text-only tree, or None when some part is not text."""
    if node is None:
        return None
    if isinstance(node, Words):
        return lexemes.get(id(node)) or None
    if isinstance(node, Not):
        inner = _tsquery(node.child, lexemes)
        return f"!({inner})" if inner else None
    if isinstance(node, Group):
        parts = [_tsquery(c, lexemes) for c in node.children]
        kept = [p for p in parts if p]
        if not kept:
            return None
        return kept[0] if len(kept) == 1 else f" {node.op} ".join(f"({p})" for p in kept)
    return None


def _text_only(node: Node) -> bool:
    if isinstance(node, Words):
        return True
    if isinstance(node, Not):
        return _text_only(node.child)
    if isinstance(node, Group):
        return all(_text_only(c) for c in node.children)
    return False


def _sql(node: Node, lexemes: Lexemes) -> tuple[str, str, list[Any]] | tuple[str, str] | None:
    """("tsq", tsquery) for text-only trees, ("sql", condition, params) otherwise, None if empty.

    Words that normalise to nothing (stop words) drop out, as they do in Whoosh.
    """
    if _text_only(node):
        tsq = _tsquery(node, lexemes)
        return ("tsq", tsq) if tsq else None
    if isinstance(node, Facet):
        return ("sql", *_facet_sql(node))
    if isinstance(node, Days):
        conds, params = day_range(node.low, node.high)
        return ("sql", "(" + " AND ".join(conds or ["d.pubday IS NOT NULL"]) + ")", params)
    if isinstance(node, Not):
        inner = _condition(_sql(node.child, lexemes))
        return ("sql", f"NOT {inner[0]}", inner[1]) if inner else None
    assert isinstance(node, Group)
    parts = [_condition(_sql(c, lexemes)) for c in node.children]
    kept = [p for p in parts if p]
    if not kept:
        return None
    joiner = " AND " if node.op == "&" else " OR "
    return ("sql", "(" + joiner.join(p[0] for p in kept) + ")", [v for p in kept for v in p[1]])


def day_range(low: Any, high: Any) -> tuple[list[str], list[Any]]:
    """SQL conditions on the publication day for an inclusive range (either end may be open),
    with their parameters: a `date:` term of the query and the request's date filter alike."""
    conds, params = [], []
    if low:
        conds.append("d.pubday >= %s")
        params.append(low)
    if high:
        conds.append("d.pubday <= %s")
        params.append(high)
    return conds, params


def _condition(part: Any) -> tuple[str, list[Any]] | None:
    if part is None:
        return None
    if part[0] == "tsq":
        return "(d.tsv @@ %s::tsquery)", [part[1]]
    return part[1], part[2]


def _facet_sql(node: Facet) -> tuple[str, list[Any]]:
    value = node.value.strip()
    if node.name == "chain":
        return "(%s = ANY(d.chains))", [value.lower()]
    if node.name == "country":
        return "(%s = ANY(d.countries))", [value.upper()]
    return "(d.site = %s)", [bare_host(value)]


def _positive(node: Node) -> Node | None:
    """The tree without its negated parts and non-text conditions: what ranks and highlights."""
    if isinstance(node, Words):
        return node
    if isinstance(node, Group):
        kept = [p for c in node.children if (p := _positive(c)) is not None]
        return Group(node.op, kept) if kept else None
    return None
