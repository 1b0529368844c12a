"""Finding the date an article was first published.

A wrong date is worse than none: it files the article under the wrong year facet, where nobody
looking for it will find it. So the finder goes through the evidence from the most deliberate to
the most incidental and stops at the first trustworthy answer:

1. structured data the publisher wrote for machines (JSON-LD ``datePublished``, Open Graph and
   other ``<meta>`` tags, ``itemprop="datePublished"``),
2. ``<time>`` elements and elements marked up as the publication date,
3. a full date in the URL path (``/2020/05/16/``),
4. a date written in the byline or in the visible text next to the headline (the text laid out
   as a browser shows it, so a date split over ``<span>``s is read whole),
5. undated ``<time>`` elements, dates left in inline scripts, other JSON-LD objects.

"Modified"/"updated" dates are skipped while any of that evidence exists, because the facet is
about when the news came out; only a page that says nothing else is dated by its declared last
change (a ``dateModified`` meta or a "Letzte Änderung:" line). Every candidate must lie between
1995-01-01 and today.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Callable, Iterator
from typing import Any

from lxml import html as lxml_html
from lxml.etree import ParserError

from crawler.extract.encoding import for_lxml, without_surrogates
from crawler.extract.selectors import (
    BLOCK_TAGS,
    DATE_CONTAINER_HINT,
    DATE_FURNITURE,
    DATE_META_NAMES,
    JALALI_MONTHS,
    JSONLD_ARTICLE_TYPES,
    MODIFIED_META_NAMES,
    MONTHS,
    NOT_PUBLISHED_WORDS,
    PUBLISHED_WORDS,
    UPDATED_WORDS,
)

__all__ = ["find_published", "jsonld_objects", "parse_date", "published_with_source"]

EARLIEST = dt.date(1995, 1, 1)
# How far from the headline (characters of visible text) a date still reads as its byline.
_AFTER_HEADLINE = 1500
_BEFORE_HEADLINE = 400

_MONTH_ALT = "|".join(sorted((re.escape(m) for m in MONTHS), key=len, reverse=True))
_ISO = re.compile(r"(?<!\d)((?:19|20)\d\d)[-/.](\d{1,2})[-/.](\d{1,2})(?!\d)")
_ISO_COMPACT = re.compile(r"^((?:19|20)\d\d)(\d\d)(\d\d)(?:T|$)")
# Written dates never span lines: "Jahres 2021" on one line and "4. Januar" on the next are two
# different things. _S is whitespace without the newline.
_S = r"[^\S\n]"
_DMY = re.compile(
    rf"(?<![\d.])(\d{{1,2}}){_S}?([./-]){_S}?(\d{{1,2}}){_S}?\2{_S}?((?:19|20)\d\d)(?!\d)"
)
_DMY_SHORT = re.compile(r"(?<![\d.])(\d{1,2})\.(\d{1,2})\.(\d\d)(?![\d.])")
_D_MONTH_Y = re.compile(
    rf"(?<!\d)(\d{{1,2}})(?:\.|º|er|st|nd|rd|th)?{_S}*(?:de{_S}+|-)?({_MONTH_ALT})\.?"
    rf"(?:{_S}*/{_S}*(?:{_MONTH_ALT}))?,?{_S}*(?:de{_S}+|-)?((?:19|20)\d\d)(?!\d)",
    re.IGNORECASE,
)
_MONTH_D_Y = re.compile(
    rf"(?<![^\W\d_])({_MONTH_ALT})\.?{_S}+(\d{{1,2}})(?:st|nd|rd|th)?,?{_S}+((?:19|20)\d\d)(?!\d)",
    re.IGNORECASE,
)
# Hungarian order, "2020. április 7."
_Y_MONTH_D = re.compile(
    rf"(?<!\d)((?:19|20)\d\d)\.{_S}*({_MONTH_ALT}){_S}+(\d{{1,2}})\.", re.IGNORECASE
)
_YEAR = re.compile(r"(?<!\d)(?:19|20|13|14)\d\d(?!\d)")
# Persian and Arabic-Indic digits read as ASCII ones (one character for one, offsets are kept).
_DIGITS = str.maketrans("۰۱۲۳۴۵۶۷۸۹٠١٢٣٤٥٦٧٨٩", "01234567890123456789")
_CJK = re.compile(r"((?:19|20)\d\d)\s*[年년]\s*(\d{1,2})\s*[月월]\s*(\d{1,2})\s*[日일]?")
_JALALI_ALT = "|".join(sorted(JALALI_MONTHS, key=len, reverse=True))
# Iranian pages date in the Solar Hijri calendar: "2 تیر 1399" is 2020-06-22.
_JALALI = re.compile(
    rf"(?<![0-9])([0-9]{{1,2}}){_S}*({_JALALI_ALT}){_S}*(1[34][0-9][0-9])(?![0-9])"
)
_URL_FULL = re.compile(
    r"(?<![\d])((?:19|20)\d\d)[/_-]?(0[1-9]|1[0-2])[/_-]?(0[1-9]|[12]\d|3[01])(?![\d])"
)
_URL_SEPARATED = re.compile(r"/((?:19|20)\d\d)[/_-](\d{1,2})[/_-](\d{1,2})(?:/|[-_]|$)")
_URL_YEAR_MONTH = re.compile(r"/((?:19|20)\d\d)[/_-](0?[1-9]|1[0-2])/")
_UPDATED = re.compile("|".join(UPDATED_WORDS + NOT_PUBLISHED_WORDS), re.IGNORECASE)
_PUBLISHED = re.compile("|".join(PUBLISHED_WORDS), re.IGNORECASE)
_UPDATE_LABEL = re.compile("|".join(UPDATED_WORDS), re.IGNORECASE)
# Publication dates that templates leave in inline scripts ("datePublished":"2020-05-16...").
_SCRIPT_DATE = re.compile(
    r"""["']?(?:datePublished|date_published|publishDate|publish_date|published_at|publishedAt|"""
    r"""pubDate|pub_date|firstPublished|first_published|publicationDate|created_at|createdAt|"""
    r"""dateCreated)["']?\s*[:=]\s*["']((?:19|20)\d\d-\d\d-\d\d)""",
)
_TIMESTAMP = re.compile(r"^\d{10}(?:\d{3})?$")


def _today() -> dt.date:
    return dt.date.today()


def _valid(year: int, month: int, day: int) -> dt.date | None:
    try:
        date = dt.date(year, month, day)
    except ValueError:
        return None
    if date < EARLIEST or date > _today():
        return None
    return date


def parse_date(value: str, *, day_first: bool = True) -> dt.date | None:
    """Reads one date out of a short string (a meta value, a byline, a time element's text).

    Returns None rather than guessing when nothing in the string is unambiguously a date;
    ``day_first`` only settles "04/05/2020", which matters for the day but never for the year.
    """
    value = (value or "").strip()
    if not value:
        return None
    if _TIMESTAMP.match(value):
        seconds = int(value[:10])
        date = dt.datetime.fromtimestamp(seconds, tz=dt.UTC).date()
        return _valid(date.year, date.month, date.day)
    match = _ISO.search(value)
    if match:
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    match = _ISO_COMPACT.match(value)
    if match:
        return _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
    return _parse_written(value, day_first=day_first)


def _parse_written(text: str, *, day_first: bool = True) -> dt.date | None:
    """Dates as people write them: "16. Mai 2020", "May 16, 2020", "16/05/2020", "2020年5月16日"."""
    for found in _written_dates(text, day_first=day_first):
        return found[1]
    return None


def _written_dates(text: str, *, day_first: bool = True) -> Iterator[tuple[int, dt.date]]:
    """Every date in ``text`` with its offset, in the order they appear.

    Long texts are only searched around four-digit years: the month-name patterns are costly
    and a page holds far fewer years than characters.
    """
    text = text.translate(_DIGITS)
    if len(text) <= 400:
        yield from _segment_dates(text, day_first=day_first)
        return
    found: list[tuple[int, dt.date]] = []
    segments: list[list[int]] = []
    for match in _YEAR.finditer(text):
        start, end = max(0, match.start() - 45), match.end() + 30
        while start > 0 and text[start - 1].isdigit():
            start -= 1
        if segments and start <= segments[-1][1]:
            segments[-1][1] = end
        else:
            segments.append([start, end])
    for start, end in segments:
        found.extend(
            (start + offset, date)
            for offset, date in _segment_dates(text[start:end], day_first=day_first, short=False)
        )
    found.extend(_short_dates(text, day_first=day_first))
    found = sorted(set(found), key=lambda item: item[0])
    yield from found


# Each written form of a date and how its groups make one (``None``: not a real date).
_DateReader = Callable[[re.Match[str], bool], dt.date | None]
_WRITTEN_FORMS: tuple[tuple[re.Pattern[str], _DateReader], ...] = (
    (_ISO, lambda m, _: _valid(int(m[1]), int(m[2]), int(m[3]))),
    (_CJK, lambda m, _: _valid(int(m[1]), int(m[2]), int(m[3]))),
    (_JALALI, lambda m, _: _from_jalali(int(m[3]), JALALI_MONTHS[m[2]], int(m[1]))),
    (_D_MONTH_Y, lambda m, _: _valid(int(m[3]), MONTHS[m[2].lower()], int(m[1]))),
    (_MONTH_D_Y, lambda m, _: _valid(int(m[3]), MONTHS[m[1].lower()], int(m[2]))),
    (_Y_MONTH_D, lambda m, _: _valid(int(m[1]), MONTHS[m[2].lower()], int(m[3]))),
    (_DMY, lambda m, day_first: _numeric(m[1], m[3], m[4], day_first=day_first)),
)


def _segment_dates(
    text: str, *, day_first: bool = True, short: bool = True
) -> list[tuple[int, dt.date]]:
    found: list[tuple[int, dt.date]] = []
    for pattern, read in _WRITTEN_FORMS:
        for match in pattern.finditer(text):
            date = read(match, day_first)
            if date:
                found.append((match.start(), date))
    if short:
        found.extend(_short_dates(text, day_first=day_first))
    found.sort(key=lambda item: item[0])
    return found


def _short_dates(text: str, *, day_first: bool) -> list[tuple[int, dt.date]]:
    """ "16.05.20": two-digit years only right after a separator, where they are a dateline."""
    found: list[tuple[int, dt.date]] = []
    for match in _DMY_SHORT.finditer(text):
        if match.start() == 0 or text[match.start() - 1] in " ,|(\n\t":
            year = str(2000 + int(match.group(3)))
            date = _numeric(match.group(1), match.group(2), year, day_first=day_first)
            if date:
                found.append((match.start(), date))
    return found


def _from_jalali(year: int, month: int, day: int) -> dt.date | None:
    """A Solar Hijri date in the Gregorian calendar.

    The year starts at the March equinox (1 Farvardin 1399 is 2020-03-20); its first six months
    have 31 days and the next five 30. New Year's Day is counted from 1996 with the 33-year
    cycle of leap years, which agrees with the official calendar over the years we accept.
    """
    if year < 1375 or not (1 <= month <= 12 and 1 <= day <= (31 if month <= 6 else 30)):
        return None
    gregorian = year + 621
    # Days from 1 Farvardin 1375 (1996-03-20) to 1 Farvardin of ``year``: 365 a year plus one
    # per leap year, leap years being those whose remainder in the 33-year cycle is listed.
    leaps = sum(1 for y in range(1375, year) if (y * 8 + 29) % 33 < 8)
    new_year = dt.date(1996, 3, 20) + dt.timedelta(days=365 * (year - 1375) + leaps)
    if new_year.year != gregorian:
        return None
    offset = (month - 1) * 31 if month <= 7 else 186 + (month - 7) * 30
    date = new_year + dt.timedelta(days=offset + day - 1)
    return _valid(date.year, date.month, date.day)


def _numeric(first_s: str, second_s: str, year_s: str, *, day_first: bool) -> dt.date | None:
    first, second, year = int(first_s), int(second_s), int(year_s)
    if first > 12 or (day_first and second <= 12):
        return _valid(year, second, first)
    return _valid(year, first, second)


def jsonld_objects(tree: Any) -> list[dict[str, Any]]:
    """Every JSON object in the page's ``application/ld+json`` scripts, ``@graph`` flattened.

    Broken JSON is common (trailing commas, raw newlines in strings, HTML comments around it),
    so a script that fails strict parsing is retried after light repairs and otherwise skipped.
    """
    objects: list[dict[str, Any]] = []
    for script in tree.iterfind(".//script[@type]"):
        if "ld+json" not in (script.get("type") or "").lower():
            continue
        raw = (script.text or "").strip()
        if not raw:
            continue
        data = _load_json(raw)
        if data is None:
            continue
        stack: list[Any] = [data]
        while stack:
            item = stack.pop()
            if isinstance(item, list):
                stack.extend(reversed(item))
            elif isinstance(item, dict):
                objects.append(item)
                graph = item.get("@graph")
                if isinstance(graph, list | dict):
                    stack.append(graph)
                main = item.get("mainEntity")
                if isinstance(main, dict):
                    stack.append(main)
    return objects


def _load_json(raw: str) -> Any:
    raw = raw.removeprefix("<!--").removesuffix("-->").strip()
    raw = raw.removeprefix("//<![CDATA[").removesuffix("//]]>").strip()
    try:
        data = json.loads(raw, strict=False)
    except ValueError:
        repaired = re.sub(r",\s*([}\]])", r"\1", raw)
        try:
            data = json.loads(repaired, strict=False)
        except ValueError:
            return None
    # A "\ud800" escape without its pair decodes to a lone surrogate: none may leave here.
    return _valid_strings(data) if _SURROGATE_ESCAPE.search(raw) else data


_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")


def _valid_strings(value: Any) -> Any:
    if isinstance(value, str):
        return without_surrogates(value)
    if isinstance(value, list):
        return [_valid_strings(item) for item in value]
    if isinstance(value, dict):
        return {_valid_strings(key): _valid_strings(item) for key, item in value.items()}
    return value


def _types(obj: dict[str, Any]) -> set[str]:
    kind = obj.get("@type")
    if isinstance(kind, str):
        return {kind.lower()}
    if isinstance(kind, list):
        return {str(k).lower() for k in kind}
    return set()


def _from_jsonld(objects: list[dict[str, Any]], *, articles_only: bool) -> dt.date | None:
    """The earliest datePublished of the article objects (or, as a last resort, of any object).

    Videos, images and breadcrumbs carry dates of their own, so they only count when
    ``articles_only`` is off.
    """
    best: dt.date | None = None
    for obj in objects:
        if articles_only != bool(_types(obj) & JSONLD_ARTICLE_TYPES):
            continue
        for key in ("datePublished", "dateCreated", "uploadDate"):
            value = obj.get(key)
            if isinstance(value, list) and value:
                value = value[0]
            date = parse_date(value) if isinstance(value, str) else None
            if date:
                if best is None or date < best:
                    best = date
                break
    return best


def _from_meta(tree: Any) -> dt.date | None:
    """The earliest publication date among the ``<meta>`` names publishers use for it."""
    found: list[tuple[int, dt.date]] = []
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        key = key.strip()
        if key not in DATE_META_NAMES:
            continue
        date = parse_date(meta.get("content") or "")
        if date:
            found.append((DATE_META_NAMES[key], date))
    if not found:
        return None
    rank = min(r for r, _ in found)
    return min(d for r, d in found if r == rank)


class _Page:
    """One page's tree with the costly views of it computed once, on first use."""

    def __init__(self, tree: Any, day_first: bool) -> None:
        self.tree = tree
        self.root = tree.getroottree().getroot()
        self.day_first = day_first
        self._chars: int | None = None
        self._visible: tuple[str, int] | None = None
        self._dates: list[tuple[int, dt.date]] | None = None

    @property
    def chars(self) -> int:
        """Characters of text on the page, without the code of inline scripts and styles.

        Script text can outweigh the article many times over, and "under a third of the page"
        must mean a third of what a reader sees.
        """
        if self._chars is None:
            code = sum(len(el.text or "") for el in self.root.iter(*_SKIP_TEXT_TAGS))
            self._chars = len(self.root.text_content()) - code
        return self._chars

    @property
    def visible(self) -> tuple[str, int]:
        if self._visible is None:
            self._visible = _visible_text(self)
        return self._visible

    @property
    def dates(self) -> list[tuple[int, dt.date]]:
        """Every written date in the visible text, with its offset."""
        if self._dates is None:
            self._dates = list(_written_dates(self.visible[0], day_first=self.day_first))
        return self._dates

    def in_furniture(self, el: Any) -> bool:
        """Dates inside comment threads, teaser lists, asides or footers belong to other posts.

        A furniture word on a wrapper of most of the page (Blogger's "widget Blog" around the
        post) is a false match, so only parts holding under a third of the page's text count.
        """
        for node in (el, *el.iterancestors()):
            marks = f"{node.get('class') or ''} {node.get('id') or ''}"
            furniture = node.tag in ("aside", "footer", "nav") or (
                len(marks) > 2 and bool(DATE_FURNITURE.search(marks))
            )
            if furniture and len(node.text_content()) < self.chars / 3:
                return True
        return False


def _from_markup(page: _Page) -> dt.date | None:
    """``itemprop=datePublished`` elements and ``<time>`` elements marked as the publication."""
    for el in page.tree.iterfind('.//*[@itemprop="datePublished"]'):
        if el.tag != "meta" and page.in_furniture(el):
            continue
        date = parse_date(el.get("datetime") or el.get("content") or el.text_content()[:100])
        if date:
            return date
    for el in page.tree.iterfind(".//time"):
        marks = " ".join((el.get("class") or "", el.get("id") or "", el.get("itemprop") or ""))
        if el.get("pubdate") is not None or re.search(
            r"publish|pubdate|entry-date|post-date|created", marks, re.IGNORECASE
        ):
            if page.in_furniture(el):
                continue
            date = parse_date(el.get("datetime") or el.text_content()[:100])
            if date:
                return date
    return None


def _from_time_elements(page: _Page) -> dt.date | None:
    """The first ``<time datetime>`` outside comments and teasers, not labelled as an update."""
    for el in page.tree.iterfind(".//time[@datetime]"):
        marks = f"{el.get('class') or ''} {el.get('itemprop') or ''}"
        if _UPDATED.search(marks) or re.search("modif", marks, re.IGNORECASE):
            continue
        if page.in_furniture(el):
            continue
        date = parse_date(el.get("datetime") or "")
        if date:
            return date
    return None


def _from_url(url: str) -> dt.date | None:
    path = url.split("?", 1)[0].split("#", 1)[0]
    path = path.split("://", 1)[-1]
    path = path[path.find("/") :] if "/" in path else ""
    for pattern in (_URL_SEPARATED, _URL_FULL):
        match = pattern.search(path)
        if match:
            date = _valid(int(match.group(1)), int(match.group(2)), int(match.group(3)))
            if date:
                return date
    return None


def _from_scripts(tree: Any) -> dt.date | None:
    """A publication date in inline script data (apps that render the page in JavaScript).

    Only when the scripts agree on one date: several different ones are a list of items.
    """
    found: set[dt.date] = set()
    for script in tree.iter("script"):
        text = script.text
        if not text or "ld+json" in (script.get("type") or ""):
            continue
        for match in _SCRIPT_DATE.finditer(text):
            date = parse_date(match.group(1))
            if date:
                found.add(date)
    return found.pop() if len(found) == 1 else None


# Narrower than DATE_FURNITURE: templates put "widget" and "popular" on the post's own wrappers.
_TEXT_FURNITURE = re.compile(r"comment|related|sidebar|recommend", re.IGNORECASE)
_SKIP_TEXT_TAGS = frozenset({"script", "style", "noscript", "template", "head", "select", "option"})
_SPACES = re.compile(r"\s+")
# Stands for a block boundary while the text is laid out: NUL never reaches a parsed tree.
_BLOCK_BREAK = "\x00"
_LINE_BREAKS = re.compile(r" ?\x00[\x00 ]*")
# Marks the headline's place while the text is laid out (a private-use character, never in text).
_HEADLINE_MARK = "\ue000"


def _headline(root: Any) -> Any:
    """The headline element: the first h1, else a heading whose text the <title> contains."""
    for el in root.iter("h1"):
        if el.text_content().strip():
            return el
    title_el = root.find(".//title")
    title = _norm(title_el.text_content()) if title_el is not None else ""
    if not title:
        return None
    for el in root.iter("h2", "h3"):
        text = _norm(el.text_content())
        if len(text) >= 10 and text in title:
            return el
    return None


def _norm(text: str) -> str:
    return " ".join(text.split()).lower()


def _from_byline(page: _Page) -> dt.date | None:
    """A date in a short element named like a byline or date ("post-date", "meta", "datum")."""
    for el in page.tree.iter():
        if not isinstance(el.tag, str) or el.tag in _SKIP_TEXT_TAGS or el.tag == "meta":
            continue
        marks = f"{el.get('class') or ''} {el.get('id') or ''}"
        if len(marks) < 3 or not DATE_CONTAINER_HINT.search(marks):
            continue
        if re.search("modif|updat", marks, re.IGNORECASE):
            continue
        # Wrappers named "content-data" or "page-info" hold whole articles: a byline is small.
        if len(el) > 12 or el.find(".//h1") is not None or el.find(".//h2") is not None:
            continue
        if len(el.text_content()) > 200 or page.in_furniture(el):
            continue
        # Spaced as rendered: "<span>26</span>\n<span>Okt</span> 2018" is one date.
        text = _SPACES.sub(" ", " ".join(el.itertext())).strip()
        for offset, date in _written_dates(text, day_first=page.day_first):
            if not _UPDATED.search(text[max(0, offset - 40) : offset]):
                return date
    return None


def _visible_text(page: _Page) -> tuple[str, int]:
    """The page's visible text outside comments and teasers, and where the headline starts.

    Laid out as a browser renders it: whitespace (source newlines included) collapses to one
    space, block elements start a new line, and inline elements are separated by a space, so
    "<span>26</span> Okt<br>2018" reads "26 Okt\n2018" and a date spread over spans is found
    while dates never run across lines. Built iteratively (deep pages must not exhaust the
    stack); the headline offset is -1 when there is no headline.
    """
    parts: list[str] = []
    # A class word can also sit on a wrapper of the whole page (a blog's body "comments-on"):
    # only subtrees holding a minor part of the text are furniture.
    page_chars = page.chars
    headline = _headline(page.root)
    stack: list[tuple[Any, bool]] = [(page.root, True)]
    while stack:
        el, opening = stack.pop()
        tag = el.tag if isinstance(el.tag, str) else ""
        if not opening:
            parts.append(_BLOCK_BREAK if tag in BLOCK_TAGS else " ")
            if el.tail:
                parts.append(el.tail)
            continue
        skip = not tag or tag in _SKIP_TEXT_TAGS or tag == "nav"
        if not skip:
            marks = f"{el.get('class') or ''} {el.get('id') or ''}"
            skip = (
                len(marks) > 2
                and bool(_TEXT_FURNITURE.search(marks))
                and el.find(".//h1") is None
                and (headline is None or el not in headline.iterancestors())
                and len(el.text_content()) < page_chars / 3
            )
        if skip:
            if el.tail:
                parts.extend((" ", el.tail))
            continue
        parts.append(_BLOCK_BREAK if tag in BLOCK_TAGS else " ")
        if el is headline:
            parts.append(_HEADLINE_MARK)
        if el.text:
            parts.append(el.text)
        stack.append((el, False))
        stack.extend((child, True) for child in reversed(el))
    # Source whitespace (newlines too) is one space; block breaks, with the spaces around them,
    # are one newline.
    text = _LINE_BREAKS.sub("\n", _SPACES.sub(" ", "".join(parts))).strip()
    headline_at = text.find(_HEADLINE_MARK)
    if headline_at >= 0:
        text = text[:headline_at] + text[headline_at + 1 :]
    return text, headline_at


def _from_text(page: _Page) -> dt.date | None:
    """A date written in the page: labelled as the publication, or next to the headline.

    Labelled dates ("Veröffentlicht am 16.08.2019") win; otherwise the first date after the
    headline (bylines sit right under it), then the closest one before it (datelines above
    it). Dates introduced as updates are skipped.
    """
    text, headline_at = page.visible
    labelled: list[tuple[int, dt.date, str]] = []
    previous = -1
    for offset, date in page.dates:
        # A label ("Updated:", "Published") belongs to the first date after it only.
        labelled.append((offset, date, text[max(0, offset - 40, previous + 1) : offset]))
        previous = offset
    candidates = [(offset, date) for offset, date, label in labelled if not _UPDATED.search(label)]
    if not candidates:
        return None
    for _offset, date, label in labelled:
        if _PUBLISHED.search(label) and not _UPDATED.search(label):
            return date
    if headline_at >= 0:
        for offset, date in candidates:
            if headline_at <= offset <= headline_at + _AFTER_HEADLINE:
                return date
        before = [
            (o, d) for o, d in candidates if headline_at - _BEFORE_HEADLINE <= o < headline_at
        ]
        if before:
            return before[-1][1]
    if len({date for _, date in candidates}) == 1:
        # One date on the whole page, outside comments and teasers: nothing to confuse it with.
        return candidates[0][1]
    return None


def _parse(html: str | bytes) -> Any:
    if isinstance(html, str):
        html = for_lxml(html)
    try:
        return lxml_html.document_fromstring(html)
    except (ParserError, ValueError):
        return None


def _modified(tree: Any, jsonld: list[dict[str, Any]]) -> dt.date | None:
    for obj in jsonld:
        if _types(obj) & JSONLD_ARTICLE_TYPES and isinstance(obj.get("dateModified"), str):
            date = parse_date(obj["dateModified"])
            if date:
                return date
    for meta in tree.iterfind(".//meta"):
        key = (meta.get("property") or meta.get("name") or meta.get("itemprop") or "").lower()
        if key in MODIFIED_META_NAMES:
            date = parse_date(meta.get("content") or "")
            if date:
                return date
    return None


def _republished(page: _Page, jsonld: list[dict[str, Any]], published: dt.date) -> dt.date | None:
    """The modification date, when the page presents itself as of that date instead.

    Evergreen pages ("Best laptops 2023") are rewritten and re-dated while their metadata keeps
    the date the URL was first created. When the page shows the modification date to readers and
    the claimed publication date appears nowhere on it, the shown date is when this article (as
    it now reads) came out. A published date the page shows always wins.
    """
    modified = _modified(page.tree, jsonld)
    if not modified or modified <= published:
        return None
    shown = {date for _, date in page.dates}
    if modified in shown and not any(_close(published, date) for date in shown):
        return modified
    return None


def _labelled_update(page: _Page) -> dt.date | None:
    """The one date the visible text introduces as the last change ("Letzte Änderung: ...")."""
    text = page.visible[0]
    found = {
        date
        for offset, date in page.dates
        if _UPDATE_LABEL.search(text[max(0, offset - 40) : offset])
    }
    return found.pop() if len(found) == 1 else None


def _close(a: dt.date, b: dt.date) -> bool:
    return abs((a - b).days) <= 2


def find_published(
    page: Any,
    url: str = "",
    *,
    jsonld: list[dict[str, Any]] | None = None,
    language: str | None = None,
    canonical_url: str | None = None,
) -> str | None:
    """The ISO date ("YYYY-MM-DD") the article was first published, or None.

    ``page`` is an HTML string/bytes or an already parsed lxml tree (the extractor passes its tree
    before cleaning, so byline and meta markup are still there); ``jsonld`` saves re-parsing the
    structured data when the caller already has it.
    """
    date, _source = published_with_source(
        page, url, jsonld=jsonld, language=language, canonical_url=canonical_url
    )
    return _iso(date)


def published_with_source(
    page: Any,
    url: str = "",
    *,
    jsonld: list[dict[str, Any]] | None = None,
    language: str | None = None,
    canonical_url: str | None = None,
) -> tuple[dt.date | None, str]:
    """The publication date and the name of the evidence that gave it ("meta", "text", ...).

    The name lets the benchmark show what each kind of evidence contributes.
    """
    tree = _parse(page) if isinstance(page, str | bytes) else page
    if tree is None:
        date = _from_url(url)
        return date, "url" if date else "none"
    if jsonld is None:
        jsonld = jsonld_objects(tree)
    page = _Page(tree, day_first=not (language or "").lower().startswith("en-us"))
    url_date = _from_url(url) or _from_url(canonical_url or "")
    finders = (
        ("json-ld", lambda: _from_jsonld(jsonld, articles_only=True)),
        ("meta", lambda: _from_meta(tree)),
        ("markup", lambda: _from_markup(page)),
    )
    for name, finder in finders:
        date = finder()
        if date:
            # A full date in the URL is fixed at first publication: structured data that is
            # later (rewritten on an update) or a day off (a UTC timestamp) yields to it.
            if url_date and (url_date < date or _close(url_date, date)):
                return url_date, "url"
            shown = _republished(page, jsonld, date)
            return (shown, "modified-shown") if shown else (date, name)
    if url_date:
        return url_date, "url"
    later = (
        ("byline", lambda: _from_byline(page)),
        ("text", lambda: _from_text(page)),
        ("time", lambda: _from_time_elements(page)),
        ("script", lambda: _from_scripts(tree)),
        ("json-ld-other", lambda: _from_jsonld(jsonld, articles_only=False)),
    )
    for name, finder in later:
        date = finder()
        if date:
            return date, name
    # Nothing says when the page came out, but it says when it was last changed: its content as
    # crawled is from that date, which is evidence the page gives, not a guess.
    modified = _modified(tree, jsonld) or _labelled_update(page)
    return (modified, "modified") if modified else (None, "none")


def _iso(date: dt.date | None) -> str | None:
    return date.isoformat() if date else None
