"""Holds on a shared journal's server: a name held by one connection at a time (a
recorder's client id, issue 23), let go by the server when that connection ends — the
process stopped, was killed, or its machine is gone (keepalives end the connection).

The SQL a recorder's claim needs (`app/cli/claim.py`), here because every SQL statement of
SealDesk lives under app/journal (tests/architecture/test_sql_boundary.py). Each function
takes a psycopg connection in autocommit mode, of its own: a session-level advisory lock
lasts as long as that connection.

Who holds a name is read from `pg_stat_activity`, by the connection's application_name;
the client address shows only to the same role (or pg_read_all_stats): recorders that share
a role see each other's.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

# The seed of the lock's 64-bit hash: SealDesk's holds never meet another program's locks
# made with hashtextextended(name, 0).
_SEED = 23


def try_hold(conn: Any, name: str) -> bool:
    """Hold `name` on this connection unless another connection does; True when held."""
    return bool(conn.execute("SELECT pg_try_advisory_lock(hashtextextended(%s, %s))",
                             (name, _SEED)).fetchone()[0])


def hold(conn: Any, name: str, timeout_s: float) -> bool:
    """Hold `name`, waiting up to `timeout_s` for another connection to let it go (or end:
    the server lets its holds go once its backend is gone); True when held."""
    import psycopg

    conn.execute(f"SET lock_timeout = {max(1, int(timeout_s * 1000))}")
    try:
        conn.execute("SELECT pg_advisory_lock(hashtextextended(%s, %s))", (name, _SEED))
        return True
    except psycopg.errors.LockNotAvailable:
        return False
    finally:
        conn.execute("RESET lock_timeout")


def let_go(conn: Any, name: str) -> bool:
    """Let `name` go (closing the connection does too); True when it was held here."""
    return bool(conn.execute("SELECT pg_advisory_unlock(hashtextextended(%s, %s))",
                             (name, _SEED)).fetchone()[0])


def is_connected(conn: Any, application_name: str) -> bool:
    """Whether a connection with this application_name is open at the server."""
    return bool(conn.execute(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = %s)",
        (application_name,)).fetchone()[0])


def oldest_other(conn: Any, application_name: str) -> tuple[str, datetime] | None:
    """(from where, since when) of the oldest other connection with this application_name:
    its client address, or "the database's own machine" over its socket."""
    row = conn.execute(
        "SELECT coalesce(host(client_addr), 'the database''s own machine'), backend_start"
        " FROM pg_stat_activity WHERE application_name = %s AND pid <> pg_backend_pid()"
        " AND backend_start IS NOT NULL ORDER BY backend_start LIMIT 1",
        (application_name,)).fetchone()
    return (row[0], row[1]) if row else None
