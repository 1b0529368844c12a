"""The index: enrichment, the backend-neutral core, and the two backends (`indexer.whoosh`,
`indexer.postgres`) behind one protocol (`indexer.backend`).

Only the backend-neutral names are exported here, so that importing any part of the package
(a PostgreSQL deployment, the web's parameter checks) does not load Whoosh.
"""

from indexer.errors import IndexAccessError
from indexer.querylang import QueryError
from indexer.request import SearchRequest

__all__ = ["IndexAccessError", "QueryError", "SearchRequest"]
