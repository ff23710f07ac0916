"""The recording process: the window's MQTT connections and journal, outside the window.

Why a process: in the window's own process, paho's network thread and the journal's pipe
threads ran Python thousands of times a second, and every call Qt makes into a Python
model while painting had to win the GIL back from them — under a flood the GUI thread
spent a third of its time waiting for it. Here they compete with nobody who paints.

The window sends requests (connect, hang up, publish, submit a webhook push, flush,
next: the kinds are `wire.py`'s); this process answers and streams back connection states
and, one batch per NEXT, the decoded pushes coalesced while the window was busy
(`app.fleet.backlog`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import threading
from functools import partial
from multiprocessing.connection import Connection

from app import logs
from app.fleet.backlog import Backlog
from app.pipeline import Recorder
from app.protocol.push import RawPush
from app.recording_process import wire
from app.recording_process.wire import pack
from app.transport.settings import ConnectionSettings

log = logging.getLogger(__name__)

# Coalesce a backlog sooner than the window's own feed: past this many pushes waiting, the
# window is behind, and only the latest reading per device is worth sending.
RELAY_COALESCE_AT = 5_000
NICENESS = 10
CHUNK = 200  # pushes per message to the window
LOG_FORMAT = "recording: %(levelname)s %(message)s"


def run(conn: Connection, journal_path: str) -> None:
    """Entry point of the child (spawned, so the same on Windows)."""
    from app.gctune import tune_for_throughput

    setup_logging()
    yield_to_the_window()
    tune_for_throughput()
    recorder = Recorder(journal_path, in_process=False, records=True).start()
    _Child(conn, recorder).serve()


def setup_logging() -> None:
    """Warnings to stderr (the window's console), masked as the window's log file is: a
    command's unlock password, the profile's MD5, a webhook token never show (app/logs.py)."""
    logs.setup_stderr(logging.WARNING, LOG_FORMAT)


def yield_to_the_window() -> None:
    """Run below the window's priority (the journal process it starts inherits it).

    On a busy machine the scheduler then gives the GUI thread the CPU the moment it has
    work, and recording takes what is left: pushes wait in the broker and the pipe (nothing
    is lost, the journal catches up), while a late repaint is what a dispatcher feels.
    """
    try:
        if sys.platform == "win32":
            import psutil

            psutil.Process().nice(psutil.BELOW_NORMAL_PRIORITY_CLASS)
        else:
            os.nice(NICENESS)
    except Exception as exc:  # a nicety, never a reason not to record
        log.warning("could not lower the recording process's priority: %s", exc)


class _Child:
    def __init__(self, conn: Connection, recorder: Recorder) -> None:
        self.conn = conn
        self.recorder = recorder
        self.backlog = Backlog(coalesce_at=RELAY_COALESCE_AT)
        self._send_lock = threading.Lock()
        self._wake = threading.Condition()
        self._wanted = False
        self._stopping = False
        recorder.add_listener(self._on_records)
        recorder.add_health_listener(partial(self.send, wire.JOURNAL))  # stopped, retrying, ok
        self._relay = threading.Thread(target=self._relay_loop, name="relay", daemon=True)
        self._serves = {  # what the window asks (wire.STOP ends `serve`)
            wire.NEXT: self._op_next,
            wire.CONNECT: self._op_connect,
            wire.HANG_UP: self._op_hang_up,
            wire.PUBLISH: self._op_publish,
            wire.SUBMIT: self._op_submit,
            wire.FLUSH: self._op_flush,
            wire.REOPEN_JOURNAL: self._op_reopen_journal,
            wire.STATS: self._op_stats,
        }

    def send(self, *msg: object) -> None:
        # The window may be gone; serve() notices that on its side of the pipe.
        with self._send_lock, contextlib.suppress(OSError, ValueError):
            self.conn.send(msg)

    # -- pushes to the window ------------------------------------------------------------

    def _on_records(self, records, ids) -> None:  # journal thread, after each commit
        self.backlog.push(records, ids)
        with self._wake:
            self._wake.notify()

    def _relay_loop(self) -> None:
        """One batch per "next": the window never has more than one waiting for it."""
        sent_dropped = 0
        while True:
            with self._wake:
                while not (self._stopping or (self._wanted and len(self.backlog))):
                    self._wake.wait()
                if self._stopping:
                    return
                self._wanted = False
            batch = self.backlog.drain()
            dropped = self.backlog.dropped
            # In pieces: the window unpickles each while holding its GIL, and a whole batch
            # (~15 ms a thousand pushes) would hold up its painting for that long.
            for start in range(0, len(batch), CHUNK):
                part = batch[start:start + CHUNK]
                last = start + CHUNK >= len(batch)
                self.send(wire.BATCH, [pack(r) for r, _ in part], [i for _, i in part],
                          dropped - sent_dropped if last else 0, last)
            sent_dropped = dropped

    # -- requests from the window --------------------------------------------------------

    def serve(self) -> None:
        self._relay.start()
        self.send(wire.READY)
        while True:
            try:
                msg = self.conn.recv()
            except (EOFError, OSError):
                log.warning("window gone; recording stops")
                break
            op, args = msg[0], msg[1:]
            if op == wire.STOP:
                break
            try:
                self._serves[op](*args)
            except Exception:
                log.exception("request %s failed", op)
        with self._wake:
            self._stopping = True
            self._wake.notify()
        self.recorder.stop()
        self.send(wire.STOPPED)

    def _op_next(self) -> None:
        with self._wake:
            self._wanted = True
            self._wake.notify()

    def _op_connect(self, settings: ConnectionSettings, generation: int) -> None:
        name = settings.profile or settings.client_id
        self.recorder.connect(settings, partial(self._state, name, generation))

    def _state(self, name: str, generation: int, state) -> None:  # paho's thread
        self.send(wire.STATE, name, generation, state)

    def _op_hang_up(self, name: str) -> None:
        self.recorder.hang_up(name)

    def _op_publish(self, req: int, profile: str, topic: str, payload, qos: int) -> None:
        try:
            info = self.recorder.publish(profile, topic, payload, qos)
        except Exception as exc:
            self.send(wire.REPLY, req, None, str(exc))
        else:
            self.send(wire.REPLY, req, int(info.rc), None)

    def _op_submit(self, seq: int, source, topic, payload, at, profile, hint, ack: bool) -> None:
        token = partial(self.send, wire.ACKED, seq) if ack else None
        self.recorder.submit(RawPush(source, topic, payload, at, profile, token), hint)

    def _op_flush(self, req: int, timeout: float) -> None:
        def wait() -> None:
            self.send(wire.REPLY, req, self.recorder.flush(timeout), None)

        threading.Thread(target=wait, name="flush", daemon=True).start()

    def _op_reopen_journal(self, req: int, fresh: bool) -> None:
        """Retry the journal after it stopped; `fresh`: move it aside first, start a new one."""
        def reopen() -> None:
            moved = None
            try:
                if fresh:
                    from app.journal.check import move_aside

                    self.recorder.writer.stop(timeout=2.0)
                    moved = str(move_aside(self.recorder.journal_path))
                self.recorder.reopen_journal()
            except Exception as exc:
                self.send(wire.REPLY, req, None, f"cannot open the journal: {exc}")
            else:
                self.send(wire.REPLY, req, moved, None)

        threading.Thread(target=reopen, name="reopen-journal", daemon=True).start()

    def _op_stats(self, req: int) -> None:
        self.send(wire.REPLY, req, self.recorder.stats(), None)
