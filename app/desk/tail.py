"""A desk's live feed: the pushes other processes commit to the journal, read in batches by id.

One thread of its own (in the desk's feed process, `process.py`; never a GUI thread) holds
two things: a journal opened with `open_journal` to read rows, and a *waker* that says when
to read — PostgreSQL's LISTEN on `sealdesk_push` / `sealdesk_change`, or, on a SQLite
journal another process writes, its files' size and time looked at ten times a second.
Either way the thread sleeps in the waker (a socket wait or a short sleep), not in a busy
loop.

Why ids and ranges: a notification of `sealdesk_push` names the ids its transaction inserted
("<min>-<max>"). Two recorders commit out of order (ids 100-199 can commit after 200-299), so
reading "after the last id seen" alone would skip the late range; each notified range is read
as such, and "after the last id" only catches up — at start, and after a lost connection,
from a little below the highest id seen (ids already delivered are remembered and skipped).

Batches of at most `batch` rows; while more wait, the next batch is read only when the
window asks (`want_more`, after each drain of its feed) or half a second later, so a desk
that was away for an hour catches up at the pace its window can show, not all at once.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.desk.records import record_from_row
from app.desk.target import JOURNAL_ERRORS, describe, is_journal_url, open_journal
from app.protocol.push import PushRecord

log = logging.getLogger(__name__)

PUSH_CHANNEL = "sealdesk_push"
CHANGE_CHANNEL = "sealdesk_change"
SHARED_TABLES = ("alarm_ack", "command", "commissioning")
EVERYTHING = "*"  # a change of every shared table: after a reconnect, what was missed
BATCH = 2000
CATCH_UP_SLACK = 10_000  # ids below the highest seen read again after a reconnect
SEEN_KEEP = 50_000  # delivered ids remembered (those near the top): skipped if read again
WAIT_S = 0.5  # longest a waker sleeps before the thread looks at its stop flag
POLL_S = 0.1  # SQLite: how often the journal's files are looked at
SHARED_EVERY_S = 0.5  # SQLite: the shared tables reported changed at most this often
BACKOFF_S = (0.5, 1.0, 2.0, 5.0, 10.0)

BatchListener = Callable[[list[PushRecord], list[int], int], None]
ChangeListener = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class DeskState:
    """The journal connection as the status bar says it."""

    connected: bool
    reason: str = ""
    retry_in: float | None = None

    def describe(self, where: str) -> str:
        if self.connected:
            return f"Desk — journal {where}"
        text = f"Desk — journal {where}: connection lost"
        if self.reason:
            text += f" ({self.reason})"
        if self.retry_in is not None:
            text += f", reconnecting in {self.retry_in:.0f} s"
        return text


StateListener = Callable[[DeskState], None]


class _Event:
    """What a waker saw: pushes committed (a range of ids, or None: read after the last),
    or a shared table changed."""

    __slots__ = ("first", "kind", "last", "table")

    def __init__(self, kind: str, first: int | None = None, last: int | None = None,
                 table: str = "") -> None:
        self.kind, self.first, self.last, self.table = kind, first, last, table


_RANGE = re.compile(r"^\s*(\d+)\s*(?:-\s*(\d+))?\s*$")


def parse_range(payload: str) -> tuple[int, int] | None:
    """'120-180' → (120, 180); '7' → (7, 7); anything else → None (read after the last)."""
    m = _RANGE.match(payload or "")
    if not m:
        return None
    first = int(m.group(1))
    last = int(m.group(2)) if m.group(2) else first
    return (first, last) if first <= last else (last, first)


class PgWaker:
    """LISTEN on the journal's channels over a psycopg connection of its own (autocommit)."""

    def __init__(self, target: str) -> None:
        import psycopg

        # Keepalives: a connection that only listens sends nothing, so a server gone with
        # its machine or network would never be noticed; with these within ~25 s.
        self.conn = psycopg.connect(target, autocommit=True, connect_timeout=10,
                                    keepalives=1, keepalives_idle=10, keepalives_interval=5,
                                    keepalives_count=3)
        self.conn.execute(f"LISTEN {PUSH_CHANNEL}")
        self.conn.execute(f"LISTEN {CHANGE_CHANNEL}")

    def wait(self, timeout: float) -> list[_Event]:
        """Blocks in the socket up to `timeout` for the first notification, then takes what
        else is already there. Raises on a lost connection."""
        out: list[_Event] = []
        for n in self.conn.notifies(timeout=timeout, stop_after=1):
            out.append(self._event(n.channel, n.payload))
        if out:  # a burst: the rest without waiting
            for n in self.conn.notifies(timeout=0.001):
                out.append(self._event(n.channel, n.payload))
        if not out and self.conn.closed:
            raise ConnectionError("the journal closed the connection")
        return out

    @staticmethod
    def _event(channel: str, payload: str) -> _Event:
        if channel == PUSH_CHANNEL:
            span = parse_range(payload)
            return _Event("push", *(span or (None, None)))
        return _Event("change", table=payload.strip())

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


class SqliteWaker:
    """A SQLite journal another process writes: every commit writes its WAL file (or, out of
    WAL mode, the journal itself), so their size and time, looked at every POLL_S, say that
    something was committed — not what. New pushes are read after the last id; the shared
    tables are reported changed at most every SHARED_EVERY_S while commits come (their
    owners read only what concerns them), so a desk under a flood of pushes does not
    reload them ten times a second."""

    def __init__(self, path: str) -> None:
        self.files = (Path(path), Path(f"{path}-wal"))
        self.seen = self._stamp()
        self.shared_at = 0.0
        self.pending = False

    def _stamp(self) -> tuple:
        out = []
        for f in self.files:
            try:
                st = f.stat()
                out.append((st.st_size, st.st_mtime_ns))
            except OSError:
                out.append(None)
        return tuple(out)

    def wait(self, timeout: float) -> list[_Event]:
        deadline = time.monotonic() + timeout
        while True:
            out: list[_Event] = []
            stamp = self._stamp()
            if stamp != self.seen:
                self.seen = stamp
                self.pending = True  # the shared tables, too, once SHARED_EVERY_S has passed
                out.append(_Event("push"))
            now = time.monotonic()
            if self.pending and now - self.shared_at >= SHARED_EVERY_S:
                self.pending = False
                self.shared_at = now
                out += [_Event("change", table=t) for t in SHARED_TABLES]
            if out:
                return out
            left = deadline - now
            if left <= 0:
                return []
            time.sleep(min(POLL_S, left))

    def close(self) -> None:
        pass


def newest_push_id(journal: Any) -> int:
    """The highest push id in `journal` (0 for an empty one): where a desk's feed starts."""
    newest = next(iter(journal.rows(newest_first=True, limit=1)), None)
    return newest.id if newest is not None else 0


class JournalTail:
    """The pushes and shared-table changes of a journal others write, on a thread."""

    def __init__(self, target: str, *, start_after: int | None = None,
                 batch: int = BATCH) -> None:
        """`start_after`: the last push id the window already has (None: the journal's
        newest when the thread starts)."""
        self.target = str(target)
        self.where = describe(self.target)
        self.batch = batch
        self.high = start_after
        self._seen: set[int] = set()
        self._batch_listeners: list[BatchListener] = []
        self._change_listeners: list[ChangeListener] = []
        self._state_listeners: list[StateListener] = []
        self.state = DeskState(False, "connecting")
        self.delivered = 0
        self._more = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._waker: PgWaker | SqliteWaker | None = None

    # -- listeners (called on the tail's thread) ------------------------------------------

    def add_listener(self, listener: BatchListener) -> None:
        """`listener(records, ids, skipped)`: as the recording process calls its own."""
        self._batch_listeners.append(listener)

    def add_change_listener(self, listener: ChangeListener) -> None:
        """`listener(table)`: a shared table changed ('*': all may have, after a reconnect)."""
        self._change_listeners.append(listener)

    def add_state_listener(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def want_more(self) -> None:
        """The window drained its feed: the next batch of a catch-up may come."""
        self._more.set()

    # -- life ---------------------------------------------------------------------------------

    def start(self) -> JournalTail:
        self._thread = threading.Thread(target=self._run, name="desk-tail", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._more.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        failures = 0
        first = True
        while not self._stop.is_set():
            journal = waker = None
            try:
                journal = open_journal(self.target, readonly=True)
                if self.high is None:
                    self.high = newest_push_id(journal)
                if is_journal_url(self.target):
                    waker = PgWaker(self.target)
                else:
                    waker = SqliteWaker(self.target)
                self._waker = waker
                self._set_state(DeskState(True))
                failures = 0
                # LISTEN is on before this read: what commits from now on is notified.
                self._read_after(journal, self.high - (0 if first else CATCH_UP_SLACK))
                if not first:
                    self._changed(EVERYTHING)
                first = False
                while not self._stop.is_set():
                    self._handle(journal, waker.wait(WAIT_S))
            except Exception as exc:
                if self._stop.is_set():
                    break
                if not isinstance(exc, (*JOURNAL_ERRORS, ConnectionError)):
                    log.exception("desk feed: unexpected failure")
                delay = BACKOFF_S[min(failures, len(BACKOFF_S) - 1)]
                failures += 1
                self._set_state(DeskState(False, _reason(exc), delay))
                log.warning("desk feed: journal %s lost (%s); again in %.1f s",
                            self.where, exc, delay)
                self._stop.wait(delay)
            finally:
                self._waker = None
                for thing in (waker, journal):
                    if thing is not None:
                        with contextlib.suppress(Exception):
                            thing.close()

    def _set_state(self, state: DeskState) -> None:
        if state == self.state:
            return
        self.state = state
        for listener in self._state_listeners:
            try:
                listener(state)
            except Exception:
                log.exception("desk state listener failed")

    # -- reading ----------------------------------------------------------------------------

    def _handle(self, journal: Any, events: list[_Event]) -> None:
        tables: list[str] = []
        after = False
        for e in events:
            if e.kind == "change":
                if e.table not in tables:
                    tables.append(e.table)
            elif e.first is None:
                after = True
            else:
                self._read_range(journal, e.first, e.last)
        if after:
            self._read_after(journal, self.high or 0)
        for table in tables:
            self._changed(table)

    def _read_range(self, journal: Any, first: int, last: int) -> None:
        """The pushes with ids first..last (one transaction's), in batches."""
        start = first - 1
        while start < last and not self._stop.is_set():
            rows = list(journal.rows(after_id=start, before_id=last + 1, limit=self.batch))
            if not rows:
                return
            self._deliver(rows)
            start = rows[-1].id
            if len(rows) < self.batch:
                return
            self._pace()

    def _read_after(self, journal: Any, after: int) -> None:
        """Every push after `after`, in batches (a catch-up)."""
        while not self._stop.is_set():
            rows = list(journal.rows(after_id=after, limit=self.batch))
            if not rows:
                return
            self._deliver(rows)
            after = rows[-1].id
            if len(rows) < self.batch:
                return
            self._pace()

    def _pace(self) -> None:
        """Between two batches of a long read: wait until the window drained the last."""
        self._more.clear()
        self._more.wait(WAIT_S)

    def _deliver(self, rows: list) -> None:
        seen = self._seen
        fresh = [r for r in rows if r.id not in seen]
        if not fresh:
            return
        ids = [r.id for r in fresh]
        seen.update(ids)
        self.high = max(self.high or 0, ids[-1])
        if len(seen) > SEEN_KEEP:  # a catch-up reads again from CATCH_UP_SLACK below the top
            floor = self.high - 2 * CATCH_UP_SLACK
            self._seen = {i for i in seen if i > floor}
        records = [record_from_row(r) for r in fresh]
        self.delivered += len(records)
        for listener in self._batch_listeners:
            try:
                listener(records, ids, 0)
            except Exception:
                log.exception("desk batch listener failed")

    def _changed(self, table: str) -> None:
        for listener in self._change_listeners:
            try:
                listener(table)
            except Exception:
                log.exception("desk change listener failed")


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:120]
