"""The window's watch on its feeds: connection states into the fleet's rule, and a signal
when a feed goes down or comes back. The rule itself (feed down ⇒ unknown) is the fleet's,
Qt-free, in app/fleet/feeds.py; this adapter only feeds it and tells the views.

A feed also goes down with no connection event at all: when nothing has arrived on it for
longer than its "feed quiet after" (the profile's own, else the fleet's quiet threshold).
A one-second check notices that, and the views hear of it through the same signal.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from PySide6.QtCore import QObject, QTimer, Signal

from app.fleet.feeds import Feed
from app.fleet.state import FleetState
from app.transport.state import ConnectionState, Phase

CHECK_MS = 1_000
GRACE_S = 5.0  # a feed that was never up is not "down" on screen before this (start-up)


@dataclass(frozen=True, slots=True)
class Outage:
    """One feed that cannot be trusted now, as the banner says it."""

    profile: str
    since: float
    reason: str
    silent: bool  # connected, but nothing arrived for longer than its threshold
    by_user: bool
    quiet_after: float


def outage_reason(state: ConnectionState) -> str:
    """Why a feed is down, in the transport's words, without the retry countdown (a banner
    that says "retrying in 4 s" for a minute would be wrong the rest of the time)."""
    why = state.reason or state.phase.value
    if state.refused or state.phase is Phase.REFUSED:
        return f"refused: {why}"
    if state.phase is Phase.DISCONNECTED:
        return f"disconnected: {why}" if state.reason else "disconnected"
    return why


class FeedHealth(QObject):
    sig_feeds_changed = Signal()
    """A feed went down or came back (statuses of its devices changed): redraw them."""

    def __init__(self, fleet: FleetState, connections: QObject | None = None,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self._down: frozenset[str] = frozenset()
        self._changes = fleet.feeds.changes
        if connections is not None:
            connections.sig_state_changed.connect(self.on_state)
        # Started by the first connection state: a context with no connection has nothing to
        # watch, and no timer to outlive it.
        self._timer = QTimer(self, interval=CHECK_MS, timeout=self.check)

    def on_state(self, profile: str, state: ConnectionState, at: float | None = None) -> None:
        if not self._timer.isActive():
            self._timer.start()
        at = time.time() if at is None else at
        feeds = self.fleet.feeds
        if state.phase is Phase.CONNECTED:
            feeds.went_up(profile, at)
        else:
            by_user = state.phase is Phase.DISCONNECTED and state.reason == "by user"
            feeds.went_down(profile, at, outage_reason(state), by_user=by_user)
        self.check(at)

    def set_quiet_after(self, profile: str, seconds: float | None) -> None:
        """A profile's own "feed quiet after" (None or 0: the fleet's quiet threshold)."""
        self.fleet.feeds.set_quiet_after(profile, seconds)
        self.check()

    def quiet_after(self, profile: str) -> float:
        return self.fleet.feeds.quiet_after_of(profile, self.fleet.thresholds.quiet_after)

    def check(self, now: float | None = None) -> None:
        """Tell the views when the set of feeds that cannot be trusted changed."""
        now = time.time() if now is None else now
        down = frozenset(self.fleet.feeds.down(now, self.fleet.thresholds.quiet_after))
        changes = self.fleet.feeds.changes
        if down != self._down or changes != self._changes:
            self._down, self._changes = down, changes
            self.sig_feeds_changed.emit()

    def outages(self, now: float | None = None) -> list[Outage]:
        """Feeds down now, oldest outage first; a feed that never came up only after a
        few seconds of trying (the window's own start is not an outage)."""
        now = time.time() if now is None else now
        feeds = self.fleet.feeds
        out = []
        for name, since in feeds.down(now, self.fleet.thresholds.quiet_after).items():
            feed: Feed = feeds.feeds[name]
            if not feed.ever_up and now - since < GRACE_S:
                continue
            out.append(Outage(name, since, feed.reason, feed.up, feed.by_user,
                              self.quiet_after(name)))
        return sorted(out, key=lambda o: o.since)

    def devices_of(self, profile: str) -> int:
        return sum(1 for d in self.fleet.devices.values() if d.profile == profile)

    def stop(self) -> None:
        self._timer.stop()
