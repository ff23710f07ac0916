"""Acknowledging alarms, from whichever panel, one way, so that every view agrees.

Why one place: the alarm table and the device tree both acknowledge, and each must show
the other's acknowledgements at once (the table's row and its critical banner, the tree's
red cell, the status bar's count). The fleet state changes at once and every view is told
by `sig_alarms_acknowledged`. The journal row, which keeps an acknowledged alarm from coming
back after a restart, is written in order on a worker thread: during a flood a write can
wait for the journal writer's lock, and the window must not wait with it.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from PySide6.QtCore import QObject, Signal

from app.fleet.state import AlarmEntry, FleetState
from app.journal.store import Journal

log = logging.getLogger(__name__)

_DONE = None  # tells the writer thread to end


UNDO_S = 60.0  # an acknowledgement can be taken back this long after it was made


@dataclass(frozen=True)
class Acknowledgement:
    """One act of acknowledging: which alarms, when, by whom, why, with what note."""

    push_ids: tuple[int, ...]
    at: float
    by: str
    reason: str = ""
    note: str = ""
    entries: tuple[AlarmEntry, ...] = field(default=(), repr=False, compare=False)


class Acknowledgements(QObject):
    sig_alarms_acknowledged = Signal(list, float, str)  # push ids, when (epoch s), by whom
    """Alarms were acknowledged (the reason and note are in `last`)."""
    sig_acknowledgement_undone = Signal(list)
    """An acknowledgement was taken back: these alarms (push ids) wait again."""
    sig_acknowledgement_refused = Signal(str)
    """The journal refused (disk full, read-only…): what to tell the dispatcher. The alarms
    stay acknowledged in this session but come back after a restart."""

    def __init__(self, fleet: FleetState, journal_path: str, operator: Callable[[], str],
                 parent: QObject | None = None) -> None:
        """`operator` is asked at each acknowledgement: who is at the desk may change."""
        super().__init__(parent)
        self.fleet = fleet
        self.journal_path = journal_path
        self.operator = operator
        self._writes: queue.Queue[tuple[str, Acknowledgement] | threading.Event | None] = \
            queue.Queue()
        self.last: Acknowledgement | None = None  # the newest, for the views' details
        self._undoable: list[Acknowledgement] = []  # made less than UNDO_S ago, newest last
        self.clock: Callable[[], float] = time.time
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def acknowledge(self, push_ids: Iterable[int], reason: str = "", note: str = "") -> list[int]:
        """Acknowledge these alarms now, with an optional reason and note; returns the ids
        (once each, in the order given)."""
        ids = list(dict.fromkeys(push_ids))
        if not ids:
            return []
        at, by = self.clock(), self.operator()
        entries = self.fleet.acknowledge(ids)
        ack = Acknowledgement(tuple(ids), at, by, reason.strip(), note.strip(), tuple(entries))
        self.last = ack
        # Only those made less than UNDO_S ago stay: a shift of acknowledgements must not
        # pile up here (issue 26).
        self._undoable = [a for a in self._undoable if at - a.at < UNDO_S]
        self._undoable.append(ack)
        self._writes.put(("ack", ack))
        self._ensure_writer()
        self.sig_alarms_acknowledged.emit(ids, at, by)
        return ids

    def undoable(self) -> Acknowledgement | None:
        """The newest acknowledgement that can still be taken back (made < UNDO_S ago)."""
        now = self.clock()
        self._undoable = [a for a in self._undoable if now - a.at < UNDO_S]
        return self._undoable[-1] if self._undoable else None

    def undo(self) -> list[int]:
        """Take the newest acknowledgement back (within UNDO_S): the alarms wait again, in
        the fleet, in every view and in the journal. Returns their push ids."""
        ack = self.undoable()
        if ack is None:
            return []
        self._undoable.remove(ack)
        self.fleet.restore_unacknowledged(list(ack.entries))
        for entry in ack.entries:
            entry.acknowledged = False
        self._writes.put(("undo", ack))
        self._ensure_writer()
        ids = list(ack.push_ids)
        self.sig_acknowledgement_undone.emit(ids)
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
                what, ack = item
                ids = list(ack.push_ids)
                try:
                    if journal is None:
                        journal = Journal(self.journal_path)
                    if what == "undo":
                        journal.unacknowledge(ids, acked_at=ack.at)
                    else:
                        journal.acknowledge(ids, at=ack.at, operator=ack.by, reason=ack.reason,
                                            note=ack.note)
                except Exception as exc:
                    log.exception("could not store the acknowledgement of %d alarms", len(ids))
                    self.sig_acknowledgement_refused.emit(
                        f"Could not store the acknowledgement of {len(ids):,} alarm"
                        f"{'s' if len(ids) != 1 else ''} in the journal ({exc}). They stay "
                        "acknowledged until SealDesk is restarted, then come back.")
        finally:
            if journal is not None:
                journal.close()
