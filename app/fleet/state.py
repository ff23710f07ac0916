"""The latest of each device and sub-lock, and which alarms await acknowledgement.

Views read this; they never keep a second copy of the truth. `apply()` takes a
decoded batch and returns a `FleetChange` saying exactly what moved, so the Qt
models can emit one notification per batch instead of one per push.
"""

from __future__ import annotations

import sys
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from app.fleet.feeds import Doubt, Feeds
from app.fleet.severity import CRITICAL_CODES
from app.protocol.push import PushRecord

# Alarm types that need a person now: the critical ones of the severity table (severity.py),
# until the user's own table says otherwise.
DEFAULT_CRITICAL_ALARMS: frozenset[int] = CRITICAL_CODES


MAX_CARDS = 8  # cards remembered per device (for search): the latest few


# Unacknowledged alarms kept in memory, the newest (File › Settings › Alarms): every one stays
# unacknowledged in the journal; ~0.3 KB each. Sized to fill within the first half hour of a
# 10 000-device fleet's shift, after which memory stays flat (issue 26).
DEFAULT_MAX_UNACKNOWLEDGED = 10_000


# The decoded data of these kinds is kept as a device's latest for as long as nothing newer of
# its kind comes, often an hour or more (an alarm, an event, a sub-lock's reading): its keys
# are shared strings, not the copies each decoded push brings (half of such a dict's ~2 KB;
# 10 000 devices fill these slowly, so this was most of the window's growth after its
# tables were full). Positions, most of the pushes, are replaced within a minute: not worth
# the 9 µs each under a flood.
KEPT_KINDS = frozenset({"alarm", "event", "sublock", "command"})


def _kept(data: dict[str, Any]) -> dict[str, Any]:
    """`data` with its keys (and its nested dicts' keys) interned."""
    intern = sys.intern
    return {intern(k) if type(k) is str else k: (_kept(v) if type(v) is dict else v)
            for k, v in data.items()}


class Status(Enum):
    ONLINE = "online"
    QUIET = "quiet"
    OFFLINE = "offline"
    UNKNOWN = "unknown"  # the feed that carries it is down: its silence says nothing


@dataclass
class Thresholds:
    """Seconds since the last push after which a device counts as quiet, then offline."""

    quiet_after: float = 300.0
    offline_after: float = 1800.0

    def status(self, last_seen: float, now: float) -> Status:
        age = now - last_seen
        if age < self.quiet_after:
            return Status.ONLINE
        if age < self.offline_after:
            return Status.QUIET
        return Status.OFFLINE


@dataclass
class SubLockState:
    sublock_id: str
    device_id: str
    last_seen: float = 0.0
    data: dict[str, Any] = field(default_factory=dict)


@dataclass
class DeviceState:
    device_id: str
    profile: str = ""
    first_seen: float = 0.0
    last_seen: float = 0.0
    pushes: int = 0
    latest: dict[str, dict[str, Any]] = field(default_factory=dict)  # kind -> data
    latest_at: dict[str, float] = field(default_factory=dict)
    sublocks: dict[str, SubLockState] = field(default_factory=dict)
    last_alarm: AlarmEntry | None = None
    last_event: dict[str, Any] | None = None
    cards: list[str] = field(default_factory=list)  # cards that opened it, newest last

    # Convenience views over the latest location push, for columns and the map.
    @property
    def location(self) -> dict[str, Any]:
        return self.latest.get("location", {})

    @property
    def lock_status(self) -> int | None:
        status = self.location.get("statusJson")
        return status.get("lockStatus") if isinstance(status, dict) else None

    @property
    def lock_rope(self) -> int | None:
        status = self.location.get("statusJson")
        return status.get("lockRope") if isinstance(status, dict) else None

    @property
    def battery(self) -> int | None:
        return self.location.get("battery")

    @property
    def charging(self) -> bool:
        return bool(self.location.get("charging"))

    @property
    def position(self) -> tuple[float, float] | None:
        """(lat, lon) of the last fix; None when the device has no fix (0,0 or locType 0)."""
        loc = self.location
        lat, lon = loc.get("latitude"), loc.get("longitude")
        if not isinstance(lat, int | float) or not isinstance(lon, int | float):
            return None
        if loc.get("locType") == 0 or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
            return None
        return float(lat), float(lon)


NO_DATA: dict[str, Any] = {}  # an alarm's data once nobody reads it (never changed)


@dataclass(slots=True)
class AlarmEntry:
    """One alarm as the fleet remembers it. `data` (the decoded push, ~2 KB) is kept while
    views may read it: for the device's last alarm, and for others until their batch has
    been handed out; then it is NO_DATA, so that the unacknowledged alarms kept in memory
    cost ~0.3 KB each, not ~2 KB (issue 26)."""

    push_id: int
    device_id: str
    received_at: float
    alarm_type: int | None
    name: str
    data: dict[str, Any]
    critical: bool = False
    acknowledged: bool = False


@dataclass
class FleetChange:
    """What one batch changed; an empty change means nothing to repaint."""

    new_devices: list[str] = field(default_factory=list)
    changed_devices: set[str] = field(default_factory=set)
    new_sublocks: list[tuple[str, str]] = field(default_factory=list)
    sublock_devices: set[str] = field(default_factory=set)  # devices whose sub-locks reported
    alarms: list[AlarmEntry] = field(default_factory=list)
    events: list[tuple[int, PushRecord]] = field(default_factory=list)
    commands: list[tuple[int, PushRecord]] = field(default_factory=list)
    records: list[tuple[int, PushRecord]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.records or self.changed_devices)


class FleetState:
    """Latest state per device; bounded where it could grow without end."""

    def __init__(
        self,
        thresholds: Thresholds | None = None,
        critical_alarms: frozenset[int] = DEFAULT_CRITICAL_ALARMS,
        max_unacknowledged: int = DEFAULT_MAX_UNACKNOWLEDGED,
    ) -> None:
        self.thresholds = thresholds or Thresholds()
        self.feeds = Feeds()  # whether each profile's feed can be trusted (feeds.py)
        self.critical_alarms = set(critical_alarms)
        self.devices: dict[str, DeviceState] = {}
        self.unacknowledged: OrderedDict[int, AlarmEntry] = OrderedDict()
        self.max_unacknowledged = max(1, int(max_unacknowledged))
        self.dropped_unacknowledged = 0  # shown on screen when non-zero
        # Alarms of the last batch whose data nobody reads once the views had it.
        self._release_next: list[AlarmEntry] = []

    # -- feeding -------------------------------------------------------------

    def apply(self, records: list[PushRecord], ids: list[int]) -> FleetChange:
        """One batch in. The last batch's views are done with it by now (the feed applies a
        batch once every view has had the one before): its alarms give their data up."""
        change = FleetChange()
        devices = self.devices
        self._release_data()
        for push_id, record in zip(ids, records, strict=False):
            change.records.append((push_id, record))
            device_id = record.device
            if not device_id:
                continue
            at = record.raw.received_at
            dev = devices.get(device_id)
            if dev is None:
                dev = devices[device_id] = DeviceState(device_id, record.raw.profile, at, at)
                change.new_devices.append(device_id)
            if at >= dev.last_seen:
                dev.last_seen = at
            dev.pushes += 1
            if record.raw.profile:
                dev.profile = record.raw.profile
                self.feeds.pushed(record.raw.profile, at)
            change.changed_devices.add(device_id)
            kind = record.kind
            if kind == "unknown":
                continue
            data = record.data
            if kind in KEPT_KINDS:  # kept for long: its keys shared (see _kept)
                data = _kept(data)
            if kind == "sublock":
                sub_id = record.sublock or str(data.get("subAssetID") or "?")
                sub = dev.sublocks.get(sub_id)
                if sub is None:
                    sub = dev.sublocks[sub_id] = SubLockState(sub_id, device_id)
                    change.new_sublocks.append((device_id, sub_id))
                sub.last_seen = at
                sub.data = data
                change.sublock_devices.add(device_id)
            dev.latest[kind] = data
            dev.latest_at[kind] = at
            if kind == "alarm":
                entry = self._alarm_entry(push_id, record, data)
                if dev.last_alarm is not None:
                    self._release_next.append(dev.last_alarm)
                dev.last_alarm = entry
                change.alarms.append(entry)
                self._remember_unacknowledged(entry)
            elif kind == "event":
                dev.last_event = data
                card = data.get("card")
                if isinstance(card, str) and card and card not in dev.cards:
                    dev.cards.append(card)  # a device is searched by the cards used on it
                    del dev.cards[:-MAX_CARDS]
                change.events.append((push_id, record))
            elif kind == "command":
                change.commands.append((push_id, record))
        return change

    def _alarm_entry(self, push_id: int, record: PushRecord,
                     data: dict[str, Any] | None = None) -> AlarmEntry:
        data = record.data if data is None else data
        code = data.get("alarmType")
        code = code if isinstance(code, int) else None
        return AlarmEntry(
            push_id=push_id,
            device_id=record.device or "",
            received_at=record.raw.received_at,
            alarm_type=code,
            # One string per alarm type, not one per alarm (10 000 are kept).
            name=sys.intern(str(data.get("alarmName") or f"Unknown alarm {code}")),
            data=data,
            critical=self.is_critical(code),
        )

    def _release_data(self) -> None:
        devices = self.devices
        for entry in self._release_next:
            dev = devices.get(entry.device_id)
            if dev is None or dev.last_alarm is not entry:
                entry.data = NO_DATA
        self._release_next = []

    def set_max_unacknowledged(self, n: int) -> int:
        """Keep at most `n` unacknowledged alarms in memory (the newest); returns how many
        went. Those are still unacknowledged in the journal."""
        self.max_unacknowledged = max(1, int(n))
        before = len(self.unacknowledged)
        self._trim_unacknowledged()
        return before - len(self.unacknowledged)

    def _trim_unacknowledged(self) -> None:
        while len(self.unacknowledged) > self.max_unacknowledged:
            self.unacknowledged.popitem(last=False)
            self.dropped_unacknowledged += 1

    def _remember_unacknowledged(self, entry: AlarmEntry) -> None:
        self.unacknowledged[entry.push_id] = entry
        if len(self.unacknowledged) > self.max_unacknowledged:
            self._trim_unacknowledged()

    def restore_unacknowledged(self, entries: list[AlarmEntry]) -> None:
        """Alarms nobody acknowledged before the last exit come back from the journal."""
        for entry in sorted(entries, key=lambda e: e.push_id):
            entry.critical = self.is_critical(entry.alarm_type)
            self._remember_unacknowledged(entry)

    # -- which alarms are critical ------------------------------------------------

    def is_critical(self, alarm_type: int | None) -> bool:
        """Whether an alarm of this type beeps, notifies and stays red until acknowledged."""
        return alarm_type is not None and alarm_type in self.critical_alarms

    def set_critical_alarms(self, codes: Iterable[int]) -> set[int]:
        """Make exactly these alarm types critical, the unacknowledged alarms included;
        returns the types that changed (made or no longer critical)."""
        codes = set(codes)
        changed = self.critical_alarms ^ codes
        self.critical_alarms.clear()
        self.critical_alarms.update(codes)
        for entry in self.unacknowledged.values():
            entry.critical = self.is_critical(entry.alarm_type)
        return changed

    # -- acting ----------------------------------------------------------------

    def acknowledge(self, push_ids: list[int]) -> list[AlarmEntry]:
        done = []
        for push_id in push_ids:
            entry = self.unacknowledged.pop(push_id, None)
            if entry is not None:
                entry.acknowledged = True
                done.append(entry)
        return done

    def unacknowledged_of(self, device_id: str) -> list[int]:
        return [pid for pid, e in self.unacknowledged.items() if e.device_id == device_id]

    # -- reading -----------------------------------------------------------------

    def status(self, device_id: str, now: float | None = None) -> Status:
        dev = self.devices[device_id]
        return self.status_of(dev.profile, dev.last_seen, time.time() if now is None else now)

    def status_of(self, profile: str, last_seen: float, now: float) -> Status:
        """The status of a device (or sub-lock) last heard at `last_seen` through `profile`:
        unknown while that feed cannot be trusted (feeds.py), else by age."""
        if self.feeds.feeds and self.feeds.doubt(
                profile, last_seen, now, self.thresholds.quiet_after) is not None:
            return Status.UNKNOWN
        return self.thresholds.status(last_seen, now)

    def doubt(self, device_id: str, now: float | None = None,
              last_seen: float | None = None) -> Doubt | None:
        """Why this device's status (or, with `last_seen`, its sub-lock's) is unknown."""
        dev = self.devices.get(device_id)
        if dev is None or not self.feeds.feeds:
            return None
        return self.feeds.doubt(dev.profile, dev.last_seen if last_seen is None else last_seen,
                                time.time() if now is None else now, self.thresholds.quiet_after)

    def status_counts(self, now: float | None = None) -> dict[Status, int]:
        """Two comparisons a device, no enum per device: the counts line runs every second.
        Devices of a feed that cannot be trusted are counted apart, as unknown."""
        now = time.time() if now is None else now
        quiet_since = now - self.thresholds.quiet_after
        offline_since = now - self.thresholds.offline_after
        feeds = self.feeds
        down = feeds.down(now, self.thresholds.quiet_after) if feeds.feeds else {}
        # Feeds back up less than a quiet threshold ago: a device not heard since is unknown.
        back = {name: f.since for name, f in feeds.feeds.items()
                if name not in down and now - f.since < self.thresholds.quiet_after}
        online = quiet = unknown = 0
        for dev in self.devices.values():
            seen = dev.last_seen
            if down or back:
                profile = dev.profile
                if profile in down or (profile in back and seen < back[profile]):
                    unknown += 1
                    continue
            if seen > quiet_since:
                online += 1
            elif seen > offline_since:
                quiet += 1
        offline = len(self.devices) - online - quiet - unknown
        return {Status.ONLINE: online, Status.QUIET: quiet, Status.OFFLINE: offline,
                Status.UNKNOWN: unknown}
