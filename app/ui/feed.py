"""From the journal writer's thread to the GUI thread, in batches of at most 5 per second.

The writer calls `LiveFeed.push()` after each commit (any thread, O(1) amortised). A Qt
timer drains everything pending, applies it to the fleet state once, and emits
one `sig_batch` per tick — so a flood of 10 000 pushes/s costs the views 5
notifications/s, not 10 000. Five, not twenty: every batch repaints the visible tables, and
a repaint of a full alarm table and device tree costs ~100 ms of software painting here;
a push still shows within a fifth of a second.

When the window falls behind, the backlog is coalesced: every alarm, event and command
reply stays, but of the position and sub-lock readings only the newest per device (and
sub-lock) is kept — the views show the latest state, and the journal has every push. So
the backlog is bounded by the fleet's size, not by how long the flood lasts, and the
GUI's work per tick by the devices that changed. What was skipped is counted (the status
bar says so; the push log fetches it from the journal). A hard cap drops the oldest as a
last resort.
"""

from __future__ import annotations

import threading
import time
from collections import deque

from PySide6.QtCore import QObject, QTimer, Signal

from app.fleet.state import FleetChange, FleetState
from app.protocol.push import PushRecord

SUPERSEDED_KINDS = frozenset({"location", "sublock"})  # a newer one replaces it on screen
COALESCE_AT = 20_000  # pending pushes before the backlog is coalesced


class LiveFeed(QObject):
    sig_batch = Signal(object)  # FleetChange, once per tick with anything new
    sig_rate = Signal(float, float)  # pushes per second, time of the last push

    def __init__(
        self,
        fleet: FleetState,
        *,
        interval_ms: int = 200,
        max_pending: int = 200_000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self._lock = threading.Lock()
        self._pending: deque[tuple[PushRecord, int]] = deque()
        self.max_pending = max_pending
        self.coalesce_at = COALESCE_AT
        self.dropped = 0
        self.delivered = 0
        self.last_push_at = 0.0
        self._window: deque[tuple[float, int]] = deque()  # (monotonic time, count) for the rate
        self.interval_ms = interval_ms
        self.max_interval_ms = 1000
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.drain)
        self._timer.start()

    def push(self, records: list[PushRecord], ids: list[int]) -> None:
        """Thread-safe: called by the journal writer after each commit."""
        with self._lock:
            self._pending.extend(zip(records, ids, strict=False))
            if len(self._pending) > self.coalesce_at:
                self._coalesce()
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                for _ in range(overflow):
                    self._pending.popleft()
                self.dropped += overflow

    def _coalesce(self) -> None:
        """Keep alarms, events, replies and the newest reading per device/sub-lock (lock held)."""
        seen: set[tuple[str, str | None, str | None]] = set()
        kept: list[tuple[PushRecord, int]] = []
        for item in reversed(self._pending):
            record = item[0]
            if record.kind in SUPERSEDED_KINDS:
                key = (record.kind, record.device, record.sublock)
                if key in seen:
                    continue
                seen.add(key)
            kept.append(item)
        kept.reverse()
        self.dropped += len(self._pending) - len(kept)
        self._pending = deque(kept)
        # A fleet bigger than the threshold: coalesce again only when the backlog doubles.
        self.coalesce_at = max(COALESCE_AT, 2 * len(kept))

    def drain(self) -> FleetChange | None:
        with self._lock:
            if not self._pending:
                batch = None
            else:
                batch = list(self._pending)
                self._pending.clear()
                self.coalesce_at = COALESCE_AT
        now = time.monotonic()
        window = self._window
        if batch:
            window.append((now, len(batch)))
            self.delivered += len(batch)
            self.last_push_at = batch[-1][0].raw.received_at
        while window and now - window[0][0] > 5.0:
            window.popleft()
        span = max(now - window[0][0], 1.0) if window else 1.0
        self.sig_rate.emit(sum(n for _, n in window) / span, self.last_push_at)
        if not batch:
            return None
        started = time.perf_counter()
        change = self.fleet.apply([r for r, _ in batch], [i for _, i in batch])
        self.sig_batch.emit(change)
        self._adapt((time.perf_counter() - started) * 1000.0)
        return change

    def _adapt(self, busy_ms: float) -> None:
        """Under a flood, hand the views bigger batches less often, so input and painting
        always get most of the GUI thread: the next tick waits at least 3x what this one
        cost (between the base interval and one second)."""
        interval = int(min(self.max_interval_ms, max(self.interval_ms, 3.0 * busy_ms)))
        if interval != self._timer.interval():
            self._timer.setInterval(interval)

    def stop(self) -> None:
        self._timer.stop()
