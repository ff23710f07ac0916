"""Acknowledging alarms, from whichever panel, one way, so that every view agrees.

Why one place: the alarm table and the device tree both acknowledge, and each must show
the other's acknowledgements at once (the table's row and its critical banner, the tree's
red cell, the status bar's count). The fleet state changes at once and every view is told
by `sig_acknowledged`. The journal row, which keeps an acknowledged alarm from coming
back after a restart, is written in order on a worker thread: during a flood a write can
wait for the journal writer's lock, and the window must not wait with it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable

from PySide6.QtCore import QObject, Signal

from app.fleet.state import FleetState
from app.journal.store import Journal

log = logging.getLogger(__name__)

_DONE = None  # tells the writer thread to end


class Acknowledgements(QObject):
    sig_acknowledged = Signal(list, float, str)  # push ids, when (epoch s), by whom
    # The journal refused (disk full, read-only…): what to tell the dispatcher. The alarms
    # stay acknowledged in this session but will come back after a restart.
    sig_not_stored = Signal(str)

    def __init__(self, fleet: FleetState, journal_path: str, operator: Callable[[], str],
                 parent: QObject | None = None) -> None:
        """`operator` is asked at each acknowledgement: who is at the desk may change."""
        super().__init__(parent)
        self.fleet = fleet
        self.journal_path = journal_path
        self.operator = operator
        self._writes: queue.Queue[tuple[list[int], float, str] | threading.Event | None] = \
            queue.Queue()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def acknowledge(self, push_ids: Iterable[int]) -> list[int]:
        """Acknowledge these alarms now; returns the ids (once each, in the order given)."""
        ids = list(dict.fromkeys(push_ids))
        if not ids:
            return []
        at, by = time.time(), self.operator()
        self.fleet.acknowledge(ids)
        self._writes.put((ids, at, by))
        self._ensure_writer()
        self.sig_acknowledged.emit(ids, at, by)
        return ids

    def wait_stored(self, timeout: float = 10.0) -> bool:
        """Wait until every acknowledgement so far is in the journal (or was refused)."""
        done = threading.Event()
        self._writes.put(done)  # the writer sets it when it gets there
        self._ensure_writer()
        return done.wait(timeout)

    def close(self, timeout: float = 10.0) -> None:
        """Store what is queued, then end the writer (the window is closing)."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._writes.put(_DONE)
            thread.join(timeout)

    # -- the writer thread ------------------------------------------------------------------

    def _ensure_writer(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._write_loop, name="acknowledgements",
                                                daemon=True)
                self._thread.start()

    def _write_loop(self) -> None:
        journal: Journal | None = None
        try:
            while (item := self._writes.get()) is not _DONE:
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                ids, at, by = item
                try:
                    if journal is None:
                        journal = Journal(self.journal_path)
                    journal.acknowledge(ids, at=at, operator=by)
                except Exception as exc:
                    log.exception("could not store the acknowledgement of %d alarms", len(ids))
                    self.sig_not_stored.emit(
                        f"Could not store the acknowledgement of {len(ids):,} alarm"
                        f"{'s' if len(ids) != 1 else ''} in the journal ({exc}). They stay "
                        "acknowledged until SealDesk is restarted, then come back.")
        finally:
            if journal is not None:
                journal.close()
