"""Alarm severities: every code of the seed ranked once, sensible defaults, user changes kept."""

from __future__ import annotations

from app.fleet.severity import (
    CRITICAL_CODES,
    INFO_CODES,
    WARNING_CODES,
    Severity,
    SeverityTable,
)
from app.protocol.codes import ALARM_TYPES


def test_every_alarm_code_of_the_seed_has_exactly_one_severity():
    sets = (CRITICAL_CODES, WARNING_CODES, INFO_CODES)
    ranked = [code for s in sets for code in s]
    assert sorted(set(ALARM_TYPES) - set(ranked)) == [], "codes without a severity"
    assert sorted(set(ranked) - set(ALARM_TYPES)) == [], "severities for codes the seed lacks"
    assert len(ranked) == len(set(ranked)), "a code in two sets"


def test_defaults_a_dispatcher_would_choose():
    table = SeverityTable()
    by_name = {name: code for code, name in ALARM_TYPES.items()}
    for name in ("SOS", "Lock rope cut", "Back cover opened", "Vehicle theft",
                 "Unlock password error for 5 consecutive times", "Chain saw off"):
        assert table.of(by_name[name]) is Severity.CRITICAL, name
    for name in ("Low power", "Slave sensor signal lost", "Speeding Alarm"):
        assert table.of(by_name[name]) is Severity.WARNING, name
    for name in ("GPRS reconnection", "Driver change event"):
        assert table.of(by_name[name]) is Severity.INFO, name
    assert table.of(None) is Severity.WARNING
    assert table.of(99999) is Severity.WARNING  # not in the seed: look, don't panic


def test_marks_are_shapes_not_only_colours():
    assert {s.mark for s in Severity} == {"▲", "◆", "●"}
    assert Severity.CRITICAL.label == "▲ critical"
    assert sorted(Severity, key=lambda s: s.rank)[0] is Severity.CRITICAL


def test_user_changes_round_trip_through_the_settings_text():
    table = SeverityTable().with_overrides({45: Severity.CRITICAL, 51: Severity.WARNING})
    assert table.of(45) is Severity.CRITICAL and table.of(51) is Severity.WARNING
    again = SeverityTable.from_text(table.to_text())
    assert again == table
    # back to the default: forgotten, not stored
    assert table.with_overrides({45: Severity.WARNING}).overrides == {51: Severity.WARNING}
    assert SeverityTable.from_text("51=critical,x=y,45=loud,,").overrides == {
        51: Severity.CRITICAL}
