"""Commissioning sessions in the journal (migration 4, table `commissioning`).

One row per device and batch: the checklist as JSON, the verdict, the notes, and the PDF
report once produced, so a session and its report can be reopened later. The rows are
read and written by `app/journal/commissioning.py` (its own SQLite connection, WAL lets it
write next to the journal writer); one store per thread.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.commissioning.checks import DeviceChecklist
from app.journal.commissioning import CommissioningTable


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
    """A batch's checklists kept in, and read back from, the journal's commissioning table."""

    def __init__(self, path: str | Path) -> None:
        self.table = CommissioningTable(path)
        self.conn = self.table.conn

    def close(self) -> None:
        self.table.close()

    def __enter__(self) -> CommissioningStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ---- writing -------------------------------------------------------------------

    def save(
        self, batch: str, checklists: list[DeviceChecklist], *, technician: str, notes: str = ""
    ) -> None:
        """Insert or update the rows of a batch (the report, if any, is kept)."""
        self.table.upsert([
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
        ])

    def attach_report(
        self, batch: str, pdf: bytes, path: str | None, devices: list[str] | None = None
    ) -> None:
        """Keep the PDF with the rows of `devices` (default: the whole batch)."""
        self.table.attach_report(batch, pdf, path, devices)

    # ---- reading -------------------------------------------------------------------

    def sessions(self, limit: int = 200) -> list[SessionSummary]:
        """Past batches, newest first."""
        out = []
        for batch in self.table.batches(limit):
            rows = self.table.summary_rows(batch)
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
        rows = self.table.batch_rows(batch)
        if not rows:
            return None
        checklists = [DeviceChecklist.from_json(json.loads(r[0])) for r in rows]
        pdf = next((bytes(r[3]) for r in rows if r[3] is not None), None)
        path = next((r[4] for r in rows if r[4]), None)
        return StoredBatch(batch, rows[0][1], rows[0][2], checklists, pdf, path)

    def device_history(self, device: str, limit: int = 50) -> list[dict[str, Any]]:
        return self.table.device_history(device, limit)
