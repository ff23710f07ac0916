"""A desk's feed is its journal connection: while it is lost, no device's silence means
anything, so every device shows as unknown — the project's rule for a feed that is down
(app/fleet/feeds.py), applied to what feeds a desk.

A desk's devices came through the recorders' profiles, never its own (its connections only
send commands, and are no feed: `AppContext` does not watch them). So when the journal
connection is lost, each profile the fleet has seen goes down with it ("journal connection
lost: …"), and the feed banner says so after its grace; once the connection is back, the
desk catches up on everything the journal got meanwhile, so the ages are true again and
those profiles are forgotten (plain age decides, as before the outage).
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject

from app.desk.tail import DeskState
from app.fleet.state import FleetState
from app.transport.state import ConnectionState, Phase
from app.ui.feed_health import FeedHealth
from app.ui.shared_changes import SharedChanges


class DeskFeeds(QObject):
    def __init__(self, shared: SharedChanges, fleet: FleetState, health: FeedHealth,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.health = health
        self.down: set[str] = set()  # the profiles this outage took down
        shared.sig_connection_changed.connect(self.on_state)

    def on_state(self, state: DeskState) -> None:
        at = time.time()
        if state.connected:
            down, self.down = self.down, set()
            for profile in down:
                self.fleet.feeds.forget(profile)
            if down:
                self.health.check(at)
            return
        why = ConnectionState(Phase.DISCONNECTED, reason="journal connection lost"
                              + (f": {state.reason}" if state.reason else ""))
        profiles = {d.profile for d in self.fleet.devices.values()} | self.down
        self.down |= profiles
        for profile in profiles:
            self.health.on_state(profile, why, at)
