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

The journal is a SQLite file or a shared PostgreSQL journal (a `postgresql://` URL, team
mode: issue 23). SQLite has one writer, so a batch's ids are consecutive and the child
answers with the first; PostgreSQL has several (recorders sharing the intake), so it answers
with each row's id (`write_prepared_ids`: a push stored already — delivered twice — has the
id it was stored with). Either way acknowledgements follow the commit.

Same interface as `JournalWriter`. Uses the "spawn" start method everywhere, so it behaves
the same on Windows.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import queue
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from app.journal import url
from app.journal.url import display
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
from app.protocol.push import PushRecord, RawPush, acknowledge

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


_retryable, _fatal = url.retryable_errors, url.fatal_errors


def _open(path: str):
    """The journal at `path`: a SQLite file, or a PostgreSQL URL (`open_journal`)."""
    from app.journal.url import open_journal

    return open_journal(path)


def _child(conn: Connection, path: str) -> None:
    """Child process: store each prepared batch, answer with its ids."""
    from app.gctune import tune_for_throughput

    tune_for_throughput()
    from app.journal.checkpointer import checkpoint_beside

    store = _Store(conn, display(path), reopen=lambda: _open(path))
    checkpointer = None
    try:
        store.journal = _open(path)
        checkpointer = checkpoint_beside(store.journal)
        conn.send(("ready",))
        store.serve()
    except BaseException as exc:  # the journal cannot go on: the parent stops acknowledging
        log.debug("journal process stopped", exc_info=True)
        with contextlib.suppress(OSError):
            conn.send(("health", JournalHealth(STOPPED, describe_error(exc),
                                               path=display(path))))
    finally:
        if checkpointer is not None:
            checkpointer.stop()
        if store.journal is not None:
            with contextlib.suppress(Exception):
                store.journal.close()
        with contextlib.suppress(OSError):  # the parent may be gone (killed): nobody to tell
            conn.send(("stopped",))


class _Store:
    """The child's loop, with JournalWriter's policy: busy or full is retried (and said in
    the health), anything else the journal raises stops it; nothing in one push can refuse
    a batch (a row that cannot be stored is stored bare)."""

    def __init__(self, conn: Connection, path: str, reopen: Callable[[], object] | None = None,
                 ) -> None:
        self.conn = conn
        self.health = JournalHealth(path=path)
        self.path = path
        self.journal = None
        # A shared journal's connection may be gone after an error: a new one to retry on.
        self._reopen = reopen
        self._retryable, self._fatal = _retryable(), _fatal()

    def _set_health(self, state: str, cause: str = "", waiting: int = 0) -> None:
        health = JournalHealth(state, cause, waiting, self.path)
        if health != self.health:
            self.health = health
            self.conn.send(("health", health))

    def serve(self) -> None:
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
            decoded = _Decoded()  # what this side decoded of the transaction's pushes
            while True:
                if msg[0] == "rows":
                    part = msg[1]
                    if msg[2]:  # the rest of the parent's batch, to decode here
                        mine = decoded.prepare(msg[2])
                        if part is None:
                            part = mine
                        else:
                            part.extend(mine)
                    if batch is None:
                        batch = part
                    else:
                        batch.extend(part)
                    count += 1
                elif msg[0] == "stop":
                    stop = True
                    break
                if len(batch) >= MAX_TRANSACTION or not conn.poll():  # type: ignore[arg-type]
                    break
                msg = conn.recv()
            if batch is not None:
                ids = self._write(batch)
                conn.send(("committed", ids, count, len(batch), decoded.summary(),
                           time.process_time()))
            if stop:
                return

    def _store(self, batch) -> int | list[int]:
        """One transaction: the first id (SQLite, whose ids are consecutive) or each row's
        id (a shared journal, where other writers take ids in between)."""
        journal = self.journal
        if journal is None:  # lost with its connection: a new one
            assert self._reopen is not None
            journal = self.journal = self._reopen()
        write_ids = getattr(journal, "write_prepared_ids", None)
        if write_ids is not None:
            return list(write_ids(batch))
        return journal.write_prepared(batch)[0]

    def _drop_connection(self) -> None:
        """After a retryable error on a shared journal its connection may be dead: close it,
        the next attempt opens another (SQLite's file stays open)."""
        if self._reopen is None or self.journal is None:
            return
        if getattr(self.journal, "write_prepared_ids", None) is None:
            return
        with contextlib.suppress(Exception):
            self.journal.close()
        self.journal = None

    def _write(self, batch, *, whole: bool = True) -> int | list[int]:
        """Store `batch`; returns its ids (see `_store`). An exception not about the journal
        (`whole`: the batch is stored row by row instead) is raised with `whole=False`."""
        delay = 0.5
        while True:
            try:
                ids = self._store(batch)
            except self._retryable as exc:  # disk full, locked, connection lost…: retry
                log.warning("journal write failed (%s); retrying in %.1f s", exc, delay)
                self._set_health(RETRYING, describe_error(exc), len(batch))
                self._drop_connection()
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                continue
            except self._fatal as exc:
                raise JournalStopped(describe_error(exc)) from exc
            except Exception:  # unforeseen, in one row: store each alone, bare if need be
                if not whole:
                    raise
                log.exception("journal batch refused; storing rows one by one")
                ids = self._one_by_one(batch)
            if self.health.state == RETRYING:
                self._set_health(OK)
            return ids

    def _one_by_one(self, batch) -> list[int]:
        from app.journal.store import Prepared, bare_row

        readings: dict[int, list[tuple]] = {}
        for i, *rest in batch.readings:
            readings.setdefault(i, []).append((0, *rest))
        ids: list[int] = []
        for i, row in enumerate(batch.rows):
            try:
                got = self._write(Prepared([row], readings.get(i, [])), whole=False)
            except JournalStopped:
                raise
            except Exception as exc:
                got = self._write(Prepared([bare_row(row, exc)], []), whole=False)
            ids += got if isinstance(got, list) else [got]
        return ids


def _widen(conn: Connection) -> None:
    """Let a whole batch (~0.5 MB) sit in the socket between the processes, so that neither
    waits for the other to read: up to 4 MB each way where the system allows (Linux caps it
    at net.core.wmem_max/rmem_max). A no-op where the pipe is not a socket (Windows)."""
    import socket

    with contextlib.suppress(OSError, ValueError, AttributeError):
        sock = socket.socket(fileno=conn.fileno())
        try:
            for option in (socket.SO_SNDBUF, socket.SO_RCVBUF):
                sock.setsockopt(socket.SOL_SOCKET, option, 4 << 20)
        finally:
            sock.detach()


class _Decoded:
    """The pushes the parent left to the journal process to decode (`_Balance`): decoded and
    prepared as the parent would, counted for its stats (errors, kinds)."""

    def __init__(self) -> None:
        self.stats = WriterStats()

    def prepare(self, raws: list[tuple]):
        from app.protocol.decode import decode

        records = [decode(RawPush(source, topic, payload, at, profile), hint)
                   for source, topic, payload, at, profile, hint in raws]
        self.stats.count(records)
        return _prepare(records)

    def summary(self) -> tuple[int, dict[str, int]] | None:
        stats = self.stats
        return (stats.with_errors, stats.by_kind) if stats.by_kind else None


class _Balance:
    """How much of each batch the parent leaves to the journal process to decode.

    Decoding and preparing a push (~25 µs) is the parent's biggest cost, beside its network
    thread; storing it (~20 µs) is the child's. With everything decoded in the parent, the
    parent's one interpreter (one GIL for its network, decoding and pipe threads) ran flat
    out while the child waited a third of the time. A fifth to a quarter of each batch left
    to the child evened them out in drains here (fixed shares of 0.2 and 0.3 both gave
    29-32 000 msg/s, 0 gave 24 000; three full `bench` runs each starting at 0.25 and at
    0.2 gave 0.81/0.77/0.81 and 0.75/0.80/0.73 of paho). Machines differ, so while pushes wait the
    share moves by a step each half second towards where both processes use the same CPU
    time (each measures its own: `time.process_time()`), slowly and with a dead band: what
    is already sent shows late, and faster controllers tried here overshot (the CPU ratio
    every 0.1 s, the child's backlog, whether the child waited for work: shares swung from
    0 to 0.9 within a drain and the rate fell by a fifth). Only for a writer that hands no
    decoded records to listeners (`record`): the window needs them here.
    """

    STEP = 0.05
    MOST = 0.9
    START = 0.25
    EVERY_S = 0.5
    BAND = 1.15  # one process this much busier than the other before the share moves

    def __init__(self) -> None:
        self.share = self.START
        self._mark: tuple[float, float, float] | None = None

    def split(self, n: int) -> int:
        """How many of `n` pushes to decode here (the rest go raw to the child)."""
        return n - int(n * self.share)

    def update(self, child_cpu: float, loaded: bool) -> None:
        """After each commit: `child_cpu` is the child's CPU time so far; `loaded`,
        whether pushes wait (only then does the balance say anything)."""
        now, own = time.monotonic(), time.process_time()
        mark = self._mark
        if mark is None or not loaded:
            self._mark = (now, own, child_cpu)
            return
        if now - mark[0] < self.EVERY_S:
            return
        self._mark = (now, own, child_cpu)
        mine, theirs = own - mark[1], child_cpu - mark[2]
        if mine > theirs * self.BAND:
            self.share = min(self.MOST, self.share + self.STEP)
        elif theirs > mine * self.BAND:
            self.share = max(0.0, self.share - self.STEP)


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

    `send_records`: listeners will want the decoded records (the window's recording
    process), so every push is decoded on this side. Without it (`record`), the child
    decodes a share of each batch while pushes wait, as much as evens out the two
    processes' CPU (`_Balance`).
    """

    def __init__(self, path: str | Path, *, send_records: bool = False,
                 max_pending: int = MAX_PENDING) -> None:
        self._target = str(path)  # a URL may carry a password: only the child sees it
        self.path = display(self._target)  # for health, logs and messages
        self.max_pending = max_pending
        self.send_records = send_records
        self.stats = WriterStats()
        self.health = JournalHealth(path=self.path)
        self._queue: list[tuple[RawPush, str | None]] = []  # submitted, not yet decoded
        self._lock = threading.Lock()
        self._wake = threading.Event()
        # Sent to the child, waiting for its commit: (records, ack tokens) per batch.
        self._sent: deque[tuple[list[PushRecord], list]] = deque()
        self._outbox: queue.SimpleQueue[tuple] = queue.SimpleQueue()  # to the child, in order
        # Listeners get the decoded records from this side: a writer with them decodes all.
        self._balance = None if send_records else _Balance()
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
        """Called on a background thread with (records, ids) after each commit. Add them
        before pushes come: from then on every push is decoded here (listeners get the
        decoded records), none by the journal process."""
        self._balance = None
        self._record_listeners.append(listener)

    def start(self, wait: bool = True) -> ProcessJournalWriter:
        """Start the child; with wait=False return at once (pushes queue until it is ready)."""
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        _widen(parent)
        self._proc = ctx.Process(target=_child, args=(child, self._target), daemon=True,
                                 name="sealdesk-journal")
        self._proc.start()
        child.close()
        self._conn = parent
        self._sender = threading.Thread(target=self._send_loop, name="journal-send", daemon=True)
        self._piper = threading.Thread(target=self._pipe_loop, name="journal-pipe", daemon=True)
        self._receiver = threading.Thread(target=self._recv_loop, name="journal-recv", daemon=True)
        self._sender.start()
        self._piper.start()
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
                    balance = self._balance
                    here = balance.split(len(chunk)) if balance is not None else len(chunk)
                    records = [decode(push, hint) for push, hint in chunk[:here]]
                    prepared = _prepare(records) if records else None
                    raws = [(push.source, push.topic, push.payload, push.received_at,
                             push.profile, hint) for push, hint in chunk[here:]]
                    self._sent.append((records, [push.ack_token for push, _ in chunk]))
                    self._outbox.put(("rows", prepared, raws))
                if self._stopping and not items:
                    with self._lock:
                        if self._queue:
                            self._wake.set()
                            continue
                    self._outbox.put(("stop",))
                    return
            except (OSError, ValueError):  # the journal process is gone (its health says so)
                if self._stopping:
                    return
            except Exception as exc:  # never silently: nothing more would be journaled
                log.exception("journal writer failed")
                # What was sent is still committed (and acknowledged); nothing after it.
                self._set_health(STOPPED, f"journal writer failed: {describe_error(exc)}")
                self._outbox.put(("stop",))
                return

    def _pipe_loop(self) -> None:
        """Write what the decoding thread made to the child. Apart from decoding because a
        batch bigger than the pipe holds waits here until the child reads it, which it does
        between transactions: the decoding thread goes on with the next batch meanwhile
        (before, the two processes took turns)."""
        conn = self._conn
        assert conn is not None
        while True:
            msg = self._outbox.get()
            try:
                conn.send(msg)
            except (OSError, ValueError):  # the journal process is gone (its health says so)
                if self._stopping:
                    return
            if msg[0] == "stop":
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

    def _committed(self, ids: int | list[int], count: int, n: int,
                   decoded: tuple[int, dict[str, int]] | None = None,
                   child_cpu: float | None = None) -> None:
        """The child stored the next `count` batches sent (n pushes): from id `ids` on, or
        with these ids (a shared journal's; a push stored twice has its first id).
        `decoded`: what the child decoded itself (`_Balance`), as (with errors, by kind);
        `child_cpu`: its CPU time so far (`_Balance`)."""
        balance = self._balance
        if balance is not None and child_cpu is not None:
            balance.update(child_cpu, loaded=self.pending - n >= MAX_BATCH)
        records: list[PushRecord] = []
        tokens: list = []
        for _ in range(count):
            if not self._sent:  # forgotten when the journal stopped: never acknowledged
                break
            batch_records, batch_tokens = self._sent.popleft()
            records += batch_records
            tokens += batch_tokens
        acknowledge(tokens)  # QoS 1: only now may the broker forget the pushes
        stats = self.stats
        stats.count(records)
        if decoded is not None:
            stats.add(*decoded)
        stats.batches += 1
        stats.last_commit_at = time.time()
        if self._record_listeners:
            row_ids = list(range(ids, ids + n)) if isinstance(ids, int) else ids
            for listener in self._record_listeners:
                try:
                    listener(records, row_ids)
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
        self._piper.join(timeout)
        self._receiver.join(timeout)
        self._proc.join(timeout)
        if self._proc.is_alive():
            self._proc.terminate()
        self._proc = None


# -- a shared journal's server: who is connected (recorders sharing the intake) ---------------


def connected_names(conn, prefix: str) -> list[str]:
    """The application_names, starting with `prefix`, of the connections open at a shared
    journal's server (psycopg connection, autocommit): the members of a recorder group see
    each other by them (`app/cli/takeover.py`). Here because SQL lives under app/journal;
    its place is beside `pg_holds.is_connected`."""
    like = prefix.replace("\\", "\\\\").replace("%", r"\%").replace("_", r"\_") + "%"
    return [row[0] for row in conn.execute(
        "SELECT application_name FROM pg_stat_activity WHERE application_name LIKE %s",
        (like,))]
