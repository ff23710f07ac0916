"""The live feed under a flood: the backlog is coalesced, never an alarm or an event lost."""

from __future__ import annotations

import gc
import time
import weakref
from functools import partial

from live_rig import decoded
from PySide6.QtCore import QObject, QTimer

from app.fleet.state import FleetState
from app.sim.fleet import Fleet
from app.ui.feed import COALESCE_AT, LiveFeed, after_a_breath


def test_a_backlog_keeps_every_alarm_and_event_and_the_newest_readings(qtbot):
    sim = Fleet("FEEDKEY", devices=50, seed=5)
    feed = LiveFeed(FleetState())
    feed.stop()  # the window is busy: nothing drains until we say so
    now = time.time()
    records: list = []
    while len(records) < COALESCE_AT + 5_000:
        batch = decoded([sim.next_push() for _ in range(500)], now + len(records) * 1e-4)
        records += batch
    ids = list(range(1, len(records) + 1))
    for k in range(0, len(records), 500):
        feed.push(records[k:k + 500], ids[k:k + 500])
    alarms = [i for i, r in zip(ids, records, strict=True) if r.kind == "alarm"]
    events = [i for i, r in zip(ids, records, strict=True) if r.kind == "event"]
    newest = {}
    for i, r in zip(ids, records, strict=True):
        if r.kind == "location":
            newest[r.device] = (i, r.data.get("battery"))

    change = feed.drain()
    assert feed.dropped > 0 and feed.delivered + feed.dropped == len(records)
    kept = [i for i, _ in change.records]
    assert kept == sorted(kept)  # still in journal order
    assert [e.push_id for e in change.alarms] == alarms  # every alarm reaches the views
    assert [i for i, _ in change.events] == events
    fleet = feed.fleet
    for device_id, (push_id, battery) in newest.items():
        assert push_id in kept  # the latest position of every device is there
        assert fleet.devices[device_id].location.get("battery") == battery


def test_no_coalescing_while_the_window_keeps_up(qtbot):
    sim = Fleet("FEEDKEY", devices=20, seed=6)
    feed = LiveFeed(FleetState())
    feed.stop()
    records = decoded([sim.next_push() for _ in range(3_000)], time.time())
    feed.push(records, list(range(1, 3_001)))
    change = feed.drain()
    assert feed.dropped == 0 and len(change.records) == 3_000


def _busy(seconds: float) -> None:
    """A long piece of GUI-thread work (as a big paint is): the CPU kept busy, no sleep."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def test_work_due_during_a_long_piece_waits_one_more_gap_after_it(qtbot):
    """Else the two ran back to back: one stall of their sum for input and timers."""
    context = QObject()
    ran: list[tuple[str, float]] = []

    def long_piece() -> None:
        _busy(0.05)
        ran.append(("long piece ended", time.perf_counter()))
        # a timer due 1 ms after the long piece: it runs before the work only if the work
        # waits a gap after the long piece (straight on, the work's overdue timer runs first)
        QTimer.singleShot(1, context, lambda: ran.append(("1 ms later", time.perf_counter())))

    QTimer.singleShot(0, long_piece)  # starts before the work is due and ends after
    after_a_breath(context, lambda: ran.append(("work", time.perf_counter())), gap_ms=5)
    qtbot.waitUntil(lambda: len(ran) == 3, timeout=2000)
    assert [what for what, _ in ran] == ["long piece ended", "1 ms later", "work"]

    ran.clear()  # nothing in the way: once, on time
    after_a_breath(context, lambda: ran.append(("work", time.perf_counter())), gap_ms=5)
    qtbot.waitUntil(lambda: len(ran) == 1, timeout=2000)
    qtbot.wait(20)
    assert len(ran) == 1


def test_work_handed_over_is_not_kept_in_a_reference_cycle(qtbot):
    """The window runs with the collector off during a flood: a cycle around a batch kept
    every batch alive (a 60 s flood ended at ~890 MB instead of ~370 MB)."""
    class Batch:
        pass

    batch = Batch()
    gone = weakref.ref(batch)
    done: list[Batch] = []
    context = QObject()
    gc.disable()
    try:
        after_a_breath(context, partial(done.append, batch), gap_ms=1)
        del batch
        qtbot.waitUntil(lambda: bool(done), timeout=2000)
        done.clear()
        assert gone() is None  # freed by reference counting alone
    finally:
        gc.enable()
