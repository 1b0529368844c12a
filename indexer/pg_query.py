"""The user query language, translated for the PostgreSQL index.

PostgreSQL's own `websearch_to_tsquery` knows words, "phrases", OR and -word, but not our AND /
NOT keywords, parentheses, `semicond*` prefixes or `title:` / `chain:` scopes, and it silently
drops what it does not understand. So the query is parsed here into a small tree with the same
grammar as the Whoosh side (`indexer.query`, whose syntax checks and messages are reused), and
each word or phrase is normalised by PostgreSQL itself (`plainto_tsquery`, `phraseto_tsquery`,
`to_tsquery` for prefixes) so stemming, stop words and accent folding are exactly those of the
indexed tsvector. The tree then becomes:

- `where`: an SQL condition over `d` (the documents row) with its parameters, one tsquery
  match when the query is all text (one GIN scan), else text matches combined with facet
  conditions by AND / OR / NOT;
- `rank`: a tsquery of the query's positive text, for ts_rank_cd and ts_headline (None when
  nothing is ranked, as for `chain:ai` alone).

`title:` keeps a lexeme to weight A (the title part of the weighted tsvector), `text:` to B.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import psycopg

from indexer.pg_schema import TS_CONFIG
from indexer.query import MAX_WORDS, QueryError, checked_text, parse_day

_TOKEN = re.compile(
    r"""(?P<date>date:(?:\[[^\]]*\]|\S+))"""
    r"""|(?P<fphrase>(?P<pfield>\w+):"(?P<ptext>[^"]*)"(?:~(?P<pslop>\d+))?)"""
    r"""|(?P<phrase>"(?P<text>[^"]*)"(?:~(?P<slop>\d+))?)"""
    r"""|(?P<open>\()|(?P<close>\))"""
    r"""|(?P<chunk>[^\s()"]+)"""
)
_DATE_RANGE = re.compile(
    r"date:\[\s*(?P<low>[^\s\]]+)?\s+TO\s*(?P<high>[^\s\]]+)?\s*\]|date:(?P<one>[^\s\[]+)"
)
_DAY = re.compile(r"\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?$")
_LEXEME = re.compile(r"('(?:[^']|'')*')(?::([*A-D]+))?")

# Scopes a user may type -> what they restrict.
_TEXT_SCOPES = {"title": "A", "text": "B"}
_FACET_SCOPES = {
    "chain": "chain",
    "chains": "chain",
    "country": "country",
    "countries": "country",
    "year": "year",
    "site": "site",
    "host": "site",
}


# ---- the tree ------------------------------------------------------------------------------------


@dataclass
class Words:
    """A word, a "phrase" or a prefix*, optionally scoped to the title (A) or the text (B)."""

    kind: str  # "plain", "phrase" or "prefix"
    text: str
    weight: str = ""
    tsquery: str = ""  # filled by `normalise`: '' when the words are all stop words


@dataclass
class Facet:
    """chain:ai, country:cn, year:2021, site:example.com: a condition on a column."""

    name: str
    value: str


@dataclass
class Days:
    """date:2021, date:2021-10 or date:[2020 TO 2021-06]: a range of publication days."""

    low: date | None
    high: date | None


@dataclass
class Not:
    child: Node


@dataclass
class Group:
    op: str  # "&" or "|"
    children: list[Node] = field(default_factory=list)


Node = Words | Facet | Days | Not | Group


@dataclass
class Translated:
    """A query ready for SQL: the WHERE condition, its parameters, and the ranking tsquery."""

    where: str
    params: list[Any]
    rank: str | None


# ---- parsing -------------------------------------------------------------------------------------


def parse(text: str, any_word: bool = False) -> Node | None:
    """The tree of a user query, or None for "everything"; QueryError says what to fix."""
    checked = checked_text(text)
    if checked is None:
        return None
    text = checked
    parser = _Parser(_tokens(text), any_word, text)
    node = parser.expression()
    if parser.pos < len(parser.tokens):  # only a stray ')' can stop the expression early
        raise QueryError("a ')' closes nothing: remove it or add the '(' it belongs to")
    leaves = list(_leaves(node))
    if len({(type(leaf).__name__, str(leaf)) for leaf in leaves}) > MAX_WORDS:
        raise QueryError(f"too many different words ({len(leaves)}; at most {MAX_WORDS})")
    return node


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for m in _TOKEN.finditer(text):
        if m.group("date"):
            out.append(("atom", _days(m.group("date"))))
        elif m.group("fphrase"):
            name = m.group("pfield").lower()
            out.append(("atom", _scoped(name, m.group("ptext"), phrase=True)))
        elif m.group("phrase") is not None:
            out.append(("atom", _phrase(m.group("text"), m.group("slop"), "")))
        elif m.group("open"):
            out.append(("open", None))
        elif m.group("close"):
            out.append(("close", None))
        else:
            chunk = m.group("chunk")
            if chunk in ("AND", "OR", "NOT", "ANDNOT"):
                out.append(("op", chunk))
            elif chunk.startswith("-") and len(chunk) > 1:
                out.append(("op", "NOT"))
                out.append(("atom", _chunk(chunk[1:])))
            elif chunk.endswith(":") and chunk[:-1].lower() in _TEXT_SCOPES | _FACET_SCOPES:
                out.append(("scope", chunk[:-1].lower()))  # title:(a b) applies to a group
            else:
                out.append(("atom", _chunk(chunk)))
    return out


def _chunk(chunk: str) -> Node:
    name, sep, value = chunk.partition(":")
    if sep and value and name.lower() in _TEXT_SCOPES | _FACET_SCOPES:
        return _scoped(name.lower(), value, phrase=False)
    return _word(chunk, "")


def _scoped(name: str, value: str, phrase: bool) -> Node:
    if name in _TEXT_SCOPES:
        weight = _TEXT_SCOPES[name]
        return _phrase(value, None, weight) if phrase else _word(value, weight)
    if name in _FACET_SCOPES:
        return Facet(_FACET_SCOPES[name], value)
    return _phrase(f"{name} {value}", None, "") if phrase else _word(f"{name}:{value}", "")


def _word(word: str, weight: str) -> Words:
    if "?" in word or "*" in word.rstrip("*"):
        raise QueryError(
            f"'{word}': the PostgreSQL index supports * only at the end of a word (semicond*)",
            word.replace("?", "").replace("*", "") or None,
        )
    if word.endswith("*"):
        stem = word.rstrip("*")
        if len(stem) < 2:
            raise QueryError(f"wildcard '{word}' is too broad: give at least two letters before *")
        return Words("prefix", stem, weight)
    return Words("plain", word, weight)


def _phrase(text: str, slop: str | None, weight: str) -> Words:
    # A phrase with slop ("chip factory"~5) needs its words near each other; tsquery only knows
    # exact distances, so it is read as all of its words (a documented approximation).
    return Words("plain" if slop else "phrase", text, weight)


def _days(token: str) -> Days:
    m = _DATE_RANGE.fullmatch(token)
    parts = [m.group(g) for g in ("one", "low", "high")] if m else []
    if not m or any(p and not _DAY.match(p) for p in parts):
        raise QueryError(
            f"'{token}': write dates as date:2021, date:2021-10 or date:[2020 TO 2021-06]"
        )
    if m.group("one"):
        return Days(parse_day(m.group("one"), False), parse_day(m.group("one"), True))
    low = parse_day(m.group("low"), False) if m.group("low") else None
    high = parse_day(m.group("high"), True) if m.group("high") else None
    if low and high and low > high:
        raise QueryError(f"the date range {token} ends before it starts: swap the two dates")
    return Days(low, high)


class _Parser:
    """Recursive descent: OR binds loosest, then AND (or plain juxtaposition), then NOT.

    With `any_word`, juxtaposed words are ORed instead of ANDed, as the Whoosh OrGroup does.
    """

    def __init__(self, tokens: list[tuple[str, Any]], any_word: bool, text: str) -> None:
        self.tokens, self.pos, self.any_word, self.text = tokens, 0, any_word, text

    def peek(self) -> tuple[str, Any] | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def expression(self) -> Node:
        children = [self.conjunction()]
        while (tok := self.peek()) is not None and tok[0] != "close":
            if tok == ("op", "OR"):
                self.pos += 1
            elif not self.any_word:  # only an implicit OR continues here
                break
            children.append(self.conjunction())
        return children[0] if len(children) == 1 else Group("|", children)

    def conjunction(self) -> Node:
        children = [self.unary()]
        while (tok := self.peek()) is not None and tok[0] != "close" and tok != ("op", "OR"):
            if tok == ("op", "AND"):
                self.pos += 1
            elif tok == ("op", "ANDNOT"):
                self.pos += 1
                children.append(Not(self.unary()))
                continue
            elif self.any_word and tok != ("op", "NOT"):
                break  # juxtaposition means OR: let `expression` take it
            children.append(self.unary())
        return children[0] if len(children) == 1 else Group("&", children)

    def unary(self) -> Node:
        tok = self.peek()
        if tok == ("op", "NOT"):
            self.pos += 1
            return Not(self.unary())
        return self.atom()

    def atom(self, scope: str | None = None) -> Node:
        tok = self.peek()
        if tok is None:
            raise QueryError(f"the query {self.text[:40]!r} ends where a word was expected")
        self.pos += 1
        kind, value = tok
        if kind == "open":
            inner = self.expression()
            if self.peek() != ("close", None):
                raise QueryError("a '(' is never closed: add ')' or remove the '('")
            self.pos += 1
            return _rescope(inner, scope) if scope else inner
        if kind == "scope":
            return self.atom(value)
        if kind == "atom":
            return _rescope(value, scope) if scope else value
        raise QueryError(f"'{value}' has nothing to join here: search for words around it")


def _rescope(node: Node, scope: str) -> Node:
    """Applies `title:` (and the like) written before a bracket to everything inside it."""
    if isinstance(node, Words):
        if scope in _TEXT_SCOPES:
            return Words(node.kind, node.text, _TEXT_SCOPES[scope])
        return Facet(_FACET_SCOPES[scope], node.text)
    if isinstance(node, Not):
        return Not(_rescope(node.child, scope))
    if isinstance(node, Group):
        return Group(node.op, [_rescope(c, scope) for c in node.children])
    return node


def _leaves(node: Node) -> Any:
    if isinstance(node, Group):
        for child in node.children:
            yield from _leaves(child)
    elif isinstance(node, Not):
        yield from _leaves(node.child)
    else:
        yield node


# ---- normalising words with PostgreSQL, then building SQL ----------------------------------------

_FUNCTIONS = {"plain": "plainto_tsquery", "phrase": "phraseto_tsquery", "prefix": "to_tsquery"}


def normalise(conn: psycopg.Connection, node: Node) -> None:
    """Fills each Words' tsquery using the index's own text configuration (one round trip)."""
    words = [leaf for leaf in _leaves(node) if isinstance(leaf, Words)]
    if not words:
        return
    calls, params = [], []
    for leaf in words:
        calls.append(f"{_FUNCTIONS[leaf.kind]}('{TS_CONFIG}', %s)::text")
        if leaf.kind == "prefix":
            params.append("'" + leaf.text.replace("\\", "\\\\").replace("'", "''") + "':*")
        else:
            params.append(leaf.text)
    row = conn.execute(f"SELECT {', '.join(calls)}".encode(), params).fetchone()
    for leaf, tsquery in zip(words, row or (), strict=True):
        leaf.tsquery = _weighted(tsquery or "", leaf.weight)


def _weighted(tsquery: str, weight: str) -> str:
    """Restricts every lexeme of a tsquery to one weight ('vaccin' -> 'vaccin':A)."""
    if not weight or not tsquery:
        return tsquery

    def one(m: re.Match[str]) -> str:
        prefix = "*" if "*" in (m.group(2) or "") else ""
        return f"{m.group(1)}:{prefix}{weight}"

    return _LEXEME.sub(one, tsquery)


def translate(node: Node, text: str) -> Translated:
    """The SQL for a normalised tree; QueryError when nothing searchable is left."""
    where = _sql(node)
    if where is None:
        raise QueryError(
            f"nothing to search for in {text[:40]!r}: its words are too common (the, of) or "
            "too short; add a more specific word"
        )
    rank = _tsquery(_positive(node))
    if where[0] == "tsq":
        return Translated("d.tsv @@ %s::tsquery", [where[1]], rank)
    return Translated(where[1], where[2], rank)


def _tsquery(node: Node | None) -> str | None:
    """The tsquery text of a text-only tree, or None when some part is not text."""
    if node is None:
        return None
    if isinstance(node, Words):
        return node.tsquery or None
    if isinstance(node, Not):
        inner = _tsquery(node.child)
        return f"!({inner})" if inner else None
    if isinstance(node, Group):
        parts = [_tsquery(c) for c in node.children]
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


def _sql(node: Node) -> tuple[str, str, list[Any]] | tuple[str, str] | None:
    """("tsq", tsquery) for text-only trees, ("sql", condition, params) otherwise, None if empty.

    Words that normalise to nothing (stop words) drop out, as they do in Whoosh.
    """
    if _text_only(node):
        tsq = _tsquery(node)
        return ("tsq", tsq) if tsq else None
    if isinstance(node, Facet):
        return ("sql", *_facet_sql(node))
    if isinstance(node, Days):
        conds, params = [], []
        if node.low:
            conds.append("d.pubday >= %s")
            params.append(node.low)
        if node.high:
            conds.append("d.pubday <= %s")
            params.append(node.high)
        return ("sql", "(" + " AND ".join(conds or ["d.pubday IS NOT NULL"]) + ")", params)
    if isinstance(node, Not):
        inner = _condition(_sql(node.child))
        return ("sql", f"NOT {inner[0]}", inner[1]) if inner else None
    assert isinstance(node, Group)
    parts = [_condition(_sql(c)) for c in node.children]
    kept = [p for p in parts if p]
    if not kept:
        return None
    joiner = " AND " if node.op == "&" else " OR "
    return ("sql", "(" + joiner.join(p[0] for p in kept) + ")", [v for p in kept for v in p[1]])


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
    if node.name == "year":
        if not value.isdigit():
            raise QueryError(f"year:{value[:20]} is not a year: write year:2021")
        return "(d.year = %s)", [int(value)]
    host = value.lower()
    return "(d.site = %s)", [host[4:] if host.startswith("www.") else host]


def _positive(node: Node) -> Node | None:
    """The tree without its negated parts and non-text conditions: what ranks and highlights."""
    if isinstance(node, Words):
        return node
    if isinstance(node, Group):
        kept = [p for c in node.children if (p := _positive(c)) is not None]
        return Group(node.op, kept) if kept else None
    return None
