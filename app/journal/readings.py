"""The charts' reads: one device's numbers from the narrow `reading` table (no JSON), and its
alarms from `push`. No Qt; run them in a worker, on its own connection.

A column is asked for as `(name in reading, zero means no reading)`, or None where the
caller does not want it (NULL comes back in its place, so the row keeps its shape). A range
with more readings than the caller wants to draw is grouped by SQLite into time buckets,
each as its minimum and maximum (`location_buckets`, `sublock_buckets`).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.journal.dialect import is_postgres

Column = tuple[str, bool] | None  # (reading column, 0 is "no reading"), or None: not wanted


def _expr(column: Column) -> str:
    if column is None:
        return "NULL"
    name, zero_is_missing = column
    return f"nullif({name}, 0)" if zero_is_missing else name


def _values(columns: Sequence[Column]) -> str:
    return ", ".join(_expr(c) for c in columns)


def _min_max(columns: Sequence[Column]) -> str:
    return ", ".join(f"min({_expr(c)}), max({_expr(c)})" if c is not None else "NULL, NULL"
                     for c in columns)


@dataclass(frozen=True, slots=True)
class ReadingRange:
    """One device's location readings (`sublocks` False) or its sub-locks' readings, in
    since <= received_at < until (None: unbounded)."""

    device: str
    since: float | None = None
    until: float | None = None
    sublocks: bool = False

    def where(self) -> tuple[str, list[Any]]:
        where, params = _time_range(self.device, self.since, self.until)
        return where + (" AND sublock IS NOT NULL" if self.sublocks else
                        " AND sublock IS NULL"), params


def _time_range(device: str, since: float | None, until: float | None
                ) -> tuple[str, list[Any]]:
    where, params = "device=?", [device]
    if since is not None:
        where += " AND received_at>=?"
        params.append(since)
    if until is not None:
        where += " AND received_at<?"
        params.append(until)
    return where, params


def more_than(conn: sqlite3.Connection, rng: ReadingRange, n: int) -> bool:
    """Whether the range holds more than `n` readings (counts no further than n + 1)."""
    where, params = rng.where()
    sql = f"SELECT count(*) FROM (SELECT 1 FROM reading WHERE {where} LIMIT {int(n) + 1}) AS r"
    return conn.execute(sql, params).fetchone()[0] > n


def bounds(conn: sqlite3.Connection, rng: ReadingRange
           ) -> tuple[float, float, int] | None:
    """(first reading's time, newest reading's time, newest reading's push id), or None."""
    where, params = rng.where()
    lo = conn.execute(f"SELECT received_at FROM reading WHERE {where} ORDER BY received_at"
                      " LIMIT 1", params).fetchone()
    hi = conn.execute(f"SELECT received_at, push_id FROM reading WHERE {where}"
                      " ORDER BY received_at DESC LIMIT 1", params).fetchone()
    if lo is None or hi is None:
        return None
    return lo[0], hi[0], hi[1]


def _bucket_table(conn: sqlite3.Connection, buckets: int) -> None:
    """temp.chart_bucket(k) = 0…buckets. Joined in k order with the index range of each
    bucket, the rows arrive grouped: SQLite aggregates them without sorting 600 000 rows
    (a GROUP BY on a computed bucket number would, which costs about as much again)."""
    outside = not conn.in_transaction
    conn.execute("CREATE TEMP TABLE IF NOT EXISTS chart_bucket (k INTEGER PRIMARY KEY)")
    if conn.execute("SELECT count(*) FROM temp.chart_bucket").fetchone()[0] != buckets + 1:
        conn.execute("DELETE FROM temp.chart_bucket")
        conn.execute("INSERT INTO temp.chart_bucket (k) WITH RECURSIVE n(k) AS (SELECT 0"
                     f" UNION ALL SELECT k + 1 FROM n WHERE k < {int(buckets)})"
                     " SELECT k FROM n")
    if outside and conn.in_transaction:  # sqlite3's implicit BEGIN: no snapshot left open
        conn.commit()


def location_buckets(conn: sqlite3.Connection, rng: ReadingRange, columns: Sequence[Column],
                     t0: float, width: float, buckets: int) -> list[tuple[Any, ...]]:
    """Location readings grouped into `buckets` + 1 buckets of `width` s from `t0`, in
    bucket order, empty buckets absent: (k, count, t_min, t_max, max(charging), min₁, max₁,
    min₂, max₂, …)."""
    _bucket_table(conn, buckets)
    where, params = rng.where()
    # "+received_at": the range bounds must not become the index range of each bucket
    # (SQLite would then scan from the bucket to the end of the range, every bucket).
    unindexed = where.replace("received_at", "+received_at")
    sql = (f"SELECT k, count(*), min(received_at), max(received_at), max(charging),"
           f" {_min_max(columns)} FROM temp.chart_bucket"
           f" JOIN reading ON received_at >= ? + k * ? AND received_at < ? + (k + 1) * ?"
           f" WHERE {unindexed} GROUP BY k ORDER BY k")
    return conn.execute(sql, [t0, width, t0, width, *params]).fetchall()


def location_rows(conn: sqlite3.Connection, rng: ReadingRange, columns: Sequence[Column],
                  limit: int) -> list[tuple[Any, ...]]:
    """The newest `limit` location readings, oldest first: (push_id, received_at, charging,
    value₁, value₂, …)."""
    where, params = rng.where()
    sql = (f"SELECT push_id, received_at, charging, {_values(columns)}"
           f" FROM reading WHERE {where} ORDER BY received_at DESC LIMIT {int(limit)}")
    rows = conn.execute(sql, params).fetchall()
    rows.reverse()
    return rows


def sublock_buckets(conn: sqlite3.Connection, rng: ReadingRange, columns: Sequence[Column],
                    t0: float, width: float) -> list[tuple[Any, ...]]:
    """Sub-lock readings grouped per sub-lock into buckets of `width` s from `t0`, by
    sub-lock then bucket: (sublock, k, count, t_min, t_max, 0, min₁, max₁, …)."""
    where, params = rng.where()
    # The bucket's number: the quotient truncated (SQLite's CAST truncates, PostgreSQL's
    # rounds, hence trunc there).
    k = ("CAST(trunc((received_at - ?) / ?) AS bigint)" if is_postgres(conn)
         else "CAST((received_at - ?) / ? AS INTEGER)")
    sql = (f"SELECT sublock, {k} AS k, count(*),"
           f" min(received_at), max(received_at), 0, {_min_max(columns)}"
           f" FROM reading WHERE {where} GROUP BY sublock, k ORDER BY sublock, k")
    return conn.execute(sql, [t0, width, *params]).fetchall()


def sublock_rows(conn: sqlite3.Connection, rng: ReadingRange, columns: Sequence[Column],
                 limit: int) -> list[tuple[Any, ...]]:
    """The newest `limit` sub-lock readings, oldest first: (push_id, received_at, sublock,
    value₁, value₂, …)."""
    where, params = rng.where()
    sql = (f"SELECT push_id, received_at, sublock, {_values(columns)}"
           f" FROM reading WHERE {where} ORDER BY received_at DESC LIMIT {int(limit)}")
    rows = conn.execute(sql, params).fetchall()
    rows.reverse()
    return rows


def alarm_marks(conn: sqlite3.Connection, device: str, since: float | None,
                until: float | None, limit: int = 100_000) -> list[tuple[Any, ...]]:
    """The device's newest `limit` alarms in the range, oldest first: (push id, received_at,
    alarmName, alarmType) (index push_device_time)."""
    where, params = _time_range(device, since, until)
    sql = (f"SELECT id, received_at, json_extract(data, '$.alarmName'),"
           f" json_extract(data, '$.alarmType') FROM push WHERE {where} AND kind='alarm'"
           f" ORDER BY received_at DESC LIMIT {int(limit)}")
    rows = conn.execute(sql, params).fetchall()
    rows.reverse()
    return rows


def reported(conn: sqlite3.Connection, device: str, columns: Sequence[Column],
             sample: int) -> list[int]:
    """How many of the device's newest `sample` location readings have each column."""
    cols = ", ".join(f"count({_expr(c)})" for c in columns)
    row = conn.execute(
        f"SELECT {cols} FROM (SELECT * FROM reading WHERE device=? AND sublock IS NULL"
        " ORDER BY received_at DESC LIMIT ?) AS r", (device, sample)).fetchone()
    return list(row)
