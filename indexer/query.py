"""Turning what a user typed into a Whoosh query, or into a clear error.

Code that already knows what it wants builds query objects directly (the facet filters do);
only user text goes through the parser here.
"""

from __future__ import annotations

import re

from whoosh import qparser, query
from whoosh.fields import Schema

MAX_QUERY_CHARS = 1000
MAX_TERMS = 64

# Field scopes a user may type, with friendlier aliases.
_ALIASES = {"chains": ["chain"], "countries": ["country"], "site": ["host"]}
_EVERYTHING = {"", "*", "*:*"}


class QueryError(ValueError):
    """A query the engine cannot run, with a message that says how to fix it."""


def parse_query(text: str, schema: Schema, any_word: bool = False) -> query.Query:
    """Parses a user query: all words required (or any word), phrases, fields, wildcards."""
    text = (text or "").strip()
    if len(text) > MAX_QUERY_CHARS:
        raise QueryError(f"query too long ({len(text)} characters; at most {MAX_QUERY_CHARS})")
    if "\x00" in text or any(ord(c) < 32 and c not in "\t\n\r" for c in text):
        raise QueryError("query contains control characters; remove them and try again")
    if text in _EVERYTHING:
        return query.Every()
    _check_balance(text)
    group = qparser.OrGroup if any_word else qparser.AndGroup
    parser = qparser.MultifieldParser(["title", "text"], schema, group=group)
    parser.add_plugin(qparser.FieldAliasPlugin(_ALIASES))
    parser.remove_plugin_class(qparser.BoostPlugin)
    try:
        parsed = parser.parse(text)
    except Exception as e:  # the parser's own errors have no common base class
        raise QueryError(f"could not understand the query: {e}") from None
    _check_parsed(parsed, text)
    return parsed


def _check_balance(text: str) -> None:
    """Unbalanced quotes and brackets are the commonest typo: say which and where."""
    if text.count('"') % 2:
        raise QueryError('unbalanced quote: close the phrase with a second " or remove the quote')
    depth = 0
    for char in text:
        depth += {"(": 1, ")": -1}.get(char, 0)
        if depth < 0:
            raise QueryError("a ')' closes nothing: remove it or add the '(' it belongs to")
    if depth:
        raise QueryError("a '(' is never closed: add ')' or remove the '('")
    if re.fullmatch(r"\s*(AND|OR|NOT|ANDNOT|ANDMAYBE)\s*", text):
        raise QueryError(f"'{text.strip()}' is an operator: search for words around it")
    if re.search(r"^\s*(AND|OR)\b|\b(AND|OR|NOT)\s*$", text):
        raise QueryError("an AND, OR or NOT at either end of the query has nothing to join")


def _check_parsed(parsed: query.Query, text: str) -> None:
    terms = 0
    for node in parsed.leaves():
        terms += 1
        if isinstance(node, query.Wildcard | query.Prefix):
            stem = re.split(r"[*?]", node.text, maxsplit=1)[0]
            if len(stem) < 2:
                raise QueryError(
                    f"wildcard '{node.text}' is too broad: give at least two letters before * or ?"
                )
    if terms > MAX_TERMS:
        raise QueryError(f"too many terms ({terms}; at most {MAX_TERMS})")
