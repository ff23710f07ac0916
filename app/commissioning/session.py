"""A commissioning session: a batch of devices, their checklists, and the commands that prove them.

The session sends BASE,1 / BASE,2 / WLNET,1,0 itself (only for the checks that apply),
through a `publish(command) -> bool` callback the caller wires to its connection, tracks
them with its own `CommandTracker`, and feeds every decoded push to the device's checklist.
Thread-safe: the headless command feeds pushes from the journal writer's thread while the
main thread ticks; the window does both on the GUI thread. No Qt, no sockets.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import Any

from app.commands.builder import LIBRARY, Command, CommandError, build
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandTracker, TrackedCommand
from app.commissioning.checks import COMMAND_FOR, DeviceChecklist, Verdict
from app.commissioning.templates import Template

Clock = Callable[[], float]
Publish = Callable[[Command], "bool | str"]  # True when handed to the client, else why not
Listener = Callable[[str, set[str]], None]  # device id, changed item keys

_TEMPLATES = {"firmware": "version", "clock": "time", "sublocks": "sublocks"}


def new_batch_id(now: float | None = None) -> str:
    """A readable, unique batch id: C-20250207-0754-3fa2."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return f"C-{moment:%Y%m%d-%H%M}-{secrets.token_hex(2)}"


class CommissioningSession:
    def __init__(
        self,
        template: Template,
        publish: Publish,
        *,
        technician: str = "",
        serials: SerialCounter | None = None,
        tracker: CommandTracker | None = None,
        clock: Clock = time.time,
        batch: str | None = None,
    ) -> None:
        self.template = template
        self.publish = publish
        self.technician = technician
        self.clock = clock
        self.serials = serials or SerialCounter()
        self.tracker = tracker or CommandTracker(template.command_timeout_s, operator=technician)
        self.batch = batch or new_batch_id(clock())
        self.started_at = clock()
        self.notes = ""
        self.checklists: dict[str, DeviceChecklist] = {}
        self._lock = threading.RLock()
        self._listeners: list[Listener] = []
        self._started = False
        self.tracker.add_listener(self._on_tracked)

    # ---- listeners -----------------------------------------------------------------

    def add_listener(self, fn: Listener) -> None:
        self._listeners.append(fn)

    def _emit(self, device: str, changed: set[str]) -> None:
        if changed:
            for fn in list(self._listeners):
                fn(device, set(changed))

    # ---- devices -------------------------------------------------------------------

    @property
    def devices(self) -> list[str]:
        with self._lock:
            return list(self.checklists)

    def add_device(self, device_id: str, template: Template | None = None) -> DeviceChecklist:
        """Add a device (once); when the session already runs its commands go out now."""
        with self._lock:
            c = self.checklists.get(device_id)
            if c is not None:
                return c
            c = DeviceChecklist(device_id, template or self.template, clock=self.clock)
            self.checklists[device_id] = c
            started = self._started
        if started:
            self._send_for(c)
        return c

    def start(self, devices: Iterable[str] = ()) -> None:
        for d in devices:
            self.add_device(d)
        with self._lock:
            self._started = True
            pending = list(self.checklists.values())
        for c in pending:
            self._send_for(c)

    def _send_for(self, c: DeviceChecklist) -> None:
        for key, tpl_name in _TEMPLATES.items():
            if not c[key].applicable:
                continue
            tpl = next(t for t in LIBRARY if t.name == tpl_name)
            try:
                cmd = build(tpl, c.device_id, self.serials.next(c.device_id))
            except CommandError as exc:
                with self._lock:
                    changed = c.on_command(_Failed(c.device_id, tpl.reply_type, str(exc)))
                self._emit(c.device_id, changed)
                continue
            cid = self.tracker.track(cmd)
            try:
                outcome = self.publish(cmd)
            except Exception as exc:  # not connected, transport gone …
                outcome = str(exc) or type(exc).__name__
            if outcome is True:
                self.tracker.mark_sent(cid)
            else:
                self.tracker.fail(cid, f"not sent: {outcome or 'publish refused'}")

    # ---- evidence ------------------------------------------------------------------

    def _on_tracked(self, tc: TrackedCommand) -> None:  # any thread
        with self._lock:
            c = self.checklists.get(tc.device)
            changed = c.on_command(tc) if c is not None else set()
        self._emit(tc.device, changed)

    def on_records(self, records: list[Any], ids: list[int]) -> set[str]:
        """A batch of decoded pushes (Recorder / FleetChange shape); returns changed devices."""
        touched: dict[str, set[str]] = {}
        for record, push_id in zip(records, ids, strict=False):
            device = getattr(record, "device", None)
            with self._lock:
                c = self.checklists.get(device) if device else None
            if c is None:
                continue
            if record.kind == "command":
                self.tracker.on_reply(record, push_id)  # → _on_tracked
            with self._lock:
                changed = c.feed(push_id, record)
            if changed:
                touched.setdefault(device, set()).update(changed)
        for device, changed in touched.items():
            self._emit(device, changed)
        return set(touched)

    def tick(self) -> None:
        """Expire commands whose reply is overdue (call now and then, or at next_deadline)."""
        self.tracker.expire()

    def next_deadline(self) -> float | None:
        return self.tracker.next_deadline()

    # ---- the technician ------------------------------------------------------------

    def mark_not_applicable(self, device: str, key: str, reason: str) -> None:
        with self._lock:
            self.checklists[device].mark_not_applicable(key, reason)
        self._emit(device, {key})

    def mark_applicable(self, device: str, key: str) -> None:
        with self._lock:
            self.checklists[device].mark_applicable(key)
        self._emit(device, {key})

    # ---- progress ------------------------------------------------------------------

    @property
    def all_done(self) -> bool:
        with self._lock:
            return bool(self.checklists) and all(c.done for c in self.checklists.values())

    @property
    def all_passed(self) -> bool:
        with self._lock:
            return bool(self.checklists) and all(c.all_passed for c in self.checklists.values())

    def summary(self, now: float | None = None) -> str:
        """One line: '2 of 3 done (2 passed, 0 failed); waiting: 79…: lock cycle for 1 min'."""
        now = self.clock() if now is None else now
        with self._lock:
            cs = list(self.checklists.values())
        if not cs:
            return "No devices yet"
        done = [c for c in cs if c.done]
        passed = sum(1 for c in done if c.verdict is Verdict.PASS)
        failed = sum(1 for c in done if c.verdict is Verdict.FAIL)
        line = f"{len(done)} of {len(cs)} done ({passed} passed, {failed} failed)"
        waits = [f"{c.device_id}: {c.waiting_for(now)}" for c in cs if not c.done]
        return line + ("; waiting — " + "; ".join(waits) if waits else "")

    def finish(self) -> dict[str, Verdict]:
        with self._lock:
            out = {d: c.finish() for d, c in self.checklists.items()}
        for d in out:
            self._emit(d, {"finished"})
        return out


class _Failed:
    """A TrackedCommand look-alike for a command that could not even be composed."""

    def __init__(self, device: str, name: str, reason: str) -> None:
        from types import SimpleNamespace

        self.command = SimpleNamespace(name=name)
        self.device = device
        self.state = "failed"
        self.reason = reason
        self.reply = None
        self.reply_push_id = None
        self.answered_at = None
        self.sent_at = None
        self.created_at = None


__all__ = ["COMMAND_FOR", "CommissioningSession", "new_batch_id"]
