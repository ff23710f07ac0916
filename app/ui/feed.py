"""From the journal writer's thread to the GUI thread, in batches of at most 5 per second.

The writer calls `LiveFeed.push()` after each commit (any thread, O(1) amortised). A Qt
timer drains everything pending, applies it to the fleet state once, and emits
one `sig_batch_delivered` per tick — so a flood of 10 000 pushes/s costs the views 5
notifications/s, not 10 000. Five, not twenty: every batch repaints the visible tables, and
a repaint of a full alarm table and device tree costs ~100 ms of software painting here;
a push still shows within a fifth of a second.

When the window falls behind, the backlog is coalesced (`app.fleet.backlog`): every
alarm, event and reply stays, only the newest reading per device is kept. The recording
process coalesces before it sends, and hands over the next batch only when this feed asks
(`want_more`, after each drain), so a slow window gets fewer, denser batches rather than a
growing queue. What was skipped is counted (the status bar says so; the push log fetches it
from the journal).

Views take their batch in turns (`view_batches()`): each view gets its own signal, a few
milliseconds after the previous one, so Qt paints what one view changed before the next
changes anything. A repaint of the whole window at once (device tree, alarm table, detail
and push log: ~100 ms of software painting here) was the longest stall of a flood; one
view's share is a fraction of it. `sig_batch_delivered` follows once every view has had
its turn.
The first turn, too, comes a gap after the batch is applied to the fleet state, and a
turn whose timer fell due during a long paint waits one more gap (`after_a_breath`):
otherwise the pieces ran back to back, and the event loop saw one stall of their sum.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable
from functools import partial

from PySide6.QtCore import QMetaMethod, QObject, QTimer, Signal, SignalInstance

from app.fleet.backlog import COALESCE_AT, SUPERSEDED_KINDS, Backlog
from app.fleet.state import FleetChange, FleetState
from app.protocol.push import PushRecord

__all__ = ["COALESCE_AT", "SUPERSEDED_KINDS", "InPieces", "LiveFeed", "after_a_breath"]
TURN_GAP_MS = 4  # between two views' turns: time for the event loop to paint the first


def after_a_breath(context: QObject, work: Callable[[], None], gap_ms: int = TURN_GAP_MS) -> None:
    """Run `work` in the GUI thread `gap_ms` from now, and at least `gap_ms` after any long
    piece of work that ran in the meantime (the paint of what the last piece changed).

    A timer due during a 40 ms paint fires the moment the paint ends: the two pieces then
    ran back to back, one stall of their sum for input and timers. When it fires that late,
    it waits one more gap, once.
    """
    due = time.perf_counter() + gap_ms / 1000.0
    QTimer.singleShot(gap_ms, context, partial(_breathe, context, work, gap_ms, due))


def _breathe(context: QObject, work: Callable[[], None], gap_ms: int, due: float | None) -> None:
    # A plain function, not a closure that names itself: that is a reference cycle, and with
    # the collector off during a flood (app.gctune) each one kept a whole batch alive.
    if due is not None and time.perf_counter() - due > gap_ms / 1000.0:
        QTimer.singleShot(gap_ms, context, partial(_breathe, context, work, gap_ms, None))
        return
    work()


class InPieces:
    """Work done a piece at a time, a breath apart (`after_a_breath`): `step()` does one
    piece and says whether any is left. `go()` starts it unless it is under way."""

    def __init__(self, context: QObject, step: Callable[[], bool]) -> None:
        self.context = context
        self.step = step
        self.running = False

    def go(self, now: bool = True) -> None:
        """Start: the first piece now, or (`now=False`) after a breath."""
        if self.running:
            return
        self.running = True
        if now:
            self._next()
        else:
            after_a_breath(self.context, self._next)

    def _next(self) -> None:
        if self.step():
            after_a_breath(self.context, self._next)
        else:
            self.running = False


class _Turn(QObject):
    """One view's place in the queue (a QObject, so Qt drops its connections with the view)."""

    sig_batch_ready = Signal(object)
    """This view's turn: the FleetChange of the batch."""

    def wanted(self) -> bool:
        return self.isSignalConnected(QMetaMethod.fromSignal(self.sig_batch_ready))


class LiveFeed(QObject):
    sig_batch_delivered = Signal(object)
    """FleetChange, once per tick with anything new, after every view has had its turn."""
    sig_rate_changed = Signal(float, float)
    """Pushes per second, and the time of the last push."""

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
        self.backlog = Backlog(max_pending=max_pending)
        self.upstream_dropped = 0  # skipped by the recording process before it sent
        self.want_more: Callable[[], None] | None = None  # asks the source for the next batch
        self.delivered = 0
        self._dropped_seen = 0
        self.busy_ms: deque[float] = deque(maxlen=10_000)  # what each batch cost the views
        self.last_push_at = 0.0
        self._last_batch = time.monotonic()
        self._window: deque[tuple[float, int]] = deque()  # (monotonic time, count) for the rate
        self.interval_ms = interval_ms
        self.max_interval_ms = 1000
        self._turns: list[_Turn] = []
        self._handing_out = False
        self._busy = 0.0
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(partial(self.drain, in_turns=True))
        self._timer.start()

    def idle_s(self) -> float:
        """Seconds since the last batch with anything in it."""
        return time.monotonic() - self._last_batch

    def view_batches(self) -> SignalInstance:
        """A batch signal of the caller's own, emitted in its turn (see the module doc)."""
        turn = _Turn(self)
        self._turns.append(turn)
        return turn.sig_batch_ready

    @property
    def dropped(self) -> int:
        return self.backlog.dropped + self.upstream_dropped

    def push(self, records: list[PushRecord], ids: list[int], skipped: int = 0) -> None:
        """Thread-safe: called after each commit (or by the recording process's batches);
        `skipped` counts what the sender coalesced away before this batch."""
        self.upstream_dropped += skipped
        self.backlog.push(records, ids)

    def drain(self, in_turns: bool = False) -> FleetChange | None:
        """Apply what is pending and hand it to the views: at once, or (from the timer) in
        turns. A tick that comes while the last batch is still being handed out waits."""
        if self._handing_out:
            return None
        batch = self.backlog.drain()
        if self.want_more is not None:
            self.want_more()
        now = time.monotonic()
        window = self._window
        # The rate counts what arrived, coalesced away or not.
        dropped = self.dropped
        arrived = len(batch) + dropped - self._dropped_seen
        self._dropped_seen = dropped
        if arrived:
            window.append((now, arrived))
        if batch:
            self._last_batch = now
            self.delivered += len(batch)
            self.last_push_at = batch[-1][0].raw.received_at
        while window and now - window[0][0] > 5.0:
            window.popleft()
        span = max(now - window[0][0], 1.0) if window else 1.0
        self.sig_rate_changed.emit(sum(n for _, n in window) / span, self.last_push_at)
        if not batch:
            return None
        started = time.perf_counter()
        change = self.fleet.apply([r for r, _ in batch], [i for _, i in batch])
        self._busy = (time.perf_counter() - started) * 1000.0
        self._handing_out = True
        if in_turns:  # applying a big batch is a piece of work of its own: paint in between
            after_a_breath(self, partial(self._hand_out, change, 0, True))
        else:
            self._hand_out(change, 0, False)
        return change

    def _hand_out(self, change: FleetChange, first: int, in_turns: bool) -> None:
        if not self._timer.isActive() and in_turns:  # stopped between two turns
            self._handing_out = False
            return
        started = time.perf_counter()
        turns = self._turns
        i = first
        while i < len(turns):
            turn = turns[i]
            i += 1
            if not turn.wanted():
                continue
            turn.sig_batch_ready.emit(change)
            if in_turns and i < len(turns):
                self._busy += (time.perf_counter() - started) * 1000.0
                after_a_breath(self, partial(self._hand_out, change, i, True))
                return
        self._busy += (time.perf_counter() - started) * 1000.0
        self._handing_out = False
        self.sig_batch_delivered.emit(change)
        self.busy_ms.append(self._busy)
        self._adapt(self._busy)

    def _adapt(self, busy_ms: float) -> None:
        """Under a flood, hand the views bigger batches less often, so input and painting
        always get most of the GUI thread: the next tick waits at least 3x what this one
        cost (between the base interval and one second)."""
        interval = int(min(self.max_interval_ms, max(self.interval_ms, 3.0 * busy_ms)))
        if interval != self._timer.interval():
            self._timer.setInterval(interval)

    def stop(self) -> None:
        self._timer.stop()
