"""Commissioning sessions in the journal (migration 4, table `commissioning`).

One row per device and batch: the checklist as JSON, the verdict, the notes, and the PDF
report once produced, so a session and its report can be reopened later. Its own SQLite
connection (WAL lets it write next to the journal writer); one store per thread.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.commissioning.checks import DeviceChecklist
from app.journal.schema import migrate


@dataclass(frozen=True)
class SessionSummary:
    """One past batch, for the list of sessions."""

    batch: str
    started_at: float
    finished_at: float | None
    technician: str
    template: str
    devices: list[str]
    verdicts: dict[str, str]
    has_report: bool

    @property
    def verdict(self) -> str:
        vs = set(self.verdicts.values())
        if vs == {"PASS"}:
            return "PASS"
        if "FAIL" in vs:
            return "FAIL"
        return "IN PROGRESS"


@dataclass(frozen=True)
class StoredBatch:
    batch: str
    technician: str
    notes: str
    checklists: list[DeviceChecklist]
    report_pdf: bytes | None
    report_path: str | None


class CommissioningStore:
    def __init__(self, path: str | Path) -> None:
        self.conn = sqlite3.connect(
            str(path), timeout=30, check_same_thread=False, isolation_level=None
        )
        self.conn.execute("PRAGMA busy_timeout=30000")
        if str(path) != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        migrate(self.conn)

    def close(self) -> None:
        self.conn.close()

    def __enter__(self) -> CommissioningStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------

    def save(
        self, batch: str, checklists: list[DeviceChecklist], *, technician: str, notes: str = ""
    ) -> None:
        """Insert or update the rows of a batch (the report, if any, is kept)."""
        rows = [
            (
                batch,
                c.device_id,
                c.template.name,
                technician,
                c.started_at,
                c.finished_at,
                c.verdict.value,
                json.dumps(c.to_json(), ensure_ascii=False, separators=(",", ":")),
                notes,
            )
            for c in checklists
        ]
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

    def sessions(self, limit: int = 200) -> list[SessionSummary]:
        """Past batches, newest first."""
        batches = self.conn.execute(
            "SELECT batch, MIN(started_at) AS t FROM commissioning GROUP BY batch"
            " ORDER BY t DESC LIMIT ?",
            (int(limit),),
        ).fetchall()
        out = []
        for batch, _ in batches:
            rows = self.conn.execute(
                "SELECT device, verdict, started_at, finished_at, technician, template,"
                " report_pdf IS NOT NULL FROM commissioning WHERE batch=? ORDER BY id",
                (batch,),
            ).fetchall()
            finished = [r[3] for r in rows if r[3] is not None]
            out.append(
                SessionSummary(
                    batch=batch,
                    started_at=min(r[2] for r in rows),
                    finished_at=max(finished) if len(finished) == len(rows) else None,
                    technician=rows[0][4],
                    template=", ".join(sorted({r[5] for r in rows})),
                    devices=[r[0] for r in rows],
                    verdicts={r[0]: r[1] for r in rows},
                    has_report=any(r[6] for r in rows),
                )
            )
        return out

    def load(self, batch: str) -> StoredBatch | None:
        rows = self.conn.execute(
            "SELECT checklist, technician, notes, report_pdf, report_path FROM commissioning"
            " WHERE batch=? ORDER BY id",
            (batch,),
        ).fetchall()
        if not rows:
            return None
        checklists = [DeviceChecklist.from_json(json.loads(r[0])) for r in rows]
        pdf = next((bytes(r[3]) for r in rows if r[3] is not None), None)
        path = next((r[4] for r in rows if r[4]), None)
        return StoredBatch(batch, rows[0][1], rows[0][2], checklists, pdf, path)

    def device_history(self, device: str, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.conn.execute(
            "SELECT batch, started_at, finished_at, verdict, template, technician"
            " FROM commissioning WHERE device=? ORDER BY started_at DESC LIMIT ?",
            (device, int(limit)),
        ).fetchall()
        keys = ("batch", "started_at", "finished_at", "verdict", "template", "technician")
        return [dict(zip(keys, r, strict=True)) for r in rows]
