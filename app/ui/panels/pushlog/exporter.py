"""Export of the push log's current filter to CSV or JSONL, on a worker thread.

The rows come from the worker's own journal connection in keyset pages (never the whole
result in memory, never a long read transaction), through app/journal/export.py's
writers, into `<file>.part`, renamed over the target only when complete — a cancelled
or failed export leaves no half file behind. The export stops at the newest id that
existed when it started, so a busy journal cannot make it run forever.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import replace

from PySide6.QtCore import QObject, QThread, Signal

from app.journal.export import write_csv, write_jsonl
from app.journal.push_query import Cancelled, PushFilter, count_rows, iter_rows, max_id
from app.journal.store import JournalRow
from app.journal.url import open_journal
from app.protocol.redact import mask_data, mask_raw, secrets_of

log = logging.getLogger(__name__)


def masked(row: JournalRow) -> JournalRow:
    """The row as an export shows it: raw bytes and decoded data without their secrets
    (the journal keeps them; a file that leaves the desk does not)."""
    secrets = secrets_of(row.kind, row.data)
    raw = mask_raw(row.raw, secrets)
    data = mask_data(row.kind, row.data)
    if raw is row.raw and data is row.data:
        return row
    return replace(row, raw=raw, data=data)

FORMATS = {"csv": write_csv, "jsonl": write_jsonl}


class ExportJob(QThread):
    sig_progress_changed = Signal(int, int)  # rows written, total (0 while unknown)
    sig_export_finished = Signal(int, str, str)  # rows written, path, error ("" when done)

    def __init__(
        self,
        journal_path: str,
        flt: PushFilter,
        path: str,
        fmt: str,
        parent: QObject | None = None,
        *,
        mask: bool = True,
    ) -> None:
        super().__init__(parent)
        self.mask = mask  # unlock passwords masked in the file (app/protocol/redact.py)
        if fmt not in FORMATS:
            raise ValueError(f"unknown export format {fmt!r}")
        self.journal_path = journal_path
        self.flt = flt
        self.path = path
        self.fmt = fmt
        self.written = 0
        self.total = 0
        self.error = ""
        self._cancel = False

    def cancel(self) -> None:
        self._cancel = True

    def _cancelled(self) -> bool:
        return self._cancel

    def _counted(self, rows: Iterable[JournalRow]) -> Iterator[JournalRow]:
        last = 0.0
        for row in rows:
            if self._cancel:
                raise Cancelled()
            yield masked(row) if self.mask else row
            self.written += 1
            now = time.monotonic()
            if now - last >= 0.1:
                last = now
                self.sig_progress_changed.emit(self.written, self.total)

    def run(self) -> None:
        part = self.path + ".part"
        try:
            with open_journal(self.journal_path) as journal:
                conn = journal.conn
                top = max_id(conn)
                if not self.flt.text:  # a text count is as slow as the export itself
                    self.total = count_rows(conn, self.flt, max_id=top, cancelled=self._cancelled)
                self.sig_progress_changed.emit(0, self.total)
                writer = FORMATS[self.fmt]
                with open(part, "w", encoding="utf-8", newline="") as out:
                    rows = iter_rows(conn, self.flt, max_id=top, cancelled=self._cancelled)
                    writer(self._counted(rows), out)
            os.replace(part, self.path)
        except Cancelled:
            self.error = "cancelled"
        except Exception as exc:  # reported in the panel
            log.exception("push log export failed")
            self.error = str(exc) or type(exc).__name__
        finally:
            if self.error and os.path.exists(part):
                with contextlib.suppress(OSError):
                    os.remove(part)
        self.sig_progress_changed.emit(self.written, self.total)
        self.sig_export_finished.emit(self.written, self.path, self.error)
