"""The extractor's heuristics kept as data, apart from the algorithms that use them.

Tuning the extractor should mostly mean editing a list here, not logic in ``page.py`` or
``dates.py`` (the pattern trafilatura's ``xpaths.py`` made popular). Lists go from specific to
generic; every entry is general (a markup convention or a word), never one site's quirk.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# --- dates ------------------------------------------------------------------------------------

# <meta> names/properties carrying the publication date, with a rank: lower ranks are the more
# deliberate declarations and win over higher ones when both are present.
DATE_META_NAMES: dict[str, int] = {
    "article:published_time": 0,
    "og:article:published_time": 0,
    "article:published": 0,
    "og:published_time": 0,
    "datepublished": 0,
    "article.published": 0,
    "published_time": 0,
    "parsely-pub-date": 0,
    "sailthru.date": 1,
    "pubdate": 1,
    "publishdate": 1,
    "publish-date": 1,
    "publish_date": 1,
    "publication_date": 1,
    "publication-date": 1,
    "pub_date": 1,
    "date_published": 1,
    "originalpublicationdate": 1,
    "article_date_original": 1,
    "cxenseparse:recs:publishtime": 1,
    "citation_publication_date": 1,
    "citation_date": 1,
    "dc.date.issued": 1,
    "dcterms.issued": 1,
    "dc.date.created": 1,
    "dcterms.created": 1,
    "og:pubdate": 1,
    "article:created": 1,
    "created": 2,
    "dc.date": 2,
    "dcterms.date": 2,
    "date": 2,
    "dc:date": 2,
    "release_date": 2,
    "displaydate": 2,
    "og:regdate": 2,
}

# <meta> names of the last modification date (used only to recognise republished pages).
MODIFIED_META_NAMES: frozenset[str] = frozenset(
    {
        "article:modified_time",
        "article:modified",
        "og:article:modified_time",
        "og:modified_time",
        "og:updated_time",
        "modified_time",
        "updated_time",
        "datemodified",
        "dateupdate",
        "last-modified",
        "lastmodified",
        "lastmod",
        "dcterms.modified",
        "dc.modified",
        "dc.date.modified",
    }
)

# schema.org types whose datePublished is the article's (not a video's or the site's).
JSONLD_ARTICLE_TYPES: frozenset[str] = frozenset(
    {
        "article",
        "newsarticle",
        "reportagenewsarticle",
        "analysisnewsarticle",
        "opinionnewsarticle",
        "backgroundnewsarticle",
        "blogposting",
        "liveblogposting",
        "techarticle",
        "scholarlyarticle",
        "report",
        "webpage",
        "itempage",
        "socialmediaposting",
        "discussionforumposting",
        "creativework",
        "event",
        "review",
        "recipe",
        "howto",
    }
)

# Words that introduce a modification date: a date right after them is not the original one.
UPDATED_WORDS: tuple[str, ...] = (
    r"updated",
    r"update:",
    r"modified",
    r"last edited",
    r"aktualisiert",
    r"geändert",
    r"letzte änderung",
    r"stand:",
    r"mis à jour",
    r"mise à jour",
    r"actualizado",
    r"actualización",
    r"aggiornato",
    r"atualizado",
    r"bijgewerkt",
    r"diperbarui",
)

# Words before a date that is about something else than the article (a forum member's join
# date, an event's date of birth).
NOT_PUBLISHED_WORDS: tuple[str, ...] = (
    r"joined",
    r"registered",
    r"member since",
    r"mitglied seit",
    r"dabei seit",
    r"registriert",
    r"inscrit",
    r"born",
    r"geboren",
)

# class/id fragments of page parts whose dates belong to other posts (comments, teaser lists).
DATE_FURNITURE = re.compile(
    r"comment|related|sidebar|widget|recommend|most-?read|popular|trending|outbrain|taboola",
    re.IGNORECASE,
)

# class/id fragments of elements that hold the publication date or the byline.
DATE_CONTAINER_HINT = re.compile(
    r"date|time|publish|posted|byline|dateline|meta|datum|fecha|data|info|author|autor",
    re.IGNORECASE,
)

MONTHS: dict[str, int] = {}
_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    # en, de, fr, es, it, pt, nl, id and common abbreviations; index + 1 is the month.
    ("january", "jan", "januar", "jänner", "janvier", "janv", "enero", "ene", "gennaio", "gen",
     "janeiro", "januari"),
    ("february", "feb", "febr", "februar", "février", "fevrier", "févr", "fév", "febrero",
     "febbraio", "fevereiro", "fev", "februari", "feber"),
    ("march", "mar", "märz", "mär", "mrz", "maerz", "mars", "marzo", "março", "marco", "maart",
     "maret", "mart"),
    ("april", "apr", "avril", "avr", "abril", "abr", "aprile"),
    ("may", "mai", "mayo", "maggio", "mag", "maio", "mei"),
    ("june", "jun", "juni", "juin", "junio", "giugno", "giu", "junho"),
    ("july", "jul", "juli", "juillet", "juil", "julio", "luglio", "lug", "julho"),
    ("august", "aug", "août", "aout", "agosto", "ago", "augustus", "agustus", "agu"),
    ("september", "sep", "sept", "septembre", "septiembre", "setiembre", "settembre", "set",
     "setembro"),
    ("october", "oct", "oktober", "okt", "octobre", "octubre", "ottobre", "ott", "outubro", "out"),
    ("november", "nov", "novembre", "noviembre", "novembro"),
    ("december", "dec", "dezember", "dez", "décembre", "decembre", "déc", "diciembre", "dic",
     "dicembre", "dezembro", "desember", "des"),
)  # fmt: skip
# Romanian, Polish, Russian, Ukrainian, Turkish, Scandinavian, Hungarian and Arabic (Egyptian
# and Levantine) month names, in the same order.
_MORE_MONTH_NAMES: tuple[tuple[str, ...], ...] = (
    ("ianuarie", "stycznia", "января", "січня", "ocak", "januari", "január", "يناير",
     "كانون الثاني"),
    ("februarie", "lutego", "февраля", "лютого", "şubat", "február", "فبراير", "شباط"),
    ("martie", "marca", "марта", "березня", "mart", "mars", "március", "مارس", "آذار"),
    ("aprilie", "kwietnia", "апреля", "квітня", "nisan", "április", "أبريل", "إبريل", "نيسان"),
    ("maja", "мая", "травня", "mayıs", "maj", "május", "مايو", "أيار"),
    ("iunie", "czerwca", "июня", "червня", "haziran", "június", "يونيو", "حزيران"),
    ("iulie", "lipca", "июля", "липня", "temmuz", "július", "يوليو", "تموز"),
    ("sierpnia", "августа", "серпня", "ağustos", "augusti", "augusztus", "أغسطس", "آب"),
    ("septembrie", "września", "сентября", "вересня", "eylül", "szeptember", "سبتمبر", "أيلول"),
    ("octombrie", "października", "октября", "жовтня", "ekim", "október", "أكتوبر",
     "تشرين الأول"),
    ("noiembrie", "listopada", "ноября", "листопада", "kasım", "نوفمبر", "تشرين الثاني"),
    ("decembrie", "grudnia", "декабря", "грудня", "aralık", "ديسمبر", "كانون الأول"),
)  # fmt: skip
for _table in (_MONTH_NAMES, _MORE_MONTH_NAMES):
    for _number, _names in enumerate(_table, start=1):
        for _name in _names:
            MONTHS[_name] = _number

# Solar Hijri (Iranian) month names, in Persian and with the Arabic letters that Persian pages
# often use for ye and kaf.
JALALI_MONTHS: dict[str, int] = {}
for _number, _name in enumerate(
    ("فروردین", "اردیبهشت", "خرداد", "تیر", "مرداد", "شهریور", "مهر", "آبان", "آذر", "دی",
     "بهمن", "اسفند"),
    start=1,
):  # fmt: skip
    JALALI_MONTHS[_name] = _number
    JALALI_MONTHS[_name.replace("ی", "ي").replace("ک", "ك")] = _number

# Words right before a date that say it is the publication date.
PUBLISHED_WORDS: tuple[str, ...] = (
    r"published",
    r"posted",
    r"publication",
    r"veröffentlicht",
    r"erschienen",
    r"erstellt",
    r"gespeichert",
    r"datum",
    r"publié",
    r"publicado",
    r"publicación",
    r"pubblicato",
    r"gepubliceerd",
    r"diterbitkan",
    r"опубликовано",
    r"نشر",
)

# --- article text -----------------------------------------------------------------------------

# Elements that never hold article prose; removed with their content before anything else.
DROP_TAGS: frozenset[str] = frozenset(
    {
        "script",
        "style",
        "noscript",
        "template",
        "iframe",
        "object",
        "embed",
        "svg",
        "canvas",
        "button",
        "input",
        "select",
        "textarea",
        "figcaption",
        "dialog",
        "link",
        "meta",
    }
)

# Page furniture that is usually not the article but sometimes wraps it (ASP.NET pages put the
# whole page in a <form>; some templates put the story in a <header>): removed unless it holds
# real prose.
WEAK_TAGS: frozenset[str] = frozenset({"nav", "aside", "footer", "header", "form", "menu"})

# class/id words of blocks that are boilerplate even when they hold sentences: share bars,
# related links, comments, cookie banners, newsletter boxes, ads, captions. Matched as whole
# words of class and id (separated by space, "-" or "_").
STRONG_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:"
    r"share|sharing|social|sharebar|"
    r"related|recommend(?:ed|ations)?|more-stories|read-?more|readmore|read-next|also-read|"
    r"most-read|mostread|trending|outbrain|taboola|"
    r"comments?|commentlist|disqus|respond|"
    r"cookies?|consent|gdpr|"
    r"newsletter|subscribe|subscription|signup|"
    r"promo|sponsor(?:ed)?|advert(?:isement)?|ads?|adslot|ad-slot|dfp|"
    r"caption|credits?|"
    r"breadcrumbs?|pagination|pager|tag-list|taglist|"
    r"author-bio|authorbox|author-box|about-author|byline|dateline|"
    r"skip|skiplink|visually-hidden|sr-only|screen-reader-text"
    r")(?:$|[\s_-])",
    re.IGNORECASE,
)

# class/id words of furniture that templates also use on wrappers of the article ("rail",
# "hidden-xs", "widget Blog"): removed only when they hold little prose.
WEAK_BOILERPLATE = re.compile(
    r"(?:^|[\s_-])(?:"
    r"sidebar|widget|rail|banner|popular|tags|topics|keywords|paywall|"
    r"toolbar|tools|print|modal|popup|overlay|hidden|"
    r"timestamp|meta|meta-data|metadata|"
    r"footer|masthead|site-header|navbar|menu|nav"
    r")(?:$|[\s_-])",
    re.IGNORECASE,
)

# class/id words that mark the article body; a match protects an element from the boilerplate
# rule above (a "content share" wrapper is still content) and boosts it as a candidate.
CONTENT_WORDS = re.compile(
    r"article|body|content|entry|main|post|story|text|prose|richtext|rich-text",
    re.IGNORECASE,
)

# Structured markers of the body, tried in order before the density search.
BODY_SELECTORS: tuple[str, ...] = (
    '[itemprop="articleBody"]',
    '[data-component="text-block"]',
    ".article-body",
    ".article__body",
    ".story-body",
    ".entry-content",
    ".post-content",
)

# The whole text of the label publishers put on an ad slot; a block saying only this is no prose.
AD_LABELS: frozenset[str] = frozenset(
    {
        "advertisement",
        "advertisements",
        "advert",
        "adverts",
        "ad",
        "sponsored",
        "sponsored content",
        "anzeige",
        "werbung",
        "publicité",
        "publicidad",
        "publicidade",
        "pubblicità",
        "advertentie",
        "реклама",
        "iklan",
        "광고",
        "广告",
        "広告",
    }
)

# Block elements whose text is one paragraph of output.
BLOCK_TAGS: frozenset[str] = frozenset(
    {
        "p",
        "div",
        "section",
        "article",
        "main",
        "blockquote",
        "pre",
        "ul",
        "ol",
        "li",
        "dl",
        "dt",
        "dd",
        "table",
        "tr",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "header",
        "figure",
        "address",
        "center",
        "body",
        "br",
        "hr",
    }
)


@dataclass(frozen=True)
class ExtractOptions:
    """The extractor's thresholds in one object, so callers and tests can tune them explicitly."""

    # A paragraph shorter than this counts toward a container's score only a little.
    min_paragraph_chars: int = 25
    # Blocks whose text is more than this share links are navigation, not prose.
    max_link_density: float = 0.5
    # JSON-LD articleBody is used when it is at least this long...
    min_jsonld_chars: int = 200
    # ...and at least this share of its words appear in the page's visible text.
    min_jsonld_agreement: float = 0.8
    # Sibling containers are merged into the body when their score reaches this share of the best.
    sibling_share: float = 0.2
    # Furniture (a weak class word or tag) holding this much prose is kept: it wraps the article.
    protect_prose_chars: int = 400
    # Strong boilerplate is kept only when it holds this share of the page's prose.
    protect_share: float = 0.6
    # Pages larger than this (characters) are cut before parsing, to bound time and memory.
    max_html_chars: int = 5_000_000
