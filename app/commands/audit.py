"""The command audit: who sent what to which device, when, and what came of it.

Rows live in the journal's `command` table (migration 3), next to the pushes that answered
them (`reply_push_id`). This module opens its own SQLite connection: the journal writer
owns its connection on its own thread, and WAL lets both write the same file.
"""

from __future__ import annotations

import csv
import getpass
import io
import json
import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app.commands.tracker import CommandTracker, TrackedCommand
from app.journal.schema import migrate

_COLUMNS = (
    "id, profile, device, sublock, operator, text, name, serial, dangerous, created_at,"
    " sent_at, state, reason, reply_push_id, reply, answered_at"
)


def current_operator() -> str:
    """The OS user; never fails (a service account may have no login name)."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


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
    """Open (and migrate) the journal for audit use; safe to share between threads."""
    conn = sqlite3.connect(str(path), timeout=30, check_same_thread=False, isolation_level=None)
    conn.execute("PRAGMA busy_timeout=30000")
    migrate(conn)
    if str(path) != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    return conn


def _reply_json(reply: Any) -> str | None:
    if reply is None:
        return None
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":"))


class AuditLog:
    """Writes tracker state changes as audit rows: one insert per command, then updates."""

    def __init__(self, conn_or_path: sqlite3.Connection | str | Path) -> None:
        self.conn = (
            conn_or_path if isinstance(conn_or_path, sqlite3.Connection) else connect(conn_or_path)
        )
        self._lock = threading.Lock()
        self._rows: dict[int, int] = {}  # tracker id → audit row id

    def attach(self, tracker: CommandTracker) -> AuditLog:
        """Record every change of `tracker` from now on (listener runs on the changer's thread)."""
        tracker.add_listener(self.write)
        return self

    def write(self, tc: TrackedCommand) -> int:
        """Insert or update the row of one tracked command; returns the row id."""
        c = tc.command
        values = (
            tc.profile,
            c.device,
            c.sublock,
            tc.operator or current_operator(),
            c.text,
            c.name,
            c.serial,
            int(c.dangerous),
            tc.created_at,
            tc.sent_at,
            tc.state.value,
            tc.reason or None,
            tc.reply_push_id,
            _reply_json(tc.reply),
            tc.answered_at,
        )
        with self._lock:
            row = self._rows.get(tc.id)
            if row is None:
                cur = self.conn.execute(
                    "INSERT INTO command (profile, device, sublock, operator, text, name, serial,"
                    " dangerous, created_at, sent_at, state, reason, reply_push_id, reply,"
                    " answered_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                    values,
                )
                row = int(cur.lastrowid or 0)
                self._rows[tc.id] = row
            else:
                self.conn.execute(
                    "UPDATE command SET profile=?, device=?, sublock=?, operator=?, text=?,"
                    " name=?, serial=?, dangerous=?, created_at=?, sent_at=?, state=?, reason=?,"
                    " reply_push_id=?, reply=?, answered_at=? WHERE id=?",
                    (*values, row),
                )
            return row

    def row_id(self, tracker_id: int) -> int | None:
        with self._lock:
            return self._rows.get(tracker_id)

    def close(self) -> None:
        with self._lock:
            self.conn.close()


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


CSV_HEADER = (
    "id",
    "profile",
    "device",
    "sublock",
    "operator",
    "text",
    "name",
    "serial",
    "dangerous",
    "created_at",
    "sent_at",
    "state",
    "reason",
    "reply_push_id",
    "reply",
    "answered_at",
)


def _iso(ts: float | None) -> str:
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def export_csv(rows: Iterable[AuditRow], out: str | Path | IO[str]) -> int:
    """Write rows as CSV (times in UTC ISO-8601); returns the number of rows written."""
    own = not isinstance(out, io.TextIOBase) and not hasattr(out, "write")
    fh: IO[str] = open(out, "w", newline="", encoding="utf-8") if own else out  # type: ignore[arg-type, assignment]  # noqa: SIM115
    try:
        w = csv.writer(fh)
        w.writerow(CSV_HEADER)
        n = 0
        for r in rows:
            w.writerow(
                (
                    r.id,
                    r.profile,
                    r.device,
                    r.sublock or "",
                    r.operator,
                    r.text,
                    r.name,
                    r.serial or "",
                    int(r.dangerous),
                    _iso(r.created_at),
                    _iso(r.sent_at),
                    r.state,
                    r.reason or "",
                    r.reply_push_id or "",
                    _reply_json(r.reply) or "",
                    _iso(r.answered_at),
                )
            )
            n += 1
        return n
    finally:
        if own:
            fh.close()
