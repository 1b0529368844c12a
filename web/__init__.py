"""The Flask app: the researchers' page and the JSON API, both over the search of `indexer.backend`.

The app only reads the index; the command line is the one writer.
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import quote

from flask import Flask
from werkzeug.routing import PathConverter

from indexer.backend import Backend, open_backend

_opening = threading.Lock()


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Builds the app; `config` may set INDEX_DIR (default `index`)."""
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR="index", JSON_SORT_KEYS=False)
    if config:
        app.config.from_mapping(config)
    if not app.testing:
        app.debug = False  # FLASK_DEBUG in the environment must not reach a served app
    app.json.sort_keys = False
    app.url_map.converters["article_id"] = ArticleIdConverter
    # One index per app, Whoosh directory or PostgreSQL URL, opened lazily (see get_index).
    app.extensions["innosearch.index"] = None

    from web import (
        analysis,
        api,
        cite,
        cooccurrence,
        errors,
        feeds,
        limits,
        pages,
        ratelimit,
        stats,
    )

    limits.init_app(app)
    ratelimit.init_app(app)

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(stats.bp)
    app.register_blueprint(analysis.bp)
    app.register_blueprint(cooccurrence.bp)
    app.register_blueprint(feeds.bp)
    app.register_blueprint(cite.bp)
    errors.init_app(app)
    return app


class ArticleIdConverter(PathConverter):
    """An article id in a URL path. Ids from JSON lines are free text, so one may hold "/" or
    "..": in links each is percent-encoded (``../x`` becomes ``..%2Fx``) so a link never leaves
    the article view, and the decoded path, slashes and all, routes back to the id."""

    regex = ".+"
    part_isolating = False  # werkzeug guesses True for a regex without "/"

    def to_url(self, value: str) -> str:
        return quote(value, safe="")


def get_index(app: Flask) -> Backend:
    """The app's index. Opened at the first request rather than in the factory, so a database
    that is down when the server starts answers 503 until it is up, instead of no server."""
    index: Backend | None = app.extensions["innosearch.index"]
    if index is None:
        with _opening:
            index = app.extensions["innosearch.index"]
            if index is None:
                index = open_backend(
                    app.config["INDEX_DIR"],
                    app.config.get("INDEX_READ_URLS") or (),
                    site_names=app.config.get("SITE_NAMES"),
                )
                app.extensions["innosearch.index"] = index
    return index
