"""Finding devices by what matters: status, open alarms, low battery, unlocked. No Qt.

A `DeviceFilter` is what the device list's chips say. Statuses are alternatives (online
*or* quiet); each other chip narrows (offline *and* low battery). `matcher()` precomputes
what every device is compared against (which devices have open alarms, the feeds that are
down), so the question per device is a few lookups.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from app.fleet.state import DeviceState, FleetState, Status

LOW_BATTERY = 20  # per cent: below it a battery is low (the tree paints it red too)
LOCKED, UNLOCKED = 0, 1  # lockStatus / a sub-lock's locStatus


@dataclass(frozen=True, slots=True)
class DeviceFilter:
    statuses: frozenset[Status] = field(default_factory=frozenset)
    open_alarms: bool = False
    low_battery: bool = False
    unlocked: bool = False
    group: frozenset[str] | None = None  # only these ids (a saved group)

    @property
    def empty(self) -> bool:
        return not (self.statuses or self.open_alarms or self.low_battery or self.unlocked
                    or self.group is not None)

    def describe(self) -> str:
        parts = [" or ".join(s.value for s in Status if s in self.statuses)] \
            if self.statuses else []
        if self.open_alarms:
            parts.append("with open alarms")
        if self.low_battery:
            parts.append("low battery")
        if self.unlocked:
            parts.append("unlocked")
        if self.group is not None:
            parts.append(f"in a group of {len(self.group)}")
        return ", ".join(parts) or "all devices"


def is_low_battery(dev: DeviceState) -> bool:
    if dev.charging:
        return False
    battery = dev.battery
    if isinstance(battery, int | float) and not isinstance(battery, bool) and \
            battery < LOW_BATTERY:
        return True
    return any(_low(sub.data.get("battery")) for sub in dev.sublocks.values())


def _low(battery: object) -> bool:
    return isinstance(battery, int | float) and not isinstance(battery, bool) and \
        battery < LOW_BATTERY


def is_unlocked(dev: DeviceState) -> bool:
    """The lock, or one of its sub-locks, reports itself open."""
    if dev.lock_status == UNLOCKED:
        return True
    return any(sub.data.get("locStatus") == UNLOCKED for sub in dev.sublocks.values())


def devices_with_open_alarms(fleet: FleetState) -> set[str]:
    return {entry.device_id for entry in fleet.unacknowledged.values()}


def matcher(fleet: FleetState, flt: DeviceFilter,
            now: float | None = None) -> Callable[[str], bool]:
    """A test of one device id against `flt`, as the fleet stands at `now`."""
    now = time.time() if now is None else now
    devices = fleet.devices
    alarmed = devices_with_open_alarms(fleet) if flt.open_alarms else set()
    statuses = flt.statuses
    group = flt.group

    def accepts(device_id: str) -> bool:
        if group is not None and device_id not in group:
            return False
        dev = devices.get(device_id)
        if dev is None:
            return False
        if statuses and fleet.status_of(dev.profile, dev.last_seen, now) not in statuses:
            return False
        if flt.open_alarms and device_id not in alarmed:
            return False
        if flt.low_battery and not is_low_battery(dev):
            return False
        return not (flt.unlocked and not is_unlocked(dev))

    return accepts


@dataclass(frozen=True, slots=True)
class ConditionCounts:
    open_alarms: int = 0
    low_battery: int = 0
    unlocked: int = 0


def condition_counts(fleet: FleetState) -> ConditionCounts:
    """How many devices each condition chip would show (a walk over every device)."""
    low = unlocked = 0
    for dev in fleet.devices.values():
        low += is_low_battery(dev)
        unlocked += is_unlocked(dev)
    alarmed = devices_with_open_alarms(fleet) & fleet.devices.keys()
    return ConditionCounts(len(alarmed), low, unlocked)
