"""The query language (`indexer.querylang`) translated for Whoosh.

The tree's words go through Whoosh's own query-time analysis (the parser's `term_query`, the
field's tokenizer for phrases), so a typed word is stemmed and folded exactly as the indexed
text was. Common words are left out unless the query has nothing else, and always kept in a
phrase; an acronym is the term as written (see `indexer.querylang`). Words without a scope
search the title and the text; a word typed twice counts twice, as in Lucene.
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

from whoosh import qparser, query
from whoosh.fields import Schema

from indexer.querylang import (
    MAX_EXPANSION,
    Days,
    Facet,
    Node,
    Not,
    QueryError,
    Words,
    leaves,
    nothing_to_search,
    parse,
)

__all__ = ["check_cost", "day_range", "parse_query"]

_FIELDS = ("title", "text")
_FACET_FIELDS = {"chain": "chains", "country": "countries", "site": "site"}


def parse_query(text: str | None, schema: Schema, any_word: bool = False) -> query.Query:
    """The Whoosh query of what a user typed (see `indexer.querylang`)."""
    node = parse(text, any_word)
    if node is None:
        return query.Every()
    parser = _analysis(schema, any_word)
    current = _indexes_common_words(schema)
    if not current and any(_needs_current(leaf) for leaf in leaves(node)):
        raise _rebuild_first(text)
    parsed = _merge_repeats(_translate(node, parser, current)).normalize()
    if parsed is query.NullQuery:  # only common words: search them
        if not current:
            raise _rebuild_first(text)
        parsed = _merge_repeats(_translate(node, parser, current, keep_common=True)).normalize()
    if parsed is query.NullQuery:
        raise nothing_to_search(text)
    return parsed


def _indexes_common_words(schema: Schema) -> bool:
    """Whether the index holds common words and acronym forms (built by this innosearch)."""
    return bool(getattr(schema["text"].analyzer, "indexes_common_words", False))


def _needs_current(leaf: object) -> bool:
    return isinstance(leaf, Words) and leaf.kind == "acronym"


def _rebuild_first(text: str | None) -> QueryError:
    """An index built before common words and acronyms were indexed cannot search them."""
    return QueryError(
        f"{(text or '').strip()[:40]!r} needs words this index does not hold (common words, "
        "words in capitals): it was built by an older innosearch; its maintainer should run "
        "`innosearch index --rebuild`"
    )


def check_cost(parsed: query.Query, reader: Any, text: str) -> None:
    """Refuses, before it runs, a wildcard that stands for more than `MAX_EXPANSION` words of
    this index: Whoosh would OR them all (``ma*`` took 10 s on 25,000 articles)."""
    for leaf in parsed.leaves():
        if not isinstance(leaf, query.Prefix | query.Wildcard):
            continue
        count = sum(1 for _ in itertools.islice(leaf.expanded_terms(reader), MAX_EXPANSION + 1))
        if count > MAX_EXPANSION:
            start, end = getattr(leaf, "startchar", None), getattr(leaf, "endchar", None)
            typed = text[start:end] if start is not None else leaf.text
            rest = (text[:start] + text[end:]) if start is not None else ""
            raise QueryError(
                f"'{typed}' stands for more than {MAX_EXPANSION:,} different words: "
                "give more letters before the * or ?",
                " ".join(rest.split()) or None,
            )


def _analysis(schema: Schema, any_word: bool) -> qparser.QueryParser:
    """A Whoosh parser used only for its query-time analysis of words (`term_query`): a word
    the analyzer splits in two (covid-19) joins its parts as the query joins words."""
    group = qparser.OrGroup if any_word else qparser.AndGroup
    return qparser.QueryParser("text", schema, group=group)


def _translate(
    node: Node, parser: qparser.QueryParser, current: bool, keep_common: bool = False
) -> query.Query:
    """The Whoosh query of a tree; `keep_common` searches common words too, and `current`
    says the index holds them (phrases keep them only then: older indexes closed their gaps)."""
    if isinstance(node, Words):
        fields = (node.scope,) if node.scope else _FIELDS
        parts = [_words(node, name, parser, current, keep_common) for name in fields]
        return parts[0] if len(parts) == 1 else query.Or(parts)
    if isinstance(node, Facet):
        found = parser.term_query(_FACET_FIELDS[node.name], node.value.strip(), query.Term)
        return found or query.NullQuery
    if isinstance(node, Days):
        return day_range(node.low, node.high)
    if isinstance(node, Not):
        return query.Not(_translate(node.child, parser, current, keep_common))
    children = [_translate(child, parser, current, keep_common) for child in node.children]
    return query.And(children) if node.op == "&" else query.Or(children)


def _words(
    node: Words, name: str, parser: qparser.QueryParser, current: bool, keep_common: bool
) -> query.Query:
    # wildcard* becomes a Prefix here, before the span is set
    found = _analysed(node, name, parser, current, keep_common).normalize()
    if node.span is not None:
        for leaf in [found] if found.is_leaf() else found.leaves():
            leaf.startchar, leaf.endchar = node.span  # what "did you mean" replaces
    return found


def _analysed(
    node: Words, name: str, parser: qparser.QueryParser, current: bool, keep_common: bool
) -> query.Query:
    if node.kind == "acronym":
        return query.Term(name, node.text)
    if node.kind == "phrase":
        tokens = parser.schema[name].tokenize(node.text, mode="query", removestops=not current)
        return query.Phrase(name, [t.text for t in tokens], slop=node.slop or 1)
    if node.kind == "plain":
        found = parser.term_query(name, node.text, query.Term, removestops=not keep_common)
    else:
        text = node.text + "*" if node.kind == "prefix" else node.text
        found = parser.term_query(name, text, query.Wildcard, tokenize=False, removestops=False)
    return found or query.NullQuery  # None: only stop words


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


def day_range(low: date | None, high: date | None) -> query.Query:
    """Publication days from `low` to `high`, both included; a missing end is open.

    The open end is given as a plausible bound: Whoosh's NumericRange on this unsigned column
    matches every dated document with None for a start, or with an end as far as 9999-12-31
    (its trie ranges overflow).
    """
    start = max(int(low.strftime("%Y%m%d")) if low else 0, 15000101)
    end = min(int(high.strftime("%Y%m%d")) if high else 29991231, 29991231)
    return query.NumericRange("pubday", start, end)
