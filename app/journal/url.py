"""Where a journal is: a SQLite file path, or a `postgresql://` URL (team mode, issue 23).

Every place that takes a journal (`record`, `export`, `send`, `commission`, `report`, the
window) opens it with `open_journal`, so a path and a URL work alike: a path gives the
SQLite `Journal` (the default, and the demo's), a URL the shared `PgJournal`. Code that
catches a journal's failures catches `JOURNAL_ERRORS`, which holds both drivers' errors.

A URL carries no password in settings or on the command line: libpq finds it in
`PGPASSFILE` (default ~/.pgpass) or the service file; see `app/journal/pg.py` for roles and
TLS (`sslmode=verify-full`).
"""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

if TYPE_CHECKING:
    from app.journal.pg import PgJournal
    from app.journal.store import Journal

    JOURNAL_ERRORS: tuple[type[BaseException], ...]

SCHEMES = ("postgresql://", "postgres://")


def _journal_errors() -> tuple[type[BaseException], ...]:
    try:
        import psycopg
    except ImportError:  # psycopg is a dependency; without it only SQLite journals open
        return (sqlite3.Error,)
    return (sqlite3.Error, psycopg.Error)


def __getattr__(name: str) -> Any:
    """`JOURNAL_ERRORS` — (sqlite3.Error, psycopg.Error), for `except` clauses — made when
    first imported: psycopg takes ~80 ms to import, which a SQLite-only start never pays."""
    if name == "JOURNAL_ERRORS":
        errors = _journal_errors()
        globals()["JOURNAL_ERRORS"] = errors
        return errors
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def is_journal_url(target: object) -> bool:
    """A PostgreSQL URL (postgresql:// or postgres://), not a file path."""
    return isinstance(target, str) and target.strip().lower().startswith(SCHEMES)


def open_journal(target: str | Path, *, readonly: bool = False) -> Journal | PgJournal:
    """The journal at `target`: `PgJournal` for a URL, the SQLite `Journal` for a path.
    Both are migrated on open unless `readonly`."""
    if is_journal_url(target):
        from app.journal.pg import PgJournal

        return PgJournal(str(target).strip(), readonly=readonly)
    from app.journal.store import Journal

    return Journal(target, readonly=readonly)


def connect(target: str | Path, *, readonly: bool = False) -> Any:
    """A connection of its own to the journal at `target` (sqlite3-like for a URL too:
    `app.journal.pgconn.PgConnection`), its schema migrated unless `readonly` — what
    `commands.connect` and `CommissioningTable` use beside a journal writer."""
    if is_journal_url(target):
        from app.journal.pgconn import connect as pg_connect

        return pg_connect(str(target).strip(), readonly=readonly)
    raise ValueError(f"not a journal URL: {target!r}")


def target_of(text: str | Path) -> str | Path:
    """A `--journal` argument as a journal target: a URL kept as written (a Path would fold
    its "//"), anything else a Path."""
    return str(text).strip() if is_journal_url(text) else Path(text)


def exists(target: str | Path) -> bool:
    """Whether there is a journal to read: a file for a path; a URL is asked when opened."""
    return is_journal_url(target) or Path(target).is_file()


def display(target: str | Path) -> str:
    """The journal's name for people and logs: a URL without any password in it."""
    if not is_journal_url(target):
        return str(target)
    parts = urlsplit(str(target).strip())
    if parts.password is None:
        return str(target).strip()
    host = parts.hostname or ""
    if parts.port is not None:
        host += f":{parts.port}"
    user = f"{parts.username}@" if parts.username else ""
    return urlunsplit((parts.scheme, user + host, parts.path, parts.query, parts.fragment))


def retryable_errors() -> tuple[type[BaseException], ...]:
    """What a journal raises that may pass — busy, locked, disk full (sqlite3); the
    connection lost, the server restarting, a serialisation failure (psycopg) — kept and
    retried by the writers."""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.OperationalError,)
    return (sqlite3.OperationalError, psycopg.OperationalError, psycopg.InterfaceError)


def fatal_errors() -> tuple[type[BaseException], ...]:
    """What a journal raises that stops its writer: damaged, refused, no such table…"""
    try:
        import psycopg
    except ImportError:
        return (sqlite3.DatabaseError,)
    return (sqlite3.DatabaseError, psycopg.DatabaseError)
