"""The scale-out backend: the same query tree and articles in PostgreSQL (full-text search,
facets in SQL, several readers and writers on other machines).

Built on the backend-neutral core of `indexer` only, never on `indexer.whoosh`.
"""
