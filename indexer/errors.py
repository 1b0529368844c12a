"""The indexer's errors that any backend raises (the query language has its own, QueryError)."""

from __future__ import annotations


class IndexAccessError(RuntimeError):
    """An index problem to report to the user as one line (missing, locked, wrong version)."""
