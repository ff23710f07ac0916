"""The checklist engine with injected evidence and a fake clock: no broker, no Qt."""

from __future__ import annotations

import json

import pytest

from app.commands.tracker import CommandTracker
from app.commissioning.checks import DeviceChecklist, State, Verdict, plausible_position
from app.commissioning.templates import (
    BUILTIN,
    CHECKS,
    Template,
    TemplateError,
    load_templates,
    save_templates,
)
from app.protocol.decode import decode
from app.protocol.push import RawPush
from tests.commissioning.conftest import KEY


def tracker(clock) -> CommandTracker:
    return CommandTracker(30, clock=clock, wall=clock)


def run_all(bench, c: DeviceChecklist, clock, *, cycle: bool = True, alarm: bool = True) -> None:
    d = c.device_id
    t = tracker(clock)
    for name in ("version", "time", "sublocks"):
        bench.ask(c, name, t)
    bench.feed(c, [p for _ in range(5) for p in bench.fleet.location(d)])
    dev = bench.fleet.devices[d]
    for sl in dev.sublocks:
        bench.feed(c, bench.fleet.sublock_push(d, sl.sub_id))
    if cycle:
        bench.feed(c, bench.fleet.lock_cycle(d))
    if alarm:
        bench.feed(c, bench.fleet.raise_alarm(d, 46))


def test_device_that_passes_everything(bench, clock, lock_template):
    d = bench.device_of("JT709A-S")  # with bound sub-locks
    c = DeviceChecklist(d, lock_template, clock=clock)
    assert c.verdict is Verdict.IN_PROGRESS
    assert all(i.state is State.WAITING for i in c.items.values())
    run_all(bench, c, clock)
    states = {k: c[k].state for k in CHECKS}
    assert states == dict.fromkeys(CHECKS, State.PASSED), {k: c[k].reason for k in CHECKS}
    assert c.verdict is Verdict.PASS and c.done
    # every item keeps the push that proved it
    for item in c.items.values():
        assert item.evidence and all(e.push_id for e in item.evidence[-1:]), item.key
    assert c.info["firmware"] == bench.fleet.devices[d].firmware
    assert "firmware " + bench.fleet.devices[d].firmware in c["firmware"].evidence[0].summary
    assert c.position is not None
    assert c["alarm_path"].evidence[0].summary == "alarm 46: Back cover opened"
    bound = [s.sub_id for s in bench.fleet.devices[d].sublocks]
    assert all(any(s in e.summary for e in c["sublocks"].evidence) for s in bound)


def test_no_fix_fails_position_with_reason(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    bench.fleet.devices[d].has_fix = False
    c = DeviceChecklist(d, lock_template, clock=clock)
    run_all(bench, c, clock)
    assert c["position"].state is State.FAILED
    assert c["position"].reason.startswith("no fix: locType 0")
    assert c["position"].evidence[0].push_id is not None
    assert c.position is None
    assert c["online"].state is State.PASSED and c["power"].state is State.PASSED
    assert c.verdict is Verdict.IN_PROGRESS  # a fix may still come while the session runs
    bench.fleet.devices[d].has_fix = True
    bench.feed(c, [p for _ in range(5) for p in bench.fleet.location(d)])
    assert c["position"].state is State.PASSED


def test_no_fix_until_the_end_fails_the_device(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    bench.fleet.devices[d].has_fix = False
    c = DeviceChecklist(d, lock_template, clock=clock)
    run_all(bench, c, clock)
    assert c.finish() is Verdict.FAIL
    assert c["position"].state is State.FAILED
    bench.fleet.devices[d].has_fix = True  # too late: the session is frozen
    assert not bench.feed(c, [p for _ in range(5) for p in bench.fleet.location(d)])
    assert c["position"].state is State.FAILED


def test_clock_off_fails_with_the_offset(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    bench.fleet.devices[d].clock_offset_s = 600
    c = DeviceChecklist(d, lock_template, clock=clock)
    assert bench.ask(c, "time", tracker(clock)) == {"clock", "online"}  # a reply is a push
    assert c["clock"].state is State.FAILED
    assert c["clock"].reason == "clock off by 600 s (ahead)"
    assert "off by 600 s" in c["clock"].evidence[0].summary
    assert c.info["clock offset"] == "+600 s"


def test_clock_within_tolerance_passes(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    bench.fleet.devices[d].clock_offset_s = -45
    c = DeviceChecklist(d, lock_template, clock=clock)
    bench.ask(c, "time", tracker(clock))
    assert c["clock"].state is State.PASSED
    assert "off by 45 s" in c["clock"].evidence[0].summary


def test_offline_device(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    bench.fleet.devices[d].online = False
    c = DeviceChecklist(d, lock_template, clock=clock)
    t = tracker(clock)
    bench.ask(c, "version", t)
    bench.ask(c, "time", t)
    assert c["firmware"].state is State.FAILED
    assert c["firmware"].reason == "Device not online！"
    assert c["clock"].reason == "Device not online！"
    assert c["online"].state is State.FAILED and c["online"].reason == "Device not online！"
    assert c.finish() is Verdict.FAIL
    assert c["online"].state is not State.PASSED


def test_silent_device_times_out(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    bench.fleet.devices[d].silent = True
    c = DeviceChecklist(d, lock_template, clock=clock)
    t = tracker(clock)
    bench.ask(c, "version", t)
    assert c["firmware"].state is State.WAITING
    assert "waiting for the reply" in c["firmware"].reason
    clock.advance(31)
    for tc in t.expire():
        c.on_command(tc)
    assert c["firmware"].state is State.FAILED
    assert c["firmware"].reason == "no reply within 30 s"


def test_not_applicable_items(bench, clock):
    tracker_tpl = next(t for t in BUILTIN if t.name == "Vehicle tracker")
    d = bench.device_of("GP")
    c = DeviceChecklist(d, tracker_tpl, clock=clock)
    for key in ("lock_cycle", "alarm_path", "sublocks"):
        assert c[key].state is State.NOT_APPLICABLE
        assert "Vehicle tracker" in c[key].reason
    t = tracker(clock)
    bench.ask(c, "version", t)
    bench.ask(c, "time", t)
    bench.feed(c, [p for _ in range(6) for p in bench.fleet.location(d)])
    assert c.verdict is Verdict.PASS, {k: (c[k].state, c[k].reason) for k in CHECKS}
    # by the technician, with a reason; and back
    lock = BUILTIN[0]
    d2 = bench.device_of("JT709A")
    c2 = DeviceChecklist(d2, lock, clock=clock)
    with pytest.raises(ValueError):
        c2.mark_not_applicable("alarm_path", "  ")
    c2.mark_not_applicable("alarm_path", "customer disabled alarms")
    assert c2["alarm_path"].state is State.NOT_APPLICABLE and c2["alarm_path"].by_technician
    bench.feed(c2, bench.fleet.raise_alarm(d2, 46))
    assert c2["alarm_path"].state is State.NOT_APPLICABLE  # stays as the technician said
    c2.mark_applicable("alarm_path")
    assert c2["alarm_path"].state is State.WAITING


def test_no_sublock_bound_is_not_applicable(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    assert not bench.fleet.devices[d].sublocks
    c = DeviceChecklist(d, lock_template, clock=clock)
    bench.ask(c, "sublocks", tracker(clock))
    assert c["sublocks"].state is State.NOT_APPLICABLE
    assert c["sublocks"].reason == "no sub-lock bound (WLNET,1,0)"


def test_sublock_missing_waits(bench, clock, lock_template):
    d = bench.device_of("JT709A-S")
    subs = [s.sub_id for s in bench.fleet.devices[d].sublocks]
    c = DeviceChecklist(d, lock_template, clock=clock)
    bench.ask(c, "sublocks", tracker(clock))
    assert c["sublocks"].state is State.WAITING
    assert subs[0] in c["sublocks"].reason
    for s in subs:
        bench.feed(c, bench.fleet.sublock_push(d, s))
    assert c["sublocks"].state is State.PASSED


def _event(device: str, event_type: int, at: float, push_id: int):
    doc = {"assetId": device, "eventType": event_type, "unLockType": 2 if event_type == 1 else -1,
           "dateTime": "2025-02-07T08:00:00Z", "latitude": 22.6, "longitude": 113.9}
    raw = RawPush("mqtt", f"upload/{KEY}/{device}/event", json.dumps(doc).encode(), at)
    return push_id, decode(raw)


def test_lock_cycle_order(clock, lock_template):
    c = DeviceChecklist("794300000001", lock_template, clock=clock)
    # lock then unlock: not a cycle
    c.feed(*_event("794300000001", 2, clock(), 1))
    c.feed(*_event("794300000001", 1, clock(), 2))
    assert c["lock_cycle"].state is State.WAITING
    assert "waiting for the lock" in c["lock_cycle"].reason
    # ... then the lock: unlock → lock is
    c.feed(*_event("794300000001", 2, clock(), 3))
    assert c["lock_cycle"].state is State.PASSED
    assert [e.push_id for e in c["lock_cycle"].evidence] == [2, 3]
    assert "Remote unlock" in c["lock_cycle"].evidence[0].summary


def test_lock_cycle_before_the_session_does_not_count(clock, lock_template):
    c = DeviceChecklist("794300000001", lock_template, clock=clock)
    c.feed(*_event("794300000001", 1, clock() - 30, 1))
    c.feed(*_event("794300000001", 2, clock() - 20, 2))
    assert c["lock_cycle"].state is State.WAITING
    assert c["online"].state is State.PASSED  # but it was online a moment ago


def test_lock_cycle_from_status_changes(bench, clock, lock_template):
    d = bench.device_of("JT709A")
    c = DeviceChecklist(d, lock_template, clock=clock)
    pushes = bench.fleet.lock_cycle(d)
    locations = [p for p in pushes if p[0].endswith("/location")]  # statusJson only
    bench.feed(c, locations)
    assert c["lock_cycle"].state is State.PASSED
    assert "lockStatus 1" in c["lock_cycle"].evidence[0].summary
    assert "lockStatus 0" in c["lock_cycle"].evidence[1].summary


def test_power_and_implausible_position(bench, clock, lock_template):
    c = DeviceChecklist("794300000009", lock_template, clock=clock)

    def loc(**over):
        doc = {"assetId": "794300000009", "latitude": 22.5, "longitude": 113.9, "locType": 1,
               "gnssSignal": 9, "cellSignal": 20, "battery": 80, "voltage": "3.9"}
        doc.update(over)
        raw = RawPush("mqtt", f"upload/{KEY}/794300000009/location",
                      json.dumps(doc).encode(), clock())
        return decode(raw)

    c.feed(1, loc(battery=5, latitude=0, longitude=0))
    assert c["power"].reason == "battery 5 % < 20 %"
    assert c["position"].reason == "coordinates 0, 0"
    c.feed(2, loc(voltage="9.9", gnssSignal=2, latitude=95))
    assert "voltage 9.90 V outside 3.3–4.5 V" in c["power"].reason
    assert "out of range" in c["position"].reason and "2 satellites < 4" in c["position"].reason
    c.feed(3, loc(battery=255, locType=2))  # charging counts
    assert c["power"].state is State.PASSED and c["power"].evidence[0].push_id == 3
    assert c["power"].evidence[0].summary == "charging, 3.90 V"
    assert c["position"].reason.startswith("no GPS fix: locType 2 (Base station")
    c.feed(5, loc())
    assert c["position"].state is State.PASSED
    c.feed(6, loc(locType=0, latitude=0, longitude=0))  # proven once stays proven
    assert c["position"].state is State.PASSED and c["position"].evidence[0].push_id == 5
    assert plausible_position(None, 1) == "no coordinates"


def test_online_needs_a_recent_push(clock, lock_template):
    c = DeviceChecklist("794300000001", lock_template, clock=clock)
    c.feed(*_event("794300000001", 5, clock() - lock_template.online_within_s - 1, 1))
    assert c["online"].state is State.WAITING
    c.feed(*_event("794300000001", 5, clock() - 5, 2))
    assert c["online"].state is State.PASSED
    assert c["online"].evidence[0].push_id == 2


def test_waiting_summary_and_finish(clock, lock_template):
    c = DeviceChecklist("794300000001", lock_template, clock=clock)
    clock.advance(65)
    assert c.waiting_for().endswith("for 1 min 05 s")
    assert "lock cycle" in c.waiting_for()
    c.finish()
    assert c["lock_cycle"].state is State.FAILED
    assert c["lock_cycle"].reason.startswith("no evidence before the end of the session")
    assert c.waiting_for() == ""


def test_checklist_round_trips_through_json(bench, clock, lock_template):
    d = bench.device_of("JT709A-S")
    c = DeviceChecklist(d, lock_template, clock=clock)
    run_all(bench, c, clock, alarm=False)
    c.mark_not_applicable("alarm_path", "no alarm wiring on site")
    c.finish()
    back = DeviceChecklist.from_json(json.loads(json.dumps(c.to_json())))
    assert back.to_json() == c.to_json()
    assert back.verdict is Verdict.PASS


def test_templates_load_save(tmp_path):
    path = tmp_path / "t.json"
    ts = load_templates(path)  # absent file: the built-ins
    assert {"JT709A lock", "KS20A", "Vehicle tracker"} <= set(ts)
    ts["JT709A lock"] = Template.from_json({**ts["JT709A lock"].to_json(), "min_battery": 40})
    ts["Site X"] = Template("Site X", items={"alarm_path": False})
    save_templates(path, ts)
    again = load_templates(path)
    assert again["JT709A lock"].min_battery == 40
    assert not again["Site X"].applies("alarm_path") and again["Site X"].applies("clock")
    with pytest.raises(TemplateError):
        Template.from_json({"name": "bad", "voltage_min": 5, "voltage_max": 4})
    with pytest.raises(TemplateError):
        Template.from_json({"name": "bad", "min_battery": "lots"})
    path.write_text("{not json")
    with pytest.raises(TemplateError):
        load_templates(path)
