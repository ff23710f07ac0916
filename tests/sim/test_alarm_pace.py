"""Issue 18, item 7: the paced fleet raises alarms at a believable rate — a few a minute from
30 devices, a burst now and then — per device and hour, whatever the push rate; a fleet that
is not paced (tests, load tests, the golden corpus) keeps alarms as a share of its pushes.

The clock is the test's: an hour of pushes runs in well under a second.
"""

from __future__ import annotations

import json
from itertools import pairwise

from app.sim.fleet import (
    DEFAULT_ALARM_RATE,
    LOCK_ALARM_WEIGHTS,
    LOCK_ALARMS,
    VEHICLE_ALARM_WEIGHTS,
    VEHICLE_ALARMS,
    Fleet,
)
from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings

T0 = 1_700_000_000.0


def run(devices: int, pushes_per_s: float, seconds: float, *, seed: int = 3,
        rate: float | None = DEFAULT_ALARM_RATE) -> list[tuple[int, float, dict]]:
    """(index in the stream, clock, alarm document) of every alarm pushed."""
    clock = [T0]
    fleet = Fleet("PACE", devices=devices, seed=seed, now=lambda: clock[0], alarm_rate=rate)
    out = []
    for i in range(int(pushes_per_s * seconds)):
        clock[0] += 1 / pushes_per_s
        topic, payload = fleet.next_push()
        if topic.endswith("/alarm"):
            out.append((i, clock[0], json.loads(payload)))
    return out


def test_thirty_devices_raise_a_few_alarms_a_minute_with_bursts():
    alarms = run(30, 8, 3600)  # the demo's fleet for an hour
    per_minute = len(alarms) / 60
    assert 2 <= per_minute <= 4.5, per_minute
    # a burst: three alarms or more within eight pushes of each other (about a second)
    bursts = sum(1 for k in range(2, len(alarms))
                 if alarms[k][0] - alarms[k - 2][0] <= 8
                 and (k == 2 or alarms[k - 1][0] - alarms[k - 3][0] > 8))
    assert 3 <= bursts <= 25, bursts
    # and the rest of the hour is quiet: most alarms are minutes apart, not seconds
    gaps = [b[1] - a[1] for a, b in pairwise(alarms)]
    assert sorted(gaps)[len(gaps) // 2] >= 5
    codes = {a[2]["alarmType"] for a in alarms}
    assert codes <= set(LOCK_ALARMS) | set(VEHICLE_ALARMS)
    assert len(codes) >= 8


def test_the_rate_is_per_device_and_hour_not_a_share_of_pushes():
    fast = len(run(30, 8, 3600))
    slow = len(run(30, 1, 3600))  # an eighth of the pushes, as many alarms
    assert 0.7 <= slow / fast <= 1.4, (slow, fast)
    big = len(run(300, 1, 600))  # ten times the devices for a sixth of the time: ~10/6
    assert 1.2 <= big / fast <= 2.4, (big, fast)
    assert run(30, 8, 600, rate=0) == []


def test_a_stream_that_paused_does_not_raise_the_missed_alarms_at_once():
    clock = [T0]
    fleet = Fleet("PACE", devices=30, seed=5, now=lambda: clock[0], alarm_rate=600)
    for _ in range(100):
        clock[0] += 0.1
        fleet.next_push()
    clock[0] += 3600  # an hour without pushes would have held 18 000 alarms
    kinds = []
    for _ in range(200):
        clock[0] += 0.01
        kinds.append(fleet.next_push()[0].rsplit("/", 1)[1])
    assert kinds.count("alarm") < 20


def test_weights_name_every_code():
    assert len(LOCK_ALARM_WEIGHTS) == len(LOCK_ALARMS)
    assert len(VEHICLE_ALARM_WEIGHTS) == len(VEHICLE_ALARMS)


def test_unpaced_fleets_keep_alarms_as_a_share_of_pushes():
    """Tests, load tests and the golden corpus build fleets without a rate, on any clock."""
    fleet = Fleet("PACE", devices=20, seed=7, now=lambda: T0)
    kinds = [fleet.next_push()[0].rsplit("/", 1)[1] for _ in range(4000)]
    assert 0.015 <= kinds.count("alarm") / len(kinds) <= 0.04


def test_the_simulator_paces_alarms_unless_it_runs_flat_out():
    settings = ConnectionSettings(host="127.0.0.1", port=1, access_key="PACE")
    assert Simulator(settings, devices=3, rate=40).fleet.alarm_rate == DEFAULT_ALARM_RATE
    assert Simulator(settings, devices=3, rate=40, alarm_rate=60).fleet.alarm_rate == 60
    assert Simulator(settings, devices=3, rate=None).fleet.alarm_rate is None
    given = Fleet("PACE", devices=3)
    assert Simulator(settings, given, rate=40).fleet.alarm_rate is None  # as it was made
