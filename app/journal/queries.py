"""Small reads of the journal for the window's views: a page of one kind, who acknowledged
which alarms, a device's track. No Qt: each runs on the caller's connection and thread.

Every SQL statement of SealDesk lives under `app/journal/`, and a test checks it
(`tests/architecture/test_sql_boundary.py`): the views ask for rows here, in the push
log's `push_query`, the charts' `readings`, the command audit's `commands` and the
commissioning sessions' `commissioning`. Also: benchmark journals (`fill_fast`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from app.journal import url
from app.journal.store import Journal, JournalRow


def connect_readonly(path: str | Path, timeout: float = 5) -> sqlite3.Connection:
    """A short-lived read-only connection (no migration: the file may be any version); a
    `postgresql://` URL gives a read-only `PgConnection`."""
    if url.is_journal_url(path):
        return url.connect(path, readonly=True)
    return sqlite3.connect(f"file:{Path(path)}?mode=ro", uri=True, timeout=timeout)


_PAGE_SQL = (
    "SELECT id, received_at, source, profile, topic, kind, device, sublock, raw, data, errors"
    # "+kind": walk the primary key backwards instead of sorting every row of the kind
    # (push_kind_time is ordered by time, not id) — see the report on a (kind, id) index.
    " FROM push WHERE +kind = ? AND id < ? ORDER BY id DESC LIMIT ?"
)


def newest_page(journal: Journal, kind: str, before_id: int | None, limit: int
                ) -> list[JournalRow]:
    """The newest `limit` rows of `kind` with id < before_id, newest first."""
    before = before_id if before_id is not None else 1 << 62
    return [JournalRow.from_sql(r) for r in journal.conn.execute(_PAGE_SQL, (kind, before, limit))]


def acknowledgements_between(journal: Journal, lo: int, hi: int
                             ) -> dict[int, tuple[float, str, str, str]]:
    """push id → (when, by whom, reason, note) of the acknowledged alarms with
    lo <= push id <= hi."""
    rows = journal.conn.execute(
        "SELECT push_id, acked_at, operator, reason, note FROM alarm_ack"
        " WHERE push_id BETWEEN ? AND ?",
        (lo, hi),
    )
    return {push_id: (at, operator, reason, note) for push_id, at, operator, reason, note in rows}


def track_rows(conn: sqlite3.Connection, device_id: str, since: float, limit: int
               ) -> Iterator[tuple[Any, ...]]:
    """A device's locations and alarms since `since`, in time order, at most `limit`:
    (received_at, kind, latitude, longitude, locType, alarmName, alarmType), read as they
    are consumed (a week of one-second fixes is never a list in memory)."""
    return iter(conn.execute(
        "SELECT received_at, kind, json_extract(data, '$.latitude'),"
        " json_extract(data, '$.longitude'), json_extract(data, '$.locType'),"
        " json_extract(data, '$.alarmName'), json_extract(data, '$.alarmType')"
        " FROM push WHERE device=? AND received_at>=? AND kind IN ('location', 'alarm')"
        f" ORDER BY received_at LIMIT {int(limit)}",
        (device_id, since),
    ))


def oldest_push_at(conn: sqlite3.Connection, device: str) -> float | None:
    """When the device's first journaled push arrived (None: no push)."""
    row = conn.execute("SELECT min(received_at) FROM push WHERE device=?", (device,)).fetchone()
    return row[0] if row else None


def newest_device(journal: Journal) -> str | None:
    """The device of the newest push."""
    row = journal.conn.execute("SELECT device FROM push ORDER BY id DESC LIMIT 1").fetchone()
    return row[0] if row else None


def fill_fast(path: str | Path, rows: Iterable[tuple[Any, ...]]) -> None:
    """Append raw push rows (received_at, source, profile, topic, kind, device, sublock, raw,
    data, errors) to an existing journal in one transaction, unsynced: a benchmark's
    synthetic journal, never a real one (no `reading` rows, a power cut may lose it)."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")
        conn.execute("BEGIN")
        conn.executemany(
            "INSERT INTO push (received_at, source, profile, topic, kind, device, sublock, raw,"
            " data, errors) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
        conn.execute("COMMIT")
    finally:
        conn.close()
