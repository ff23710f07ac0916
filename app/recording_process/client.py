"""The window's handle on the recording process (see `child.py` for why it is a process).

Offers what the window asks of a `Recorder` — connect, hang up, publish, submit, flush —
over a pipe. One receiver thread waits on the pipe (no GIL while it waits) and wakes a few
times a second: for a batch of pushes, a connection state, a reply or an acknowledgement.
"""

from __future__ import annotations

import atexit
import contextlib
import itertools
import logging
import multiprocessing as mp
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from app.journal.writer import STOPPED, JournalHealth
from app.protocol.push import RawPush
from app.recording_process import wire
from app.recording_process.wire import unpack
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase

log = logging.getLogger(__name__)

# (records, ids, skipped): skipped = pushes coalesced away since the previous batch.
BatchListener = Callable[[list, list, int], None]
StateListener = Callable[[ConnectionState], None]
REPLY_TIMEOUT_S = 10.0
LOST = "the recording process stopped unexpectedly; restart SealDesk (the journal is safe)"


@dataclass(frozen=True)
class Published:
    rc: int  # paho's result code: 0 queued for sending


class RecordingProcess:
    def __init__(self, journal_path: str | Path) -> None:
        self.path = str(journal_path)
        self._listeners: list[BatchListener] = []
        self._states: dict[str, tuple[int, StateListener | None]] = {}
        self._settings: dict[str, ConnectionSettings] = {}
        self._generations = itertools.count(1)
        self._requests = itertools.count(1)
        self._replies: dict[int, tuple[threading.Event, list]] = {}
        self._acks: dict[int, Callable[[], object]] = {}
        self._send_lock = threading.Lock()
        self._ready = threading.Event()
        self._outstanding = False  # a NEXT is on its way; the child answers with a BATCH
        self._stopping = False
        self.lost = False
        self.journal_health: JournalHealth = JournalHealth(path=self.path)
        self._journal_listeners: list[Callable[[JournalHealth], None]] = []
        self._proc: mp.Process | None = None
        self._conn = None

    # -- life ----------------------------------------------------------------------------

    def start(self, wait: bool = True) -> RecordingProcess:
        """Spawn the child; with wait=False return at once (requests queue in the pipe)."""
        from app.recording_process.child import run

        ctx = mp.get_context("spawn")
        parent, child = ctx.Pipe(duplex=True)
        # Not a daemon: it has a child of its own (the journal writer). It ends when told to,
        # or by itself when the window's end of the pipe closes (a crash included).
        self._proc = ctx.Process(target=run, args=(child, self.path),
                                 name="sealdesk-recording")
        self._proc.start()
        atexit.register(self.stop)
        child.close()
        self._conn = parent
        threading.Thread(target=self._recv_loop, name="recording-recv", daemon=True).start()
        if wait and (not self._ready.wait(60) or self.lost):
            raise RuntimeError("recording process did not start")
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Flush, hang up every connection and end the child."""
        if self._proc is None:
            return
        self._stopping = True
        with contextlib.suppress(RuntimeError):  # already gone: nothing to tell it
            self._send(wire.STOP)
        atexit.unregister(self.stop)
        self._proc.join(timeout)
        if self._proc.is_alive():
            log.error("recording process did not stop in %.0f s; terminating it", timeout)
            self._proc.terminate()
        self._proc = None

    def add_journal_listener(self, listener: Callable[[JournalHealth], None]) -> None:
        """Called on the receiver thread with each change of the journal's health: the
        journal stopped (damaged, gone…), is retrying (disk full), or is writing again."""
        self._journal_listeners.append(listener)

    def reopen_journal(self, fresh: bool = False, timeout: float = 60.0) -> str | None:
        """Retry a stopped journal; `fresh`: move it aside (the path it went to is returned)
        and start a new one. Connections are made again, so the broker resends what it held.
        Raises RuntimeError with the reason when the journal still cannot be opened."""
        return self._call(wire.REOPEN_JOURNAL, fresh, timeout=timeout)

    def _journal(self, health: JournalHealth) -> None:
        self.journal_health = health
        for listener in self._journal_listeners:
            try:
                listener(health)
            except Exception:
                log.exception("journal listener failed")

    def add_listener(self, listener: BatchListener) -> None:
        """Called on the receiver thread with each batch of decoded pushes."""
        self._listeners.append(listener)

    def want_more(self) -> None:
        """Ask for the next batch (at most one is ever on its way)."""
        if not self._outstanding and not self.lost:
            self._outstanding = True
            self._send(wire.NEXT)

    # -- connections ---------------------------------------------------------------------

    def connect(self, settings: ConnectionSettings,
                on_state: StateListener | None = None) -> None:
        name = settings.profile or settings.client_id
        generation = next(self._generations)
        self._states[name] = (generation, on_state)
        self._settings[name] = settings
        self._send(wire.CONNECT, settings, generation)

    def hang_up(self, name: str) -> None:
        """Returns at once; the child acknowledges what it has, then hangs up."""
        self._states.pop(name, None)
        if self._settings.pop(name, None) is not None:
            self._send(wire.HANG_UP, name)

    def profiles(self) -> list[str]:
        return sorted(self._settings)

    def publish(self, profile: str, topic: str, payload: str | bytes, qos: int = 1) -> Published:
        """Blocks for the child's answer (a round trip of a millisecond or so)."""
        if profile not in self._settings:
            raise RuntimeError(f"profile {profile!r} is not connected")
        return Published(self._call(wire.PUBLISH, profile, topic, payload, qos))

    # -- the journal ---------------------------------------------------------------------

    def submit(self, push: RawPush, kind_hint: str | None = None) -> None:
        """Thread-safe, non-blocking; `push.ack_token` is called once the push is committed.
        Raises RuntimeError when the recording process is gone."""
        seq = next(self._requests)
        if push.ack_token is not None:
            self._acks[seq] = push.ack_token
        try:
            self._send(wire.SUBMIT, seq, push.source, push.topic, push.payload, push.received_at,
                       push.profile, kind_hint, push.ack_token is not None)
        except RuntimeError:  # the child is gone: the caller answers "not stored" (503)
            self._acks.pop(seq, None)
            raise

    def flush(self, timeout: float = 30.0) -> bool:
        """Wait until everything submitted so far (by any channel) is committed."""
        try:
            return bool(self._call(wire.FLUSH, timeout, timeout=timeout + REPLY_TIMEOUT_S))
        except RuntimeError:
            return False

    def stats(self) -> dict:
        return self._call(wire.STATS)

    # -- the pipe --------------------------------------------------------------------------

    def _send(self, *msg: object) -> None:
        with self._send_lock:
            if self._conn is None:
                raise RuntimeError("recording process not started")
            try:
                self._conn.send(msg)
            except (OSError, ValueError) as exc:
                raise RuntimeError(LOST) from exc

    def _call(self, op: str, *args: object, timeout: float = REPLY_TIMEOUT_S):
        if self.lost:
            raise RuntimeError(LOST)
        req = next(self._requests)
        done, box = threading.Event(), []
        self._replies[req] = (done, box)
        try:
            self._send(op, req, *args)
            if not done.wait(timeout):
                raise RuntimeError(f"the recording process did not answer {op} in {timeout:.0f} s")
        finally:
            self._replies.pop(req, None)
        value, error = box
        if error is not None:
            raise RuntimeError(error)
        return value

    def _recv_loop(self) -> None:
        conn = self._conn
        while True:
            try:
                msg = conn.recv()
            except (EOFError, OSError):
                if not self._stopping:
                    self._on_lost()
                return
            op = msg[0]
            try:
                if op == wire.BATCH:
                    self._on_batch(*msg[1:])
                elif op == wire.STATE:
                    _, name, generation, state = msg
                    current = self._states.get(name)
                    # A replaced or hung-up transport's late words are not the profile's state.
                    if current and current[0] == generation and current[1] is not None:
                        current[1](state)
                elif op == wire.REPLY:
                    _, req, value, error = msg
                    waiting = self._replies.get(req)
                    if waiting is not None:
                        waiting[1].extend((value, error))
                        waiting[0].set()
                elif op == wire.ACKED:
                    token = self._acks.pop(msg[1], None)
                    if token is not None:
                        token()
                elif op == wire.JOURNAL:
                    self._journal(msg[1])
                elif op == wire.READY:
                    self._ready.set()
                elif op == wire.STOPPED:
                    return
            except Exception:
                log.exception("handling %s from the recording process failed", op)

    def _on_batch(self, packed: list, ids: list[int], skipped: int, last: bool) -> None:
        records = [unpack(t) for t in packed]
        if last:
            self._outstanding = False
        for listener in self._listeners:
            try:
                listener(records, ids, skipped)
            except Exception:
                log.exception("batch listener failed")

    def _on_lost(self) -> None:
        """The child died: say so on every connection, and fail every waiting request."""
        self.lost = True
        self._ready.set()  # nobody waits for a start that will not come
        log.error("recording process ended unexpectedly")
        for _generation, listener in list(self._states.values()):
            if listener is not None:
                listener(ConnectionState(Phase.DISCONNECTED, reason=LOST))
        for done, box in list(self._replies.values()):
            box.extend((None, LOST))
            done.set()
        self._journal(JournalHealth(STOPPED, "the recording process stopped unexpectedly",
                                    path=self.path))
