"""The embedded backend: the query tree and articles turned into a Whoosh index on local disk.

The default for one machine. Nothing in this package knows of `indexer.postgres`; what the rest
of the code calls (mostly through `indexer.backend`) is exported here.
"""

import sys

from indexer.whoosh import analysis
from indexer.whoosh.live import LiveIndex
from indexer.whoosh.search import get_document, search
from indexer.whoosh.write import index_articles, index_from_store, rebuild_from_store

__all__ = [
    "LiveIndex",
    "get_document",
    "index_articles",
    "index_from_store",
    "rebuild_from_store",
    "search",
]

# Whoosh pickles the schema with the analyzer's import path. Indexes built before these modules
# moved into `indexer.whoosh` (commit 66aab4d) name `indexer.analysis`: they stay readable.
sys.modules.setdefault("indexer.analysis", analysis)
