"""Acknowledging alarms, from whichever panel, one way, so that every view agrees.

Why one place: the alarm table and the device tree both acknowledge, and each must show
the other's acknowledgements at once (the table's row and its critical banner, the tree's
red cell, the status bar's count). The fleet state changes at once and every view is told
by `sig_alarms_acknowledged`. The journal row, which keeps an acknowledged alarm from coming
back after a restart, is written in order on a worker thread: during a flood a write can
wait for the journal writer's lock, and the window must not wait with it.

On a desk (issue 23) the journal is shared: when it says `alarm_ack` changed, the stored
acknowledgements of the alarms waiting here are read on that same thread (`reload`: a few
indexed id ranges, no SQL of its own) and another desk's are applied as if made in this
window — the fleet changes, every view is told — and one another desk took back waits here
again too.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import QObject, Signal

from app.fleet.state import AlarmEntry, FleetState
from app.journal.queries import acknowledgements_between
from app.journal.url import is_journal_url, open_journal

log = logging.getLogger(__name__)

_DONE = None  # tells the writer thread to end


UNDO_S = 60.0  # an acknowledgement can be taken back this long after it was made
# Another desk's acknowledgement is asked about until it can no longer be taken back (with
# room for clocks that disagree by a minute or two).
RECENT_MARGIN_S = 120.0
MAX_RANGES = 16  # id ranges one reload asks about (each an indexed range of alarm_ack)


@dataclass(frozen=True, slots=True)
class StoredAck:
    """An acknowledgement as the journal holds it (another desk's, maybe)."""

    push_id: int
    acked_at: float
    operator: str
    reason: str
    note: str


def spans(ids: Iterable[int], most: int = MAX_RANGES) -> list[tuple[int, int]]:
    """The ids as at most `most` ranges (lo, hi), cut at the widest gaps: every id is in
    one, and few ids that are not lie in between."""
    ordered = sorted(set(ids))
    if not ordered:
        return []
    widest = sorted(range(1, len(ordered)), key=lambda i: ordered[i] - ordered[i - 1],
                    reverse=True)[:most - 1]
    out, start = [], 0
    for cut in sorted(widest):
        out.append((ordered[start], ordered[cut - 1]))
        start = cut
    out.append((ordered[start], ordered[-1]))
    return out


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
    sig_shared_read = Signal(list, list)
    """(writer thread → GUI thread) acknowledgements read from a shared journal, and the ids
    of alarms another desk acknowledged whose acknowledgement is gone (taken back)."""

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
        # A shared journal: push id → when this window acknowledged it, and → when another
        # desk did (with the entry, to bring it back if that desk takes it back).
        self._own: dict[int, float] = {}
        self._by_others: dict[int, tuple[float, AlarmEntry | None]] = {}
        self._reload_queued = False
        self.sig_shared_read.connect(self._apply_shared)

    def acknowledge(self, push_ids: Iterable[int], reason: str = "", note: str = "") -> list[int]:
        """Acknowledge these alarms now, with an optional reason and note; returns the ids
        (once each, in the order given)."""
        ids = list(dict.fromkeys(push_ids))
        if not ids:
            return []
        at, by = self.clock(), self.operator()
        entries = self.fleet.acknowledge(ids)
        ack = Acknowledgement(tuple(ids), at, by, reason.strip(), note.strip(), tuple(entries))
        for push_id in ids:
            self._own[push_id] = at
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

    # -- a shared journal ---------------------------------------------------------------------

    def reload(self) -> None:
        """Read the stored acknowledgements of the alarms waiting here, and of those another
        desk acknowledged lately (it may have taken one back), on the writer thread after
        this window's own writes. Many calls while one waits are one reload."""
        if self._reload_queued:
            return
        self._reload_queued = True
        floor = self.clock() - UNDO_S - RECENT_MARGIN_S
        recent = [i for i, (at, _) in self._by_others.items() if at >= floor]
        ranges = spans([*self.fleet.unacknowledged, *recent])
        self._writes.put(("reload", (ranges, recent)))
        self._ensure_writer()

    def _read_shared(self, journal, ranges: list[tuple[int, int]],
                     recent: list[int]) -> None:  # the writer thread
        stored: dict[int, tuple[float, str, str, str]] = {}
        for lo, hi in ranges:
            stored.update(acknowledgements_between(journal, lo, hi))
        rows = [StoredAck(i, float(at), by or "", reason or "", note or "")
                for i, (at, by, reason, note) in stored.items()]
        self.sig_shared_read.emit(rows, [i for i in recent if i not in stored])

    def _apply_shared(self, rows: list[StoredAck], gone: list[int]) -> None:
        """GUI thread: others' acknowledgements of alarms waiting here, as if made here (one
        signal per act); those taken back wait again."""
        self._reload_queued = False
        waiting, own = self.fleet.unacknowledged, self._own
        acts: dict[tuple[float, str, str, str], list[int]] = {}
        for r in rows:
            # Not waiting here: acknowledged here already (or never shown). This window's
            # own row, read before its undo was stored, is not another desk's act.
            if r.push_id in waiting and own.get(r.push_id) != r.acked_at:
                acts.setdefault((r.acked_at, r.operator, r.reason, r.note), []).append(r.push_id)
        for (at, by, reason, note), ids in sorted(acts.items()):
            entries = self.fleet.acknowledge(ids)
            of = {e.push_id: e for e in entries}
            for push_id in ids:
                self._by_others[push_id] = (at, of.get(push_id))
            self.last = Acknowledgement(tuple(ids), at, by, reason, note, tuple(entries))
            self.sig_alarms_acknowledged.emit(ids, at, by)
        back = [i for i in gone if i in self._by_others]
        if back:
            entries = [e for i in back if (e := self._by_others.pop(i)[1]) is not None]
            self.fleet.restore_unacknowledged(entries)
            for entry in entries:
                entry.acknowledged = False
            self.sig_acknowledgement_undone.emit(back)
        self._forget_old()

    def _forget_old(self) -> None:
        """Bounded: an acknowledgement older than its undo time is not asked about again."""
        floor = self.clock() - UNDO_S - RECENT_MARGIN_S
        self._own = {i: at for i, at in self._own.items() if at >= floor}
        self._by_others = {i: v for i, v in self._by_others.items() if v[0] >= floor}

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

    def _twice(self, journal, work: Callable[[Any], None]):
        """`work(journal)` on the open journal (opened now if need be); on a shared journal,
        once more on a new connection when it fails — the server may have dropped the old
        one since the last use (a restart, a network blip). Returns the journal used."""
        if journal is None:
            journal = open_journal(self.journal_path)
        try:
            work(journal)
            return journal
        except Exception:
            journal = _closed(journal)
            if not is_journal_url(self.journal_path):
                raise
        journal = open_journal(self.journal_path)
        try:
            work(journal)
        except Exception:
            _closed(journal)
            raise
        return journal

    @staticmethod
    def _store(journal, what: str, ack: Acknowledgement) -> None:
        ids = list(ack.push_ids)
        if what == "undo":
            journal.unacknowledge(ids, acked_at=ack.at)
        else:
            journal.acknowledge(ids, at=ack.at, operator=ack.by, reason=ack.reason,
                                note=ack.note)

    def _write_loop(self) -> None:
        journal = None
        try:
            while (item := self._writes.get()) is not _DONE:
                if isinstance(item, threading.Event):
                    item.set()
                    continue
                what, ack = item
                if what == "reload":
                    try:
                        journal = self._twice(journal, lambda j, a=ack: self._read_shared(j, *a))
                    except Exception:
                        log.exception("could not read the shared acknowledgements")
                        self.sig_shared_read.emit([], [])  # lets the next reload be queued
                        journal = _closed(journal)
                    continue
                ids = list(ack.push_ids)
                try:
                    journal = self._twice(journal, lambda j, w=what, a=ack: self._store(j, w, a))
                except Exception as exc:
                    log.exception("could not store the acknowledgement of %d alarms", len(ids))
                    journal = _closed(journal)
                    self.sig_acknowledgement_refused.emit(
                        f"Could not store the acknowledgement of {len(ids):,} alarm"
                        f"{'s' if len(ids) != 1 else ''} in the journal ({exc}). They stay "
                        "acknowledged until SealDesk is restarted, then come back.")
        finally:
            if journal is not None:
                journal.close()


def _closed(journal) -> None:
    """Close a journal whose connection may be broken; the next write opens a new one."""
    if journal is not None:
        try:
            journal.close()
        except Exception:
            log.debug("closing a failed journal connection", exc_info=True)
