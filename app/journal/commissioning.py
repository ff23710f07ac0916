"""The commissioning sessions' table (`commissioning`, migration 4): one row per device and
batch, the checklist as JSON text, the verdict, the notes and the PDF report. No Qt.

Its own connection (WAL lets it write next to the journal writer); one per thread. A
`postgresql://` journal gets a connection of its own to the shared database (`pgconn`).
`app/commissioning/store.py` turns the rows into checklists and sessions.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from app.journal import url
from app.journal.schema import migrate


class CommissioningTable:
    def __init__(self, path: str | Path) -> None:
        if url.is_journal_url(path):
            self.conn = url.connect(path)
            return
        self.conn = sqlite3.connect(
            str(path), timeout=30, check_same_thread=False, isolation_level=None
        )
        self.conn.execute("PRAGMA busy_timeout=30000")
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    # ---- writing -------------------------------------------------------------------

    def upsert(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Insert or update rows (batch, device, template, technician, started_at,
        finished_at, verdict, checklist JSON, notes), in one transaction; a report already
        kept with a row stays."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            self.conn.executemany(
                "INSERT INTO commissioning (batch, device, template, technician, started_at,"
                " finished_at, verdict, checklist, notes) VALUES (?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (batch, device) DO UPDATE SET template=excluded.template,"
                " technician=excluded.technician, started_at=excluded.started_at,"
                " finished_at=excluded.finished_at, verdict=excluded.verdict,"
                " checklist=excluded.checklist, notes=excluded.notes",
                rows,
            )

    def attach_report(
        self, batch: str, pdf: bytes, path: str | None, devices: list[str] | None = None
    ) -> None:
        """Keep the PDF with the rows of `devices` (default: the whole batch)."""
        with self.conn:
            self.conn.execute("BEGIN IMMEDIATE")
            if devices is None:
                self.conn.execute(
                    "UPDATE commissioning SET report_pdf=?, report_path=? WHERE batch=?",
                    (pdf, path, batch),
                )
            else:
                self.conn.executemany(
                    "UPDATE commissioning SET report_pdf=?, report_path=?"
                    " WHERE batch=? AND device=?",
                    [(pdf, path, batch, d) for d in devices],
                )

    # ---- reading -------------------------------------------------------------------

    def batches(self, limit: int) -> list[str]:
        """Batch names, newest first (by their first device's start)."""
        rows = self.conn.execute(
            "SELECT batch, MIN(started_at) AS t FROM commissioning GROUP BY batch"
            " ORDER BY t DESC LIMIT ?",
            (int(limit),),
        ).fetchall()
        return [batch for batch, _ in rows]

    def summary_rows(self, batch: str) -> list[tuple[Any, ...]]:
        """A batch's devices in order: (device, verdict, started_at, finished_at,
        technician, template, has a report)."""
        return self.conn.execute(
            "SELECT device, verdict, started_at, finished_at, technician, template,"
            " report_pdf IS NOT NULL FROM commissioning WHERE batch=? ORDER BY id",
            (batch,),
        ).fetchall()

    def batch_rows(self, batch: str) -> list[tuple[Any, ...]]:
        """A batch's devices in order: (checklist JSON, technician, notes, report_pdf,
        report_path)."""
        return self.conn.execute(
            "SELECT checklist, technician, notes, report_pdf, report_path FROM commissioning"
            " WHERE batch=? ORDER BY id",
            (batch,),
        ).fetchall()

    def device_history(self, device: str, limit: int = 50) -> list[dict[str, Any]]:
        """The device's sessions, newest first, as dicts."""
        rows = self.conn.execute(
            "SELECT batch, started_at, finished_at, verdict, template, technician"
            " FROM commissioning WHERE device=? ORDER BY started_at DESC LIMIT ?",
            (device, int(limit)),
        ).fetchall()
        keys = ("batch", "started_at", "finished_at", "verdict", "template", "technician")
        return [dict(zip(keys, r, strict=True)) for r in rows]
