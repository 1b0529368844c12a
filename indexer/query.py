"""Turning what a user typed into a Whoosh query, or into a clear error with a suggested fix.

Code that already knows what it wants builds query objects directly (the facet filters do);
only user text goes through the parser here. The language: all words required (or any word),
AND / OR / NOT and parentheses, "exact phrases", "chip factory"~5 (words within five of each
other), field scopes (title:, site:, chain:, country:, year:, date:), wildcards (semicond*,
wom?n) and date ranges (date:2021-10, date:[2020 TO 2021-06]).
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from whoosh import qparser, query
from whoosh.fields import Schema
from whoosh.qparser import syntax

MAX_QUERY_CHARS = 1000
MAX_WORDS = 100

# Field scopes a user may type, with friendlier aliases.
_ALIASES = {"chains": ["chain"], "countries": ["country"], "site": ["host"]}
_EVERYTHING = {"", "*", "*:*"}
_OPERATORS = ("AND", "OR", "NOT", "ANDNOT", "ANDMAYBE")
_DAY = r"\d{4}(?:-\d{1,2}(?:-\d{1,2})?)?"


class QueryError(ValueError):
    """A query the engine cannot run, with a message that says how to fix it.

    `fix` is a corrected query when one can be guessed (the page offers it as a link and the
    API returns it beside the error), else None.
    """

    def __init__(self, message: str, fix: str | None = None) -> None:
        super().__init__(message)
        self.fix = fix


def checked_text(text: str | None) -> str | None:
    """The user's query, stripped and checked (length, control characters, balanced quotes and
    brackets, operators with something to join), or None when it asks for everything.

    Both backends parse from here, so the same mistakes get the same messages.
    """
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


def parse_query(text: str, schema: Schema, any_word: bool = False) -> query.Query:
    """Parses a user query: all words required (or any word), phrases, fields, wildcards."""
    checked = checked_text(text)
    if checked is None:
        return query.Every()
    text = checked
    group = qparser.OrGroup if any_word else qparser.AndGroup
    parser = qparser.MultifieldParser(["title", "text"], schema, group=group)
    parser.add_plugin(qparser.FieldAliasPlugin(_ALIASES))
    parser.add_plugin(DatePlugin())
    parser.remove_plugin_class(qparser.BoostPlugin)
    try:
        parsed = _merge_repeats(parser.parse(text, normalize=False)).normalize()
    except QueryError:
        raise
    except Exception as e:  # the parser's own errors have no common base class
        raise QueryError(f"could not understand the query: {e}") from None
    _check_parsed(parsed, text)
    return parsed


def _merge_repeats(node: query.Query) -> query.Query:
    """A word typed twice counts twice, as in Lucene: "pooch ... Pooch, U." weighs "pooch" 2x.

    Whoosh's normalisation would drop the repeat; long natural-language queries lose much of
    their focus that way (bench/ranking.py: CACM MAP 0.28 without this, 0.34 with it).
    """
    if not isinstance(node, query.And | query.Or):
        return node
    merged: list[query.Query] = []
    unboosted: list[query.Query] = []  # merged[i] at boost 1, made once: copies are deep
    for child in (_merge_repeats(c) for c in node.subqueries):
        plain = child.with_boost(1.0)
        for i, kept in enumerate(unboosted):
            if kept == plain:
                merged[i] = merged[i].with_boost(merged[i].boost + child.boost)
                break
        else:
            merged.append(child)
            unboosted.append(plain)
    node.subqueries = merged
    return node


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
    if re.search(rf"^\s*\(?\s*(?:AND|OR|ANDNOT|ANDMAYBE)\b|\b(?:{ops})\s*\)?\s*$", text):
        fix = re.sub(rf"^\s*(?:AND|OR|ANDNOT|ANDMAYBE)\s+|\s+(?:{ops})\s*$", "", text)
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


def _check_parsed(parsed: query.Query, text: str) -> None:
    if parsed is query.NullQuery:
        raise QueryError(
            f"nothing to search for in {text[:40]!r}: its words are too common (the, of) or "
            "too short; add a more specific word"
        )
    words: set[str] = set()
    for node in parsed.leaves():
        if isinstance(node, query.Wildcard | query.Prefix):
            typed = node.text + ("*" if isinstance(node, query.Prefix) else "")
            stem = re.split(r"[*?]", typed, maxsplit=1)[0]
            if len(stem) < 2:
                raise QueryError(
                    f"wildcard '{typed}' is too broad: give at least two letters before * or ?",
                    " ".join(w for w in text.split() if w.lower() != typed) or None,
                )
        words.add(str(getattr(node, "text", node)))
    if len(words) > MAX_WORDS:
        raise QueryError(f"too many different words ({len(words)}; at most {MAX_WORDS})")


class DateNode(syntax.SyntaxNode):
    """`date:2021`, `date:2021-10`, `date:2021-10-20` or `date:[2020 TO 2021-06]`: a range
    of publication days (the sortable `pubday` column, YYYYMMDD)."""

    def __init__(self, low: date | None, high: date | None) -> None:
        self.low, self.high = low, high

    def r(self) -> str:
        return f"date[{self.low} TO {self.high}]"

    def query(self, parser: Any) -> query.Query:
        return day_range(self.low, self.high)


def day_range(low: date | None, high: date | None) -> query.Query:
    """Publication days from `low` to `high`, both included; a missing end is open.

    The open end is given as a plausible bound: Whoosh's NumericRange on this unsigned column
    matches every dated document with None for a start, or with an end as far as 9999-12-31
    (its trie ranges overflow).
    """
    start = max(int(low.strftime("%Y%m%d")) if low else 0, 15000101)
    end = min(int(high.strftime("%Y%m%d")) if high else 29991231, 29991231)
    return query.NumericRange("pubday", start, end)


class DatePlugin(qparser.TaggingPlugin):
    """Tags `date:` scopes before the fields plugin sees them (a lower priority runs first)."""

    priority = -10
    expr = rf"date:(?:(?P<one>{_DAY})|\[\s*(?P<low>{_DAY})?\s*TO\s*(?P<high>{_DAY})?\s*\])"

    def create(self, parser: Any, match: Any) -> DateNode:
        if match.group("one"):
            return DateNode(
                parse_day(match.group("one"), False), parse_day(match.group("one"), True)
            )
        low = parse_day(match.group("low"), False) if match.group("low") else None
        high = parse_day(match.group("high"), True) if match.group("high") else None
        if low and high and low > high:
            raise QueryError(
                f"the date range {match.group(0)} ends before it starts: swap the two dates"
            )
        return DateNode(low, high)


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
