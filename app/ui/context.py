"""What every panel is given: shared state and signals, never another panel's widgets."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Protocol

from PySide6.QtCore import QObject, QSettings, Signal

from app.fleet.state import FleetState
from app.journal.url import open_journal
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase
from app.ui.acknowledgements import Acknowledgements
from app.ui.feed import LiveFeed
from app.ui.feed_health import FeedHealth
from app.ui.groups import DeviceGroups
from app.ui.navigator import Navigator
from app.ui.operator import os_user
from app.ui.reveal import SecretReveal
from app.ui.sections import DetailSections
from app.ui.shared_changes import SharedChanges


class Selection(QObject):
    """The device (and sub-lock) the dispatcher is looking at, shared by every panel."""

    sig_device_selected = Signal(str)  # device id ('' when cleared)
    sig_devices_selected = Signal(list)  # all selected device ids (charts overlay several)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device_id = ""
        self.device_ids: list[str] = []

    def select(self, device_id: str) -> None:
        self.select_many([device_id] if device_id else [])

    def select_many(self, device_ids: list[str]) -> None:
        current = device_ids[0] if device_ids else ""
        if device_ids == self.device_ids:
            return
        self.device_ids = list(device_ids)
        if current != self.device_id:
            self.device_id = current
            self.sig_device_selected.emit(current)
        self.sig_devices_selected.emit(list(device_ids))


class Recording(Protocol):
    """What the window asks of whoever runs its connections and journal: the recording
    process in the window, a `Recorder` in tests that want everything in one process."""

    def connect(self, settings: ConnectionSettings, on_state=None) -> object: ...
    def hang_up(self, name: str) -> None: ...
    def profiles(self) -> list[str]: ...
    def publish(self, profile: str, topic: str, payload: str | bytes, qos: int = 1): ...
    def add_listener(self, listener) -> None: ...


class Connections(QObject):
    """Connected profiles and their states, whichever process runs the transports."""

    sig_state_changed = Signal(str, object)  # profile name, ConnectionState

    def __init__(self, recording: Recording, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.recording = recording
        self.states: dict[str, ConnectionState] = {}
        self.settings: dict[str, ConnectionSettings] = {}
        self._generation: dict[str, int] = {}
        self.sig_state_changed.connect(self.track)

    def connect_profile(self, settings: ConnectionSettings) -> None:
        name = settings.profile or settings.client_id
        self.settings[name] = settings
        generation = self._generation[name] = self._generation.get(name, 0) + 1

        def on_state(state: ConnectionState) -> None:
            # Called off the GUI thread; the signal is delivered on the GUI thread. A transport
            # that was replaced or disconnected may still report (it hangs up off-thread):
            # its late words must not overwrite the current connection's state.
            if self._generation.get(name) == generation:
                self.sig_state_changed.emit(name, state)

        self.recording.connect(settings, on_state)

    def disconnect_profile(self, name: str) -> None:
        """Returns at once; the transport acknowledges what it has, then hangs up, off-thread."""
        self._generation[name] = self._generation.get(name, 0) + 1
        self.recording.hang_up(name)
        self.settings.pop(name, None)
        self.sig_state_changed.emit(name, ConnectionState(Phase.DISCONNECTED, "by user"))

    def connected_profiles(self) -> list[str]:
        """Profiles with a running transport (connected or retrying)."""
        return self.recording.profiles()

    def publish(self, profile: str, topic: str, payload: str | bytes, qos: int = 1):
        """The result has paho's `rc` (0: queued); raises when the profile is not connected."""
        return self.recording.publish(profile, topic, payload, qos)

    def add_push_listener(self, listener) -> None:
        """`listener(records, ids[, skipped])` on a background thread, for every batch of
        decoded pushes (command replies always among them), before the views get them."""
        self.recording.add_listener(listener)

    def track(self, name: str, state: ConnectionState) -> None:
        self.states[name] = state


@dataclass
class AppContext:
    fleet: FleetState
    feed: LiveFeed
    connections: Connections
    selection: Selection
    journal_path: str
    settings: QSettings
    operator: str = field(default_factory=os_user)
    desk: bool = False  # a window on a shared journal, fed by it (issue 23)
    shared: SharedChanges = field(default_factory=SharedChanges)  # what other desks changed
    webhook: object | None = None  # the running WebhookServer, if any (stats for the status bar)
    started_at: float = field(default_factory=time.time)
    acknowledgements: Acknowledgements = field(init=False)
    detail_sections: DetailSections = field(default_factory=DetailSections)
    feed_health: FeedHealth = field(init=False)  # feed down ⇒ its devices unknown
    navigator: Navigator = field(init=False)  # "show this device in that panel"
    reveal: SecretReveal = field(init=False)  # secrets masked unless revealed (audited)
    groups: DeviceGroups = field(init=False)  # saved device groups, a filter for any panel

    def __post_init__(self) -> None:
        self.acknowledgements = Acknowledgements(self.fleet, self.journal_path,
                                                 lambda: self.operator)
        # A desk's connections only send commands: its feed is the journal (desk_feeds.py).
        self.feed_health = FeedHealth(self.fleet, None if self.desk else self.connections)
        self.navigator = Navigator(self.selection)
        self.reveal = SecretReveal(self.journal_path, lambda: self.operator)
        self.groups = DeviceGroups(self.settings)
        self.shared.sig_table_changed.connect(self._on_shared_change)
        self.feed.sig_batch_delivered.connect(self._on_batch_delivered)
        self._acks_after_feed = False

    def _on_shared_change(self, table: str) -> None:
        if SharedChanges.concerns(table, "alarm_ack"):
            self.acknowledgements.reload()
            # Alarms committed before the change may still wait in the feed, not yet in the
            # fleet (a catch-up after a reconnect, most of all; the feed process sends a
            # change after the pushes before it): read again once they are in.
            if len(self.feed.backlog):
                self._acks_after_feed = True

    def _on_batch_delivered(self, _change: object) -> None:
        if self._acks_after_feed and not len(self.feed.backlog):
            self._acks_after_feed = False
            self.acknowledgements.reload()

    def open_journal(self):  # -> Journal | PgJournal
        """A connection for the calling thread (SQLite connections are not shared): the
        SQLite journal, or the shared PostgreSQL one of a desk. Its failures are
        `app.journal.url.JOURNAL_ERRORS`."""
        return open_journal(self.journal_path)
