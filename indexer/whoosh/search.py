"""The search that everything calls: the web page, the JSON API and `innosearch search`.

One function returns one plain dict, the JSON of INTERFACE.md, so the page and the API cannot
drift apart. Facets are multi-select as in Kibana or Datasette: values of one facet are ORed,
different facets ANDed, and each facet's counts ignore that facet's own selection (so choosing
"ai" still shows how many "nev" articles there are).
"""

from __future__ import annotations

import heapq
import html
import re
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from functools import partial
from typing import Any

from whoosh import highlight, query, sorting
from whoosh.reading import IndexReader
from whoosh.searching import Searcher
from whoosh.support.charset import accent_map
from whoosh.support.levenshtein import levenshtein

from indexer.document import Story
from indexer.duplicates import Copy, listed, original
from indexer.facets import FACETS, DocSet, Facet, count
from indexer.querylang import SEARCH_SECONDS, over_budget
from indexer.request import SNIPPET_CHARS, SearchRequest
from indexer.timeline import timeline_of
from indexer.whoosh.analysis import COMMON_MARK
from indexer.whoosh.live import LiveIndex
from indexer.whoosh.query import check_cost, day_range, parse_query
from indexer.whoosh.schema import WEIGHTING
from indexer.whoosh.statecache import StateCache

_per_state = StateCache()


def search(index: LiveIndex, request: SearchRequest) -> dict[str, Any]:
    """Runs a search and returns the INTERFACE.md JSON object (as a dict)."""
    request.validate()
    return index.run(lambda searcher: _search(searcher, request))


def _search(searcher: Searcher, req: SearchRequest) -> dict[str, Any]:
    sel = _select(searcher, req)
    start = (req.page - 1) * req.per_page
    results: list[dict[str, Any]] = []
    if sel.final and start < len(sel.final):
        hits = _ranked(searcher, sel, req, limit=start + req.per_page, terms=True)
        hits.fragmenter = highlight.ContextFragmenter(maxchars=SNIPPET_CHARS, surround=60)
        hits.formatter = MarkFormatter()
        results = [
            _hit(hit, _score_key(hits.top_n[hit.rank][0]), sel.groups.also(searcher, hit.docnum))
            for hit in hits[start : start + req.per_page]
        ]
    result: dict[str, Any] = {
        "query": req.q,
        "total": len(sel.final),
        "page": req.page,
        "per_page": req.per_page,
        "results": results,
        "facets": sel.facets,
        "did_you_mean": _did_you_mean(searcher, sel, req),
    }
    if req.timeline:
        result["timeline"] = _timeline(searcher, sel.final, req.interval)
    return result


@dataclass
class _Selection:
    """What a request selects: the parsed query, the matching stories and the facet counts."""

    parsed: query.Query
    final: set[int]  # one document per duplicate group, after every filter
    facets: dict[str, dict[str, int]]
    groups: _Groups


def _select(searcher: Searcher, req: SearchRequest) -> _Selection:
    """Matches, filters and counts; copies of one story count once (see `_Groups`)."""
    parsed = parse_query(req.q, searcher.schema, any_word=req.any_word)
    check_cost(parsed, searcher.reader(), req.q)
    matched = set(_within_budget(searcher.docs_for_query(parsed)))
    if req.date_from or req.date_to:
        matched &= _date_docs(searcher, req.date_from, req.date_to)

    values = {
        name: _per_state.get(searcher, f"facet:{name}", partial(_read_values, facet=facet))
        for name, facet in FACETS.items()
    }
    for code in req.country_all:  # every one of them, as a query's country:CN+DE
        matched &= values["country"].get(code.upper(), frozenset())
    chosen: dict[str, set[int]] = {}
    for name, selected in req.filters.items():
        if selected:
            facet = FACETS[name]
            docs: set[int] = set()
            for value in selected:
                docs |= values[name].get(facet.display(facet.term(value)), frozenset())
            chosen[name] = docs

    groups = _groups(searcher)
    final = groups.collapse(_intersect(matched, chosen.values()))
    facets = {
        name: count(
            values[name],
            groups.collapse(_intersect(matched, [d for n, d in chosen.items() if n != name])),
            facet,
        )
        for name, facet in FACETS.items()
    }
    return _Selection(parsed, final, facets, groups)


def _within_budget(docs: Any) -> Any:
    """The matching documents, stopping the search once it has run `SEARCH_SECONDS`: the
    thread is freed even for a query no other limit caught (checked every 1,024 matches)."""
    deadline = time.monotonic() + SEARCH_SECONDS
    for n, doc in enumerate(docs):
        if not n & 1023 and time.monotonic() > deadline:
            raise over_budget()
        yield doc


def _ranked(
    searcher: Searcher, sel: _Selection, req: SearchRequest, limit: int | None, terms: bool
) -> Any:
    """Whoosh results over the selection: BM25F score then newest first, or by date.

    Sorting by a (score, recency) key instead of the score alone makes equal scores (field
    scopes such as `chain:ai` score every match alike) come newest first; the score stays
    readable as the key's first part.
    """
    browse = isinstance(sel.parsed, query.Every)
    if req.sort == "date" or browse:
        facet = sorting.MultiFacet([_NEWEST_FIRST, sorting.ScoreFacet()])
    else:
        facet = sorting.MultiFacet([sorting.ScoreFacet(), _NEWEST_FIRST])
    scored = _scoring(searcher)
    return scored.search(sel.parsed, filter=sel.final, limit=limit, sortedby=facet, terms=terms)


def _scoring(searcher: Searcher) -> Searcher:
    """The searcher with our BM25 (indexer.whoosh.schema.WEIGHTING): a light view on the same reader
    when the searcher was opened with Whoosh's default weighting."""
    if isinstance(searcher.weighting, type(WEIGHTING)):
        return searcher
    return Searcher(searcher.reader(), weighting=WEIGHTING, closereader=False)


_MISSING_DAY = 2**32 - 1  # what the sortable `pubday` column holds for an undated article

# Newest first, undated articles last: the column's value, negated, with no date as 0.
_NEWEST_FIRST = sorting.TranslateFacet(
    lambda day: 0 if day == _MISSING_DAY else -day, sorting.FieldFacet("pubday")
)


def _intersect(base: set[int], others: Any) -> set[int]:
    result = base
    for docs in sorted(others, key=len):
        result = result & docs
    return result


def _date_docs(searcher: Searcher, start: date | None, end: date | None) -> set[int]:
    return set(searcher.docs_for_query(day_range(start, end)))


def _hit(hit: Any, score: float, also: list[dict[str, str | None]]) -> dict[str, Any]:
    stored = hit.fields()
    snippet = _snippet(hit, stored.get("text", ""))
    row = _row(stored, score)
    row["snippet"] = snippet or _lead(stored.get("text", ""))
    row["also"] = also
    return row


def _row(stored: dict[str, Any], score: float) -> dict[str, Any]:
    """The INTERFACE.md fields of one stored document (without snippet), and the evidence of
    its chains and countries."""
    return {
        "id": stored["id"],
        "url": stored.get("url", ""),
        "title": stored.get("title", ""),
        "published": stored.get("published") or None,
        "year": int(stored["year"]) if stored.get("year") else None,
        "chains": _split(stored.get("chains")),
        "countries": [c.upper() for c in _split(stored.get("countries"))],
        "site": stored.get("site", ""),
        "site_name": stored.get("site_name") or None,
        "score": score,
        "evidence": stored.get("evidence") or {},
    }


def _split(value: str | None) -> list[str]:
    return [v for v in (value or "").split(",") if v]


def _lead(text: str) -> str:
    """The article's opening words, escaped: the snippet when no query term is in the text."""
    text = " ".join(text.split())
    if len(text) > SNIPPET_CHARS:
        text = text[:SNIPPET_CHARS].rsplit(" ", 1)[0] + " …"
    return html.escape(text, quote=False)


class MarkFormatter(highlight.Formatter):
    """Highlights as bare `<mark>` around escaped text: crawled text is attacker-controlled."""

    between = " "

    def format_fragment(self, fragment: Any, replace: bool = False) -> str:
        """A fragment, with an ellipsis where it starts or ends inside the text."""
        out = super().format_fragment(fragment, replace)
        if fragment.startchar > 0:
            out = "… " + out
        if fragment.endchar < len(fragment.text):
            out += " …"
        return out

    def format(self, fragments: list[Any], replace: bool = False) -> str:
        return join_fragments([self.format_fragment(f, replace) for f in fragments])

    def _text(self, text: str) -> str:
        return html.escape(text, quote=False)

    def format_token(self, text: str, token: Any, replace: bool = False) -> str:
        return "<mark>" + self._text(highlight.get_text(text, token, replace)) + "</mark>"


SNIPPET_SURROUND = 60  # characters of context before the first and after the last match
_WORD_TERMS: dict[str, str | None] = {}  # a word as written -> its indexed term (None: none)
_WORD_TERMS_MAX = 200_000
_TOKEN_CHAR = re.compile(r"[\w*]")


def _snippet(hit: Any, text: str) -> str:
    """Up to two fragments of the text around the hit's matched terms, escaped, with `<mark>`.

    Whoosh's highlighter re-analyses the whole stored text of every hit through the analyzer's
    chain of generators (tokenizer, lower case, stop words, stemming, accent folding): two thirds
    of a search's time in the profile (bench/speed.py), and still half when each word's analysis
    is cached, because the cost is a Python step per token. Here a regular expression finds the
    few words that can be matches (the Porter2 stem of a word keeps all of it but at most its
    last two letters, "tying" -> "tie": checked on the 116,407 distinct words of the bench
    corpus; a word that broke the rule would lose its mark, not the hit) and only those are
    analysed; the
    fragments follow Whoosh's ContextFragmenter and BasicFragmentScorer (best two by matches
    times distinct terms, shown in text order).
    """
    words = frozenset(
        term.decode("utf-8") if isinstance(term, bytes) else str(term)
        for fieldname, term in (hit.matched_terms() or ())
        if fieldname == "text"
    )
    if not words or not text:
        return ""
    analyzer = hit.searcher.schema["text"].analyzer
    pattern = getattr(getattr(analyzer, "items", [None])[0], "expression", None)
    folded = text.lower().translate(accent_map)
    if pattern is None or len(folded) != len(text):  # offsets would not line up: Whoosh's way
        return str(hit.highlights("text", text=text, top=2))
    spans = _matches(text, folded, pattern, words, analyzer)
    groups: list[list[tuple[int, int, str]]] = []
    for span in spans:
        if groups and span[1] - groups[-1][0][0] + 2 * SNIPPET_SURROUND <= SNIPPET_CHARS:
            groups[-1].append(span)
        else:
            groups.append([span])
    best = heapq.nlargest(
        2, groups, key=lambda g: (len(g) * len({term for *_, term in g}), -g[0][0])
    )
    shown: list[tuple[int, int, list[tuple[int, int, str]]]] = []
    for group in sorted(best, key=lambda g: g[0][0]):
        start, end = _window(text, group)
        if shown and start <= shown[-1][1]:  # overlapping context: one longer fragment
            start, group = shown[-1][0], shown.pop()[2] + group
        shown.append((start, end, group))
    return join_fragments([_fragment(text, group, start, end) for start, end, group in shown])


def join_fragments(fragments: list[str]) -> str:
    """Fragments in text order, one ellipsis between two (not "… …": each fragment has its
    own where the text goes on)."""
    out = ""
    for fragment in fragments:
        if out.endswith(" …") and fragment.startswith("… "):
            fragment = fragment[2:]
        out = f"{out} {fragment}" if out else fragment
    return out


def _matches(
    text: str, folded: str, pattern: Any, words: frozenset[str], analyzer: Any
) -> list[tuple[int, int, str]]:
    """(start, end, term) of each word of the text whose indexed term is one of `words`."""
    if len(_WORD_TERMS) > _WORD_TERMS_MAX:
        _WORD_TERMS.clear()
    # An acronym term (US) is the word as written: found in the folded text by its lower case;
    # a common word's term has a mark before it (`COMMON_MARK`).
    bare = {w.removeprefix(COMMON_MARK).lower() for w in words}
    prefixes = sorted({w[: max(1, len(w) - 2)] for w in bare}, key=len, reverse=True)
    candidates = re.compile(r"(?<![\w*])(?:" + "|".join(map(re.escape, prefixes)) + ")")
    spans: list[tuple[int, int, str]] = []
    for found in candidates.finditer(folded):
        token = pattern.match(text, found.start())
        if token is None:
            continue
        word = token.group()
        term = _WORD_TERMS.get(word, "")
        if term == "":
            analysed = [t.text for t in analyzer(word, mode="index", removestops=False)]
            term = _WORD_TERMS[word] = analysed[0] if analysed else None
        if term in words:
            spans.append((token.start(), token.end(), term))
        elif word in words:
            spans.append((token.start(), token.end(), word))
    return spans


def _window(text: str, spans: list[tuple[int, int, str]]) -> tuple[int, int]:
    """Where the fragment of `spans` starts and ends: some context, cut at whole words."""
    start = max(0, spans[0][0] - SNIPPET_SURROUND)
    while 0 < start < spans[0][0] and _TOKEN_CHAR.match(text, start - 1):
        start += 1  # inside a word: start after it
    end = min(len(text), spans[-1][1] + SNIPPET_SURROUND)
    while end > spans[-1][1] and end < len(text) and _TOKEN_CHAR.match(text, end):
        end -= 1  # inside a word: end before it
    return start, end


def _fragment(text: str, spans: list[tuple[int, int, str]], start: int, end: int) -> str:
    """text[start:end], escaped, the spans marked, with an ellipsis where the text goes on."""
    parts: list[str] = []
    pos = start
    for s, e, _term in spans:
        parts += [
            html.escape(text[pos:s], quote=False),
            "<mark>",
            html.escape(text[s:e], quote=False),
            "</mark>",
        ]
        pos = e
    parts.append(html.escape(text[pos:end], quote=False))
    body = " ".join("".join(parts).split())  # hard-wrapped lines read as one
    return ("… " if start > 0 else "") + body + (" …" if end < len(text) else "")


def get_document(index: LiveIndex, doc_id: str) -> dict[str, Any] | None:
    """All stored fields of one article, for the article view (None when unknown)."""

    def find(searcher: Searcher) -> dict[str, Any] | None:
        stored = searcher.document(id=doc_id)
        if stored is None:
            return None
        stored = dict(stored)
        stored["chains"] = _split(stored.get("chains"))
        stored["countries"] = [c.upper() for c in _split(stored.get("countries"))]
        stored["year"] = int(stored["year"]) if stored.get("year") else None
        stored["site_name"] = stored.get("site_name") or None
        return stored

    return index.run(find)


class _Groups:
    """Copies of one story (the index's `dup` field names the group).

    A story is found, shown and counted through its original (`indexer.duplicates.original`,
    chosen when an index state is first read): the other copies are left out of every
    selection and listed under it, so a press release syndicated to five sites does not look
    like five articles, and both backends answer alike (PostgreSQL keeps the same choice as a
    flag). An index without the field (built before duplicate detection) has no groups.
    """

    def __init__(self, copies: dict[int, list[int]]) -> None:
        self.copies = copies  # an original's docnum -> its other copies' docnums, as listed
        self.hidden = frozenset(d for others in copies.values() for d in others)

    def collapse(self, docs: set[int]) -> set[int]:
        """The stories among `docs`: every document but the copies under an original."""
        return docs - self.hidden if self.hidden else docs

    def also(self, searcher: Searcher, docnum: int) -> list[dict[str, str | None]]:
        """The other copies of a document's story, as {"site", "url", "id"}."""
        out = []
        for other in self.copies.get(docnum, ()):
            stored = searcher.stored_fields(other)
            out.append(
                {
                    "site": stored.get("site", ""),
                    "site_name": stored.get("site_name") or None,
                    "url": stored.get("url", ""),
                    "id": stored["id"],
                }
            )
        return out


def _groups(searcher: Searcher) -> _Groups:
    return _per_state.get(searcher, "groups", _read_groups)


def _read_groups(searcher: Searcher) -> _Groups:
    """Reads the `dup` and `named` columns and the ids in one pass each (a lookup per key took
    27 s at 20,000 articles, where nearly every key is an article's own id), then chooses each
    group's original."""
    reader = searcher.reader()
    if "dup" not in searcher.schema.names():
        return _Groups({})
    keyed: dict[str, list[int]] = {}
    named: dict[int, str] = {}
    naming = "named" in searcher.schema.names()  # an index from before it names nothing
    for leaf, offset in reader.leaf_readers():
        # A segment written without the field (an old run, a hand-made document) has no
        # column: its stored fields say the same, more slowly.
        if leaf.has_column("dup"):
            column = leaf.column_reader("dup")
            keys = ((docnum, column[docnum]) for docnum in leaf.all_doc_ids())
        else:
            keys = ((docnum, stored.get("dup")) for docnum, stored in leaf.iter_docs())
        for docnum, key in keys:
            if key:
                keyed.setdefault(key, []).append(docnum + offset)
        if naming and leaf.has_column("named"):
            column = leaf.column_reader("named")
            for docnum in leaf.all_doc_ids():
                if url := column[docnum]:
                    named[docnum + offset] = _text(url)
    docnum_of = _docnums_by_id(reader)
    # A document with no key of its own (written before it had one) belongs to the group its id
    # names.
    with_key = {d for docnums in keyed.values() for d in docnums}
    for key, docnums in keyed.items():
        docnum = docnum_of.get(key)
        if docnum is not None and docnum not in with_key:
            docnums.append(docnum)
    grouped = {key: docnums for key, docnums in keyed.items() if len(docnums) > 1}
    if not grouped:
        return _Groups({})
    id_of = {docnum: i for i, docnum in docnum_of.items()}
    days = _pubdays(searcher)
    copies: dict[int, list[int]] = {}
    for key, docnums in grouped.items():
        urls = any(d in named for d in docnums)  # only then are the copies' URLs compared
        group = {
            Copy(
                id=id_of.get(d, ""),
                key=key,
                url=searcher.stored_fields(d).get("url", "") if urls else "",
                named=named.get(d, ""),
                day=days[d],
            ): d
            for d in docnums
        }
        first = original(list(group))
        copies[group[first]] = [group[c] for c in listed(group) if c is not first]
    return _Groups(copies)


def _docnums_by_id(reader: Any) -> dict[str, int]:
    """Article id -> live document number, read in term order segment by segment: an id is
    in one document per segment, so its term's first document number is that document."""
    found: dict[str, int] = {}
    for leaf, offset in reader.leaf_readers():
        if "id" not in leaf.indexed_field_names():
            continue
        for raw, info in leaf.iter_field("id"):
            docnum = info.min_id()
            if not leaf.is_deleted(docnum):
                found[_text(raw)] = docnum + offset
    return found


def _text(raw: bytes | str) -> str:
    """A term as the lexicon gives it (bytes in Whoosh's codecs) as text."""
    return raw.decode("utf-8") if isinstance(raw, bytes) else str(raw)


def _pubdays(searcher: Searcher) -> list[int]:
    """Each document's publication day as YYYYMMDD (0 when undated), by document number."""

    def read(searcher: Searcher) -> list[int]:
        # Segment by segment: a segment with no dated document has no column, and Whoosh's
        # column over several segments then reads the next segment's days at wrong offsets.
        reader = searcher.reader()
        days = [0] * reader.doc_count_all()
        for leaf, offset in reader.leaf_readers():
            if leaf.has_column("pubday"):
                column = leaf.column_reader("pubday")
                for n in range(leaf.doc_count_all()):
                    if (day := column[n]) != _MISSING_DAY:
                        days[offset + n] = day
        return days

    return _per_state.get(searcher, "pubdays", read)


def _timeline(searcher: Searcher, docs: set[int], interval: str) -> dict[str, Any]:
    """Matching stories per month or year (Media Cloud's attention chart)."""
    days = _pubdays(searcher)
    dated = [days[d] for d in docs if days[d]]
    return timeline_of(Counter(d // 100 for d in dated), len(docs) - len(dated), interval)


def timeline(index: LiveIndex, request: SearchRequest) -> dict[str, Any]:
    """The attention chart alone: stories per period for the query and filters."""
    request.validate()

    def run(searcher: Searcher) -> dict[str, Any]:
        sel = _select(searcher, request)
        return {"query": request.q, "total": len(sel.final)} | _timeline(
            searcher, sel.final, request.interval
        )

    return index.run(run)


def breakdown(
    index: LiveIndex, request: SearchRequest, facet: str
) -> dict[tuple[int, tuple[str, ...]], int]:
    """Matching stories by (month as YYYYMM, 0 when undated; the facet's values the story
    carries, sorted): what trends, shares and "other" are computed from (`indexer.trends`)."""
    request.validate()

    def run(searcher: Searcher) -> dict[tuple[int, tuple[str, ...]], int]:
        final = _select(searcher, request).final
        days = _pubdays(searcher)
        carried = _per_state.get(searcher, f"carried:{facet}", partial(_carried, facet=facet))
        return dict(Counter((days[d] // 100, carried.get(d, ())) for d in final))

    return index.run(run)


def stories(index: LiveIndex, request: SearchRequest) -> list[Story]:
    """Every matching story (copies collapsed as the search collapses them) with the countries
    it names, in no particular order: what the co-occurrence matrix and citations count.

    Ids and countries come from per-generation tables (document number -> id, -> countries),
    not from each document's stored fields, so listing 25,000 stories stays a set walk.
    """
    request.validate()

    def run(searcher: Searcher) -> list[Story]:
        sel = _select(searcher, request)
        ids = _per_state.get(searcher, "ids", lambda s: _invert(_docnums_by_id(s.reader())))
        named = _per_state.get(searcher, "carried:country", partial(_carried, facet="country"))
        return [Story(ids[d], named.get(d, ())) for d in sel.final if d in ids]

    return index.run(run)


def _invert(docnum_of: dict[str, int]) -> dict[int, str]:
    return {docnum: doc_id for doc_id, docnum in docnum_of.items()}


def _carried(searcher: Searcher, facet: str) -> dict[int, tuple[str, ...]]:
    """Document number -> the facet's values it carries, sorted (the postings inverted)."""
    values: dict[int, list[str]] = {}
    for value, docs in sorted(_read_values(searcher, FACETS[facet]).items()):
        for doc in docs:
            values.setdefault(doc, []).append(value)
    return {doc: tuple(vs) for doc, vs in values.items()}


EXPORT_BATCH = 500


def export_rows(
    index: LiveIndex, request: SearchRequest, limit: int | None = None
) -> Iterator[dict[str, Any]]:
    """Every matching story (not only a page), best first, for CSV and JSON Lines export.

    The ranking is computed once; stored fields are then read in batches from that same
    searcher while the caller writes rows out, so a large export streams instead of building
    one huge list. Whoosh searchers are per thread and a streamed response is iterated on the
    thread that made it, so no other request can close this searcher mid-stream.
    """
    request.validate()
    searcher, hits = index.run(lambda s: (s, _all_hits(s, request, limit)))
    for rank, docnum in hits:
        stored = searcher.stored_fields(docnum)
        row = _row(stored, _score_key(rank))
        row["also"] = _groups(searcher).also(searcher, docnum)
        yield row


def _all_hits(searcher: Searcher, req: SearchRequest, limit: int | None) -> list[tuple[Any, int]]:
    sel = _select(searcher, req)
    if not sel.final:
        return []
    hits = _ranked(searcher, sel, req, limit=limit, terms=False)
    return list(hits.top_n)


def _score_key(key: Any) -> float:
    """A hit's BM25F score, read back from its (score, recency) sort key."""
    parts = key if isinstance(key, tuple) else (key,)
    scores = [-p for p in parts if isinstance(p, float)]
    return round(scores[0], 4) if scores else 0.0


SUGGEST_BELOW = 3  # offer "did you mean" when a query finds fewer stories than this
# Fuzzy lookups cost time in the length of the word and the size of the lexicon: half a second
# for one 1000-letter word on the test index. Real misspellings are shorter and fewer.
SUGGEST_MAX_CHARS = 30
SUGGEST_MAX_WORDS = 8


def _did_you_mean(searcher: Searcher, sel: _Selection, req: SearchRequest) -> str | None:
    """The query with unknown words replaced by the index's closest frequent words.

    Terms in the index are stems, so a corrected stem is shown as a word an article actually
    uses (found by re-analysing one article that contains it).
    """
    if len(sel.final) >= SUGGEST_BELOW or isinstance(sel.parsed, query.Every):
        return None
    spelling = _per_state.peek(searcher, "spelling", _read_spelling)
    if spelling is None:  # being built for this index state by another request: skip it
        return None
    reader = searcher.reader()
    replacements: dict[tuple[int, int], str] = {}
    looked_up = 0
    for leaf in sel.parsed.leaves():
        if not isinstance(leaf, query.Term) or leaf.fieldname not in ("title", "text"):
            continue
        span = (getattr(leaf, "startchar", None), getattr(leaf, "endchar", None))
        if span[0] is None or span in replacements:
            continue
        stem = leaf.text
        if len(stem) > SUGGEST_MAX_CHARS or looked_up >= SUGGEST_MAX_WORDS:
            continue
        if any(reader.doc_frequency(f, stem) for f in ("title", "text")):
            continue
        looked_up += 1
        better = spelling.closest(stem)
        if better:
            replacements[span] = _surface_word(searcher, better) or better  # type: ignore[index]
    if not replacements:
        return None
    text = req.q
    for (start, end), word in sorted(replacements.items(), reverse=True):
        text = text[:start] + word + text[end:]
    return text if text != req.q else None


class _Spelling:
    """The index's words that could be a correction, for one index state: each title and text
    term found in two articles or more (a word found once is as likely a typo), bucketed by
    first letter and length, so a lookup compares a misspelling with a few hundred words of
    about its length instead of scanning the vocabulary on every request."""

    def __init__(self, frequency: dict[str, int]) -> None:
        self.frequency = frequency
        self.buckets: dict[tuple[str, int], list[str]] = {}
        for term in frequency:
            self.buckets.setdefault((term[0], len(term)), []).append(term)

    def closest(self, stem: str) -> str | None:
        """The most frequent word within one edit of `stem` (same first letter), else two."""
        for distance in (1, 2):
            found = [
                term
                for size in range(len(stem) - distance, len(stem) + distance + 1)
                for term in self.buckets.get((stem[:1], size), ())
                if levenshtein(stem, term, distance + 1) <= distance
            ]
            if found:
                return max(found, key=lambda t: (self.frequency[t], t))
        return None


def _read_spelling(searcher: Searcher) -> _Spelling:
    """Read segment by segment, in term order: a multi-segment reader looks every term up in
    every segment (34 s at 20,000 articles, against under a second this way)."""
    reader = searcher.reader()
    frequency: Counter[str] = Counter()
    for leaf, _offset in reader.leaf_readers():
        for field_name in ("title", "text"):
            if field_name not in leaf.indexed_field_names():
                continue
            for raw, info in leaf.iter_field(field_name):
                frequency[_text(raw)] += info.doc_frequency()
    # Common words and acronym forms are indexed too, but are no corrections ("thw" -> "the").
    return _Spelling(
        {
            term: n
            for term, n in frequency.items()
            if n >= 2 and not term.startswith(COMMON_MARK) and not term.isupper()
        }
    )


def _surface_word(searcher: Searcher, stem: str) -> str | None:
    """A word as written in an article whose analysed form is `stem` ("batteri" -> "battery")."""
    for field_name in ("title", "text"):
        docs = searcher.docs_for_query(query.Term(field_name, stem))
        for docnum in docs:
            stored = searcher.stored_fields(docnum).get(field_name) or ""
            analyzer = searcher.schema[field_name].analyzer
            for token in analyzer(stored, keeporiginal=True, removestops=True):
                if token.text == stem:
                    return str(token.original).lower()
            break
    return None


# ---- facet values, read from the Whoosh index -----------------------------------------------


def _read_values(searcher: Searcher, facet: Facet) -> dict[str, DocSet]:
    """For one facet, value -> the set of (live) document numbers carrying it."""
    reader = searcher.reader()
    values: dict[str, DocSet] = {}
    if facet.field not in reader.indexed_field_names():
        return values
    for raw in reader.lexicon(facet.field):
        term = _text(raw)
        docs = frozenset(_postings(reader, facet.field, term))
        if docs:
            values[facet.display(term)] = docs
    return values


def _postings(reader: IndexReader, field: str, term: str) -> list[int]:
    """Document numbers carrying a term, across segments, without deleted documents."""
    ids: list[int] = []
    for sub, offset in reader.leaf_readers():
        if (field, term) in sub:
            ids.extend(d + offset for d in sub.postings(field, term).all_ids())
    return ids
