"""The detail pane's command history comes from the command audit in the journal."""

from __future__ import annotations

from app.commands.audit import AuditLog
from app.commands.builder import build_text
from app.commands.tracker import CommandTracker
from app.fleet.state import DeviceState, FleetState
from app.journal.store import Journal
from app.ui.command_history import make_provider


def test_history_section_lists_a_devices_commands_and_outcomes(tmp_path):
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    clock = [100.0]
    tracker = CommandTracker(timeout_s=5, clock=lambda: clock[0], operator="tech")
    audit = AuditLog(path).attach(tracker)
    sent = tracker.track(build_text("BASE,1", "D1", 7), "p1")
    tracker.mark_sent(sent)
    other = tracker.track(build_text("BASE,2", "D2", 8), "p1")
    tracker.mark_sent(other)
    clock[0] += 10
    tracker.expire()
    audit.close()

    provider = make_provider(str(path))
    section = provider(DeviceState("D1"), FleetState())
    assert section is not None and section.title == "Command history"
    assert len(section.rows) == 1
    row = section.rows[0]
    assert "(D1,1,007,BASE,1)" in row.value and "timed out" in row.value.lower()
    assert row.alert
    assert provider(DeviceState("NONE"), FleetState()).summary == "no command sent"
