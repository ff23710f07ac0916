"""The journal writer in a child process, for headless recording at full speed.

On two cores, one Python process cannot both take pushes off the socket (paho)
and decode and journal them without the GIL halving the rate. `record` therefore
decodes and commits in a child process: the parent only batches raw pushes
across a pipe and acknowledges (QoS 1) each push once the child reports it
committed. Same interface as `JournalWriter`, minus the decoded records for
listeners (the window keeps the in-process writer: it needs the records).

Uses the "spawn" start method everywhere, so it behaves the same on Windows.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing as mp
import threading
import time
from collections import deque
from collections.abc import Callable
from multiprocessing.connection import Connection
from pathlib import Path

from app.journal.writer import (
    STOPPED,
    BatchListener,
    JournalHealth,
    JournalWriter,
    WriterStats,
    describe_error,
)
from app.protocol.push import PushRecord, RawPush

log = logging.getLogger(__name__)

CommitListener = Callable[[int], None]
FLUSH_INTERVAL_S = 0.002
# Small commits keep acknowledgements flowing: the broker sends no more than its in-flight
# window (often 20) before it hears back, so a big batch would leave both processes idle
# in turn instead of working side by side.
MAX_BATCH = 500
MAX_PENDING = 20_000  # pushes submitted and not yet committed (~2 KB each)
BACKPRESSURE_WAIT_S = 5.0


def _child(conn: Connection, path: str, send_records: bool) -> None:
    """Child process: decode and commit each batch, then report the last sequence number."""
    from app.gctune import tune_for_throughput
    from app.journal.store import Journal
    from app.protocol.decode import decode

    tune_for_throughput()

    writer = JournalWriter(path)  # its batch-writing policy and health only; no thread
    writer.add_health_listener(lambda health: conn.send(("health", health)))
    journal = None
    try:
        journal = Journal(path)
        conn.send(("ready",))
        _serve(conn, writer, journal, send_records, decode)
    except BaseException as exc:  # the journal cannot go on: the parent stops acknowledging
        log.debug("journal process stopped", exc_info=True)
        with contextlib.suppress(OSError):
            conn.send(("health", JournalHealth(STOPPED, describe_error(exc), path=path)))
    finally:
        if journal is not None:
            journal.close()
        with contextlib.suppress(OSError):  # the parent may be gone (killed): nobody to tell
            conn.send(("stopped",))


def _serve(conn: Connection, writer: JournalWriter, journal, send_records: bool,
           decode) -> None:
    while True:
        try:
            msg = conn.recv()
        except EOFError:  # the parent is gone: what was committed stays committed
            break
        batch: list[tuple] = []
        tokens: list[int] = []
        stop = False
        while True:
            if msg[0] == "batch":
                batch.extend(msg[1])
            elif msg[0] == "flush":
                tokens.append(msg[1])
            elif msg[0] == "stop":
                stop = True
            if len(batch) >= MAX_BATCH or not conn.poll(0):
                break
            msg = conn.recv()
        if batch:
            records = [
                decode(RawPush(source, topic, payload, at, profile), hint)
                for _seq, source, topic, payload, at, profile, hint in batch
            ]
            ids = writer._write(journal, records)
            errors = sum(1 for r in records if r.errors)
            kinds: dict[str, int] = {}
            for r in records:
                kinds[r.kind] = kinds.get(r.kind, 0) + 1
            decoded = (
                [(r.kind, r.device, r.sublock, r.data, r.errors, r.warnings) for r in records]
                if send_records else None
            )
            conn.send(("committed", batch[-1][0], len(batch), errors, kinds, ids, decoded))
        for token in tokens:
            conn.send(("flushed", token))
        if stop:
            break


class ProcessJournalWriter:
    """Batches pushes to a child process that decodes and commits them.

    With `send_records` the child sends each batch's decoded form back, so listeners get
    `(records, ids)` just as from `JournalWriter` — the window's way to use both cores.
    """

    def __init__(self, path: str | Path, *, send_records: bool = False,
                 max_pending: int = MAX_PENDING) -> None:
        self.path = str(path)
        self.max_pending = max_pending
        self.send_records = send_records
        self._raws: deque[tuple[int, RawPush]] = deque()
        self._record_listeners: list[BatchListener] = []
        self._ready = threading.Event()
        self.stats = WriterStats()
        self._buf: deque[tuple] = deque()
        self._acks: deque[tuple[int, Callable[[], object]]] = deque()
        self._seq = 0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._idle = threading.Condition()
        self._submitted = 0
        self._listeners: list[CommitListener] = []
        self._stopping = False
        self._proc: mp.Process | None = None
        self._conn: Connection | None = None
        self.health = JournalHealth(path=self.path)
        self._health_listeners: list = []

    add_health_listener = JournalWriter.add_health_listener
    _set_health = JournalWriter._set_health  # same bookkeeping: listeners, wakes flush()

    def add_commit_listener(self, listener: CommitListener) -> None:
        """Called (on a background thread) with the number of pushes each commit stored."""
        self._listeners.append(listener)

    def add_listener(self, listener: BatchListener) -> None:
        """Called on a background thread with (records, ids) after each commit."""
        if not self.send_records:
            raise TypeError("this writer was made without send_records; no records to pass")
        self._record_listeners.append(listener)

    def start(self, wait: bool = True) -> ProcessJournalWriter:
        """Start the child; with wait=False return at once (pushes queue until it is ready)."""
        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        self._proc = ctx.Process(target=_child, args=(child, self.path, self.send_records),
                                 daemon=True, name="sealdesk-journal")
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

    def submit(self, push: RawPush, kind_hint: str | None = None) -> None:
        """Thread-safe, O(1): queue one push for the child.

        Back-pressure: with `max_pending` pushes not yet committed, the caller (paho's
        network thread, a webhook) waits — up to BACKPRESSURE_WAIT_S at a time — for the
        child to catch up. Pushes then wait unacknowledged at the broker instead of piling
        up in this process's memory when the machine cannot decode as fast as they come.
        """
        if self.pending >= self.max_pending and not self._stopping and not self.health.stopped:
            with self._idle:
                self._idle.wait_for(
                    lambda: self.pending < self.max_pending * 0.9 or self._stopping
                    or self.health.stopped,
                    BACKPRESSURE_WAIT_S,
                )
        with self._lock:
            self._seq += 1
            seq = self._seq
            self._submitted += 1
            self._buf.append((seq, push.source, push.topic, push.payload, push.received_at,
                              push.profile, kind_hint))
            if push.ack_token is not None:
                self._acks.append((seq, push.ack_token))
            if self.send_records:
                self._raws.append((seq, push))

    @property
    def pending(self) -> int:
        return self._submitted - self.stats.written

    def _send_loop(self) -> None:
        assert self._conn is not None
        self._ready.wait()
        while True:
            self._wake.wait(FLUSH_INTERVAL_S)
            self._wake.clear()
            with self._lock:
                items = list(self._buf)
                self._buf.clear()
                if self.health.stopped:  # never committed, never acknowledged: the broker
                    self._acks.clear()   # keeps them
                    self._raws.clear()
            try:
                if not self.health.stopped:
                    for i in range(0, len(items), MAX_BATCH):
                        self._conn.send(("batch", items[i:i + MAX_BATCH]))
                if self._stopping and not items:
                    self._conn.send(("stop",))
                    return
            except (OSError, ValueError):  # the journal process is gone (its health says so)
                if self._stopping:
                    return

    def _recv_loop(self) -> None:
        assert self._conn is not None
        while True:
            try:
                msg = self._conn.recv()
            except (EOFError, OSError):
                log.error("journal process ended unexpectedly")
                if not self._stopping:
                    self._stopped("the journal process ended unexpectedly")
                return
            if msg[0] == "ready":
                self._ready.set()
            elif msg[0] == "health":
                health: JournalHealth = msg[1]
                self._set_health(health.state, health.cause,
                                 max(health.waiting, self.pending) if health.waiting else 0)
                if health.stopped:
                    self._ready.set()
            elif msg[0] == "committed":
                _, last_seq, n, errors, kinds, ids, decoded = msg
                self._ack_through(last_seq)
                if decoded is not None:
                    self._deliver(last_seq, ids, decoded)
                stats = self.stats
                stats.with_errors += errors
                for kind, count in kinds.items():
                    stats.by_kind[kind] = stats.by_kind.get(kind, 0) + count
                stats.batches += 1
                stats.last_commit_at = time.time()
                for listener in self._listeners:
                    try:
                        listener(n)
                    except Exception:
                        log.exception("commit listener failed")
                with self._idle:
                    stats.written += n
                    self._idle.notify_all()
            elif msg[0] == "stopped":
                if not self._stopping:
                    log.error("journal process stopped unexpectedly; %d pushes not committed",
                              self.pending)
                    self._stopped("the journal process stopped unexpectedly")
                return

    def _stopped(self, cause: str) -> None:
        if not self.health.stopped:
            self._set_health(STOPPED, cause)
        self._ready.set()

    def _deliver(self, last_seq: int, ids: list[int], decoded: list[tuple]) -> None:
        raws = self._raws
        pushes = []
        while raws and raws[0][0] <= last_seq:
            pushes.append(raws.popleft()[1])
        records = [PushRecord(raw, kind, device, sublock, data, errors, warnings=warnings)
                   for raw, (kind, device, sublock, data, errors, warnings)
                   in zip(pushes, decoded, strict=False)]
        for listener in self._record_listeners:
            try:
                listener(records, ids)
            except Exception:
                log.exception("journal listener failed")

    def _ack_through(self, last_seq: int) -> None:
        acks = self._acks
        while acks and acks[0][0] <= last_seq:
            _, ack = acks.popleft()
            try:
                ack()
            except Exception:
                log.exception("acknowledgement failed")

    @property
    def pid(self) -> int | None:
        """The journal process's id (the benchmark reads its CPU)."""
        return self._proc.pid if self._proc is not None else None

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
