"""Alerts as feeds: `/feed.atom?q=...` gives the newest stories of a search as an Atom feed
(RFC 4287), so a researcher can follow a query in any feed reader.

The feed takes the search's own query string (newest first whatever `sort` says; `per_page`
entries, 20 by default); a bad parameter answers 400 as the page does. Each entry's id is its
article page here, its link the original story; its date is the publication day (undated
stories come last, dated at the feed's own time), its author the article's byline when the
crawl found one.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from flask import Blueprint, current_app, render_template, request, url_for
from flask.typing import ResponseReturnValue

from web import get_index
from web.pages import is_http_url, query_string
from web.params import SELECTION, search_request

bp = Blueprint("feeds", __name__)

# Characters XML 1.0 forbids (crawled text may hold them): dropped rather than refused.
_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_TAGS = re.compile(r"<[^>]*>")


@bp.app_template_filter("xml_text")
def xml_text(value: Any) -> str:
    """Text fit for an XML document: without the control characters XML cannot carry."""
    return _NOT_XML.sub("", str(value or ""))


@bp.get("/feed.atom")
def feed() -> ResponseReturnValue:
    req = search_request(request.args)
    req.sort, req.page, req.timeline = "date", 1, False
    index = get_index(current_app)
    result = index.search(req)
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    entries = []
    for row in result["results"]:
        doc = index.get_document(row["id"]) or {}
        entries.append(
            {
                "id": url_for("pages.article_page", doc_id=row["id"], _external=True),
                "title": row["title"] or row["url"],
                "link": row["url"] if is_http_url(row["url"]) else None,
                "updated": f"{row['published'][:10]}T00:00:00Z" if row["published"] else now,
                "published": row["published"],
                # a snippet is escaped text with <mark>: the feed wants the plain text
                "summary": html.unescape(_TAGS.sub("", row["snippet"])),
                "authors": [a for a in doc.get("authors") or [] if isinstance(a, str) and a],
                "site": row["site"],
                "categories": row["chains"],
            }
        )
    selection = query_string((k, v) for k, v in request.args.items(multi=True) if k in SELECTION)
    body = render_template(
        "feed.xml",
        title=f"innosearch: {req.q}" if req.q else "innosearch: newest stories",
        self_url=request.url,
        page_url=url_for("pages.search_page", _external=True) + selection,
        updated=max((e["updated"] for e in entries), default=now),
        entries=entries,
        total=result["total"],
    )
    return current_app.response_class(body, mimetype="application/atom+xml")
