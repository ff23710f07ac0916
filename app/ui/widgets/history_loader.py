"""The alarm and event tables' history: the newest rows of one kind, read from the journal
on a thread of its own, page by page, and handed to the GUI thread by a signal."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.journal.queries import newest_page
from app.journal.store import Journal, JournalRow
from app.journal.url import open_journal

log = logging.getLogger(__name__)


class HistoryLoader(QObject):
    """Loads the newest rows of one kind from the journal on a thread, page by page.

    `convert(journal, rows)` runs on the loader thread (it may query the journal) and returns
    row objects. `seed()`, if given, also runs there and returns items already known (e.g. the
    unacknowledged alarms restored at start, anything with a `push_id`), which
    `seed_convert(items)` makes into rows, a chunk at a time, and which are merged in.
    Pages are emitted strictly newest first and never overlap, so each lands at the bottom
    of the table in one insert.
    At most `limit` journal rows are read and at most `max_rows` rows emitted in all.
    """

    sig_page_loaded = Signal(object)
    """A page of row objects, newest first."""
    sig_loading_finished = Signal(int)
    """All is read: the rows emitted in all."""

    def __init__(
        self,
        journal_path: str,
        kind: str,
        limit: int,
        convert: Callable[[Journal, list[JournalRow]], list[Any]],
        *,
        seed: Callable[[], list[Any]] | None = None,
        seed_convert: Callable[[list[Any]], list[Any]] | None = None,
        max_rows: int | None = None,
        page_size: int = 100,
        emit_size: int = 1000,
        pause_s: float = 0.002,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.journal_path = journal_path
        self.kind = kind
        self.limit = max(0, limit)
        self.convert = convert
        self.seed = seed
        self.seed_convert = seed_convert
        self.emit_size = emit_size
        self.pause_s = pause_s
        self.max_rows = max_rows if max_rows is not None else max(self.limit, 1)
        self.page_size = page_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy_since = 0.0

    def start(self) -> None:
        self._busy_since = time.perf_counter()
        self._thread = threading.Thread(target=self._run, name=f"history-{self.kind}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float = 10.0) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        emitted = 0
        try:
            emitted = self._load()
        except Exception:
            log.exception("history: loading %s failed", self.kind)
        if not self._stop.is_set():
            self.sig_loading_finished.emit(emitted)

    def _pause(self) -> None:
        # Let the GUI thread have the GIL: each Qt → Python call there (data(), paint) needs it,
        # and while this thread is busy every one of them waits for a switch interval (5 ms).
        # So work at most half the time: sleep as long as the last chunk took.
        now = time.perf_counter()
        busy = now - self._busy_since
        time.sleep(max(self.pause_s, min(busy, 0.05)))
        self._busy_since = time.perf_counter()

    def _load(self) -> int:
        items = sorted(self.seed() if self.seed else [], key=lambda r: r.push_id, reverse=True)
        items = items[: self.max_rows]
        ei = 0
        emitted = read = 0
        seen: set[int] = set()
        pending: list[Any] = []
        journal: Journal | None = None
        if self.limit > 0:
            try:
                journal = open_journal(self.journal_path, readonly=True)
            except Exception:
                log.exception("history: cannot open the journal")
        before: int | None = None

        def flush() -> None:
            nonlocal emitted, pending
            out = pending[: self.max_rows - emitted]
            pending = []
            if out and not self._stop.is_set():
                self.sig_page_loaded.emit(out)
                emitted += len(out)

        try:
            last = False
            while not last and emitted + len(pending) < self.max_rows:
                if self._stop.is_set():
                    return emitted
                page: list[Any] = []
                last = journal is None or read >= self.limit
                if not last:
                    assert journal is not None
                    want = min(self.page_size, self.limit - read)
                    rows = newest_page(journal, self.kind, before, want)
                    read += len(rows)
                    if rows:
                        before = rows[-1].id
                        page = self.convert(journal, rows)
                    last = len(rows) < want or read >= self.limit
                floor = -1 if last or before is None else before
                # Known rows at least as new as this page's oldest belong with it; at the end,
                # all that are left (older than any history read), a chunk at a time.
                while ei < len(items) and items[ei].push_id >= floor:
                    chunk = []
                    while (ei < len(items) and items[ei].push_id >= floor
                           and len(chunk) < self.page_size):
                        chunk.append(items[ei])
                        ei += 1
                    page.extend(self.seed_convert(chunk) if self.seed_convert else chunk)
                    if len(page) >= self.page_size and ei < len(items) and last:
                        break  # emit what we have; the loop picks up the rest
                if last and ei < len(items):
                    last = False  # keep going: more known rows to convert
                    read = self.limit
                page.sort(key=lambda r: r.push_id, reverse=True)
                for r in page:
                    if r.push_id not in seen:
                        seen.add(r.push_id)
                        pending.append(r)
                if len(pending) >= self.emit_size or last:
                    flush()
                self._pause()
            flush()
        finally:
            if journal is not None:
                journal.close()
        return emitted
