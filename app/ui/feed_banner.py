"""The window's word when a feed is down: a banner across the top and a mark in the status bar.

"Feed down: Demo — disconnected: connection lost — since 10:42 (3 min). Its 300 devices
show as unknown until it returns." A feed that is connected but silent beyond its threshold
says so ("connected, but no push since 10:42"). Both go as soon as the feed is back; the
status bar then says when it came back, for a while. A feed the dispatcher disconnected is
not an outage: its devices read unknown, but no banner calls for attention.

Self-contained: `attach_feed_banner(ctx, window)` is the whole wiring (the main window
calls it once); it reads `ctx.feed_health` (app/ui/feed_health.py).
"""

from __future__ import annotations

import time

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QFrame, QHBoxLayout, QMainWindow, QToolBar

from app.ui.feed_health import FeedHealth, Outage
from app.ui.format import ago
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.elided_label import ElidedLabel

_STYLE = f"background:{STATUS_COLOURS['waiting'].name()}; color:white; padding:4px;"
BACK_MESSAGE_MS = 15_000


def clock(epoch: float) -> str:
    return time.strftime("%H:%M", time.localtime(epoch))


def describe(outage: Outage, devices: int, now: float) -> str:
    """One feed's line: what is wrong, since when, for how long, what it means."""
    how_long = ago(now - outage.since).removesuffix(" ago")
    if outage.silent:
        what = (f"connected, but no push since {clock(outage.since)} ({how_long}; a feed with "
                f"no push for {outage.quiet_after:.0f} s counts as down)")
    else:
        what = f"{outage.reason or 'not connected'} — since {clock(outage.since)} ({how_long})"
    if devices:
        means = (f" Its {devices:,} device{'s' if devices != 1 else ''} show as unknown "
                 "until it returns.")
    else:
        means = ""
    return f"Feed down: {outage.profile} — {what}.{means}"


class FeedBanner(QFrame):
    def __init__(self, health: FeedHealth, parent=None) -> None:
        super().__init__(parent)
        self.setObjectName("feed-banner")
        self.health = health
        self.setStyleSheet(_STYLE)
        # One line per feed, elided (the whole text on hover): a wrapped label made the
        # tool bar several lines tall.
        self.label = ElidedLabel()
        layout = QHBoxLayout(self)
        layout.setContentsMargins(6, 2, 6, 2)
        layout.addWidget(self.label, 1)
        self.wanted = False

    def text(self) -> str:
        return self.label.text() if self.wanted else ""

    def show_outages(self, lines: list[str]) -> None:
        self.label.setText("   ·   ".join(lines))
        self.wanted = bool(lines)
        bar = self.parentWidget()
        (bar if isinstance(bar, QToolBar) else self).setVisible(self.wanted)


class FeedWatcher(QFrame):
    """Keeps the banner and the status-bar mark current: at once when a feed goes down or
    comes back, and every second for the "for how long"."""

    def __init__(self, health: FeedHealth, banner: FeedBanner, mark: ElidedLabel,
                 window: QMainWindow) -> None:
        super().__init__(window)
        self.hide()
        self.health = health
        self.banner = banner
        self.mark = mark
        self.window_ = window
        self._was_down: dict[str, float] = {}
        health.sig_feeds_changed.connect(self.update_now)
        self._timer = QTimer(self, interval=1000, timeout=self.update_now)
        self._timer.start()
        self.update_now()

    def update_now(self) -> None:
        now = time.time()
        outages = [o for o in self.health.outages(now) if not o.by_user]
        lines = [describe(o, self.health.devices_of(o.profile), now) for o in outages]
        self.banner.show_outages(lines)
        if outages:
            oldest = outages[0]
            names = ", ".join(o.profile for o in outages)
            self.mark.setText(f"⚠ feed down {ago(now - oldest.since).removesuffix(' ago')}"
                              f" ({names})")
            self.mark.setToolTip("\n".join(lines))
            self.mark.show()
        else:
            self.mark.setText("")
            self.mark.setToolTip("")
            self.mark.hide()
        down = {o.profile: o.since for o in outages}
        back = [p for p in self._was_down if p not in down]
        if back:
            self.window_.statusBar().showMessage(
                f"Feed back at {clock(now)}: {', '.join(back)} — statuses follow what arrives",
                BACK_MESSAGE_MS)
        self._was_down = down


def attach_feed_banner(ctx, window: QMainWindow) -> FeedBanner:
    """A banner across the top of the window and a mark in its status bar, shown only while
    a feed is down."""
    bar = QToolBar("Feed", window)
    bar.setObjectName("feed-banner-bar")
    bar.setMovable(False)
    bar.setFloatable(False)
    bar.toggleViewAction().setVisible(False)  # not one of the panels to show or hide
    banner = FeedBanner(ctx.feed_health, bar)
    bar.addWidget(banner)
    window.addToolBarBreak(Qt.ToolBarArea.TopToolBarArea)
    window.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
    bar.setVisible(False)
    # A saved window layout must not bring the bar back without a reason to show it.
    bar.visibilityChanged.connect(lambda shown: shown and not banner.wanted and bar.hide())
    mark = ElidedLabel("")
    mark.setObjectName("feed-mark")
    mark.setContentsMargins(8, 0, 8, 0)
    mark.setStyleSheet(f"color: {STATUS_COLOURS['waiting'].name()}; font-weight: bold;")
    mark.hide()
    window.statusBar().addPermanentWidget(mark, 2)
    window.feed_watcher = FeedWatcher(ctx.feed_health, banner, mark, window)
    window.feed_banner = banner
    window.feed_mark = mark
    return banner
