"""The tracker keeps the newest commands with an outcome, never an open one (issue 26)."""

from __future__ import annotations

from app.commands.builder import build, template
from app.commands.tracker import PRUNE_EVERY, CommandTracker


def test_closed_commands_are_forgotten_past_the_bound_open_ones_never():
    tracker = CommandTracker(timeout_s=60, max_closed=50)
    waiting = tracker.track(build(template("version"), "D0", 1), "p")  # never answered
    tracker.mark_sent(waiting)
    for i in range(3 * PRUNE_EVERY):
        cid = tracker.track(build(template("version"), f"D{i + 1}", 1), "p")
        tracker.fail(cid, "refused")
    assert tracker.closed_count() <= 50 + PRUNE_EVERY
    assert tracker.has(waiting) and tracker.get(waiting).open  # its reply must find it
    assert tracker.has(cid)  # the newest is kept
    tracker.set_max_closed(10)  # lowered in the settings: at once
    assert tracker.closed_count() == 10 and tracker.has(cid) and tracker.has(waiting)
