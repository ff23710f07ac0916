"""The checklist engine: evidence in, item states out. No Qt, no I/O, injectable clock.

One `DeviceChecklist` per device and session. Feed it decoded pushes (`feed`) and the
outcomes of the commands the session sent (`on_command`); each item turns passed by itself
and keeps the push that proved it (journal id, time, one-line summary). Items that failed
on a push (no fix, low battery) may still pass on a later, better push while the session
runs; `finish()` freezes everything and turns what still waits into a failure.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from app.commands.replies import bound_sublocks, clock_difference, label_reply, parse_device_time
from app.commissioning.templates import CHECKS, LABELS, Template

Clock = Callable[[], float]

# The commands the session sends, and the check each answers.
COMMAND_FOR: dict[str, str] = {"firmware": "BASE,1", "clock": "BASE,2", "sublocks": "WLNET,1,0"}
CHECK_OF_REPLY: dict[str, str] = {"BASE1": "firmware", "BASE2": "clock", "WLNET1": "sublocks"}


class State(StrEnum):
    WAITING = "waiting"
    PASSED = "passed"
    FAILED = "failed"
    NOT_APPLICABLE = "not_applicable"

    @property
    def label(self) -> str:
        return {"not_applicable": "not applicable"}.get(self.value, self.value)


class Verdict(StrEnum):
    PASS = "PASS"
    FAIL = "FAIL"
    IN_PROGRESS = "IN PROGRESS"


@dataclass
class Evidence:
    """The push (or command reply) that proved or disproved an item."""

    push_id: int | None
    at: float  # epoch seconds the push was received
    summary: str

    def describe(self) -> str:
        when = datetime.fromtimestamp(self.at, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
        ref = f"push #{self.push_id}" if self.push_id is not None else "no push"
        return f"{self.summary} — {ref}, {when}"


@dataclass
class Item:
    key: str
    state: State = State.WAITING
    reason: str = ""  # why it failed / is not applicable / what it waits for
    evidence: list[Evidence] = field(default_factory=list)
    changed_at: float = 0.0
    by_technician: bool = False  # marked not applicable by hand

    @property
    def label(self) -> str:
        return LABELS.get(self.key, self.key)

    @property
    def applicable(self) -> bool:
        return self.state is not State.NOT_APPLICABLE

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["state"] = self.state.value
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Item:
        return cls(
            key=str(d["key"]),
            state=State(d.get("state", "waiting")),
            reason=str(d.get("reason") or ""),
            evidence=[Evidence(**e) for e in d.get("evidence") or []],
            changed_at=float(d.get("changed_at") or 0.0),
            by_technician=bool(d.get("by_technician")),
        )


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _hms(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M:%S")


def plausible_position(lat: Any, lon: Any) -> str | None:
    """None when (lat, lon) is a plausible WGS-84 fix, else why not."""
    la, lo = _num(lat), _num(lon)
    if la is None or lo is None:
        return "no coordinates"
    if abs(la) < 1e-6 and abs(lo) < 1e-6:
        return "coordinates 0, 0"
    if not (-90 <= la <= 90 and -180 <= lo <= 180):
        return f"coordinates {la:g}, {lo:g} out of range"
    return None


class DeviceChecklist:
    """The live checklist of one device in one session."""

    def __init__(
        self,
        device_id: str,
        template: Template,
        *,
        started_at: float | None = None,
        clock: Clock = time.time,
    ) -> None:
        self.device_id = device_id
        self.template = template
        self.clock = clock
        self.started_at = clock() if started_at is None else started_at
        self.finished_at: float | None = None
        self.items: dict[str, Item] = {}
        for key in CHECKS:
            item = Item(key, changed_at=self.started_at)
            if not template.applies(key):
                item.state = State.NOT_APPLICABLE
                item.reason = f"not part of the template {template.name!r}"
            else:
                item.reason = _initial_reason(key)
            self.items[key] = item
        self.info: dict[str, str] = {}  # firmware, vendor, IMEI, device time …
        self.last_push_at: float | None = None
        self.position: tuple[float, float] | None = None  # last plausible GPS fix
        self.position_at: float | None = None
        self._unlocked: Evidence | None = None  # the unlock awaiting its lock
        self._lock_state: int | None = None
        self._sublocks_seen: dict[str, Evidence] = {}
        self._bound: list[str] | None = None
        self._bound_evidence: Evidence | None = None
        self.platform_error: str | None = None

    # ---- reading -------------------------------------------------------------------

    def __getitem__(self, key: str) -> Item:
        return self.items[key]

    @property
    def finished(self) -> bool:
        return self.finished_at is not None

    def applicable(self) -> list[Item]:
        return [i for i in self.items.values() if i.applicable]

    def waiting(self) -> list[Item]:
        return [i for i in self.items.values() if i.state is State.WAITING]

    def failed(self) -> list[Item]:
        return [i for i in self.items.values() if i.state is State.FAILED]

    @property
    def all_passed(self) -> bool:
        return all(i.state is State.PASSED for i in self.applicable())

    @property
    def verdict(self) -> Verdict:
        if self.all_passed:
            return Verdict.PASS
        if self.finished:
            return Verdict.FAIL
        return Verdict.IN_PROGRESS

    @property
    def done(self) -> bool:
        return self.finished or self.all_passed

    def progress(self) -> tuple[int, int]:
        """(passed, applicable)."""
        app = self.applicable()
        return sum(1 for i in app if i.state is State.PASSED), len(app)

    def waiting_for(self, now: float | None = None) -> str:
        """'lock cycle, alarm path for 1 min 05 s' — empty when nothing waits."""
        items = self.waiting()
        if not items or self.done:
            return ""
        now = self.clock() if now is None else now
        names = ", ".join(i.label.lower() for i in items)
        return f"{names} for {format_duration(now - self.started_at)}"

    # ---- the technician ------------------------------------------------------------

    def mark_not_applicable(self, key: str, reason: str) -> Item:
        reason = reason.strip()
        if not reason:
            raise ValueError("a reason is required")
        item = self.items[key]
        item.state = State.NOT_APPLICABLE
        item.reason = reason
        item.by_technician = True
        item.changed_at = self.clock()
        return item

    def mark_applicable(self, key: str) -> Item:
        """Undo 'not applicable': the item waits again and re-checks what it has seen."""
        item = self.items[key]
        if item.state is State.NOT_APPLICABLE:
            item.state = State.WAITING
            item.reason = _initial_reason(key)
            item.by_technician = False
            item.evidence.clear()
            item.changed_at = self.clock()
            if key == "sublocks" and self._bound is not None:
                self._check_sublocks()
        return item

    # ---- evidence ------------------------------------------------------------------

    def _set(
        self, key: str, state: State, reason: str = "", evidence: list[Evidence] | None = None
    ) -> bool:
        item = self.items[key]
        if item.state is State.NOT_APPLICABLE or self.finished:
            return False
        if item.state is State.PASSED and state is not State.PASSED:
            return False  # proven once is proven: a later bad push does not undo it
        if item.state is State.PASSED and state is State.PASSED:
            return False  # keep the first proof
        changed = item.state is not state or item.reason != reason
        item.state = state
        item.reason = reason
        if evidence is not None:
            item.evidence = list(evidence)
        if changed:
            item.changed_at = self.clock()
        return changed

    def feed(self, push_id: int | None, record: Any) -> set[str]:
        """One decoded push (PushRecord contract: kind, device, sublock, data, raw.received_at).

        Returns the keys of the items that changed.
        """
        if self.finished or record.device != self.device_id:
            return set()
        kind = record.kind
        data = record.data or {}
        raw = getattr(record, "raw", None)
        at = float(getattr(raw, "received_at", 0.0) or self.clock())
        changed: set[str] = set()
        in_session = at >= self.started_at
        if kind in ("location", "alarm", "event", "command", "sublock") and not (
            kind == "command" and data.get("platformError")
        ):
            fresh = self.clock() - at <= self.template.online_within_s
            if fresh:
                self.last_push_at = max(self.last_push_at or 0.0, at)
                ev = Evidence(push_id, at, f"{kind} push received at {_hms(at)} UTC")
                if self._set("online", State.PASSED, "", [ev]):
                    changed.add("online")
        if kind == "location":
            changed |= self._location(push_id, at, data, in_session)
        elif kind == "event" and in_session:
            changed |= self._event(push_id, at, data)
        elif kind == "alarm" and in_session:
            code = data.get("alarmType")
            name = data.get("alarmName") or f"Unknown alarm {code}"
            ev = Evidence(push_id, at, f"alarm {code}: {name}")
            if self._set("alarm_path", State.PASSED, "", [ev]):
                changed.add("alarm_path")
        elif kind == "sublock":
            sub = str(record.sublock or data.get("subAssetID") or "")
            fresh = self.clock() - at <= self.template.online_within_s
            if sub and fresh and sub not in self._sublocks_seen:
                self._sublocks_seen[sub] = Evidence(
                    push_id, at, f"sub-lock {sub} reported (event {data.get('eventType')})"
                )
                if self._bound is not None and self._check_sublocks():
                    changed.add("sublocks")
        elif kind == "command" and data.get("platformError"):
            self.platform_error = str(data["platformError"])
            if self.items["online"].state is State.WAITING:
                ev = Evidence(push_id, at, f"platform: {self.platform_error}")
                if self._set("online", State.FAILED, self.platform_error, [ev]):
                    changed.add("online")
        return changed

    def _location(
        self, push_id: int | None, at: float, d: dict[str, Any], in_session: bool
    ) -> set[str]:
        changed: set[str] = set()
        t = self.template
        # -- position
        loc_type = d.get("locType")
        lat, lon = d.get("latitude"), d.get("longitude")
        sats, cell = _num(d.get("gnssSignal")), _num(d.get("cellSignal"))
        problems: list[str] = []
        if loc_type != 1:
            name = d.get("locTypeName") or "unknown"
            problems.append(
                f"no fix: locType {loc_type}" if loc_type in (0, None)
                else f"no GPS fix: locType {loc_type} ({name})"
            )
        bad = plausible_position(lat, lon)
        if bad and loc_type == 1:
            problems.append(bad)
        if loc_type == 1 and (sats is None or sats < t.min_satellites):
            seen = "no" if sats is None else int(sats)
            problems.append(f"{seen} satellites < {t.min_satellites}")
        if cell is None or cell < t.min_cell_signal:
            problems.append(
                f"cell signal {'missing' if cell is None else int(cell)} < {t.min_cell_signal}"
            )
        if problems:
            ev = Evidence(push_id, at, "; ".join(problems))
            if self._set("position", State.FAILED, "; ".join(problems), [ev]):
                changed.add("position")
        else:
            self.position = (float(lat), float(lon))
            self.position_at = at
            summary = (
                f"GPS fix {float(lat):.5f}, {float(lon):.5f}; {int(sats or 0)} satellites; "
                f"cell signal {int(cell or 0)}"
            )
            if self._set("position", State.PASSED, "", [Evidence(push_id, at, summary)]):
                changed.add("position")
        # -- power
        battery, charging, volt = d.get("battery"), d.get("charging"), _num(d.get("voltage"))
        problems = []
        if charging:
            power = "charging"
        elif _num(battery) is None:
            power = ""
            problems.append("battery not reported")
        else:
            power = f"battery {int(battery)} %"
            if battery < t.min_battery:
                problems.append(f"battery {int(battery)} % < {t.min_battery} %")
        if volt is not None:
            power += f", {volt:.2f} V"
            if not t.voltage_min <= volt <= t.voltage_max:
                problems.append(
                    f"voltage {volt:.2f} V outside {t.voltage_min:g}–{t.voltage_max:g} V"
                )
        if problems:
            reason = "; ".join(problems)
            if self._set("power", State.FAILED, reason, [Evidence(push_id, at, reason)]):
                changed.add("power")
        elif self._set("power", State.PASSED, "", [Evidence(push_id, at, power)]):
            changed.add("power")
        # -- lock state from statusJson (the lock cycle's second way)
        status = d.get("statusJson")
        if in_session and isinstance(status, dict):
            ls, rope = status.get("lockStatus"), status.get("lockRope")
            if ls in (0, 1):
                if ls == 1 and self._lock_state != 1:
                    changed |= self._saw_unlock(
                        Evidence(push_id, at, f"lockStatus 1 (unlocked), lockRope {rope}")
                    )
                elif ls == 0 and self._lock_state == 1:
                    changed |= self._saw_lock(
                        Evidence(push_id, at, f"lockStatus 0 (locked), lockRope {rope}")
                    )
                self._lock_state = ls
        return changed

    def _event(self, push_id: int | None, at: float, d: dict[str, Any]) -> set[str]:
        et = d.get("eventType")
        if et == 1:
            how = d.get("unLockTypeName") or f"unlock type {d.get('unLockType')}"
            self._lock_state = 1
            return self._saw_unlock(Evidence(push_id, at, f"Unlock event ({how})"))
        if et == 2:
            was_unlocked = self._unlocked is not None
            self._lock_state = 0
            if was_unlocked:
                return self._saw_lock(Evidence(push_id, at, "Lock event"))
        return set()

    def _saw_unlock(self, ev: Evidence) -> set[str]:
        if self.items["lock_cycle"].state is State.PASSED:
            return set()
        self._unlocked = ev
        reason = f"unlocked at {_hms(ev.at)} UTC; waiting for the lock"
        return {"lock_cycle"} if self._set("lock_cycle", State.WAITING, reason, [ev]) else set()

    def _saw_lock(self, ev: Evidence) -> set[str]:
        if self._unlocked is None:
            return set()
        proof = [self._unlocked, ev]
        self._unlocked = None
        return {"lock_cycle"} if self._set("lock_cycle", State.PASSED, "", proof) else set()

    # ---- command outcomes ----------------------------------------------------------

    def command_sent(self, key: str, text: str, at: float | None = None) -> set[str]:
        at = self.clock() if at is None else at
        reason = f"{text} sent at {_hms(at)} UTC; waiting for the reply"
        return {key} if self._set(key, State.WAITING, reason) else set()

    def on_command(self, tc: Any) -> set[str]:
        """A TrackedCommand snapshot (state, reply, reply_type, reason, reply_push_id)."""
        key = CHECK_OF_REPLY.get(tc.command.name)
        if key is None or tc.device != self.device_id:
            return set()
        state = str(getattr(tc.state, "value", tc.state))
        at = tc.answered_at or self.clock()
        if state in ("queued", "sent"):
            return self.command_sent(key, COMMAND_FOR[key], tc.sent_at or tc.created_at)
        if state in ("failed", "timed_out"):
            reason = tc.reason or state.replace("_", " ")
            ev = Evidence(tc.reply_push_id, at, f"{COMMAND_FOR[key]}: {reason}")
            return {key} if self._set(key, State.FAILED, reason, [ev]) else set()
        return self.on_reply(key, tc.reply, tc.reply_push_id, at)

    def on_reply(self, key: str, content: Any, push_id: int | None, at: float) -> set[str]:
        fields = label_reply({"firmware": "BASE1", "clock": "BASE2"}.get(key, "WLNET1"), content)
        if key == "firmware":
            values = dict(fields)
            firmware = values.get("firmware", "")
            for label in ("firmware", "vendor", "modem", "ICCID", "IMEI"):
                if values.get(label):
                    self.info[label] = values[label]
            if not firmware:
                ev = Evidence(push_id, at, f"BASE1 reply without firmware: {content!r}"[:200])
                ok = self._set(key, State.FAILED, "reply carries no firmware", [ev])
            else:
                ev = Evidence(push_id, at, f"firmware {firmware}")
                ok = self._set(key, State.PASSED, "", [ev])
            return {key} if ok else set()
        if key == "clock":
            raw = content[5] if isinstance(content, list) and len(content) > 5 else None
            try:
                device_time = parse_device_time(str(raw))
            except ValueError:
                ev = Evidence(push_id, at, f"BASE2 reply without a readable time: {raw!r}")
                ok = self._set(key, State.FAILED, "device time unreadable", [ev])
                return {key} if ok else set()
            diff = clock_difference(device_time, at)
            off = round(diff)
            self.info["device clock"] = device_time.strftime("%Y-%m-%d %H:%M:%S UTC")
            self.info["clock offset"] = f"{off:+d} s"
            shown = device_time.strftime("%Y-%m-%d %H:%M:%S UTC")
            side = "ahead" if off > 0 else "behind"
            if abs(diff) <= self.template.clock_tolerance_s:
                ev = Evidence(push_id, at, f"device clock {shown}, off by {abs(off)} s")
                ok = self._set(key, State.PASSED, "", [ev])
            else:
                reason = f"clock off by {abs(off)} s ({side})"
                ev = Evidence(push_id, at, f"device clock {shown}; {reason}")
                ok = self._set(key, State.FAILED, reason, [ev])
            return {key} if ok else set()
        # sub-locks
        bound = bound_sublocks(content) if isinstance(content, list) else None
        if bound is None:
            ev = Evidence(push_id, at, f"WLNET1 reply not understood: {content!r}"[:200])
            return {key} if self._set(key, State.FAILED, "reply not understood", [ev]) else set()
        self._bound = bound
        self.info["bound sub-locks"] = ", ".join(bound) or "none"
        self._bound_evidence = Evidence(
            push_id, at, f"{len(bound)} sub-lock(s) bound: {', '.join(bound) or 'none'}"
        )
        return {key} if self._check_sublocks() else set()

    def _check_sublocks(self) -> bool:
        bound = self._bound or []
        item = self.items["sublocks"]
        if item.state is State.NOT_APPLICABLE and item.by_technician:
            return False
        if not bound:
            if self.finished or item.state is State.PASSED:
                return False
            item.state = State.NOT_APPLICABLE
            item.reason = "no sub-lock bound (WLNET,1,0)"
            item.evidence = [self._bound_evidence] if self._bound_evidence else []
            item.changed_at = self.clock()
            return True
        missing = [s for s in bound if s not in self._sublocks_seen]
        proof = [self._bound_evidence] if self._bound_evidence else []
        proof += [self._sublocks_seen[s] for s in bound if s in self._sublocks_seen]
        if missing:
            reason = f"waiting for sub-lock {', '.join(missing)} to report"
            return self._set("sublocks", State.WAITING, reason, proof)
        return self._set("sublocks", State.PASSED, "", proof)

    # ---- time --------------------------------------------------------------------

    def tick(self, now: float | None = None) -> set[str]:
        """Nothing in the engine expires by itself today; kept for symmetry with the session."""
        return set()

    def finish(self, now: float | None = None) -> Verdict:
        """Freeze: what still waits fails ('no evidence …'); returns the verdict."""
        if self.finished:
            return self.verdict
        now = self.clock() if now is None else now
        for item in self.items.values():
            if item.state is State.WAITING:
                item.state = State.FAILED
                what = item.reason or _initial_reason(item.key)
                item.reason = f"no evidence before the end of the session ({what})"
                item.changed_at = now
        self.finished_at = now
        return self.verdict

    # ---- persistence -------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        return {
            "device": self.device_id,
            "template": self.template.to_json(),
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "verdict": self.verdict.value,
            "items": [self.items[k].to_json() for k in CHECKS],
            "info": dict(self.info),
            "position": list(self.position) if self.position else None,
            "position_at": self.position_at,
        }

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> DeviceChecklist:
        t = Template.from_json(d["template"])
        c = cls(str(d["device"]), t, started_at=float(d["started_at"]), clock=lambda: 0.0)
        c.finished_at = d.get("finished_at")
        for entry in d.get("items") or []:
            item = Item.from_json(entry)
            c.items[item.key] = item
        c.info = {str(k): str(v) for k, v in (d.get("info") or {}).items()}
        pos = d.get("position")
        c.position = (float(pos[0]), float(pos[1])) if pos else None
        c.position_at = d.get("position_at")
        c.clock = time.time
        return c


def _initial_reason(key: str) -> str:
    return {
        "online": "waiting for a push",
        "position": "waiting for a location push",
        "power": "waiting for a location push",
        "lock_cycle": "waiting for an unlock, then a lock",
        "alarm_path": "waiting for an alarm (e.g. open the back cover)",
        "firmware": "BASE,1 not sent yet",
        "clock": "BASE,2 not sent yet",
        "sublocks": "WLNET,1,0 not sent yet",
    }.get(key, "waiting")


def format_duration(seconds: float) -> str:
    s = max(0, int(seconds))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s % 3600 // 60:02d} min"
