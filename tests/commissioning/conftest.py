"""Shared helpers: simulator payloads decoded exactly as the journal writer decodes them."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import pytest

from app.commands.builder import LIBRARY, build
from app.commands.tracker import CommandTracker
from app.commissioning.checks import DeviceChecklist
from app.commissioning.templates import BUILTIN, Template
from app.protocol.decode import decode
from app.protocol.push import PushRecord, RawPush
from app.sim.fleet import Fleet
from app.sim.responder import CommandResponder

KEY = "CKEY"
T0 = 1_738_915_200.0  # 2025-02-07 08:00:00 UTC


class FakeClock:
    def __init__(self, t: float = T0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def advance(self, s: float) -> None:
        self.t += s


@dataclass
class Bench:
    """A fleet on a fake clock; pushes and command replies become decoded records."""

    clock: FakeClock
    fleet: Fleet
    ids: itertools.count = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        self.responder = CommandResponder(self.fleet)
        self.serial = itertools.count(100)

    def records(self, pushes) -> list[tuple[int, PushRecord]]:
        return [
            (next(self.ids), decode(RawPush("mqtt", topic, payload, self.clock(), "test")))
            for topic, payload in pushes
        ]

    def feed(self, checklist: DeviceChecklist, pushes) -> set[str]:
        changed: set[str] = set()
        for pid, rec in self.records(pushes):
            changed |= checklist.feed(pid, rec)
        return changed

    def ask(self, checklist: DeviceChecklist, name: str, tracker: CommandTracker) -> set[str]:
        """Send a library command through the simulator's responder; feed the outcome."""
        tpl = next(t for t in LIBRARY if t.name == name)
        cmd = build(tpl, checklist.device_id, next(self.serial))
        cid = tracker.track(cmd, "test")
        tracker.mark_sent(cid)
        changed = checklist.on_command(tracker.get(cid))
        for pid, rec in self.records(self.responder.respond(cmd.topic(KEY), cmd.text.encode())):
            tracker.on_reply(rec, pid)
            changed |= checklist.feed(pid, rec)
        return changed | checklist.on_command(tracker.get(cid))

    def device_of(self, model: str) -> str:
        return next(d.device_id for d in self.fleet.devices.values() if d.model == model)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def bench(clock) -> Bench:
    fleet = Fleet(KEY, devices=10, seed=5, now=clock)
    for dev in fleet.devices.values():  # thresholds met unless a test says otherwise
        dev.battery, dev.charging, dev.cell_signal, dev.gnss_signal = 80, False, 25, 9
    return Bench(clock, fleet)


@pytest.fixture
def lock_template() -> Template:
    return BUILTIN[0]
