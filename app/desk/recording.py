"""What the window asks of its recording, for a desk: the journal's pushes, and commands.

A desk records nothing. Its pushes come from the shared journal (`JournalTail`, in a
process of its own: `DeskProcess`); a profile it connects is for *sending* commands only: a
connection that subscribes to nothing (so ten desks cost the broker no pushes), under a
client id of the desk's own (a recorder on the same machine keeps its session), with a clean
session. The replies to those commands reach the journal through the recorders and come back
to the desk's command tracker through the feed, as they would in a recording window; the
audit rows go to the shared journal.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import replace

from app.desk.process import DeskProcess
from app.desk.tail import BatchListener, ChangeListener, JournalTail, StateListener
from app.journal.writer import JournalHealth
from app.protocol.push import RawPush
from app.transport.mqtt import MqttTransport
from app.transport.settings import ConnectionSettings, hashed_client_id

log = logging.getLogger(__name__)

NOT_RECORDING = "a desk records nothing: pushes and webhooks go to a recorder (record --share)"


def publish_only(settings: ConnectionSettings) -> ConnectionSettings:
    """The profile as a desk connects it: no subscription, a client id of its own (two desks
    on one machine included: a broker ends the older session of a client id reused)."""
    key = settings.access_key or settings.client_id
    return replace(settings, topics=(), clean_session=True,
                   client_id=f"{hashed_client_id(key, 'desk')}_{os.getpid()}")


class DeskRecording:
    """The `Recording` of a desk window (see `app.ui.context.Recording`)."""

    def __init__(self, target: str, *, start_after: int | None = None,
                 in_process: bool = False) -> None:
        """The feed is read in a process of its own (`app/desk/process.py` says why), or
        with `in_process`, on a thread of the window's process."""
        self.path = str(target)
        self.tail: JournalTail | DeskProcess = (
            JournalTail(self.path, start_after=start_after) if in_process
            else DeskProcess(self.path, start_after=start_after))
        self.transports: dict[str, MqttTransport] = {}
        self.journal_health = JournalHealth(path=self.path)  # a desk's journal never stops

    # -- life ---------------------------------------------------------------------------------

    def start(self, wait: bool = False) -> DeskRecording:
        self.tail.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        for name in list(self.transports):
            self.transports.pop(name).stop()
        self.tail.stop(timeout)

    # -- the feed -------------------------------------------------------------------------------

    def add_listener(self, listener: BatchListener) -> None:
        self.tail.add_listener(listener)

    def add_change_listener(self, listener: ChangeListener) -> None:
        self.tail.add_change_listener(listener)

    def add_state_listener(self, listener: StateListener) -> None:
        self.tail.add_state_listener(listener)

    def add_journal_listener(self, listener: Callable[[JournalHealth], None]) -> None:
        """A desk writes no pushes: its journal never stops the way a recorder's does (a lost
        connection is the tail's state, shown in the status bar)."""

    def want_more(self) -> None:
        self.tail.want_more()

    def follow_feed(self, pending: Callable[[], int]) -> None:
        """`pending()`: how many pushes the window's feed holds, not yet drained — while few,
        the feed process sends the next batch as soon as it has one."""
        if isinstance(self.tail, DeskProcess):
            self.tail.pending = pending

    # -- commands -----------------------------------------------------------------------------

    def connect(self, settings: ConnectionSettings, on_state=None) -> MqttTransport:
        name = settings.profile or settings.client_id
        if name in self.transports:
            self.transports.pop(name).stop()
        transport = MqttTransport(publish_only(settings), _drop, on_state=on_state)
        self.transports[name] = transport
        transport.start()
        return transport

    def hang_up(self, name: str) -> None:
        transport = self.transports.pop(name, None)
        if transport is not None:
            transport.stop()

    def profiles(self) -> list[str]:
        return sorted(self.transports)

    def publish(self, profile: str, topic: str, payload: str | bytes, qos: int = 1):
        transport = self.transports.get(profile)
        if transport is None:
            raise RuntimeError(f"profile {profile!r} is not connected")
        return transport.publish(topic, payload, qos)

    def submit(self, push: RawPush, kind_hint: str | None = None) -> None:
        raise RuntimeError(NOT_RECORDING)

    def flush(self, timeout: float = 30.0) -> bool:
        return True


def _drop(push: RawPush, kind_hint: str | None = None) -> None:
    """A publish-only connection subscribes to nothing; should a broker send anyway, the
    push is not this desk's to keep (the recorders have it)."""
