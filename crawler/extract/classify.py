"""Whether a fetched page is one article (kept) or not (a listing, too short, noindex), and why.

The decision is made on what the extractor chose as the page's content (`Extraction.main`, its
main blocks after cleaning), not on the whole page: real publishers put menus, "related
stories" and share bars in plain ``<div>``s, so the links of a whole page say little about its
content. The rule, small on purpose (tune the numbers, not the logic):

1. a page that asks not to be indexed is not kept;
2. an article has at least MIN_ARTICLE_CHARS of text (MIN_SIGNALLED_CHARS when the page gives
   MIN_SIGNALS article signals: short news items are real articles); text is measured without
   spaces, a CJK character counting three (it carries about a word, see `_width`);
3. the main block shows listing evidence when it has a headline link (anchor text of
   HEADLINE_CHARS or more) for less than CHARS_PER_HEADLINE_LINK of text, MIN_TEASER_BLOCKS
   or more repeated teaser blocks (sibling blocks of one kind, each one headline link and a
   short summary) holding TEASER_TEXT_SHARE of its text, or a density of links above
   MAX_MAIN_LINK_DENSITY (links of MENU_LINK_CHARS or more: a menu of section names is not);
4. listing evidence is overruled by MIN_SIGNALS article signals, the ones real publishers give:
   ``og:type`` article, a JSON-LD article type, a publication date, an ``<article>`` element
   holding the main block, a URL with a date before its slug or a numeric id. It is not
   overruled when the main block is a list of headlines (MIN_TEASER_BLOCKS or more, one per
   LISTING_CHARS_PER_HEADLINE of text or less), whatever the page declares.

Every verdict carries its reason in one line, which the crawl store keeps per URL
(``innosearch why URL``); the reason's first word (article, listing, too short, noindex) is
its kind, counted by ``innosearch stats``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from crawler.extract.page import Extraction
from crawler.extract.selectors import JSONLD_ARTICLE_TYPES

__all__ = ["Verdict", "article_signals", "classify"]

MIN_ARTICLE_CHARS = 300
MIN_SIGNALLED_CHARS = 100
MIN_SIGNALS = 2
HEADLINE_CHARS = 25
# Links shorter than this (a section name, "Share", a tag) are a menu: not counted in the link
# density, which is about headlines and link-heavy prose.
MENU_LINK_CHARS = 15
CHARS_PER_HEADLINE_LINK = 250
LISTING_CHARS_PER_HEADLINE = 120
MIN_TEASER_BLOCKS = 4
MAX_MAIN_LINK_DENSITY = 0.3
# A teaser block holds one headline link and at most this many characters (with its summary).
MAX_TEASER_CHARS = 500
TEASER_DEPTH = 4  # levels above a headline link where its teaser block may be
# Teasers make a listing when they hold this share of the main block's text; fewer are a
# "more stories" box inside an article's content.
TEASER_TEXT_SHARE = 0.4

_WS = re.compile(r"\s+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_HANGUL = re.compile(r"[\uac00-\ud7af]")
# A date in the path with more path after it (/2021/10/05/slug, /2021-10-05/slug, 20211005-x);
# a bare archive path (/2021/10/) is a listing, not an article.
_URL_DATE = re.compile(
    r"(?<!\d)(?:19|20)\d\d(?:[/-](?:0?[1-9]|1[0-2])(?:[/-](?:0?[1-9]|[12]\d|3[01]))?"
    r"|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01]))(?!\d)[/_.-]+[^/]*[a-z][^/]*",
    re.IGNORECASE,
)
_URL_ID = re.compile(r"(?<![0-9a-f])\d{5,}(?![0-9a-f])", re.IGNORECASE)


@dataclass(frozen=True)
class Verdict:
    """Kept as an article or not, and why in one line (``kind: details``)."""

    article: bool
    reason: str


def classify(extraction: Extraction, url: str, *, noindex: bool = False) -> Verdict:
    """Article or not, for an extracted page fetched from ``url`` (see the module's rule)."""
    if noindex:
        return Verdict(False, "noindex: the page asks not to be indexed (robots meta or header)")
    signals = article_signals(extraction, url)
    said = f"article signals: {', '.join(signals) or 'none'}"
    length = _width(extraction.article.text)
    needed = MIN_SIGNALLED_CHARS if len(signals) >= MIN_SIGNALS else MIN_ARTICLE_CHARS
    if length < needed:
        return Verdict(False, f"too short: {length} chars of text, {needed} needed ({said})")
    evidence, headline_list = _listing_evidence(extraction.main, length)
    if evidence and (headline_list or len(signals) < MIN_SIGNALS):
        return Verdict(False, f"listing: {', '.join(evidence)} in the main block ({said})")
    overruled = f"; listing evidence overruled: {', '.join(evidence)}" if evidence else ""
    return Verdict(True, f"article: {length} chars ({said}{overruled})")


def article_signals(extraction: Extraction, url: str) -> list[str]:
    """The signals real publishers give on article pages, found on this one, named."""
    signals: list[str] = []
    if (extraction.meta.get("og:type") or "").strip().lower() == "article":
        signals.append("og:type article")
    kinds = extraction.structured.get("@type")
    names = kinds if isinstance(kinds, list) else [kinds]
    article_kinds = [str(k) for k in names if str(k).lower() in JSONLD_ARTICLE_TYPES]
    if article_kinds:
        signals.append(f"JSON-LD {article_kinds[0]}")
    if extraction.article.published:
        signals.append("date")
    if any(_inside_article(part) for part in extraction.main):
        signals.append("<article> main block")
    parts = urlsplit(url)
    if _URL_DATE.search(parts.path):
        signals.append("date in URL")
    elif _URL_ID.search(parts.path) or _URL_ID.search(parts.query):  # /a/30657941, ?p=31228
        signals.append("id in URL")
    return signals


def _inside_article(el: Any) -> bool:
    while el is not None:
        if el.tag == "article" or el.get("itemprop") == "articleBody":
            return True
        el = el.getparent()
    return False


def _width(text: str) -> int:
    """Characters of text, not counting spaces, where one CJK character counts three (two for
    Hangul): it carries about a word, so a Chinese headline of 12 characters is as long as an
    English one of 36, and the same thresholds serve both."""
    text = _WS.sub("", text)
    return len(text) + 2 * len(_CJK.findall(text)) + len(_HANGUL.findall(text))


def _text_len(el: Any) -> int:
    return _width(el.text_content())


def _listing_evidence(main: list[Any], length: int) -> tuple[list[str], bool]:
    """What in the main blocks looks like a listing, and whether they are a headline list."""
    total = linked = 0
    headlines: list[tuple[Any, int]] = []
    for part in main:
        total += _text_len(part)
        for anchor in part.iter("a"):
            chars = _text_len(anchor)
            if chars >= MENU_LINK_CHARS:
                linked += chars
            if chars >= HEADLINE_CHARS:
                headlines.append((anchor, chars))
    evidence: list[str] = []
    if headlines and len(headlines) * CHARS_PER_HEADLINE_LINK > length:
        evidence.append(f"{len(headlines)} headline links for {length} chars")
    teasers, teaser_chars = _teaser_blocks(headlines, main)
    if teasers >= MIN_TEASER_BLOCKS and teaser_chars >= TEASER_TEXT_SHARE * total:
        evidence.append(f"{teasers} teaser blocks ({teaser_chars / total:.0%} of its text)")
    density = linked / total if total else 0.0
    if density > MAX_MAIN_LINK_DENSITY:
        evidence.append(f"link density {density:.2f}")
    headline_list = (
        len(headlines) >= MIN_TEASER_BLOCKS and len(headlines) * LISTING_CHARS_PER_HEADLINE > length
    )
    return evidence, headline_list


def _teaser_blocks(headlines: list[tuple[Any, int]], main: list[Any]) -> tuple[int, int]:
    """The largest group of sibling blocks of one kind (same parent, tag and class) that each
    hold one headline link and little else (a summary, a date), the repeated teasers of a
    listing, and the characters they hold."""
    roots = set(main)
    linked = {anchor for anchor, _chars in headlines}
    lengths: dict[Any, int] = {}
    groups: dict[tuple[int, str, str], set[Any]] = {}
    for anchor, _chars in headlines:
        block = anchor
        for _ in range(TEASER_DEPTH):
            parent = block.getparent()
            if parent is None or block in roots:
                break
            if block not in lengths:
                lengths[block] = _text_len(block)
            if lengths[block] > MAX_TEASER_CHARS or sum(a in linked for a in block.iter("a")) > 1:
                break
            key = (id(parent), str(block.tag), block.get("class") or "")
            groups.setdefault(key, set()).add(block)
            block = parent
    if not groups:
        return 0, 0
    largest = max(groups.values(), key=len)
    return len(largest), sum(lengths[block] for block in largest)
