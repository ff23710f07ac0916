"""A PostgreSQL connection with the sqlite3 surface the journal's modules use.

The journal's readers (`commands`, `commissioning`, `readings`, `queries`, `push_query`,
`shift`, `export`, `reveals`) were written for sqlite3: `conn.execute(sql, params)` with `?`
placeholders, cursors that iterate and `fetchone`/`fetchall`, `rowcount`, `with conn:` as a
transaction, explicit `BEGIN`/`COMMIT` on an autocommit connection. `PgConnection` offers
the same on psycopg 3, so one module serves both journals, and translates the few SQLite
spellings they use (`translate`):

- `?` → `%s` (and a literal `%` → `%%`);
- `INSERT OR IGNORE INTO …` → `INSERT INTO … ON CONFLICT DO NOTHING`;
- `json_extract(col, '$.a.b')` → `(col::json #> '{a,b}')::jsonb` (psycopg gives back the
  number or string, as SQLite does); with several paths, the JSON array as text;
  `json_valid(col)` → TRUE (a PostgreSQL journal only holds JSON its writer made);
- `ifnull` → `coalesce`, `instr(a, b)` → `strpos(a, b)` (`position(b in raw)` on the raw
  payload), `CAST(raw AS TEXT)` → `encode(raw, 'escape')`;
- `LIKE` → `ILIKE` (SQLite's LIKE ignores ASCII case; PostgreSQL's does not);
- the unary `+column` that keeps SQLite off an index → `column`; `temp.` → `pg_temp.`;
- the SQL line of `search.ROW_TEXT` → the stored `line` column (pg_trgm indexes it);
- `BEGIN IMMEDIATE` → `BEGIN`; `PRAGMA table_info(t)` and `PRAGMA user_version` answered
  from the catalogue, setting PRAGMAs (busy_timeout, journal_mode…) ignored.

Where more differs than spelling (ids of new rows: RETURNING; the trigram search; chart
buckets), the module asks `is_postgres(conn)` and says its own SQL.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Any

import psycopg
from psycopg import pq

from app.journal import search
from app.journal.dialect import POSTGRESQL as DIALECT
from app.journal.dialect import is_postgres

__all__ = ["DIALECT", "PgConnection", "PgCursor", "connect", "is_postgres", "translate"]


# -- translation ------------------------------------------------------------------------------

_LITERAL = re.compile(r"'(?:[^']|'')*'")
_JSON_EXTRACT = re.compile(
    r"json_extract\(\s*([\w.]+)\s*,\s*('\$[^']*'(?:\s*,\s*'\$[^']*')*)\s*\)", re.IGNORECASE)
_JSON_VALID = re.compile(r"json_valid\(\s*[\w.]+\s*\)", re.IGNORECASE)
_UNARY_PLUS = re.compile(r"(?<![\w)\]'?])\+(?=[A-Za-z_])")
_INSERT_OR_IGNORE = re.compile(r"\bINSERT\s+OR\s+IGNORE\s+INTO\b", re.IGNORECASE)
_BEGIN = re.compile(
    r"^\s*BEGIN(?:\s+(?:IMMEDIATE|DEFERRED|EXCLUSIVE))?(?:\s+TRANSACTION)?\s*;?\s*$", re.IGNORECASE)
_PRAGMA = re.compile(r"^\s*PRAGMA\s+(\w+)\s*(?:\(\s*(\w+)\s*\)|=\s*(\S+))?\s*;?\s*$",
                     re.IGNORECASE)


def _json_path(literal: str) -> str:
    """'$.a.b' → '{a,b}' (a PostgreSQL text[] literal)."""
    path = literal.strip()[1:-1]
    if path == "$":
        return "'{}'"
    return "'{" + ",".join(path[2:].split(".")) + "}'"


def _json_extract(match: re.Match[str]) -> str:
    column = match.group(1)
    paths = _LITERAL.findall(match.group(2))
    parts = [f"(CAST({column} AS json) #> {_json_path(p)})" for p in paths]
    if len(parts) == 1:
        return f"CAST({parts[0]} AS jsonb)"
    return f"CAST(json_build_array({', '.join(parts)}) AS text)"


def _outside_literals(sql: str, change) -> str:
    """`change` applied to the text between string literals; the literals left as they are."""
    out, last = [], 0
    for m in _LITERAL.finditer(sql):
        out.append(change(sql[last:m.start()]))
        out.append(m.group(0))
        last = m.end()
    out.append(change(sql[last:]))
    return "".join(out)


def _words(text: str) -> str:
    text = _UNARY_PLUS.sub("", text)
    text = re.sub(r"\bifnull\(", "coalesce(", text, flags=re.IGNORECASE)
    text = re.sub(r"\binstr\(\s*raw\s*,\s*\?\s*\)", "position(? in raw)", text,
                  flags=re.IGNORECASE)
    text = re.sub(r"\binstr\(", "strpos(", text, flags=re.IGNORECASE)
    text = re.sub(r"\bCAST\(\s*raw\s+AS\s+TEXT\s*\)", "encode(raw, 'escape')", text,
                  flags=re.IGNORECASE)
    text = re.sub(r"\bLIKE\b", "ILIKE", text)
    return re.sub(r"\btemp\.", "pg_temp.", text, flags=re.IGNORECASE)


def _placeholders(text: str) -> str:
    return text.replace("%", "%%").replace("?", "%s")


@lru_cache(maxsize=512)
def translate(sql: str) -> str:
    """The PostgreSQL spelling of one SQLite statement of the journal's (see the module)."""
    if _BEGIN.match(sql):
        return "BEGIN"
    sql = sql.replace(search.ROW_TEXT, "line")
    sql = _JSON_EXTRACT.sub(_json_extract, sql)
    sql = _JSON_VALID.sub("TRUE", sql)
    ignore = bool(_INSERT_OR_IGNORE.search(sql))
    if ignore:
        sql = _INSERT_OR_IGNORE.sub("INSERT INTO", sql).rstrip().rstrip(";")
        sql += " ON CONFLICT DO NOTHING"
    sql = _outside_literals(sql, _words)
    # Placeholders and percent signs last: psycopg reads `%` everywhere, literals included.
    out, last = [], 0
    for m in _LITERAL.finditer(sql):
        out.append(_placeholders(sql[last:m.start()]))
        out.append(m.group(0).replace("%", "%%"))
        last = m.end()
    out.append(_placeholders(sql[last:]))
    return "".join(out)


def _params(params: Any) -> Sequence[Any]:
    """sqlite3 stores True/False as 1/0 (its columns are INTEGER): so do we."""
    if params is None:
        return ()
    if isinstance(params, dict):
        raise TypeError("named parameters are not used by the journal")
    return [int(p) if type(p) is bool else p for p in params]


# -- PRAGMA -----------------------------------------------------------------------------------

_TABLE_INFO = (
    "SELECT ordinal_position - 1, column_name::text, data_type::text,"
    " (is_nullable = 'NO')::int, column_default::text, 0 FROM information_schema.columns"
    " WHERE table_schema = current_schema() AND table_name = %s ORDER BY ordinal_position"
)
_USER_VERSION = "SELECT coalesce(max(version), 0) FROM sealdesk_schema"


def _pragma(sql: str) -> tuple[str, Sequence[Any]] | None:
    """(query, params) answering a PRAGMA, or None for one that has nothing to do here."""
    m = _PRAGMA.match(sql)
    if m is None:
        raise psycopg.NotSupportedError(f"not on PostgreSQL: {sql.strip()[:60]}")
    name, arg, value = m.group(1).lower(), m.group(2), m.group(3)
    if name == "table_info" and arg:
        return _TABLE_INFO, (arg,)
    if name == "user_version" and value is None:
        return _USER_VERSION, ()
    if value is not None or name in ("busy_timeout", "journal_mode", "synchronous"):
        return None  # SQLite's settings: PostgreSQL has its own
    raise psycopg.NotSupportedError(f"not on PostgreSQL: PRAGMA {name}")


# -- the connection ---------------------------------------------------------------------------


class PgCursor:
    """A psycopg cursor with sqlite3's manners: fetching after a statement without rows
    gives None / [] instead of raising."""

    dialect = DIALECT

    def __init__(self, conn: PgConnection) -> None:
        self.connection = conn
        self._cur: psycopg.Cursor[Any] = conn.raw.cursor()
        self._empty = False
        self.lastrowid: int | None = None

    def execute(self, sql: str, params: Any = None) -> PgCursor:
        self._empty = False
        if sql.lstrip()[:6].upper() == "PRAGMA":
            answer = _pragma(sql)
            if answer is None:
                self._empty = True
                return self
            self._cur.execute(answer[0], answer[1])
            return self
        handler = self.connection._progress
        if handler is None:
            self._cur.execute(translate(sql), _params(params))
            return self
        done = threading.Event()
        watcher = threading.Thread(target=self.connection._watch, args=(handler, done),
                                   name="journal-cancel", daemon=True)
        watcher.start()
        try:
            self._cur.execute(translate(sql), _params(params))
        finally:
            done.set()
            watcher.join()
        return self

    def executemany(self, sql: str, seq: Iterable[Any]) -> PgCursor:
        self._empty = False
        self._cur.executemany(translate(sql), [_params(p) for p in seq])
        return self

    def _rows(self) -> bool:
        return not self._empty and self._cur.description is not None

    def fetchone(self) -> tuple[Any, ...] | None:
        return self._cur.fetchone() if self._rows() else None

    def fetchall(self) -> list[tuple[Any, ...]]:
        return self._cur.fetchall() if self._rows() else []

    def fetchmany(self, size: int = 1) -> list[tuple[Any, ...]]:
        return self._cur.fetchmany(size) if self._rows() else []

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        if self._rows():
            yield from self._cur

    @property
    def rowcount(self) -> int:
        return -1 if self._empty else self._cur.rowcount

    @property
    def description(self) -> Any:
        return None if self._empty else self._cur.description

    def close(self) -> None:
        self._cur.close()


class PgConnection:
    """sqlite3.Connection's surface on a psycopg connection in autocommit mode: each
    statement commits alone unless a `BEGIN` (or `with conn:`) opened a transaction.
    psycopg serialises its use from several threads, as `check_same_thread=False` allows."""

    dialect = DIALECT

    # How often a statement under a progress handler asks it whether to go on.
    PROGRESS_POLL_S = 0.05

    def __init__(self, raw: psycopg.Connection[Any]) -> None:
        self.raw = raw
        self._progress: Any = None

    @property
    def in_transaction(self) -> bool:
        return self.raw.info.transaction_status != pq.TransactionStatus.IDLE

    def cursor(self) -> PgCursor:
        return PgCursor(self)

    def execute(self, sql: str, params: Any = None) -> PgCursor:
        return self.cursor().execute(sql, params)

    def executemany(self, sql: str, seq: Iterable[Any]) -> PgCursor:
        return self.cursor().executemany(sql, seq)

    def commit(self) -> None:
        if self.in_transaction:
            self.raw.execute("COMMIT")

    def rollback(self) -> None:
        if self.in_transaction:
            self.raw.execute("ROLLBACK")

    def close(self) -> None:
        self.raw.close()

    @property
    def closed(self) -> bool:
        return self.raw.closed

    def set_progress_handler(self, handler: Any, n: int) -> None:
        """sqlite3's way to interrupt a statement (the handler returns true: stop). Here a
        statement run while a handler is set is watched from a thread that asks the
        handler every PROGRESS_POLL_S and cancels the statement at the server when it says
        so; the statement then raises psycopg's QueryCanceled. `n` (SQLite's VM steps)
        has no meaning here."""
        self._progress = handler

    def _watch(self, handler: Any, done: threading.Event) -> None:
        while not done.wait(self.PROGRESS_POLL_S):
            try:
                stop = handler()
            except Exception:
                return
            if stop:
                self.cancel()
                return

    def cancel(self) -> None:
        """Interrupt the statement running on this connection (from another thread)."""
        self.raw.cancel_safe()

    def __enter__(self) -> PgConnection:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        # As sqlite3: commit what the block did, roll it back on an exception.
        if exc_type is None:
            self.commit()
        else:
            self.rollback()


def connect(url: str, *, readonly: bool = False, migrate: bool = True) -> PgConnection:
    """A connection to the journal at `url`; its schema brought up to date unless
    `readonly` (a read-only connection refuses every write, at the server)."""
    from app.journal import pg_schema

    options = "-c default_transaction_read_only=on" if readonly else None
    raw = psycopg.connect(url, autocommit=True, options=options) if options else \
        psycopg.connect(url, autocommit=True)
    try:
        if migrate and not readonly:
            pg_schema.migrate(raw)
        else:
            pg_schema.check(raw)
    except BaseException:
        raw.close()
        raise
    return PgConnection(raw)
