"""Rows to a CSV file, written on a thread so that a big table never blocks the window."""

from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from PySide6.QtCore import QObject, Signal

from app import csvsafe


class CsvExporter(QObject):
    """Writes rows to a CSV file on a thread; `sig_export_finished(path, count,
    error)` on the GUI thread."""

    sig_export_finished = Signal(str, int, str)
    """Path, rows written, error ("" when written)."""

    def export(self, path: str, header: Sequence[str], rows: list[Sequence[Any]]) -> None:
        def run() -> None:
            try:
                with open(path, "w", newline="", encoding="utf-8") as fh:
                    writer = csvsafe.writer(fh)
                    writer.writerow(header)
                    writer.writerows(rows)
            except OSError as exc:
                self.sig_export_finished.emit(path, 0, str(exc))
                return
            self.sig_export_finished.emit(path, len(rows), "")

        threading.Thread(target=run, name="csv-export", daemon=True).start()
