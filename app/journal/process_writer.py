"""The journal writer split across two processes, so that recording uses both cores.

What goes where follows the GIL. Decoding a push and making its row storable is Python
(~25 µs a push); storing it is SQLite's C code (~25-55 µs: the row, four indexes, the
readings row, the search index's trigger, the commit). Done by one Python process, the two
add up. So this process (the parent: `record`, the window's recording process) decodes and
prepares each batch on a thread of its own beside the network thread, and a child process
does nothing but store: it receives the prepared rows (plain tuples, pickled once) and
answers each commit with its row ids. Only then are the batch's pushes acknowledged
(QoS 1: the broker may forget a push once the journal holds it) and handed to the
listeners, which get the decoded records from this side — nothing decoded comes back.

The broker lets only its in-flight window (mosquitto: 20) wait for acknowledgements, so
the way round — take off the socket, decode, store, commit, acknowledge — must be short:
every stage hands over as soon as it has something (no polling), and while the child
commits one batch the parent decodes the next. A child behind its work stores everything
waiting in one transaction (cheaper a row), then acknowledges it all.

Same interface as `JournalWriter`. Uses the "spawn" start method everywhere, so it behaves
the same on Windows.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from app.journal.writer import (
    OK,
    RETRYING,
    STOPPED,
    BatchListener,
    JournalHealth,
    JournalStopped,
    JournalWriter,
    WriterStats,
    describe_error,
)
from app.protocol.push import PushRecord, RawPush

log = logging.getLogger(__name__)

CommitListener = Callable[[int], None]
# Pushes decoded and sent to the child at a time: as many as wait, up to MAX_BATCH. While
# the journal keeps up that is what one read of the socket brought (short way round to the
# acknowledgement); when it is behind, batches of 500 make its transactions cheaper a push
# (~21 µs instead of ~28 at 100).
MAX_BATCH = 500
# What the child stores in one transaction when batches wait for it.
MAX_TRANSACTION = 5000
MAX_PENDING = 20_000  # pushes submitted and not yet committed (~2 KB each)
BACKPRESSURE_WAIT_S = 5.0


# -- the child: stores prepared batches --------------------------------------------------------


def _child(conn: Connection, path: str) -> None:
    """Child process: store each prepared batch, answer with its ids."""
    from app.gctune import tune_for_throughput
    from app.journal.store import Journal

    tune_for_throughput()
    store = _Store(conn, path)
    journal = None
    try:
        journal = Journal(path)
        conn.send(("ready",))
        store.serve(journal)
    except BaseException as exc:  # the journal cannot go on: the parent stops acknowledging
        log.debug("journal process stopped", exc_info=True)
        with contextlib.suppress(OSError):
            conn.send(("health", JournalHealth(STOPPED, describe_error(exc), path=path)))
    finally:
        if journal is not None:
            journal.close()
        with contextlib.suppress(OSError):  # the parent may be gone (killed): nobody to tell
            conn.send(("stopped",))


class _Store:
    """The child's loop, with JournalWriter's policy: busy or full is retried (and said in
    the health), anything else the journal raises stops it; nothing in one push can refuse
    a batch (a row that cannot be stored is stored bare)."""

    def __init__(self, conn: Connection, path: str) -> None:
        self.conn = conn
        self.health = JournalHealth(path=path)
        self.path = path

    def _set_health(self, state: str, cause: str = "", waiting: int = 0) -> None:
        health = JournalHealth(state, cause, waiting, self.path)
        if health != self.health:
            self.health = health
            self.conn.send(("health", health))

    def serve(self, journal) -> None:
        from app.journal.store import Prepared

        conn = self.conn
        while True:
            try:
                msg = conn.recv()
            except EOFError:  # the parent is gone: what was committed stays committed
                return
            batch: Prepared | None = None
            count = 0  # the parent's batches in this transaction
            stop = False
            while True:
                if msg[0] == "rows":
                    if batch is None:
                        batch = msg[1]
                    else:
                        batch.extend(msg[1])
                    count += 1
                elif msg[0] == "stop":
                    stop = True
                    break
                if len(batch) >= MAX_TRANSACTION or not conn.poll():  # type: ignore[arg-type]
                    break
                msg = conn.recv()
            if batch is not None:
                first, _ = self._write(journal, batch)
                conn.send(("committed", first, count, len(batch)))
            if stop:
                return

    def _write(self, journal, batch, *, whole: bool = True) -> tuple[int, int]:
        """Store `batch`; returns its first and last id. An exception not about the journal
        (`whole`: the batch is stored row by row instead) is raised with `whole=False`."""
        delay = 0.5
        while True:
            try:
                ids = journal.write_prepared(batch)
            except sqlite3.OperationalError as exc:  # disk full, locked…: keep them, retry
                log.warning("journal write failed (%s); retrying in %.1f s", exc, delay)
                self._set_health(RETRYING, describe_error(exc), len(batch))
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            except sqlite3.DatabaseError as exc:
                raise JournalStopped(describe_error(exc)) from exc
            except Exception:  # unforeseen, in one row: store each alone, bare if need be
                if not whole:
                    raise
                log.exception("journal batch refused; storing rows one by one")
                ids = self._one_by_one(journal, batch)
            if self.health.state == RETRYING:
                self._set_health(OK)
            return ids

    def _one_by_one(self, journal, batch) -> tuple[int, int]:
        from app.journal.store import Prepared, bare_row

        readings: dict[int, list[tuple]] = {}
        for i, *rest in batch.readings:
            readings.setdefault(i, []).append((0, *rest))
        first, last = None, 0
        for i, row in enumerate(batch.rows):
            try:
                got = self._write(journal, Prepared([row], readings.get(i, [])), whole=False)
            except JournalStopped:
                raise
            except Exception as exc:
                got = self._write(journal, Prepared([bare_row(row, exc)], []), whole=False)
            first = got[0] if first is None else first
            last = got[1]
        return (first if first is not None else 1), last


# -- the parent: decodes, prepares, acknowledges -----------------------------------------------


def _prepare(records: list[PushRecord]):
    """`prepare`, where nothing in one record can keep the batch (or this thread) from the
    journal: a record that cannot be prepared is prepared bare (its raw bytes, its errors)."""
    from app.journal.store import prepare, prepare_bare

    try:
        return prepare(records)
    except Exception:
        log.exception("a batch could not be prepared; preparing its records one by one")
    batch = None
    for record in records:
        try:
            one = prepare([record])
        except Exception as exc:
            one = prepare_bare(record, exc)
            record.errors.append(f"decoded form could not be stored: {type(exc).__name__}: {exc}")
        if batch is None:
            batch = one
        else:
            batch.extend(one)
    return batch


class ProcessJournalWriter:
    """Decodes and prepares pushes here, stores them in a child process.

    `send_records` is kept for callers that say they need the decoded records: listeners
    always get them now (they are decoded on this side).
    """

    def __init__(self, path: str | Path, *, send_records: bool = False,
                 max_pending: int = MAX_PENDING) -> None:
        self.path = str(path)
        self.max_pending = max_pending
        self.send_records = send_records
        self.stats = WriterStats()
        self.health = JournalHealth(path=self.path)
        self._queue: list[tuple[RawPush, str | None]] = []  # submitted, not yet decoded
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Sent to the child, waiting for its commit: (records, ack tokens) per batch.
        self._sent: deque[tuple[list[PushRecord], list]] = deque()
        self._idle = threading.Condition()
        self._submitted = 0
        self._listeners: list[CommitListener] = []
        self._record_listeners: list[BatchListener] = []
        self._health_listeners: list = []
        self._stopping = False
        self._ready = threading.Event()
        self._proc: mp.Process | None = None
        self._conn: Connection | None = None

    add_health_listener = JournalWriter.add_health_listener
    _set_health = JournalWriter._set_health  # same bookkeeping: listeners, wakes flush()

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Called (on a background thread) with the number of pushes each commit stored."""
        self._listeners.append(listener)

    def add_listener(self, listener: BatchListener) -> None:
        """Called on a background thread with (records, ids) after each commit."""
        self._record_listeners.append(listener)

    def start(self, wait: bool = True) -> ProcessJournalWriter:
        """Start the child; with wait=False return at once (pushes queue until it is ready)."""
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(target=_child, args=(child, self.path), daemon=True,
                                 name="sealdesk-journal")
        self._proc.start()
        child.close()
        self._conn = parent
        self._sender = threading.Thread(target=self._send_loop, name="journal-send", daemon=True)
        self._receiver = threading.Thread(target=self._recv_loop, name="journal-recv", daemon=True)
        self._sender.start()
        self._receiver.start()
        if wait and not self._ready.wait(60):
            raise RuntimeError("journal process did not start")
        if wait and self.health.stopped:
            raise RuntimeError(f"cannot open journal {self.path}: {self.health.cause}")
        return self

    @property
    def pid(self) -> int | None:
        """The journal process's id (the benchmark reads its CPU)."""
        return self._proc.pid if self._proc is not None else None

    def submit(self, push: RawPush, kind_hint: str | None = None) -> None:
        """Thread-safe: queue one push to be decoded and stored."""
        self.submit_many([push], kind_hint)

    def submit_many(self, pushes: list[RawPush], kind_hint: str | None = None) -> None:
        """Thread-safe: queue pushes (the transport's, one read of the socket at a time).

        Back-pressure: with `max_pending` pushes not yet committed, the caller (paho's
        network thread, a webhook) waits — up to BACKPRESSURE_WAIT_S at a time — for the
        journal to catch up. Pushes then wait unacknowledged at the broker instead of piling
        up in this process's memory when the machine cannot store them as fast as they come.
        """
        if self.pending >= self.max_pending and not self._stopping and not self.health.stopped:
            with self._idle:
                self._idle.wait_for(
                    lambda: self.pending < self.max_pending * 0.9 or self._stopping
                    or self.health.stopped,
                    BACKPRESSURE_WAIT_S,
                )
        with self._lock:
            self._submitted += len(pushes)
            self._queue.extend((push, kind_hint) for push in pushes)
        self._wake.set()

    @property
    def pending(self) -> int:
        return self._submitted - self.stats.written

    def _send_loop(self) -> None:
        """Decode and prepare what was submitted, in batches, and send it to the child."""
        from app.protocol.decode import decode

        assert self._conn is not None
        self._ready.wait()
        while True:
            self._wake.wait()
            self._wake.clear()
            with self._lock:
                items, self._queue = self._queue, []
            if self.health.stopped:  # never committed, never acknowledged: the broker
                items = []           # keeps them
            try:
                for i in range(0, len(items), MAX_BATCH):
                    chunk = items[i:i + MAX_BATCH]
                    records = [decode(push, hint) for push, hint in chunk]
                    prepared = _prepare(records)
                    self._sent.append((records, [push.ack_token for push, _ in chunk]))
                    self._conn.send(("rows", prepared))
                if self._stopping and not items:
                    with self._lock:
                        if self._queue:
                            self._wake.set()
                            continue
                    self._conn.send(("stop",))
                    return
            except (OSError, ValueError):  # the journal process is gone (its health says so)
                if self._stopping:
                    return
            except Exception as exc:  # never silently: nothing more would be journaled
                log.exception("journal writer failed")
                # What was sent is still committed (and acknowledged); nothing after it.
                self._set_health(STOPPED, f"journal writer failed: {describe_error(exc)}")
                with contextlib.suppress(OSError, ValueError):
                    self._conn.send(("stop",))
                return

    def _recv_loop(self) -> None:
        assert self._conn is not None
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                if not self._stopping and not self.health.stopped:
                    log.error("journal process ended unexpectedly")
                    self._stopped("the journal process ended unexpectedly")
                return
            kind = msg[0]
            if kind == "committed":
                self._committed(*msg[1:])
            elif kind == "ready":
                self._ready.set()
            elif kind == "health":
                health: JournalHealth = msg[1]
                if health.stopped:
                    self._sent.clear()  # never committed: never acknowledged
                self._set_health(health.state, health.cause,
                                 max(health.waiting, self.pending) if health.waiting else 0)
                if health.stopped:
                    self._ready.set()
            elif kind == "stopped":
                if not self._stopping and not self.health.stopped:
                    log.error("journal process stopped unexpectedly; %d pushes not committed",
                              self.pending)
                    self._stopped("the journal process stopped unexpectedly")
                return

    def _committed(self, first_id: int, count: int, n: int) -> None:
        """The child stored the next `count` batches sent (n pushes) from id `first_id`."""
        records: list[PushRecord] = []
        tokens: list = []
        for _ in range(count):
            if not self._sent:  # forgotten when the journal stopped: never acknowledged
                break
            batch_records, batch_tokens = self._sent.popleft()
            records += batch_records
            tokens += batch_tokens
        for ack in tokens:  # QoS 1: only now may the broker forget the push
            if ack is not None:
                try:
                    ack()
                except Exception:
                    log.exception("acknowledgement failed")
        stats = self.stats
        by_kind = stats.by_kind
        errors = 0
        for r in records:
            if r.errors:
                errors += 1
            by_kind[r.kind] = by_kind.get(r.kind, 0) + 1
        stats.with_errors += errors
        stats.batches += 1
        stats.last_commit_at = time.time()
        if self._record_listeners:
            ids = list(range(first_id, first_id + n))
            for listener in self._record_listeners:
                try:
                    listener(records, ids)
                except Exception:
                    log.exception("journal listener failed")
        for commit_listener in self._listeners:
            try:
                commit_listener(n)
            except Exception:
                log.exception("commit listener failed")
        with self._idle:
            stats.written += n
            self._idle.notify_all()

    def _stopped(self, cause: str) -> None:
        self._sent.clear()
        if not self.health.stopped:
            self._set_health(STOPPED, cause)
        self._ready.set()

    flush = JournalWriter.flush  # same bookkeeping: stats.written vs _submitted under _idle

    def stop(self, timeout: float = 30.0) -> None:
        if self._proc is None:
            return
        if not self.health.stopped:
            self.flush(timeout)
        self._stopping = True
        self._wake.set()
        self._sender.join(timeout)
        self._receiver.join(timeout)
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc = None
