"""Which SQL a journal connection speaks, without importing a driver: "sqlite" or
"postgresql". The journal's modules say their own SQL where the two differ by more than
spelling (pgconn.py translates the spelling)."""

from __future__ import annotations

from typing import Any

POSTGRESQL = "postgresql"


def is_postgres(conn: Any) -> bool:
    """Whether `conn` (a connection or cursor) is a PostgreSQL journal's (`PgConnection`)."""
    return getattr(conn, "dialect", "") == POSTGRESQL
