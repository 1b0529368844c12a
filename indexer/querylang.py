"""The query language, once for every backend: user text in, a small tree (or a clear error) out.

What a user may type: words (all required, or any with the any-word switch), AND / OR / NOT /
ANDNOT and parentheses, ``-word`` (NOT), "exact phrases", ``"chip factory"~5`` (words within
five of each other), field scopes (``title:``, ``text:``, ``site:``/``host:``,
``chain:``/``chains:``, ``country:``/``countries:``, ``year:``, ``date:``; ``title:(a b)``
scopes a group; ``country:CN+DE`` requires every value joined by ``+``), wildcards
(``semicond*``, ``wom?n``), and ranges of years and days
(``year:[2020 TO 2022]``, ``date:2021-10``, ``date:[2020 TO 2021-06]``, either end open).
A ``name:value`` with any other name is searched as the words it holds.

Words as researchers type them (issue 16), alike on both backends:
- common words (stop words such as "the", "this", "being", and one-letter words) are left out
  of a query, as they carry little meaning, unless the query has nothing else: `the who` or
  `this` searches them (both indexes keep them), as Elasticsearch and Google do; inside quotes
  they always count, so ``"department of energy"`` is that exact phrase;
- a word typed in capitals, 2 to 5 letters (`ACRONYM`: US, IT, AI), is searched as written:
  `US` finds "US sanctions", not "let us", while `us` is the common word; only in a query
  written all in capitals (two words or more: SOLAR PANELS) are capitals ignored, and inside
  quotes they are ignored too;
- `3D` and `3-D` are one word (`3D printing` finds "3D-printing" and "3-D printing"), and
  `C++` and `C#` are words of their own.

Each backend translates the tree (`indexer.whoosh.query` for Whoosh, `indexer.postgres.query` for
PostgreSQL) and normalises words with its own analyzer, so stemming and stop words match
what it indexed. What the backends cannot do alike is stated here, once, and tested
(tests/indexer/test_query.py runs on both):

- PostgreSQL takes ``*`` only at the end of a word (``semicond*``); ``wom?n`` or ``se*nd``
  answer a QueryError that says so;
- PostgreSQL reads a proximity phrase (``"chip factory"~5``) as all of its words, anywhere
  (tsquery has exact distances only);
- scores differ (BM25F on Whoosh, ts_rank_cd on PostgreSQL); the order of equal scores is
  newest first on both;
- a wildcard standing for more than `MAX_EXPANSION` different words is refused by Whoosh
  before it runs (it would OR them all); PostgreSQL matches prefixes in its GIN index at a
  cost that does not grow that way, and its `SEARCH_SECONDS` statement timeout bounds it.

Every search is bounded: at most `MAX_WORDS` different words, `MAX_SLOP` for proximity,
wildcards with two letters before the first ``*`` or ``?``, ranges only on ``date:`` and
``year:``, and `SEARCH_SECONDS` of wall-clock time, after which the search stops and answers a
QueryError (a worker is never held longer).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any

MAX_QUERY_CHARS = 1000
MAX_WORDS = 100
# What one search may cost, on both backends (the README and the OpenAPI document state them):
MAX_SLOP = 50  # "a b"~N: matching grows with N times the article's length
# Words one wildcard may stand for: Lucene allows 1,024 clauses, but Whoosh scores in Python
# (ma* standing for about 1,000 words took 3 s on 3,000 articles); semicond* is 10 words.
MAX_EXPANSION = 256
SEARCH_SECONDS = 10.0  # wall-clock budget of one search; past it the search stops, 400

_EVERYTHING = {"", "*", "*:*"}
# A word in capitals searched as written (US, IT, AI); both indexes hold this form beside the
# ordinary lower-case one.
ACRONYM = re.compile(r"[A-Z]{2,5}")
_LETTERS = re.compile(r"[^\W\d_]{2,}")
_OPERATORS = ("AND", "OR", "NOT", "ANDNOT")

# Scopes a user may type -> the field or facet they restrict.
TEXT_SCOPES = {"title": "title", "text": "text"}
FACET_SCOPES = {
    "chain": "chain",
    "chains": "chain",
    "country": "country",
    "countries": "country",
    "site": "site",
    "host": "site",
}
_RANGE_SCOPES = ("date", "year")

_TOKEN = re.compile(
    r"""(?P<range>(?:date|year):(?:\[[^\]]*\]|\S+))"""
    r"""|(?P<fphrase>(?P<pfield>\w+):"(?P<ptext>[^"]*)"(?:~(?P<pslop>\d+))?)"""
    r"""|(?P<phrase>"(?P<text>[^"]*)"(?:~(?P<slop>\d+))?)"""
    r"""|(?P<open>\()|(?P<close>\))"""
    r"""|(?P<chunk>[^\s()"]+)""",
    re.IGNORECASE,
)
_RANGE = re.compile(
    r"(?P<scope>date|year):(?:\[\s*(?:(?P<low>[^\s\]]+)\s+)?TO\s*(?P<high>[^\s\]]+)?\s*\]"
    r"|(?P<one>[^\s\[]+))",
    re.IGNORECASE,
)
_DAY = re.compile(r"\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?$")
_YEAR = re.compile(r"\d{4}$")


class QueryError(ValueError):
    """A query the engine cannot run, with a message that says how to fix it.

    `fix` is a corrected value when one can be guessed (the page offers it as a link and the
    API returns it beside the error), else None: by default a corrected query; for another URL
    parameter, `param` names it and `wrong` is the value `fix` replaces (`country=China` ->
    `CN`).
    """

    def __init__(
        self, message: str, fix: str | None = None, param: str = "q", wrong: str | None = None
    ) -> None:
        super().__init__(message)
        self.fix, self.param, self.wrong = fix, param, wrong


def nothing_to_search(text: str | None) -> QueryError:
    """What both backends answer when analysis leaves no word to search for (even keeping
    common words): only punctuation or symbols."""
    return QueryError(
        f"nothing to search for in {(text or '').strip()[:40]!r}: it has no word (letters or "
        "digits); add one"
    )


def over_budget() -> QueryError:
    """What both backends answer when a search runs past `SEARCH_SECONDS`."""
    return QueryError(
        f"the search took longer than {SEARCH_SECONDS:g} s: add words or filters to narrow it"
    )


# ---- the tree --------------------------------------------------------------------------------


@dataclass
class Words:
    """A word, a "phrase" or a wild*card, in the title and text or in one of them.

    ``kind`` is "plain" (one word as typed; the analyzer may split it), "acronym" (a word in
    capitals matched as written, `ACRONYM`), "phrase" (words in order, within ``slop``
    positions when given), "prefix" (``text`` is the part before a final ``*``) or
    "wildcard" (``text`` holds ``*`` or ``?`` elsewhere).
    """

    kind: str
    text: str
    scope: str | None = None  # "title", "text" or None for both
    slop: int | None = None
    # Where the word stands in the user's text (start, end), for corrections ("did you mean").
    span: tuple[int, int] | None = field(default=None, compare=False)


@dataclass
class Facet:
    """chain:ai, country:cn, site:example.com: one value of a facet or of the site."""

    name: str  # "chain", "country" or "site"
    value: str


@dataclass
class Days:
    """date:2021, date:2021-10, date:[2020 TO 2021-06], year:[2020 TO 2022]: publication days
    from ``low`` to ``high``, both included (None: open)."""

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


# ---- checking and parsing ----------------------------------------------------------------------


def parse(text: str | None, any_word: bool = False) -> Node | None:
    """The tree of a user query, or None when it asks for everything; QueryError says what to
    fix (and offers a fixed query when one can be guessed)."""
    checked = checked_text(text)
    if checked is None:
        return None
    parser = _Parser(_tokens(checked), any_word, checked)
    node = parser.expression()
    if parser.pos < len(parser.tokens):  # only a stray ')' can stop the expression early
        raise QueryError("a ')' closes nothing: remove it or add the '(' it belongs to")
    distinct = {(type(leaf).__name__, str(leaf)) for leaf in leaves(node)}
    if len(distinct) > MAX_WORDS:
        raise QueryError(f"too many different words ({len(distinct)}; at most {MAX_WORDS})")
    return node


def checked_text(text: str | None) -> str | None:
    """The user's query, stripped and checked (length, control characters, balanced quotes and
    brackets, operators with something to join), or None when it asks for everything."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if any(_is_control(c) for c in text):
        cleaned = " ".join("".join(" " if _is_control(c) else c for c in text).split())
        raise QueryError(
            "query contains control characters; remove them and try again", cleaned or None
        )
    if text in _EVERYTHING:
        return None
    _check_syntax(text)
    return text


def leaves(node: Node) -> Any:
    """The leaves of a tree (words, facets, days), left to right."""
    if isinstance(node, Group):
        for child in node.children:
            yield from leaves(child)
    elif isinstance(node, Not):
        yield from leaves(node.child)
    else:
        yield node


def parse_day(text: str, end: bool) -> date:
    """The first (or last) day of a year, month or day written as 2021, 2021-10 or 2021-10-20."""
    parts = [int(p) for p in text.split("-")]
    try:
        if len(parts) == 1:
            return date(parts[0], 12, 31) if end else date(parts[0], 1, 1)
        if len(parts) == 2:
            year, month = parts
            if not end:
                return date(year, month, 1)
            following = date(year + month // 12, month % 12 + 1, 1)
            return date.fromordinal(following.toordinal() - 1)
        return date(*parts)
    except ValueError:
        raise QueryError(
            f"date:{text} is not a real date: write 2021, 2021-10 or 2021-10-20"
        ) from None


def _is_control(char: str) -> bool:
    return (ord(char) < 32 and char not in "\t\n\r") or 0x7F <= ord(char) < 0xA0


def _check_syntax(text: str) -> None:
    """The commonest typos (a lone quote, a bracket, a dangling operator): say which, and
    suggest the query that was probably meant."""
    if text.count('"') % 2:
        raise QueryError(
            'unbalanced quote: close the phrase with a second " or remove the quote',
            text + '"' if text.rstrip()[-1:] != '"' else text.rstrip('"').strip(),
        )
    depth = 0
    for i, char in enumerate(text):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QueryError(
                "a ')' closes nothing: remove it or add the '(' it belongs to",
                (text[:i] + text[i + 1 :]).strip() or None,
            )
    if depth:
        raise QueryError("a '(' is never closed: add ')' or remove the '('", text + ")" * depth)
    words = text.split()
    if all(w in _OPERATORS for w in words):
        raise QueryError(f"'{text}' is only operators: search for words around them")
    ops = "|".join(_OPERATORS)
    if re.search(rf"^\s*\(?\s*(?:AND|OR|ANDNOT)\b|\b(?:{ops})\s*\)?\s*$", text):
        fix = re.sub(rf"^\s*(?:AND|OR|ANDNOT)\s+|\s+(?:{ops})\s*$", "", text)
        raise QueryError(
            "an AND, OR or NOT at either end of the query has nothing to join", fix or None
        )
    doubled = re.search(r"\b(AND|OR)\s+(AND|OR)\b", text)
    if doubled:
        fix = text[: doubled.start()] + doubled.group(1) + text[doubled.end() :]
        raise QueryError(f"'{doubled.group(0)}': two operators in a row join nothing", fix)
    if re.search(r"\(\s*\)", text):
        raise QueryError(
            "empty brackets '()': put words inside or remove them",
            " ".join(re.sub(r"\(\s*\)", " ", text).split()) or None,
        )


def _tokens(text: str) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for m in _TOKEN.finditer(text):
        if m.group("range"):
            out.append(("atom", _range(m.group("range"))))
        elif m.group("fphrase"):
            _check_slop(m.group("pslop"), m, text)
            slop = m.group("pslop")
            out.append(("atom", _scoped(m.group("pfield"), m.group("ptext"), True, slop, text)))
        elif m.group("phrase") is not None:
            _check_slop(m.group("slop"), m, text)
            out.append(("atom", _phrase(m.group("text"), m.group("slop"), None)))
        elif m.group("open"):
            out.append(("open", None))
        elif m.group("close"):
            out.append(("close", None))
        else:
            chunk = m.group("chunk")
            if chunk in _OPERATORS:
                out.append(("op", chunk))
            elif chunk.startswith("-") and len(chunk) > 1:
                out.append(("op", "NOT"))
                out.append(("atom", _spanned(_chunk(chunk[1:], text), chunk, m.start())))
            elif chunk.endswith(":") and chunk[:-1].lower() in TEXT_SCOPES | FACET_SCOPES:
                out.append(("scope", chunk[:-1].lower()))  # title:(a b) applies to a group
            else:
                out.append(("atom", _spanned(_chunk(chunk, text), chunk, m.start())))
    return out


def _spanned(node: Node, chunk: str, start: int) -> Node:
    """Records where a word's own text stands in the query (after a scope or a minus)."""
    if isinstance(node, Words):
        offset = max(0, chunk.find(node.text))
        end = len(chunk) if node.kind in ("prefix", "wildcard") else offset + len(node.text)
        node.span = (start + offset, start + end)
    return node


def _chunk(chunk: str, text: str) -> Node:
    name, sep, value = chunk.partition(":")
    if sep and value and name.lower() in TEXT_SCOPES | FACET_SCOPES:
        return _scoped(name, value, False, None, text, chunk)
    return _word(chunk, None, text)


def _scoped(
    name: str, value: str, phrase: bool, slop: str | None, text: str, typed: str = ""
) -> Node:
    name = name.lower()
    if name in TEXT_SCOPES:
        scope = TEXT_SCOPES[name]
        return _phrase(value, slop, scope) if phrase else _word(value, scope, text, typed)
    if name in FACET_SCOPES:
        values = [v for v in value.split("+") if v] if FACET_SCOPES[name] != "site" else []
        if not phrase and len(values) > 1:  # country:CN+DE: all of them, even with any=1
            return Group("&", [Facet(FACET_SCOPES[name], v) for v in values])
        return Facet(FACET_SCOPES[name], value)
    if phrase:
        return _phrase(f"{name} {value}", slop, None)
    return _word(f"{name}:{value}", None, text)


def _word(word: str, scope: str | None, text: str, typed: str = "") -> Words:
    """A word as typed (``typed``: with its scope, as the user wrote it)."""
    if "*" not in word and "?" not in word:
        if ACRONYM.fullmatch(word) and not _shouted(text):
            return Words("acronym", word, scope)
        return Words("plain", word, scope)
    stem = re.split(r"[*?]", word, maxsplit=1)[0]
    typed = typed or word
    if len(stem) < 2:
        raise QueryError(
            f"wildcard '{typed}' is too broad: give at least two letters before * or ?",
            " ".join(w for w in text.split() if w != typed) or None,
        )
    if word.endswith("*") and "?" not in word and "*" not in word.rstrip("*"):
        return Words("prefix", word.rstrip("*"), scope)
    return Words("wildcard", word, scope)


def _shouted(text: str) -> bool:
    """A query of two words or more written all in capitals: its capitals say nothing."""
    return shouted(text) and len([w for w in _LETTERS.findall(text) if w not in _OPERATORS]) > 1


def shouted(text: str) -> bool:
    """Text of two words or more written all in capitals (a wire headline, SOLAR PANELS): its
    capitals say nothing, so it gives no acronym forms. str.isupper() first: it costs nothing
    on the ordinary text of an article."""
    return text.isupper() and len(_LETTERS.findall(text)) > 1


def _check_slop(slop: str | None, m: re.Match[str], text: str) -> None:
    """Proximity is matched position by position: a huge ~N costs the square of an article's
    length (31 s on one 20,000-word article), so N has a ceiling."""
    if slop and (len(slop) > 6 or int(slop) > MAX_SLOP):
        typed = m.group(0)
        fixed = typed[: typed.rindex("~")] + f"~{MAX_SLOP}"
        raise QueryError(
            f"proximity ~{slop[:12]} is too wide: at most ~{MAX_SLOP} words apart",
            text[: m.start()] + fixed + text[m.end() :],
        )


def _phrase(words: str, slop: str | None, scope: str | None) -> Words:
    return Words("phrase", words, scope, int(slop) if slop else None)


def _range(token: str) -> Days:
    m = _RANGE.fullmatch(token)
    if not m:
        raise QueryError(
            f"'{token}': write dates as date:2021, date:2021-10 or date:[2020 TO 2021-06]"
        )
    scope = m.group("scope").lower()
    form = _YEAR if scope == "year" else _DAY
    parts = [m.group(g) for g in ("one", "low", "high")]
    if any(p and not form.match(p) for p in parts):
        if scope == "year":
            raise QueryError(f"'{token}' is not a year: write year:2021 or year:[2020 TO 2022]")
        raise QueryError(
            f"'{token}': write dates as date:2021, date:2021-10 or date:[2020 TO 2021-06]"
        )
    if m.group("one"):
        return Days(parse_day(m.group("one"), False), parse_day(m.group("one"), True))
    low = parse_day(m.group("low"), False) if m.group("low") else None
    high = parse_day(m.group("high"), True) if m.group("high") else None
    if low and high and low > high:
        raise QueryError(f"the range {token} ends before it starts: swap the two ends")
    return Days(low, high)


class _Parser:
    """Recursive descent: OR binds loosest, then AND (or plain juxtaposition), then NOT.

    With `any_word`, juxtaposed words are ORed instead of ANDed.
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
            if self.peek() is None or self.peek()[0] in ("close", "op"):  # type: ignore[index]
                return Words("plain", value)  # "title:" with nothing after: the word itself
            return self.atom(value)
        if kind == "atom":
            return _rescope(value, scope) if scope else value
        raise QueryError(f"'{value}' has nothing to join here: search for words around it")


def _rescope(node: Node, scope: str) -> Node:
    """Applies `title:` (and the like) written before a bracket to everything inside it."""
    if isinstance(node, Words):
        if scope in TEXT_SCOPES:
            return Words(node.kind, node.text, TEXT_SCOPES[scope], node.slop, node.span)
        return Facet(FACET_SCOPES[scope], node.text)
    if isinstance(node, Not):
        return Not(_rescope(node.child, scope))
    if isinstance(node, Group):
        return Group(node.op, [_rescope(c, scope) for c in node.children])
    return node
