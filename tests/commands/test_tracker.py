"""Pairing, states and time-outs with an injected clock: nothing here waits."""

from __future__ import annotations

import pytest

from app.commands.builder import build, template
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandState, CommandTracker, TrackedCommand

S = CommandState


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def tracker(clock: Clock) -> CommandTracker:
    return CommandTracker(timeout_s=60, clock=clock, wall=lambda: 1.7e9, operator="alice")


def sent(
    tracker: CommandTracker, device: str, name: str = "version", serial: int = 1, **params
) -> int:
    cid = tracker.track(build(template(name), device, serial, **params), "p1")
    tracker.mark_sent(cid)
    return cid


def test_life_of_an_answered_command(tracker, long_reply) -> None:
    seen: list[TrackedCommand] = []
    tracker.add_listener(seen.append)
    cid = tracker.track(build(template("version"), "D1", 1), "p1")
    assert tracker.get(cid).state is S.QUEUED
    tracker.mark_sent(cid)
    m = tracker.on_reply(long_reply("D1", "BASE", "1", "001", "FW"), push_id=77)
    assert m.outcome == "answered" and m.tracked is not None and m.tracked.id == cid
    tc = tracker.get(cid)
    assert tc.state is S.ANSWERED and tc.reply_push_id == 77 and tc.reply[5] == "FW"
    assert tc.operator == "alice" and tc.profile == "p1"
    assert [t.state for t in seen] == [S.QUEUED, S.SENT, S.ANSWERED]


def test_oldest_open_command_of_that_type_is_answered_first(tracker, make_reply) -> None:
    a = sent(tracker, "D1", serial=1)
    b = sent(tracker, "D1", serial=2)
    t = sent(tracker, "D1", "time", serial=3)
    # No serial echo in the content: the rule alone decides.
    assert tracker.on_reply(make_reply("D1", "BASE1", "ok")).tracked.id == a
    assert tracker.on_reply(make_reply("D1", "BASE2", "ok")).tracked.id == t
    assert tracker.on_reply(make_reply("D1", "BASE1", "ok")).tracked.id == b
    assert tracker.on_reply(make_reply("D1", "BASE1", "ok")).outcome == "unsolicited"


def test_the_echoed_serial_wins_when_present(tracker, long_reply) -> None:
    a = sent(tracker, "D1", serial=1)
    b = sent(tracker, "D1", serial=2)
    assert tracker.on_reply(long_reply("D1", "BASE", "1", "002")).tracked.id == b
    assert tracker.get(a).state is S.SENT


def test_interleaved_devices_pair_by_device(tracker, long_reply) -> None:
    ids = {d: sent(tracker, d, serial=i) for i, d in enumerate(["D1", "D2", "D3"])}
    for i, d in reversed(list(enumerate(["D1", "D2", "D3"]))):
        m = tracker.on_reply(long_reply(d, "BASE", "1", f"{i:03d}"))
        assert m.tracked.id == ids[d]


def test_platform_error_fails_the_oldest_open_command_of_any_type(tracker, make_reply) -> None:
    t = sent(tracker, "D1", "time", serial=1)
    v = sent(tracker, "D1", serial=2)
    m = tracker.on_reply(
        make_reply("D1", "MQTT_CMD", "Device not online！", platform_error="Device not online！")
    )
    assert m.outcome == "failed" and m.tracked.id == t
    assert tracker.get(t).reason == "Device not online！"
    assert tracker.get(v).state is S.SENT


def test_platform_error_without_an_open_command_is_unsolicited(tracker, make_reply) -> None:
    m = tracker.on_reply(
        make_reply(
            "D9",
            "MQTT_CMD",
            "Device has not been registered！",
            platform_error="Device has not been registered！",
        )
    )
    assert m.outcome == "unsolicited"
    assert tracker.unsolicited[-1].platform_error == "Device has not been registered！"


def test_plain_text_under_a_real_type_is_an_answer(tracker, make_reply) -> None:
    cid = sent(tracker, "D1", "p01")
    m = tracker.on_reply(make_reply("D1", "P01", "OK", platform_error="OK"))
    assert m.outcome == "answered" and m.tracked.id == cid


def test_timeouts(tracker, clock, long_reply) -> None:
    a = sent(tracker, "D1")
    clock.t += 30
    b = sent(tracker, "D2")
    assert tracker.next_deadline() == 1060.0
    assert tracker.expire() == []
    clock.t += 30
    (gone,) = tracker.expire()
    assert gone.id == a and tracker.get(a).state is S.TIMED_OUT
    assert "60 s" in tracker.get(a).reason
    assert tracker.get(b).state is S.SENT
    # A late reply no longer pairs with the timed-out command.
    assert tracker.on_reply(long_reply("D1", "BASE", "1", "001")).outcome == "unsolicited"
    assert tracker.expire(now=clock.t + 30)[0].id == b


def test_queued_commands_do_not_time_out(tracker, clock) -> None:
    cid = tracker.track(build(template("version"), "D1", 1))
    clock.t += 3600
    assert tracker.expire() == []
    assert tracker.get(cid).state is S.QUEUED
    tracker.fail(cid, "publish refused")
    assert tracker.get(cid).state is S.FAILED


def test_closed_commands_stay_closed(tracker, clock, long_reply, make_reply) -> None:
    cid = sent(tracker, "D1")
    tracker.on_reply(long_reply("D1", "BASE", "1", "001"))
    clock.t += 120
    assert tracker.expire() == []
    assert tracker.fail(cid, "x").state is S.ANSWERED
    assert tracker.mark_sent(cid).state is S.ANSWERED


def test_a_reply_before_mark_sent_still_pairs(tracker, long_reply) -> None:
    cid = tracker.track(build(template("version"), "D1", 1))
    assert tracker.on_reply(long_reply("D1", "BASE", "1", "001")).tracked.id == cid
    assert tracker.mark_sent(cid).state is S.ANSWERED


def test_unsolicited_list_is_bounded(clock, long_reply) -> None:
    tracker = CommandTracker(clock=clock, max_unsolicited=3)
    heard = []
    tracker.add_unsolicited_listener(heard.append)
    for i in range(5):
        tracker.on_reply(long_reply("D1", "BASE", "1", f"{i:03d}"))
    assert [u.content[2] for u in tracker.unsolicited] == ["002", "003", "004"]
    assert len(heard) == 5


def test_non_replies_are_ignored(tracker, make_reply) -> None:
    rec = make_reply("D1", "BASE1", [])
    rec.kind = "location"
    assert tracker.on_reply(rec).outcome == "ignored"
    echo = make_reply("D1", "BASE1", [])
    echo.data = {"command": "(D1,1,001,BASE,1)"}
    assert tracker.on_reply(echo).outcome == "ignored"
    assert tracker.unsolicited == []


def test_on_batch_feeds_only_command_replies(tracker, long_reply, make_reply) -> None:
    cid = sent(tracker, "D1")
    other = make_reply("D1", "BASE1", [])
    other.kind = "alarm"
    tracker.on_batch([other, long_reply("D1", "BASE", "1", "001")], [1, 2])
    assert tracker.get(cid).reply_push_id == 2


def test_a_broken_listener_does_not_stop_pairing(tracker, long_reply) -> None:
    def boom(tc):
        raise RuntimeError("view crashed")

    tracker.add_listener(boom)
    cid = sent(tracker, "D1")
    assert tracker.on_reply(long_reply("D1", "BASE", "1", "001")).tracked.id == cid


def test_retry_is_a_new_command_with_a_new_serial(tracker, clock) -> None:
    serials = SerialCounter(first=1)
    cmd = build(
        template("unlock_sublock"), "D1", serials.next("D1"), minutes=1, sublock="E0171E0365"
    )
    cid = tracker.track(cmd)
    tracker.mark_sent(cid)
    with pytest.raises(ValueError, match="still sent"):
        tracker.retry(cid, serials)
    clock.t += 61
    tracker.expire()
    again = tracker.retry(cid, serials)
    assert again.serial == "002" and again.text.replace("002", "001") == cmd.text
    assert again.dangerous
    # Nothing was tracked or sent by retry itself.
    assert len(tracker.commands()) == 1


def test_profiles_do_not_cross(tracker, make_reply) -> None:
    cid = sent(tracker, "D1")  # profile p1
    other = make_reply("D1", "BASE1", "x", profile="p2")
    assert tracker.on_reply(other).outcome == "unsolicited"
    mine = make_reply("D1", "BASE1", "x", profile="p1")
    assert tracker.on_reply(mine).tracked.id == cid
