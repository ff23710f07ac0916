"""Critical alarms: a sound and a notification, at most one per second (coalesced)."""

from __future__ import annotations

import time
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

from app.ui.panels.alarms.model import AlarmRow
from app.ui.widgets.live_format import local_time

ShowHook = Callable[[str, str], None]


def describe(rows: list[AlarmRow], limit: int = 5) -> tuple[str, str]:
    """(title, message) for one notification about these critical alarms."""
    if len(rows) == 1:
        r = rows[0]
        where = f" at {r.position[0]:.5f}, {r.position[1]:.5f}" if r.position else ""
        return (f"Critical alarm: {r.name}",
                f"{r.name} on {r.device} ({local_time(r.at)}){where}")
    names: dict[str, int] = {}
    for r in rows:
        names[r.name] = names.get(r.name, 0) + 1
    summary = ", ".join(f"{n}× {name}" if n > 1 else name for name, n in names.items())
    lines = [f"{r.name} — {r.device}" for r in rows[:limit]]
    if len(rows) > limit:
        lines.append(f"… and {len(rows) - limit} more")
    return f"{len(rows)} critical alarms: {summary}", "\n".join(lines)


class CriticalNotifier(QObject):
    """Collects critical alarms and calls `show_hook(title, message)` at most once per interval."""

    sig_notification_shown = Signal(str, str)
    """A notification went out: its title and message."""

    def __init__(self, show_hook: ShowHook, interval_s: float = 1.0,
                 clock: Callable[[], float] = time.monotonic,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.show_hook = show_hook
        self.interval_s = interval_s
        self.clock = clock
        self._pending: list[AlarmRow] = []
        self._last: float | None = None
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.timeout.connect(self.flush)

    @property
    def pending(self) -> int:
        return len(self._pending)

    def add(self, rows: list[AlarmRow]) -> None:
        if not rows:
            return
        self._pending.extend(rows)
        if self._timer.isActive():
            return  # a notification is already scheduled; these join it
        now = self.clock()
        wait = 0.0 if self._last is None else self._last + self.interval_s - now
        if wait <= 0:
            self.flush()
        else:
            self._timer.start(max(1, int(wait * 1000)))

    def flush(self) -> None:
        if not self._pending:
            return
        rows, self._pending = self._pending, []
        self._last = self.clock()
        title, message = describe(rows)
        self.show_hook(title, message)
        self.sig_notification_shown.emit(title, message)

    def stop(self) -> None:
        self._timer.stop()
        self._pending.clear()
