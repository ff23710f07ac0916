"""The journal writer: decodes pushes and commits them in batches on its own thread.

Transports hand over `RawPush`es and return at once, so a slow disk never
stalls the network thread or the window. After each commit the writer calls
the transports' acknowledgement (QoS 1: the broker may forget a push only
once it is on disk) and then the listeners (the window, the recorder's
progress line) with the decoded batch.
"""

from __future__ import annotations

import logging
import queue
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from app.journal.store import Journal
from app.protocol.decode import decode
from app.protocol.push import PushRecord, RawPush

log = logging.getLogger(__name__)

BatchListener = Callable[[list[PushRecord], list[int]], None]
KindHint = str | None

_STOP = object()


@dataclass
class WriterStats:
    written: int = 0
    with_errors: int = 0
    batches: int = 0
    last_commit_at: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)


class JournalWriter:
    """Owns the journal's write connection; everything else only reads."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_batch: int = 5000,
    ) -> None:
        self.path = str(path)
        self.max_batch = max_batch
        self.stats = WriterStats()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._listeners: list[BatchListener] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._idle = threading.Condition()
        self._submitted = 0

    # -- wiring --------------------------------------------------------------

    def add_commit_listener(self, listener: Callable[[int], None]) -> None:
        """Called on the writer thread with the number of pushes each commit stored."""
        self._listeners.append(lambda records, ids: listener(len(records)))

    def add_listener(self, listener: BatchListener) -> None:
        """Called on the writer thread after each commit with (records, row ids)."""
        self._listeners.append(listener)

    def start(self) -> JournalWriter:
        self._thread = threading.Thread(target=self._run, name="journal-writer", daemon=True)
        self._thread.start()
        self._ready.wait()
        if self._error:
            raise self._error
        return self

    def submit(self, push: RawPush, kind_hint: KindHint = None) -> None:
        """Thread-safe and non-blocking: queue one push for decoding and commit."""
        with self._idle:
            self._submitted += 1
        self._queue.put((push, kind_hint))

    def stop(self, timeout: float = 30.0) -> None:
        """Commit what is queued, then stop."""
        if self._thread and self._thread.is_alive():
            self._queue.put(_STOP)
            self._thread.join(timeout)

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted before this call is committed (tests, exports,
        hanging up). Not "until idle": pushes keep coming while it waits, and under a flood
        the writer is never idle — quitting then timed out and the recording process was
        killed with its last pushes uncommitted."""
        deadline = time.monotonic() + timeout
        with self._idle:
            target = self._submitted
            while self.stats.written < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._idle.wait(remaining)
        return True

    @property
    def pending(self) -> int:
        return self._queue.qsize()

    # -- the thread ----------------------------------------------------------

    def _run(self) -> None:
        try:
            journal = Journal(self.path)
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        try:
            self._loop(journal)
        finally:
            journal.close()

    def _loop(self, journal: Journal) -> None:
        get = self._queue.get
        get_nowait = self._queue.get_nowait
        stopping = False
        while not stopping:
            item = get()
            items = []
            while True:
                if item is _STOP:
                    stopping = True
                else:
                    items.append(item)
                if len(items) >= self.max_batch:
                    break
                try:
                    item = get_nowait()
                except queue.Empty:
                    break
            if items:
                self._commit(journal, items)

    def _write(self, journal: Journal, records: list[PushRecord]) -> list[int]:
        """Write a batch; never drop a push, never let one bad record block the rest."""
        delay = 0.5
        while True:
            try:
                return journal.write(records)
            except sqlite3.OperationalError:  # disk full, locked…: keep the pushes, retry
                log.exception("journal write failed; retrying in %.1f s", delay)
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
            except Exception:  # something in one record: store each alone, bare if need be
                log.exception("journal batch refused; storing records one by one")
                ids: list[int] = []
                for i, record in enumerate(records):
                    try:
                        ids += journal.write([record])
                    except sqlite3.OperationalError:
                        records = records[i:]
                        return ids + self._write(journal, records)
                    except Exception as exc:
                        bare = _bare(record, exc)
                        records[i] = bare
                        ids += journal.write([bare])
                return ids

    def _commit(self, journal: Journal, items: list[object]) -> None:
        records = [decode(push, hint) for push, hint in items]  # type: ignore[misc]
        ids = self._write(journal, records)
        stats = self.stats
        for record in records:
            if record.errors:
                stats.with_errors += 1
            stats.by_kind[record.kind] = stats.by_kind.get(record.kind, 0) + 1
        stats.batches += 1
        stats.last_commit_at = time.time()
        for record in records:  # QoS 1: only now may the broker forget the push
            ack = record.raw.ack_token
            if ack is not None:
                try:
                    ack()
                except Exception:
                    log.exception("acknowledgement failed")
        for listener in self._listeners:
            try:
                listener(records, ids)
            except Exception:
                log.exception("journal listener failed")
        with self._idle:
            stats.written += len(records)
            self._idle.notify_all()


def _safe(text: str | None) -> str | None:
    return None if text is None else text.encode("utf-8", "replace").decode("utf-8")


def _bare(record: PushRecord, exc: Exception) -> PushRecord:
    """The push as raw bytes with safe text columns, when its decoded form cannot be stored."""
    raw = record.raw
    safe_raw = RawPush(raw.source, _safe(raw.topic) or "", raw.payload, raw.received_at,
                       _safe(raw.profile) or "", raw.ack_token)
    return PushRecord(safe_raw, record.kind, _safe(record.device), _safe(record.sublock), {},
                      [_safe(e) or "" for e in record.errors]
                      + [f"decoded form could not be stored: {type(exc).__name__}: {exc}"])
