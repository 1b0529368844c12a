"""Enrichment, the Whoosh index and the search function that everything else calls."""

from indexer.errors import IndexAccessError
from indexer.live import LiveIndex
from indexer.querylang import QueryError
from indexer.request import SearchRequest
from indexer.search import get_document, search
from indexer.write import index_articles, index_from_store, rebuild_from_store

__all__ = [
    "IndexAccessError",
    "LiveIndex",
    "QueryError",
    "SearchRequest",
    "get_document",
    "index_articles",
    "index_from_store",
    "rebuild_from_store",
    "search",
]
