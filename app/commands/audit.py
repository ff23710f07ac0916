"""The command audit: who sent what to which device, when, and what came of it.

Rows live in the journal's `command` table (migration 3), next to the pushes that answered
them (`reply_push_id`); `app/journal/commands.py` reads and writes them (`search`,
`device_history`, `last_serial` and `connect` are its own, used through this module too).
`AuditLog` keeps a tracker's commands there.
"""

from __future__ import annotations

import getpass
import io
import json
import sqlite3
import threading
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from app import csvsafe
from app.commands.tracker import CommandTracker, TrackedCommand
from app.journal import commands
from app.journal.commands import AuditRow, connect, device_history, last_serial, search

__all__ = [
    "CSV_HEADER", "AuditLog", "AuditRow", "connect", "current_operator", "device_history",
    "export_csv", "last_serial", "search",
]


def current_operator() -> str:
    """The OS user; never fails (a service account may have no login name)."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _reply_json(reply: Any) -> str | None:
    if reply is None:
        return None
    return json.dumps(reply, ensure_ascii=False, separators=(",", ":"))


MAX_IDS = 20_000


class AuditLog:
    """Writes tracker state changes as audit rows: one insert per command, then updates."""

    def __init__(self, conn_or_path: sqlite3.Connection | str | Path) -> None:
        # A connection (sqlite3's, or a shared journal's PgConnection), or where to open one.
        self.conn = (
            connect(conn_or_path) if isinstance(conn_or_path, str | Path) else conn_or_path
        )
        self._lock = threading.Lock()
        # tracker id → audit row id, of the newest MAX_IDS commands (a command changes only
        # while open, a minute or so: older ones are never written again).
        self._rows: dict[int, int] = {}

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
                row = commands.insert(self.conn, values)
                self._rows[tc.id] = row
                if len(self._rows) > MAX_IDS:
                    for old in list(self._rows)[: MAX_IDS // 10]:
                        del self._rows[old]
            else:
                commands.update(self.conn, row, values)
            return row

    def row_id(self, tracker_id: int) -> int | None:
        with self._lock:
            return self._rows.get(tracker_id)

    def close(self) -> None:
        with self._lock:
            self.conn.close()


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
        w = csvsafe.writer(fh)  # an operator, a reason, a reply: never a formula
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
