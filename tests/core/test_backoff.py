"""Reconnect backoff: doubling from 1 s, capped at 60 s, reset by a session — and the wait paho
really sleeps is the one reported, which is the countdown the connection panel shows.

The transport runs for real (paho's network thread, real refused connections to a held port);
only its schedule's clock and sleep are injected, so a minute of backoff takes no time.
"""

from __future__ import annotations

import itertools
import math
import threading

import pytest
from waiting import wait_for

from app.brokers import PortReservation
from app.transport.backoff import MAX_RETRY_S, MIN_RETRY_S, Backoff
from app.transport.mqtt import MqttTransport
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase

# Written out by hand from the promise (1 s, doubling, 60 s cap), not computed by the code.
EXPECTED = [1, 2, 4, 8, 16, 32, 60, 60, 60]


class FakeTime:
    """A clock that moves only when slept on; sleeps are recorded."""

    def __init__(self, hold_after: int | None = None) -> None:
        self.now = 1000.0
        self.slept: list[float] = []
        self.release = threading.Event()
        self.backoff: Backoff | None = None
        self.hold_after = hold_after

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        if (self.hold_after is not None and self.backoff is not None
                and len(self.backoff.delays) >= self.hold_after):
            self.release.wait(30)  # enough attempts seen: park paho's thread until stop
            return
        self.slept.append(seconds)
        self.now += seconds


def test_the_schedule_doubles_caps_and_resets():
    t = FakeTime()
    b = Backoff(clock=t.clock, sleep=t.sleep)
    assert (MIN_RETRY_S, MAX_RETRY_S) == (1, 60)
    assert [b.next() for _ in range(len(EXPECTED))] == EXPECTED
    assert b.delays == EXPECTED
    assert b.due_at == t.now + 60
    b.reset()
    assert b.next() == 1 and b.due_at == t.now + 1


def test_a_wait_sleeps_exactly_the_delay_given_and_stops_early_when_asked():
    t = FakeTime()
    b = Backoff(clock=t.clock, sleep=t.sleep)
    b.next(), b.next(), b.next()  # 1, 2, 4
    start = t.now
    b.wait(lambda: False)
    assert t.now - start == 4 and t.slept == [1, 1, 1, 1]
    b.next()  # 8 s
    calls = []
    b.wait(lambda: calls.append(1) or len(calls) > 3)  # stop asked after three slices
    assert t.slept[4:] == [1, 1, 1]


def test_the_transport_waits_what_it_reports_and_the_panel_counts_it_down(qapp):
    fake = FakeTime(hold_after=len(EXPECTED))
    backoff = Backoff(clock=fake.clock, sleep=fake.sleep)
    fake.backoff = backoff
    seen: list[tuple[ConnectionState, float]] = []
    lock = threading.Lock()

    def on_state(state: ConnectionState) -> None:
        with lock:
            seen.append((state, fake.now))

    with PortReservation() as nobody:  # bound, never listening: every attempt is refused
        settings = ConnectionSettings(host="127.0.0.1", port=nobody.port, access_key="K",
                                      client_id="backoff-test", topics=("upload/K/#",))
        transport = MqttTransport(settings, lambda push: None, on_state=on_state,
                                  backoff=backoff)
        transport.start()
        try:
            wait_for(lambda: len(backoff.delays) >= len(EXPECTED), 60,
                       "the transport's retries")
        finally:
            fake.release.set()
            transport.stop()

    with lock:
        states = list(seen)
    waiting = [(s, at) for s, at in states if s.phase is Phase.WAITING]
    assert [s.retry_in for s, _ in waiting][: len(EXPECTED)] == EXPECTED
    assert [s.attempt for s, _ in waiting][:3] == [2, 3, 4]
    assert all("connection refused" in s.reason for s, _ in waiting)

    # paho's thread really waited each reported delay before its next attempt (by the clock
    # the schedule was given): the state after each WAITING is the next CONNECTING, that long
    # later.
    for (state, at), (after, after_at) in itertools.pairwise(states):
        if state.phase is Phase.WAITING and after.phase is Phase.CONNECTING:
            assert after_at - at == state.retry_in
            assert after.attempt == state.attempt
    gaps = [after_at - at for (s, at), (a, after_at) in itertools.pairwise(states)
            if s.phase is Phase.WAITING and a.phase is Phase.CONNECTING]
    assert gaps == EXPECTED[: len(gaps)] and len(gaps) >= len(EXPECTED) - 1

    # The connection panel's countdown, on the same clock, is the schedule's own delay: it
    # reads the delay when the state arrives, 1 s in its last second, and "now" when due.
    from app.ui.panels.connection.widget import ConnectionsModel, Row

    clock = [0.0]
    model = ConnectionsModel(clock=lambda: clock[0])
    model.set_rows([Row("P", True, settings.host)])
    for state, at in waiting[: len(EXPECTED)]:
        clock[0] = at
        model.set_state("P", state)
        due = at + state.retry_in
        for now in (at, at + 0.5, due - state.retry_in / 2, due - 1.5, due - 0.01):
            clock[0] = now
            expected = math.ceil(due - now)
            assert model.describe("P")[0].endswith(f"retrying in {expected} s"), (state, now)
        clock[0] = due
        assert model.describe("P")[0].endswith("retrying now…")


@pytest.mark.parametrize("first, cap, expected", [(1, 60, EXPECTED[:7]), (2, 5, [2, 4, 5])])
def test_the_cap_is_the_schedules_own(first, cap, expected):
    b = Backoff(first, cap, clock=lambda: 0.0, sleep=lambda s: None)
    assert [b.next() for _ in expected] == expected
