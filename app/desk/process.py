"""A desk's feed in a process of its own, as a recording window's recording is.

Why a process: reading a journal row back into a record costs ~40 µs of Python (psycopg's
fetch, and the decoded document's JSON, most of it), ~0.2 s a second of a 5 000-push flood —
in the window's process, every call Qt makes into a Python model while painting would wait
for the GIL behind it (the recording process exists for that reason: see
app/recording_process/child.py). Here the tail reads and decodes beside the window; the
window unpickles packed records (~15 µs each), one batch each time its feed asks, coalesced
while it was busy (`app.fleet.backlog`: every alarm, event and reply kept, only the newest
reading of a device), in pieces, as the recording process sends them.

`DeskProcess` (the window's side) offers what `JournalTail` offers: listeners for batches,
changes of the shared tables and the connection's state, `want_more`, start and stop.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import multiprocessing as mp
import threading
from collections.abc import Callable
from multiprocessing.connection import Connection

from app.desk.tail import BatchListener, ChangeListener, DeskState, JournalTail, StateListener
from app.recording_process.wire import pack, unpack

log = logging.getLogger(__name__)

# window → desk feed process
NEXT = "next"  # () the window wants the next batch
STOP = "stop"  # () end
# desk feed process → window
BATCH = "batch"  # (packed records, ids, skipped, last) one batch per NEXT, in pieces
CHANGE = "change"  # (table) a shared table changed
STATE = "state"  # (DeskState) the journal connection
STOPPED = "stopped"  # () the last message

RELAY_COALESCE_AT = 5_000  # as the recording process: past this, the window is behind
CHUNK = 200  # pushes per message
# While the window's feed holds fewer pushes than this, the next batch is asked for as soon
# as one arrives (a push shows at the feed's next tick, as from a tail in the window's own
# process); past it, only when the feed drains (the process coalesces meanwhile).
PREFETCH_BELOW = 2_000
LOST = "the desk's feed process stopped unexpectedly; restart SealDesk"


def run(conn: Connection, target: str, start_after: int | None) -> None:
    """Entry point of the child (spawned, so the same on Windows)."""
    from app.gctune import tune_for_throughput
    from app.recording_process.child import setup_logging, yield_to_the_window

    setup_logging()
    yield_to_the_window()
    tune_for_throughput()
    _Child(conn, JournalTail(target, start_after=start_after)).serve()


class _Child:
    def __init__(self, conn: Connection, tail: JournalTail) -> None:
        from app.fleet.backlog import Backlog

        self.conn = conn
        self.tail = tail
        self.backlog = Backlog(coalesce_at=RELAY_COALESCE_AT)
        self._send_lock = threading.Lock()
        self._wake = threading.Condition()
        self._wanted = False
        self._stopping = False
        # A change goes after the pushes committed before it (the pipe keeps the order): an
        # acknowledgement must not reach the window before the alarm it acknowledges.
        self._changes: list[str] = []
        self._sending = False
        tail.add_listener(self._on_records)
        tail.add_change_listener(self._on_change)
        tail.add_state_listener(lambda state: self.send(STATE, state))

    def send(self, *msg: object) -> None:
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self.conn.send(msg)

    def _on_change(self, table: str) -> None:  # the tail's thread
        with self._wake:
            if len(self.backlog) or self._sending:
                if table not in self._changes:
                    self._changes.append(table)
                return
        self.send(CHANGE, table)

    def _on_records(self, records, ids, _skipped: int = 0) -> None:  # the tail's thread
        self.backlog.push(records, ids)
        with self._wake:
            self._wake.notify()

    def _relay_loop(self) -> None:
        """One batch per NEXT: the window never has more than one waiting for it."""
        sent_dropped = 0
        while True:
            with self._wake:
                while not (self._stopping or (self._wanted and len(self.backlog))):
                    self._wake.wait()
                if self._stopping:
                    return
                self._wanted = False
                self._sending = True  # a change now waits for the end of this batch
                after, self._changes = self._changes, []  # those that came before its pushes
                batch = self.backlog.drain()
            dropped = self.backlog.dropped
            for start in range(0, len(batch), CHUNK):
                part = batch[start:start + CHUNK]
                last = start + CHUNK >= len(batch)
                self.send(BATCH, [pack(r) for r, _ in part], [i for _, i in part],
                          dropped - sent_dropped if last else 0, last)
            sent_dropped = dropped
            with self._wake:
                self._sending = False
                if not len(self.backlog):  # those that came while it was sent, too
                    after += [t for t in self._changes if t not in after]
                    self._changes = []
            for table in after:
                self.send(CHANGE, table)

    def serve(self) -> None:
        relay = threading.Thread(target=self._relay_loop, name="desk-relay", daemon=True)
        relay.start()
        self.tail.start()
        try:
            while True:
                try:
                    msg = self.conn.recv()
                except (EOFError, OSError):  # the window is gone
                    break
                if msg[0] == STOP:
                    break
                if msg[0] == NEXT:
                    self.tail.want_more()  # a catch-up's next read may come
                    with self._wake:
                        self._wanted = True
                        self._wake.notify()
        finally:
            with self._wake:
                self._stopping = True
                self._wake.notify()
            self.tail.stop()
            self.send(STOPPED)


class DeskProcess:
    """The window's handle on its desk feed process."""

    def __init__(self, target: str, *, start_after: int | None = None) -> None:
        self.target = str(target)
        self.start_after = start_after
        # How many pushes the window's feed holds, not yet drained (None: unknown, ask only
        # when it drains): set by the window.
        self.pending: Callable[[], int] | None = None
        self._batch_listeners: list[BatchListener] = []
        self._change_listeners: list[ChangeListener] = []
        self._state_listeners: list[StateListener] = []
        self._send_lock = threading.Lock()
        self._outstanding = False  # a NEXT is on its way; the child answers with a BATCH
        self._stopping = False
        self._proc: mp.Process | None = None
        self._conn: Connection | None = None

    def add_listener(self, listener: BatchListener) -> None:
        """Called on the receiver thread with each batch (records, ids, skipped)."""
        self._batch_listeners.append(listener)

    def add_change_listener(self, listener: ChangeListener) -> None:
        self._change_listeners.append(listener)

    def add_state_listener(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def start(self) -> DeskProcess:
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(target=run, args=(child, self.target, self.start_after),
                                 name="sealdesk-desk-feed", daemon=True)
        self._proc.start()
        atexit.register(self.stop)
        child.close()
        self._conn = parent
        threading.Thread(target=self._recv_loop, name="desk-recv", daemon=True).start()
        return self

    def want_more(self) -> None:
        """Ask for the next batch (at most one is ever on its way)."""
        if not self._outstanding and not self._stopping:
            self._outstanding = True
            self._send(NEXT)

    def stop(self, timeout: float = 10.0) -> None:
        if self._proc is None:
            return
        self._stopping = True
        self._send(STOP)
        atexit.unregister(self.stop)
        self._proc.join(timeout)
        if self._proc.is_alive():
            log.error("the desk feed process did not stop in %.0f s; terminating it", timeout)
            self._proc.terminate()
        self._proc = None

    def _send(self, *msg: object) -> None:
        with self._send_lock:
            if self._conn is None:
                return
            try:
                self._conn.send(msg)
            except (OSError, ValueError):
                self._outstanding = False

    def _recv_loop(self) -> None:
        conn = self._conn
        assert conn is not None
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                if not self._stopping:
                    log.error("the desk feed process ended unexpectedly")
                    self._tell(self._state_listeners, DeskState(False, LOST))
                return
            op = msg[0]
            if op == BATCH:
                _, packed, ids, skipped, last = msg
                records = [unpack(t) for t in packed]
                for listener in self._batch_listeners:
                    try:
                        listener(records, ids, skipped)
                    except Exception:
                        log.exception("desk batch listener failed")
                if last:
                    self._outstanding = False
                    if self.pending is not None and self.pending() < PREFETCH_BELOW:
                        self.want_more()  # the window keeps up: the next as soon as it comes
            elif op == CHANGE:
                self._tell(self._change_listeners, msg[1])
            elif op == STATE:
                self._tell(self._state_listeners, msg[1])
            elif op == STOPPED:
                return

    @staticmethod
    def _tell(listeners: list[Callable], value: object) -> None:
        for listener in listeners:
            try:
                listener(value)
            except Exception:
                log.exception("desk listener failed")
