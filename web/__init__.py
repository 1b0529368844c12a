"""The Flask app: the researchers' page and the JSON API, both over `indexer.search`.

The app only reads the index; the command line is the one writer.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask

from indexer import LiveIndex


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Builds the app; `config` may set INDEX_DIR (default `index`)."""
    app = Flask(__name__)
    app.config.from_mapping(INDEX_DIR="index", JSON_SORT_KEYS=False)
    if config:
        app.config.from_mapping(config)
    app.json.sort_keys = False
    app.extensions["innosearch.index"] = LiveIndex(Path(app.config["INDEX_DIR"]))

    from web import api, errors, pages, stats

    app.register_blueprint(pages.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(stats.bp)
    errors.init_app(app)
    return app


def get_index(app: Flask) -> LiveIndex:
    index: LiveIndex = app.extensions["innosearch.index"]
    return index
