"""What an `--index` value names: a Whoosh directory or a PostgreSQL database.

Kept apart from the backends so the configuration and the command line can ask without
importing a database driver.
"""

from __future__ import annotations

from pathlib import Path

POSTGRES_SCHEMES = ("postgresql://", "postgres://")


def is_postgres_url(target: str | Path) -> bool:
    """Whether an `--index` value names a PostgreSQL index rather than a directory."""
    return str(target).startswith(POSTGRES_SCHEMES)


def index_target(value: str | Path) -> str | Path:
    """An `--index` value as the code keeps it: a URL stays a string (a Path would fold its
    `//`), anything else is a directory."""
    return str(value) if is_postgres_url(value) else Path(value)
