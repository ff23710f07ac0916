"""The push log's journal queries: a filter, pages by id keyset, exports. No Qt, any thread.

Paging is by id keyset (`id < before_id ORDER BY id DESC LIMIT n`): the primary key makes
the unfiltered case a range scan however big the journal is. The journal's secondary
indexes are on (device, received_at) and (kind, received_at) — they find a device's rows
but cannot give them in id order, so SQLite would sort *all* of a device's (or a kind's)
rows to return the newest 500. `fetch_page_raw` therefore first walks a short window of ids
just below `before_id` with the indexes disabled (`+column`) — enough for any common device
or kind — and only then asks the index, for ids alone (the index holds device/kind,
received_at and the rowid, so sorting a selective filter's ids never touches the table),
and reads those rows by primary key, where the rest of the filter (text, errors, source)
is applied. Indexes on (device, id) and (kind, id) would make this one range scan; see
the panel's notes.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.journal import search
from app.journal.dialect import is_postgres
from app.journal.store import JournalRow
from app.protocol.push import PushRecord

SCAN_WINDOW = 2_000  # ids walked below before_id before an index takes over
ID_CHUNK = 2_000  # candidate ids per round when part of the filter is not in the index
TEXT_CHUNK_MAX = 20_000  # ids of a decoded-text search in one round (SQLite's 32 766 params)
_FULL_COLUMNS = "id, received_at, source, profile, topic, kind, device, sublock, raw, data, errors"


@lru_cache(maxsize=8)
def page_columns(fields: tuple[str, ...]) -> str:
    """A page row: id, received_at, source, profile, kind, device, sublock, [the values of
    `fields` (paths in the decoded data, e.g. "statusJson.lockStatus") as one JSON array],
    errors. SQLite pulls them out of `data` (C, one parse per row): much cheaper than
    json.loads of the whole document in Python for every row of a page."""
    extract = ", ".join(f"'$.{f}'" for f in fields)
    return ("id, received_at, source, profile, kind, device, sublock,"
            f" CASE WHEN json_valid(data) THEN json_extract(data, {extract}) END, errors")


# -- the filter ---------------------------------------------------------------------------


class Cancelled(Exception):
    """A query or export was cancelled (a newer filter, or the user)."""


# -- the filter ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushFilter:
    """What the push log shows. Empty fields match everything."""

    device: str = ""
    kind: str = ""
    source: str = ""
    # Searched in each push's decoded line (names, ids, card…: app/journal/search.py), and
    # with `raw` in the raw payload too (ASCII case-insensitive like SQL LIKE, any bytes).
    text: str = ""
    raw: bool = True  # the push log asks for it only when ticked: it scans every payload
    since: float | None = None  # received_at >= since
    until: float | None = None  # received_at < until
    errors_only: bool = False

    @property
    def empty(self) -> bool:
        return self.without_text() == PushFilter() and not self.text

    def without_text(self) -> PushFilter:
        return PushFilter(self.device, self.kind, self.source, "", True, self.since,
                          self.until, self.errors_only)

    @property
    def slow(self) -> bool:
        """No index can help: the query may scan the whole journal."""
        text_scan = bool(self.text) and (self.raw or len(self.text) < 3)
        return text_scan or self.errors_only or bool(self.source)

    def clauses(self, *, hint_scan: bool) -> tuple[list[str], list[Any]]:
        """SQL conditions without the id bounds. `hint_scan` disables the secondary indexes
        (unary +), so SQLite walks the primary key backwards and stops at LIMIT."""
        p = "+" if hint_scan else ""
        clauses: list[str] = []
        params: list[Any] = []
        if self.device:
            clauses.append(f"{p}device = ?")
            params.append(self.device)
        if self.kind:
            clauses.append(f"{p}kind = ?")
            params.append(self.kind)
        if self.source:
            clauses.append("source = ?")
            params.append(self.source)
        if self.since is not None:
            clauses.append(f"{p}received_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{p}received_at < ?")
            params.append(self.until)
        if self.errors_only:
            clauses.append("errors IS NOT NULL")
        if self.text:
            terms: list[str] = []
            if self.raw:
                # LIKE sees text only up to a NUL byte; instr() on the blob finds the exact
                # bytes anywhere (garbage payloads do contain NULs).
                terms += ["CAST(raw AS TEXT) LIKE ? ESCAPE '\\'", "instr(raw, ?) > 0"]
                params += ["%" + like_escape(self.text) + "%", self.text.encode("utf-8")]
            clause, more = search.row_clause(self.text)  # the decoded line
            terms.append(clause)
            params += more
            clauses.append("(" + " OR ".join(terms) + ")")
        return clauses, params

    def matches(self, rec: PushRecord) -> bool:
        """The same test as the SQL, for a live record (no journal round trip)."""
        raw = rec.raw
        if self.device and rec.device != self.device:
            return False
        if self.kind and rec.kind != self.kind:
            return False
        if self.source and raw.source != self.source:
            return False
        if self.since is not None and raw.received_at < self.since:
            return False
        if self.until is not None and raw.received_at >= self.until:
            return False
        if self.errors_only and not rec.errors:
            return False
        if not self.text:
            return True
        if search.matches(self.text, rec.kind, rec.device, rec.sublock, rec.data):
            return True
        if not self.raw:
            return False
        # As the SQL: ASCII case-insensitive up to the first NUL (bytes.lower() folds ASCII
        # only, like LIKE), exact bytes anywhere.
        needle = self.text.encode("utf-8")
        payload = raw.payload
        return needle.lower() in payload.split(b"\0", 1)[0].lower() or needle in payload

    def describe(self) -> str:
        parts = []
        if self.device:
            parts.append(f"device {self.device}")
        if self.kind:
            parts.append(self.kind)
        if self.source:
            parts.append(self.source)
        if self.text:
            parts.append(f"“{self.text}”" + (" (raw payloads too)" if self.raw else ""))
        if self.since is not None:
            parts.append("from " + time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since)))
        if self.until is not None:
            parts.append("to " + time.strftime("%Y-%m-%d %H:%M", time.localtime(self.until)))
        if self.errors_only:
            parts.append("with errors")
        return ", ".join(parts) or "all pushes"


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


# -- queries -------------------------------------------------------------------------------


def _install_cancel(conn: sqlite3.Connection, cancelled: Callable[[], bool] | None) -> None:
    if cancelled is None:
        conn.set_progress_handler(None, 0)
    else:
        # Returning non-zero makes SQLite abort the statement ("interrupted").
        conn.set_progress_handler(lambda: 1 if cancelled() else 0, 20_000)


def _run(
    conn: sqlite3.Connection, sql: str, params: list[Any], cancelled: Callable[[], bool] | None
) -> list[tuple[Any, ...]]:
    _install_cancel(conn, cancelled)
    try:
        return conn.execute(sql, params).fetchall()
    except Exception as exc:  # sqlite3's "interrupted", PostgreSQL's QueryCanceled
        if cancelled is not None and cancelled():
            raise Cancelled() from exc
        raise
    finally:
        conn.set_progress_handler(None, 0)


def _page_sql(flt: PushFilter, *, lo: int | None, hi: int | None, hint_scan: bool,
              columns: str) -> tuple[str, list[Any]]:
    clauses, params = flt.clauses(hint_scan=hint_scan)
    if hi is not None:
        clauses.append("id < ?")
        params.append(hi)
    if lo is not None:
        clauses.append("id >= ?")
        params.append(lo)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return f"SELECT {columns} FROM push{where} ORDER BY id DESC LIMIT ?", params


def _split(flt: PushFilter) -> tuple[PushFilter | None, PushFilter]:
    """(what one index answers alone, the rest). The journal's indexes hold
    (device, received_at, rowid), (kind, received_at, rowid) and (received_at, rowid)."""
    if not (flt.device or flt.kind or flt.since is not None or flt.until is not None):
        return None, flt
    by_device = bool(flt.device)
    index_part = PushFilter(device=flt.device, kind="" if by_device else flt.kind,
                            since=flt.since, until=flt.until)
    residual = PushFilter(kind=flt.kind if by_device else "", source=flt.source,
                          text=flt.text, raw=flt.raw, errors_only=flt.errors_only)
    return index_part, residual


def keyed_columns(conn: sqlite3.Connection) -> frozenset[str]:
    """Columns c with an index on push (c, id): "newest rows where c = ?" is then one range
    scan in id order (schema 5 adds (kind, id)). Read from the journal, not assumed."""
    if is_postgres(conn):  # made with both (pg_schema.py)
        return frozenset(("device", "kind"))
    found = set()
    for row in conn.execute("PRAGMA index_list(push)").fetchall():
        cols = [r[2] for r in conn.execute(f"PRAGMA index_info({row[1]})").fetchall()]
        if len(cols) == 2 and cols[1] in ("id", None):  # the rowid alias
            found.add(cols[0])
    return frozenset(c for c in found if c)


def fetch_page_raw(
    conn: sqlite3.Connection,
    flt: PushFilter,
    before_id: int | None,
    limit: int,
    *,
    fields: Sequence[str],
    cancelled: Callable[[], bool] | None = None,
) -> list[tuple[Any, ...]]:
    """The newest `limit` rows matching `flt` with id < before_id, newest first, as
    `page_columns(fields)` tuples."""
    if limit <= 0:
        return []
    columns = page_columns(tuple(fields))
    if flt.text and not flt.raw and not flt.device and search.can_drive(conn, flt.text):
        # What people read, and only that: the trigram index lists the matches newest
        # first; a device's own rows are fewer, so with a device its index leads instead.
        return _driven_by_text(conn, flt, before_id, limit, columns, cancelled)
    keyed = keyed_columns(conn) if (flt.device or flt.kind) else frozenset()
    by = "device" if flt.device and "device" in keyed else \
        "kind" if flt.kind and not flt.device and "kind" in keyed else ""
    if by:  # an index on (column, id): one range scan, newest first, stops at LIMIT
        clauses, params = flt.clauses(hint_scan=True)  # every index off but this one:
        clauses[0] = f"{by} = ?"  # device (or kind without device) comes first
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        sql = f"SELECT {columns} FROM push WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?"
        return _run(conn, sql, [*params, limit], cancelled)
    index_part, residual = _split(flt)
    if index_part is None:  # primary key walk, stops at LIMIT
        sql, params = _page_sql(flt, lo=None, hi=before_id, hint_scan=False, columns=columns)
        return _run(conn, sql, [*params, limit], cancelled)
    hi = before_id
    if hi is None:
        top = conn.execute("SELECT max(id) FROM push").fetchone()[0]
        if top is None:
            return []
        hi = top + 1
    # 1. A short walk down the primary key: enough for any common device, kind or recent time.
    lo = max(1, hi - SCAN_WINDOW)
    sql, params = _page_sql(flt, lo=lo, hi=hi, hint_scan=True, columns=columns)
    rows = _run(conn, sql, [*params, limit], cancelled)
    # 2. Candidate ids from the index alone (sorting ids never touches the table), then
    #    their rows by primary key, the rest of the filter applied there.
    cursor = lo
    chunk = limit if residual.empty else max(limit, ID_CHUNK)
    res_clauses, res_params = residual.clauses(hint_scan=True)
    while len(rows) < limit and cursor > 1:
        # `+id`: keep SQLite off the primary key here (it would walk the table to the range).
        clauses, params = index_part.clauses(hint_scan=False)
        sql = (f"SELECT id FROM push WHERE {' AND '.join([*clauses, '+id < ?'])}"
               " ORDER BY id DESC LIMIT ?")
        ids = [r[0] for r in _run(conn, sql, [*params, cursor, chunk], cancelled)]
        if not ids:
            break
        where = " AND ".join([f"id IN ({','.join('?' * len(ids))})", *res_clauses])
        got = _run(conn, f"SELECT {columns} FROM push WHERE {where} ORDER BY id DESC",
                   [*ids, *res_params], cancelled)
        rows.extend(got[: limit - len(rows)])
        if len(ids) < chunk:
            break
        cursor = ids[-1]
    return rows


def fetch_newer_raw(
    conn: sqlite3.Connection,
    flt: PushFilter,
    after_id: int,
    limit: int,
    *,
    fields: Sequence[str],
    cancelled: Callable[[], bool] | None = None,
) -> list[tuple[Any, ...]]:
    """Rows newer than `after_id` (catching up after a pause), newest first, at most `limit`,
    as `page_columns(fields)` tuples."""
    clauses, params = flt.clauses(hint_scan=True)
    clauses.append("id > ?")
    params.append(after_id)
    sql = (f"SELECT {page_columns(tuple(fields))} FROM push WHERE {' AND '.join(clauses)}"
           " ORDER BY id DESC LIMIT ?")
    return _run(conn, sql, [*params, limit], cancelled)


def iter_rows(
    conn: sqlite3.Connection,
    flt: PushFilter,
    *,
    max_id: int | None = None,
    page: int = 2000,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[JournalRow]:
    """Every row matching `flt` (up to max_id), oldest first, streamed page by page — for
    exports. Each page is a keyset query, so the read transaction is never held long."""
    after = 0
    while True:
        clauses, params = flt.clauses(hint_scan=True)
        clauses.append("id > ?")
        params.append(after)
        if max_id is not None:
            clauses.append("id <= ?")
            params.append(max_id)
        sql = (f"SELECT {_FULL_COLUMNS} FROM push WHERE {' AND '.join(clauses)}"
               " ORDER BY id ASC LIMIT ?")
        rows = _run(conn, sql, [*params, page], cancelled)
        for r in rows:
            yield JournalRow.from_sql(r)
        if len(rows) < page:
            return
        after = rows[-1][0]


def count_rows(
    conn: sqlite3.Connection,
    flt: PushFilter,
    *,
    max_id: int | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    clauses, params = flt.clauses(hint_scan=False)
    if max_id is not None:
        clauses.append("id <= ?")
        params.append(max_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return int(_run(conn, f"SELECT count(*) FROM push{where}", params, cancelled)[0][0])


def _driven_by_text(conn: sqlite3.Connection, flt: PushFilter, before_id: int | None,
                    limit: int, columns: str,
                    cancelled: Callable[[], bool] | None) -> list[tuple[Any, ...]]:
    """Pages of a decoded-text search: ids from the trigram index, newest first, then their
    rows by primary key with the rest of the filter (kind, source, time, errors) applied.
    Each round asks the index for 4x more ids than the last, up to TEXT_CHUNK_MAX."""
    rest = flt.without_text()
    res_clauses, res_params = rest.clauses(hint_scan=True)
    rows: list[tuple[Any, ...]] = []
    cursor = before_id
    chunk = limit if rest.empty else max(limit, ID_CHUNK)
    while len(rows) < limit:
        ids = search.candidates(conn, flt.text, cursor, chunk,
                                run=lambda c, sql, p: _run(c, sql, p, cancelled))
        if not ids:
            break
        where = " AND ".join([f"id IN ({','.join('?' * len(ids))})", *res_clauses])
        got = _run(conn, f"SELECT {columns} FROM push WHERE {where} ORDER BY id DESC",
                   [*ids, *res_params], cancelled)
        rows.extend(got[: limit - len(rows)])
        if len(ids) < chunk:
            break
        cursor = ids[-1]
        chunk = min(chunk * 4, TEXT_CHUNK_MAX)
    return rows


def max_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM push").fetchone()[0])
