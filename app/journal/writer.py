"""The journal writer: decodes pushes and commits them in batches on its own thread.

Transports hand over `RawPush`es and return at once, so a slow disk never
stalls the network thread or the window. After each commit the writer calls
the transports' acknowledgement (QoS 1: the broker may forget a push only
once it is on disk) and then the listeners (the window, the recorder's
progress line) with the decoded batch.

Its health is part of the state (`JournalHealth`): a busy or full disk retries with backoff
("retrying"), anything else the journal raises stops the writer ("stopped") — nothing is
acknowledged after that, so the broker keeps the pushes — and every health listener (the
`record` command, the window's banner) hears of it at once.

The journal is a SQLite file or a `postgresql://` URL (`open_journal`); a shared journal's
lost connection is retried like a busy disk, on a new connection.
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

from app.journal import url
from app.journal.store import Journal
from app.journal.url import display, is_journal_url, open_journal
from app.protocol.decode import decode
from app.protocol.push import PushRecord, RawPush, acknowledge

log = logging.getLogger(__name__)

BatchListener = Callable[[list[PushRecord], list[int]], None]
KindHint = str | None

_STOP = object()


OK, RETRYING, STOPPED = "ok", "retrying", "stopped"
HealthListener = Callable[["JournalHealth"], None]


@dataclass(frozen=True)
class JournalHealth:
    """Whether the journal takes pushes; plain data, so it crosses process pipes."""

    state: str = OK  # OK, RETRYING (busy, disk full: retried) or STOPPED (nothing more)
    cause: str = ""
    waiting: int = 0  # pushes received and not committed (so not acknowledged)
    path: str = ""

    @property
    def stopped(self) -> bool:
        return self.state == STOPPED

    def describe(self) -> str:
        if self.state == STOPPED:
            return f"Journal stopped: {self.cause} — pushes are held by the broker, not lost"
        if self.state == RETRYING:
            return f"journal: {self.cause}, {self.waiting} pushes waiting (not acknowledged)"
        return "journal: ok"


def describe_error(exc: BaseException) -> str:
    """A short cause for a status line: "disk full", "database disk image is malformed"…"""
    text = str(exc) or type(exc).__name__
    if isinstance(exc, JournalStopped):
        return text
    if "disk is full" in text or "No space left" in text:
        return "disk full"
    if "locked" in text or "busy" in text:
        return "journal busy (locked by another program)"
    if isinstance(exc, sqlite3.Error) or type(exc).__module__.startswith("psycopg") \
            or not text:
        return text
    return f"{type(exc).__name__}: {text}"


_retryable, _fatal = url.retryable_errors, url.fatal_errors


class JournalStopped(Exception):
    """The journal cannot take pushes any more (damaged, not a database, schema gone…)."""


@dataclass
class WriterStats:
    written: int = 0
    with_errors: int = 0
    batches: int = 0
    last_commit_at: float = 0.0
    by_kind: dict[str, int] = field(default_factory=dict)

    def count(self, records: list[PushRecord]) -> None:
        """Count decoded records in: those with errors, and each kind."""
        by_kind = self.by_kind
        for record in records:
            if record.errors:
                self.with_errors += 1
            by_kind[record.kind] = by_kind.get(record.kind, 0) + 1

    def add(self, with_errors: int, by_kind: dict[str, int]) -> None:
        """Counts made elsewhere (the journal process's `count`)."""
        self.with_errors += with_errors
        for kind, n in by_kind.items():
            self.by_kind[kind] = self.by_kind.get(kind, 0) + n


class JournalWriter:
    """Owns the journal's write connection; everything else only reads."""

    def __init__(
        self,
        path: str | Path,
        *,
        max_batch: int = 5000,
    ) -> None:
        self.path = str(path)  # a URL as given: other connections open it too
        self.max_batch = max_batch
        self.stats = WriterStats()
        self._queue: queue.SimpleQueue[object] = queue.SimpleQueue()
        self._listeners: list[BatchListener] = []
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._idle = threading.Condition()
        self._submitted = 0
        self.health = JournalHealth(path=display(self.path))  # never a password
        self._health_listeners: list[HealthListener] = []

    # -- wiring --------------------------------------------------------------

    def add_commit_listener(self, listener: Callable[[int], None]) -> None:
        """Called on the writer thread with the number of pushes each commit stored."""
        self._listeners.append(lambda records, ids: listener(len(records)))

    def add_listener(self, listener: BatchListener) -> None:
        """Called on the writer thread after each commit with (records, row ids)."""
        self._listeners.append(listener)

    def add_health_listener(self, listener: HealthListener) -> None:
        """Called (on the writer's thread) with each change of `health`."""
        self._health_listeners.append(listener)

    def _set_health(self, state: str, cause: str = "", waiting: int = 0) -> None:
        health = JournalHealth(state, cause, waiting, display(self.path))
        if health == self.health:
            return
        if state == STOPPED:  # said loudly by the listeners (record's error line, the banner)
            log.info("journal %s stopped: %s", display(self.path), cause)
        self.health = health
        for listener in self._health_listeners:
            try:
                listener(health)
            except Exception:
                log.exception("journal health listener failed")
        if state == STOPPED:
            with self._idle:  # nobody waits for commits that will not come
                self._idle.notify_all()

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

    def submit_many(self, pushes: list[RawPush], kind_hint: KindHint = None) -> None:
        """`submit` for each push, in order."""
        with self._idle:
            self._submitted += len(pushes)
        put = self._queue.put
        for push in pushes:
            put((push, kind_hint))

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
                if self.health.stopped:
                    return False
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
            journal = open_journal(self.path)
        except BaseException as exc:  # reported by start()
            self._error = exc
            self._ready.set()
            return
        self._journal: Journal = journal
        self._ready.set()
        try:
            self._loop(journal)
        except BaseException as exc:  # the journal cannot go on: say so, loudly, and stop
            log.debug("journal writer stopped", exc_info=True)  # one line at ERROR below
            self._set_health(STOPPED, describe_error(exc))
        finally:
            self._journal.close()

    def _reopen(self) -> None:
        """A shared journal after a lost connection: a new one (its old one is dead). A
        SQLite file stays open: its errors pass with the disk or the lock."""
        if not is_journal_url(self.path):
            return
        try:
            self._journal.close()
        except Exception:
            log.debug("closing a lost journal connection", exc_info=True)
        try:
            self._journal = open_journal(self.path)
        except _retryable():
            log.debug("journal still unreachable", exc_info=True)

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
        """Write a batch; never drop a push, never let one bad record block the rest.

        Busy or full (OperationalError): wait and retry, saying so in `health`. Any other
        `sqlite3.DatabaseError` is the journal's, not a push's (Journal.write makes every
        value storable first): it raises JournalStopped."""
        delay = 0.5
        retryable, fatal = _retryable(), _fatal()
        while True:
            journal = getattr(self, "_journal", journal)  # a new one after a lost connection
            try:
                ids = journal.write(records)
            except retryable as exc:  # disk full, locked, connection lost…: keep them, retry
                log.warning("journal write failed (%s); retrying in %.1f s", exc, delay)
                self._set_health(RETRYING, describe_error(exc), self._waiting(records))
                time.sleep(delay)
                delay = min(delay * 2, 10.0)
                self._reopen()
                continue
            except fatal as exc:
                raise JournalStopped(describe_error(exc)) from exc
            except Exception:  # unforeseen, in one record: store each alone, bare if need be
                log.exception("journal batch refused; storing records one by one")
                ids: list[int] = []
                for i, record in enumerate(records):
                    try:
                        ids += journal.write([record])
                    except retryable:
                        records = records[i:]
                        return ids + self._write(journal, records)
                    except fatal as exc:
                        raise JournalStopped(describe_error(exc)) from exc
                    except Exception as exc:
                        bare = _bare(record, exc)
                        records[i] = bare
                        ids += journal.write([bare])
            if self.health.state == RETRYING:
                self._set_health(OK)
            return ids

    def _waiting(self, records: list[PushRecord]) -> int:
        try:
            return len(records) + self.pending
        except AttributeError:  # the journal process's writer has no queue of its own
            return len(records)

    def _commit(self, journal: Journal, items: list[object]) -> None:
        records = [decode(push, hint) for push, hint in items]  # type: ignore[misc]
        ids = self._write(journal, records)
        stats = self.stats
        stats.count(records)
        stats.batches += 1
        stats.last_commit_at = time.time()
        # QoS 1: only now may the broker forget the pushes
        acknowledge([record.raw.ack_token for record in records])
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
