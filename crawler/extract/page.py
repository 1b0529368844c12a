"""Turning one fetched HTML page into an Article: body text, metadata and publication date.

This stage is pure (bytes in, Article out) so it can be tested and benchmarked on saved pages
without a network. It works on an lxml tree rather than BeautifulSoup: BeautifulSoup's tree
building alone runs at about 70 pages/s on real news pages, below our 50 pages/s budget for the
whole extraction, while lxml parses the same pages at several hundred per second.

How the body is found, in order:

1. metadata and the date are read from the untouched tree, where bylines and ``<meta>`` live;
2. the tree is cleaned: scripts, navigation, asides, share bars, comments, related links,
   cookie banners, captions and hidden elements go;
3. the body is the container whose paragraphs carry the most prose (text length and commas,
   discounted by link density, boosted by content-like class names), grown to include sibling
   containers that also carry prose, since many sites split one article over several blocks;
4. when the page ships a JSON-LD ``articleBody`` that agrees with the visible page and the
   density search found clearly less, the structured body wins.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from html import unescape
from typing import Any
from urllib.parse import urljoin

from lxml import html as lxml_html
from lxml.etree import ParserError

from crawler.article import Article
from crawler.extract.dates import find_published, jsonld_objects
from crawler.extract.encoding import decode_html, for_lxml
from crawler.extract.selectors import (
    AD_LABELS,
    BLOCK_TAGS,
    CONTENT_WORDS,
    DROP_TAGS,
    JSONLD_ARTICLE_TYPES,
    STRONG_BOILERPLATE,
    WEAK_BOILERPLATE,
    WEAK_TAGS,
    ExtractOptions,
)

__all__ = ["ExtractOptions", "Extraction", "extract", "extract_page", "parse_html"]

_WS = re.compile(r"\s+")
_WORD = re.compile(r"\w+")
_TITLE_SEPARATORS = re.compile(r"\s+[|–—·•»:-]\s+")
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_PARAGRAPH_TAGS = frozenset({"p", "pre", "blockquote", "td", "dd", "li", "h2", "h3", "h4"})
# Blocks that count as one paragraph when nothing block-level is inside them.
_LEAF_BLOCK_TAGS = frozenset(
    {"p", "div", "section", "article", "pre", "blockquote", "td", "dd", "li", "center", "main"}
)
# Tags that make their ancestors "not a paragraph" (line breaks and inline tags do not).
_STRUCTURE_TAGS = frozenset(
    {"p", "div", "section", "article", "main", "blockquote", "pre", "ul", "ol", "li", "dl",
     "table", "tr", "td", "h1", "h2", "h3", "h4", "h5", "h6", "header", "figure", "center"}
)  # fmt: skip
_HEADING_TAGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_LONGEST_LABEL = max(len(label) for label in AD_LABELS)
_DEFAULT_OPTIONS = ExtractOptions()

log = logging.getLogger(__name__)


@dataclass
class Extraction:
    """An Article and the evidence it was found with, for the crawler's article test
    (`crawler.extract.classify`): the blocks of the cleaned tree the text came from, and the page's
    declarations (``<meta>`` values, the JSON-LD object describing the page)."""

    article: Article
    main: list[Any] = field(default_factory=list)  # lxml elements, after cleaning
    meta: dict[str, str] = field(default_factory=dict)
    structured: dict[str, Any] = field(default_factory=dict)
    # An internal error the extractor survived ("ValueError: ..."): the page gets an empty
    # article, and the error is logged with the URL and counted by the crawl, never hidden.
    error: str | None = None


def extract(
    html: str | bytes | Any,
    url: str = "",
    content_type: str | None = None,
    options: ExtractOptions | None = None,
) -> Article:
    """Extracts the article from a page; never raises, whatever the input.

    ``content_type`` is the HTTP header (its charset is used when ``html`` is bytes). The worst
    case is an Article with empty text and ``extraction_method="none"``, which the indexer skips.
    """
    return extract_page(html, url, content_type, options).article


def extract_page(
    html: str | bytes | Any,
    url: str = "",
    content_type: str | None = None,
    options: ExtractOptions | None = None,
) -> Extraction:
    """`extract`, with the evidence. ``html`` may be a document from `parse_html`, so a caller
    that also reads the page (links, robots meta) parses it once; the document is cleaned in
    place, so read it before, not after."""
    try:
        return _extract(html, url, content_type, options or _DEFAULT_OPTIONS)
    except Exception as e:  # a broken page must not stop a crawl, nor pass unnoticed
        log.warning("extraction failed on %s", url or "a page without URL", exc_info=True)
        error = f"{type(e).__name__}: {e}"[:300]
        return Extraction(Article(url=url or "", extraction_method="none"), error=error)


def _extract(
    html: str | bytes | Any, url: str, content_type: str | None, options: ExtractOptions
) -> Extraction:
    if isinstance(html, lxml_html.HtmlElement):
        tree = html
    else:
        tree = parse_html(html, content_type, options)
    article = Article(url=url or "", extraction_method="none")
    if tree is None:
        return Extraction(article)
    jsonld = jsonld_objects(tree)
    main = _main_jsonld(jsonld)
    meta = _meta_values(tree)
    article.language = _language(tree, meta, main)
    article.title = _title(tree, meta, main)
    article.description = _first(meta, "og:description", "description", "twitter:description")
    article.description = article.description or _str(main.get("description"))
    article.site_name = _first(meta, "og:site_name", "application-name") or _publisher(main)
    article.canonical_url = _canonical(tree, meta, url)
    article.authors = _authors(tree, meta, main)
    article.published = find_published(
        tree,
        url,
        jsonld=jsonld,
        language=article.language,
        canonical_url=article.canonical_url,
    )

    _clean(tree, options)
    paragraphs, method, parts = _body(tree, article.title, options)
    structured = main.get("articleBody")
    if isinstance(structured, list):
        structured = "\n\n".join(str(part) for part in structured)
    structured = _unescaped(structured.strip()) if isinstance(structured, str) else ""
    text = "\n\n".join(paragraphs)
    if structured and _prefer_structured(structured, text, tree, options):
        text, method = _structured_paragraphs(structured), "json-ld"
    article.text = text
    article.extraction_method = method if text else "none"
    return Extraction(article, main=parts, meta=meta, structured=main)


# --- parsing ------------------------------------------------------------------------------------


def parse_html(
    html: str | bytes, content_type: str | None = None, options: ExtractOptions | None = None
) -> Any:
    """An lxml document for any input, or None when there is nothing to parse: the one parse
    of a page, shared by the extractor and the crawler's link reading (`crawler.crawl`).

    Bytes are decoded by the page's own rules (`crawler.extract.encoding`) and lxml gets text, so a
    ``<meta charset>`` that no longer describes the bytes cannot mislead it."""
    options = options or _DEFAULT_OPTIONS
    if isinstance(html, bytes | bytearray):
        text = for_lxml(
            decode_html(bytes(html), content_type)[: options.max_html_chars], decoded=True
        )
    elif isinstance(html, str):
        text = for_lxml(html[: options.max_html_chars])
    else:
        return None
    if not text.strip() or _looks_binary(text):
        return None
    parser = lxml_html.HTMLParser(remove_comments=True, remove_pis=True, collect_ids=False)
    try:
        return lxml_html.document_fromstring(text, parser=parser)
    except (ParserError, ValueError):
        return None


def _looks_binary(text: str) -> bool:
    """An image or PDF served as HTML: many undecodable bytes or control characters up front."""
    head = text[:2000]
    odd = sum(1 for c in head if c == "\ufffd" or (c < " " and c not in "\t\n\r\f"))
    return odd > len(head) * 0.05 or head.lstrip().startswith("%PDF")


# --- metadata -----------------------------------------------------------------------------------


def _str(value: Any) -> str | None:
    """A trimmed single-line string from a JSON-LD value, or None."""
    if isinstance(value, list) and value:
        value = value[0]
    if isinstance(value, dict):
        value = value.get("name") or value.get("@value")
    if not isinstance(value, str):
        return None
    value = _WS.sub(" ", value).strip()
    return value or None


def _main_jsonld(objects: list[dict[str, Any]]) -> dict[str, Any]:
    """The JSON-LD object describing the article itself (the one with a body or a headline)."""
    best: dict[str, Any] = {}
    best_rank = -1
    for obj in objects:
        kinds = obj.get("@type")
        kinds = {k.lower() for k in kinds} if isinstance(kinds, list) else {str(kinds).lower()}
        rank = 0
        if kinds & JSONLD_ARTICLE_TYPES:
            rank += 1
        if "webpage" not in kinds and rank:
            rank += 1
        if obj.get("headline"):
            rank += 1
        if obj.get("articleBody"):
            rank += 2
        if rank > best_rank:
            best, best_rank = obj, rank
    return best if best_rank > 0 else {}


def _meta_values(tree: Any) -> dict[str, str]:
    """``<meta>`` contents by lowercased name/property; the first occurrence of a name wins."""
    values: dict[str, str] = {}
    for meta in tree.iterfind(".//meta"):
        key = meta.get("property") or meta.get("name") or meta.get("itemprop")
        content = meta.get("content")
        if not key or not content:
            continue
        key = key.strip().lower()
        content = _WS.sub(" ", content).strip()
        if content and key not in values:
            values[key] = content
    return values


def _first(meta: dict[str, str], *keys: str) -> str | None:
    for key in keys:
        if meta.get(key):
            return meta[key]
    return None


def _language(tree: Any, meta: dict[str, str], main: dict[str, Any]) -> str | None:
    """The page language as a lowercased primary subtag ("en", "de"), used for date order too."""
    root = tree.getroottree().getroot()
    candidates = (
        root.get("lang"),
        root.get("xml:lang"),
        meta.get("content-language"),
        meta.get("og:locale"),
        meta.get("language"),
        _str(main.get("inLanguage")),
    )
    for value in candidates:
        if value:
            code = re.split(r"[-_,;\s]", value.strip())[0].lower()
            if 2 <= len(code) <= 3 and code.isalpha():
                # Keep the region only for en-US, whose month-first dates need it.
                if code == "en" and value.lower().replace("_", "-").startswith("en-us"):
                    return "en-us"
                return code
    return None


def _title(tree: Any, meta: dict[str, str], main: dict[str, Any]) -> str:
    """The headline: declared headlines first, then the page's h1, then <title> minus the site."""
    declared = _str(main.get("headline")) or _first(meta, "og:title", "twitter:title")
    if declared:
        return declared
    for h1 in tree.iter("h1"):
        text = _WS.sub(" ", h1.text_content()).strip()
        if text:
            return text
    title = tree.find(".//title")
    if title is None:
        return ""
    text = _WS.sub(" ", title.text_content()).strip()
    parts = _TITLE_SEPARATORS.split(text)
    return max(parts, key=len) if len(parts) > 1 else text


def _publisher(main: dict[str, Any]) -> str | None:
    publisher = main.get("publisher")
    return _str(publisher) if publisher else None


def _canonical(tree: Any, meta: dict[str, str], url: str) -> str | None:
    for link in tree.iterfind(".//link[@rel]"):
        if "canonical" in (link.get("rel") or "").lower().split() and link.get("href"):
            return urljoin(url, link.get("href").strip())
    if meta.get("og:url"):
        return urljoin(url, meta["og:url"])
    return None


def _authors(tree: Any, meta: dict[str, str], main: dict[str, Any]) -> list[str]:
    """Author names, from structured data first; profile URLs and site names are not authors."""
    names: list[str] = []
    value = main.get("author") or main.get("creator")
    for item in value if isinstance(value, list) else [value]:
        name = _str(item)
        if name:
            names.append(name)
    if not names:
        for key in ("author", "article:author", "parsely-author", "sailthru.author", "dc.creator"):
            if meta.get(key):
                names.extend(re.split(r"\s*(?:,|;|\band\b|\bund\b)\s*", meta[key]))
                break
    if not names:
        for el in tree.iterfind('.//*[@itemprop="author"]'):
            name_el = el.find('.//*[@itemprop="name"]')
            source = name_el if name_el is not None else el
            names.append(source.get("content") or source.text_content())
    if not names:
        names.extend(a.text_content() for a in tree.iterfind('.//a[@rel="author"]'))
    cleaned: list[str] = []
    for name in names:
        name = re.sub(r"^(?:by|von|par|por|di|door)\s+", "", _WS.sub(" ", name).strip(), flags=re.I)
        if 2 < len(name) <= 80 and "://" not in name and name not in cleaned:
            cleaned.append(name)
    return cleaned[:10]


# --- measuring ----------------------------------------------------------------------------------


class _Measure:
    """Text statistics of every element, computed bottom-up in one pass over the tree.

    ``prose`` counts the characters of paragraph-like leaf blocks that read as sentences (long
    enough, few links); it is what tells an article container from furniture without relying on
    tag names, since many sites build paragraphs from ``<div>``s.
    """

    __slots__ = ("has_block", "link_len", "prose", "text_len")

    def __init__(self, root: Any) -> None:
        self.text_len: dict[Any, int] = {}
        self.link_len: dict[Any, int] = {}
        self.has_block: dict[Any, bool] = {}
        self.prose: dict[Any, int] = {}
        for el in reversed(list(root.iter())):
            tag = el.tag if isinstance(el.tag, str) else ""
            if not tag or tag in DROP_TAGS:
                # Scripts, styles and comments hold no visible text, only their tails count.
                self.text_len[el] = self.link_len[el] = self.prose[el] = 0
                self.has_block[el] = False
                continue
            direct = len(el.text.strip()) if el.text else 0
            total = links = prose = 0
            block = False
            for child in el:
                total += self.text_len.get(child, 0)
                if child.tail:
                    direct += len(child.tail.strip())
                links += self.link_len.get(child, 0)
                prose += self.prose.get(child, 0)
                block = block or self.has_block.get(child, False)
            total += direct
            self.text_len[el] = total
            self.link_len[el] = total if tag == "a" else links
            if tag in _LEAF_BLOCK_TAGS and not block:
                if total >= 80 and self.link_len[el] < 0.3 * total:
                    prose = total - self.link_len[el]
            elif direct >= 80:
                prose += direct
            self.prose[el] = prose
            self.has_block[el] = block or tag in _STRUCTURE_TAGS

    def is_paragraph(self, el: Any) -> bool:
        """A leaf block (no blocks inside) or a block with a run of loose text of its own."""
        return not self.has_block_inside(el) or self.prose.get(el, 0) > sum(
            self.prose.get(child, 0) for child in el
        )

    def has_block_inside(self, el: Any) -> bool:
        return any(self.has_block.get(child, False) for child in el)


# --- cleaning -----------------------------------------------------------------------------------


def _marks(el: Any) -> str:
    return f"{el.get('class') or ''} {el.get('id') or ''}".strip()


def _is_hidden(el: Any) -> bool:
    if el.get("hidden") is not None or (el.get("aria-hidden") or "").lower() == "true":
        return True
    style = el.get("style")
    return bool(style and _HIDDEN_STYLE.search(style))


def _clean(tree: Any, options: ExtractOptions) -> None:
    """Removes what is never article text, so the body search only sees candidate prose.

    Furniture named by a weak word ("rail", "widget", "hidden-xs") or a weak tag (<form>,
    <header>) is kept when it holds real prose, because templates use those names on the
    article's own wrappers. Strong boilerplate (share bars, comments, related links) goes unless
    it holds most of the page's prose, which only happens when the name is a false match.
    """
    measure = _Measure(tree)
    page_prose = measure.prose.get(tree, 0) or 1
    doomed: list[Any] = []
    for el in tree.iter():
        tag = el.tag
        if not isinstance(tag, str):
            doomed.append(el)
            continue
        if tag in DROP_TAGS or _is_hidden(el):
            doomed.append(el)
            continue
        if tag in ("html", "body"):
            continue
        prose = measure.prose.get(el, 0)
        marks = _marks(el)
        if marks and STRONG_BOILERPLATE.search(marks):
            if prose < options.protect_share * page_prose or "comment" in marks.lower():
                doomed.append(el)
        elif (tag in WEAK_TAGS or (marks and WEAK_BOILERPLATE.search(marks))) and (
            prose < options.protect_prose_chars
        ):
            doomed.append(el)
    for el in doomed:
        _drop(el)


def _drop(el: Any) -> None:
    """Removes an element but keeps its tail text, which belongs to the parent's flow."""
    parent = el.getparent()
    if parent is None:
        return
    tail = el.tail
    if tail and tail.strip():
        previous = el.getprevious()
        if previous is not None:
            previous.tail = (previous.tail or "") + tail
        else:
            parent.text = (parent.text or "") + tail
    parent.remove(el)


# --- body ---------------------------------------------------------------------------------------


def _body(tree: Any, title: str, options: ExtractOptions) -> tuple[list[str], str, list[Any]]:
    """The article paragraphs, how they were found, and the blocks they came from."""
    body = tree.find("body")
    if body is None:
        body = tree
    measure = _Measure(body)
    text_len, link_len = measure.text_len, measure.link_len
    scores: dict[Any, float] = {}
    for el in body.iter():
        length = text_len.get(el, 0)
        if length < options.min_paragraph_chars or not isinstance(el.tag, str):
            continue
        if el.tag not in _PARAGRAPH_TAGS and not (
            el.tag in _LEAF_BLOCK_TAGS and measure.is_paragraph(el)
        ):
            continue
        if link_len.get(el, 0) > options.max_link_density * length:
            continue
        if measure.has_block_inside(el):
            text = " ".join(_direct_text(el))
            length = len(text)
            if length < options.min_paragraph_chars:
                continue
        else:
            text = el.text_content()
        score = 1.0 + text.count(",") + text.count("،") + text.count("，") + min(length / 100, 3)
        ancestor = el.getparent()
        level = 0
        while ancestor is not None and level < 3:
            scores[ancestor] = scores.get(ancestor, 0.0) + score / (1 if level == 0 else level * 2)
            ancestor = ancestor.getparent()
            level += 1
    if not scores:
        return _fallback(body, measure), "fallback", [body]

    def final(el: Any) -> float:
        length = text_len.get(el, 0) or 1
        density = link_len.get(el, 0) / length
        # A content-like name or tag boosts an element by up to its own score: it breaks ties
        # between nested wrappers but cannot lift a container that holds little prose.
        weight = 0.0
        marks = _marks(el)
        if marks and CONTENT_WORDS.search(marks):
            weight += 25
        if el.tag == "article" or el.get("itemprop") == "articleBody":
            weight += 25
        return (scores[el] + min(weight, scores[el])) * (1 - density)

    best = max(scores, key=final)
    best_score = final(best)
    parts = [best]
    parent = best.getparent()
    if parent is not None:
        parts = []
        for sibling in parent:
            if sibling is best:
                parts.append(sibling)
                continue
            if not isinstance(sibling.tag, str):
                continue
            length = text_len.get(sibling, 0)
            density = link_len.get(sibling, 0) / length if length else 1.0
            scored = sibling in scores and final(sibling) >= best_score * options.sibling_share
            # A paragraph beside the body's container: a <p>, or a <div> used as one.
            loose_paragraph = (
                (
                    sibling.tag == "p"
                    or (sibling.tag in _LEAF_BLOCK_TAGS and not measure.has_block_inside(sibling))
                )
                and length >= 80
                and density < 0.25
            )
            if scored or loose_paragraph:
                parts.append(sibling)
    chunks = _chunks(best, measure, options)
    if len(chunks) > 1:
        # The best block's level inside its own chunk, the other chunks whole, in page order.
        rest = [c for c in chunks if not _holds(c, best) and not any(_holds(p, c) for p in parts)]
        order = {el: i for i, el in enumerate(body.iter())}
        parts = sorted([*parts, *rest], key=order.__getitem__)
    paragraphs: list[str] = []
    for part in parts:
        paragraphs.extend(_render(part, measure, title, options))
    return paragraphs, "density", parts


def _holds(ancestor: Any, el: Any) -> bool:
    """Whether ``el`` is ``ancestor`` or lies inside it."""
    return ancestor is el or any(a is ancestor for a in el.iterancestors())


def _chunks(best: Any, measure: _Measure, options: ExtractOptions) -> list[Any]:
    """The article's chunks when the template splits its body into repeated wrappers.

    Sites that put ads or pull quotes between stretches of the story repeat one wrapper (same
    tag, same class) for every stretch, so the densest stretch alone is only part of the
    article. Walking up from the best block, the first wrapper with prose-holding twins among
    its siblings gives the chunks; otherwise the best block alone.
    """
    node = best
    for _level in range(6):
        parent = node.getparent()
        if parent is None:
            break
        if node.get("class"):
            twins = [
                sibling
                for sibling in parent
                if sibling is node
                or (
                    sibling.tag == node.tag
                    and sibling.get("class") == node.get("class")
                    and measure.prose.get(sibling, 0) >= options.protect_prose_chars
                    and measure.link_len.get(sibling, 0)
                    < options.max_link_density * measure.text_len.get(sibling, 1)
                )
            ]
            if len(twins) > 1:
                return twins
        node = parent
    return [best]


def _direct_text(el: Any) -> list[str]:
    pieces = [el.text] if el.text else []
    pieces.extend(child.tail for child in el if child.tail)
    return [p.strip() for p in pieces if p.strip()]


def _fallback(body: Any, measure: _Measure) -> list[str]:
    """Pages without paragraph markup (plain text in divs, <br>-separated): all remaining text."""
    if not measure.text_len.get(body):
        return []
    return _render(body, measure, "", _DEFAULT_OPTIONS)


def _render(root: Any, measure: _Measure, title: str, options: ExtractOptions) -> list[str]:
    """The text under ``root`` as paragraphs: one per block element, link lists left out.

    Iterative rather than recursive so that deeply nested pages cannot exhaust the stack.
    """
    paragraphs: list[str] = []
    current: list[str] = []
    title_key = _WS.sub(" ", title).strip().lower()

    def flush() -> None:
        if current:
            text = _WS.sub(" ", "".join(current)).strip()
            current.clear()
            if text:
                paragraphs.append(text)

    stack: list[tuple[Any, bool]] = [(root, True)]
    while stack:
        el, opening = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        block = tag in BLOCK_TAGS
        if opening:
            if el is not root and _skip(el, tag, measure, title_key, options):
                if el.tail:
                    current.append(el.tail)
                continue
            if block:
                flush()
            if el.text:
                current.append(el.text)
            elif tag in ("td", "th"):
                current.append(" ")
            stack.append((el, False))
            stack.extend((child, True) for child in reversed(el))
        else:
            if block:
                flush()
            if el is not root and el.tail:
                current.append(el.tail)
    flush()
    return paragraphs


def _skip(el: Any, tag: str, measure: _Measure, title_key: str, options: ExtractOptions) -> bool:
    """Whether a block inside the body is furniture: a title repeat, a link list, an image."""
    if not tag or tag in ("figure", "picture", "img", "video", "audio", "h1"):
        return True
    if tag not in BLOCK_TAGS or tag in ("br", "hr"):
        return False
    length = measure.text_len.get(el, 0)
    if length and measure.link_len.get(el, 0) > options.max_link_density * length:
        return True
    if length <= _LONGEST_LABEL and _WS.sub(" ", el.text_content()).strip().lower() in AD_LABELS:
        return True
    if tag in _HEADING_TAGS and title_key:
        # The headline repeated in the body, possibly without the site name <title> adds.
        heading = _WS.sub(" ", el.text_content()).strip().lower()
        return heading == title_key or (len(heading) >= 15 and heading in title_key)
    return False


# --- structured body ----------------------------------------------------------------------------


def _prefer_structured(structured: str, text: str, tree: Any, options: ExtractOptions) -> bool:
    """Whether JSON-LD articleBody should replace the density result.

    Only when it is substantial, clearly longer than what the page search found (the page may
    load its body with JavaScript, or our search caught a teaser), and its words really appear
    on the page, so a stale or templated articleBody cannot override the visible article.
    """
    if len(structured) < options.min_jsonld_chars or len(structured) < 1.3 * len(text):
        return False
    words = _WORD.findall(structured.lower())
    if not words:
        return False
    body = tree.find("body")
    page_words = set(_WORD.findall((body if body is not None else tree).text_content().lower()))
    agreement = sum(w in page_words for w in words) / len(words)
    return agreement >= options.min_jsonld_agreement or not text


def _unescaped(structured: str) -> str:
    """A JSON-LD body whose HTML was escaped twice ("&lt;p&gt;") as the HTML it stands for."""
    return unescape(structured) if "&lt;" in structured and "&gt;" in structured else structured


def _structured_paragraphs(structured: str) -> str:
    """JSON-LD bodies sometimes carry HTML; keep their paragraph breaks as blank lines."""
    if "<" in structured and ">" in structured:
        try:
            fragment = lxml_html.fragment_fromstring(structured, create_parent="div")
        except (ParserError, ValueError):
            fragment = None
        if fragment is not None:
            measure = _Measure(fragment)
            return "\n\n".join(_render(fragment, measure, "", _DEFAULT_OPTIONS))
    lines: Iterable[str] = (line.strip() for line in re.split(r"\n\s*\n|\r\n|\n", structured))
    return "\n\n".join(_WS.sub(" ", line) for line in lines if line)
