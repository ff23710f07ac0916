"""The command audit table (`command`, migration 3): one row per command sent, by whom, and
what came of it, next to the push that answered it (`reply_push_id`). No Qt.

Its own connection (`connect`): the journal writer owns its connection on its own
thread, and WAL lets both write the same file; a `postgresql://` journal (team mode) gets a
connection of its own to the shared database, with the same surface (`pgconn`).
`app/commands/audit.py` keeps a tracker's commands here.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.journal import url
from app.journal.dialect import is_postgres
from app.journal.schema import migrate

_COLUMNS = (
    "id, profile, device, sublock, operator, text, name, serial, dangerous, created_at,"
    " sent_at, state, reason, reply_push_id, reply, answered_at"
)


@dataclass(frozen=True, slots=True)
class AuditRow:
    id: int
    profile: str
    device: str
    sublock: str | None
    operator: str
    text: str
    name: str
    serial: str | None
    dangerous: bool
    created_at: float
    sent_at: float | None
    state: str
    reason: str | None
    reply_push_id: int | None
    reply: Any
    answered_at: float | None

    @classmethod
    def from_sql(cls, r: tuple[Any, ...]) -> AuditRow:
        reply = json.loads(r[14]) if r[14] else None
        return cls(
            r[0],
            r[1],
            r[2],
            r[3],
            r[4],
            r[5],
            r[6],
            r[7],
            bool(r[8]),
            r[9],
            r[10],
            r[11],
            r[12],
            r[13],
            reply,
            r[15],
        )


def connect(path: str | Path) -> sqlite3.Connection:
    """Open (and migrate) the journal for audit use; safe to share between threads. A
    `postgresql://` URL gives a `PgConnection` with the same surface."""
    if url.is_journal_url(path):
        return url.connect(path)
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    migrate(conn)
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    return conn


def insert(conn: sqlite3.Connection, values: tuple[Any, ...]) -> int:
    """A new row: `values` are (profile, device, sublock, operator, text, name, serial,
    dangerous, created_at, sent_at, state, reason, reply_push_id, reply (JSON text),
    answered_at). Returns its id."""
    sql = ("INSERT INTO command (profile, device, sublock, operator, text, name, serial,"
           " dangerous, created_at, sent_at, state, reason, reply_push_id, reply,"
           " answered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)")
    if is_postgres(conn):  # no last_insert_rowid: the row says its id
        return int(conn.execute(sql + " RETURNING id", values).fetchone()[0])
    return int(conn.execute(sql, values).lastrowid or 0)


def update(conn: sqlite3.Connection, row_id: int, values: tuple[Any, ...]) -> None:
    """Row `row_id` rewritten with `values` (as for `insert`)."""
    conn.execute(
        "UPDATE command SET profile=?, device=?, sublock=?, operator=?, text=?,"
        " name=?, serial=?, dangerous=?, created_at=?, sent_at=?, state=?, reason=?,"
        " reply_push_id=?, reply=?, answered_at=? WHERE id=?",
        (*values, row_id),
    )


def search(
    conn: sqlite3.Connection,
    *,
    device: str | None = None,
    text: str | None = None,
    since: float | None = None,
    until: float | None = None,
    state: str | None = None,
    operator: str | None = None,
    limit: int = 1000,
) -> list[AuditRow]:
    """Newest first. `text` matches anywhere in the command text or the reply."""
    where, args = [], []
    if device:
        where.append("device = ?")
        args.append(device)
    if text:
        where.append("(instr(text, ?) > 0 OR instr(coalesce(reply, ''), ?) > 0)")
        args += [text, text]
    if since is not None:
        where.append("created_at >= ?")
        args.append(since)
    if until is not None:
        where.append("created_at < ?")
        args.append(until)
    if state:
        where.append("state = ?")
        args.append(state)
    if operator:
        where.append("operator = ?")
        args.append(operator)
    sql = f"SELECT {_COLUMNS} FROM command"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += " ORDER BY created_at DESC, id DESC LIMIT ?"
    args.append(int(limit))
    return [AuditRow.from_sql(r) for r in conn.execute(sql, args)]


def device_history(conn: sqlite3.Connection, device: str, limit: int = 200) -> list[AuditRow]:
    """A device's commands, newest first (its detail pane)."""
    return search(conn, device=device, limit=limit)


def last_serial(conn: sqlite3.Connection, device: str) -> str | None:
    """The serial of the device's latest long-form command, to seed a SerialCounter."""
    row = conn.execute(
        "SELECT serial FROM command WHERE device = ? AND serial IS NOT NULL"
        " ORDER BY created_at DESC, id DESC LIMIT 1",
        (device,),
    ).fetchone()
    return row[0] if row else None
