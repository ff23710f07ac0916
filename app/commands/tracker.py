"""Pairing replies with commands: states, time-outs and unsolicited replies.

The protocol carries no correlation id. A reply names the device and a commandType
(BASE+1 → BASE1), so it answers the OLDEST open command of that device with that type;
the platform's `Device not online！` / `Device has not been registered！` (commandType
MQTT_CMD) fails the oldest open command of the device, whatever its type. A command that
gets no reply within the timeout is timed out. Nothing here ever sends or re-sends: the
tracker is pure bookkeeping with an injectable clock, so its tests never wait.
"""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import Any, Literal

from app.commands.builder import Command
from app.commands.serials import SerialCounter

log = logging.getLogger(__name__)

Clock = Callable[[], float]


class CommandState(StrEnum):
    QUEUED = "queued"
    SENT = "sent"
    ANSWERED = "answered"
    FAILED = "failed"
    TIMED_OUT = "timed_out"

    @property
    def open(self) -> bool:
        return self in (CommandState.QUEUED, CommandState.SENT)

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


@dataclass(frozen=True)
class TrackedCommand:
    """A snapshot of one command's life. Times: `*_at` wall clock (epoch s) for display and
    audit; `deadline` on the tracker's monotonic clock."""

    id: int
    command: Command
    profile: str
    state: CommandState
    created_at: float
    sent_at: float | None = None
    answered_at: float | None = None  # when answered, failed or timed out
    deadline: float | None = None
    reason: str = ""
    reply: Any = None  # the content (list of strings or text) of the reply
    reply_type: str | None = None
    reply_push_id: int | None = None
    operator: str = ""

    @property
    def device(self) -> str:
        return self.command.device

    @property
    def open(self) -> bool:
        return self.state.open


@dataclass(frozen=True)
class UnsolicitedReply:
    """A command reply that matched no open command (late, or sent by someone else)."""

    device: str | None
    command_type: str | None
    content: Any
    platform_error: str | None
    received_at: float
    push_id: int | None = None
    profile: str = ""


@dataclass(frozen=True)
class ReplyMatch:
    """What `on_reply` did with a record."""

    outcome: Literal["answered", "failed", "unsolicited", "ignored"]
    tracked: TrackedCommand | None = None
    unsolicited: UnsolicitedReply | None = None


Listener = Callable[[TrackedCommand], None]


def _serial_of(content: Any) -> int | None:
    """Long-form replies echo the serial as field 3."""
    if isinstance(content, list) and len(content) >= 5:
        s = str(content[2]).strip()
        if s.isdigit():
            return int(s)
    return None


PRUNE_EVERY = 200  # commands tracked between two looks for old ones to forget


class CommandTracker:
    """Thread-safe: replies arrive on the journal writer thread, sends on the caller's."""

    def __init__(
        self,
        timeout_s: float = 60.0,
        clock: Clock = time.monotonic,
        *,
        wall: Clock = time.time,
        max_unsolicited: int = 500,
        max_closed: int = 5_000,
        operator: str = "",
    ) -> None:
        self.timeout_s = float(timeout_s)
        self.clock = clock
        self.wall = wall
        self.operator = operator
        self._lock = threading.RLock()
        self._ids = itertools.count(1)
        self._commands: dict[int, TrackedCommand] = {}  # insertion order = age
        # Commands with an outcome kept, the newest; older ones are in the journal's audit.
        # Open ones are always kept (a reply must find its command).
        self.max_closed = max(0, int(max_closed))
        self._since_prune = 0
        self._listeners: list[Listener] = []
        self._unsolicited: deque[UnsolicitedReply] = deque(maxlen=max_unsolicited)
        self._unsolicited_listeners: list[Callable[[UnsolicitedReply], None]] = []

    # ---- listeners -----------------------------------------------------------------

    def add_listener(self, fn: Listener) -> None:
        """Called with a snapshot on every state change (including `track`)."""
        self._listeners.append(fn)

    def add_unsolicited_listener(self, fn: Callable[[UnsolicitedReply], None]) -> None:
        self._unsolicited_listeners.append(fn)

    def _notify(self, changed: list[TrackedCommand]) -> None:
        for tc in changed:
            for fn in list(self._listeners):
                try:
                    fn(tc)
                except Exception:  # one broken view must not stop the others or the writer
                    log.exception("command listener failed")

    # ---- queries -------------------------------------------------------------------

    def get(self, cid: int) -> TrackedCommand:
        with self._lock:
            return self._commands[cid]

    def commands(self, device: str | None = None) -> list[TrackedCommand]:
        with self._lock:
            return [c for c in self._commands.values() if device is None or c.device == device]

    def has(self, cid: int) -> bool:
        """Whether command `cid` is still kept (closed ones past `max_closed` are not)."""
        with self._lock:
            return cid in self._commands

    def closed_count(self) -> int:
        """Commands with an outcome kept (at most `max_closed` + PRUNE_EVERY)."""
        with self._lock:
            return sum(1 for c in self._commands.values() if not c.open)

    def set_max_closed(self, n: int) -> None:
        with self._lock:
            self.max_closed = max(0, int(n))
            self._prune()

    def _prune(self) -> None:
        """Forget the oldest commands with an outcome past `max_closed` (lock held). Run
        every PRUNE_EVERY commands tracked, so the bound may be passed by that many."""
        self._since_prune = 0
        closed = sum(1 for c in self._commands.values() if not c.open)
        extra = closed - self.max_closed
        if extra <= 0:
            return
        for cid in [cid for cid, c in self._commands.items() if not c.open][:extra]:
            del self._commands[cid]

    def open_commands(self, device: str | None = None) -> list[TrackedCommand]:
        return [c for c in self.commands(device) if c.open]

    @property
    def unsolicited(self) -> list[UnsolicitedReply]:
        with self._lock:
            return list(self._unsolicited)

    def next_deadline(self) -> float | None:
        """The earliest deadline of a sent command (tracker clock), for scheduling expire()."""
        with self._lock:
            ds = [
                c.deadline
                for c in self._commands.values()
                if c.state is CommandState.SENT and c.deadline is not None
            ]
        return min(ds) if ds else None

    # ---- transitions ---------------------------------------------------------------

    def _set(self, tc: TrackedCommand, **changes: Any) -> TrackedCommand:
        new = replace(tc, **changes)
        self._commands[tc.id] = new
        return new

    def track(self, command: Command, profile: str = "", *, operator: str | None = None) -> int:
        """Register a command about to be sent; state queued."""
        with self._lock:
            cid = next(self._ids)
            tc = TrackedCommand(
                cid,
                command,
                profile,
                CommandState.QUEUED,
                self.wall(),
                operator=self.operator if operator is None else operator,
            )
            self._commands[cid] = tc
            self._since_prune += 1
            if self._since_prune >= PRUNE_EVERY and len(self._commands) > self.max_closed:
                self._prune()
        self._notify([tc])
        return cid

    def mark_sent(self, cid: int) -> TrackedCommand:
        """The client accepted the publish; the timeout starts now."""
        with self._lock:
            tc = self._commands[cid]
            if tc.state is not CommandState.QUEUED:
                return tc  # a reply may have beaten us to it
            tc = self._set(
                tc,
                state=CommandState.SENT,
                sent_at=self.wall(),
                deadline=self.clock() + self.timeout_s,
            )
        self._notify([tc])
        return tc

    def fail(self, cid: int, reason: str) -> TrackedCommand:
        """Close an open command without a reply (publish refused, cancelled …)."""
        with self._lock:
            tc = self._commands[cid]
            if not tc.open:
                return tc
            tc = self._set(tc, state=CommandState.FAILED, reason=reason, answered_at=self.wall())
        self._notify([tc])
        return tc

    def expire(self, now: float | None = None) -> list[TrackedCommand]:
        """Time out every sent command whose deadline has passed (tracker clock)."""
        now = self.clock() if now is None else now
        changed = []
        with self._lock:
            for tc in list(self._commands.values()):
                if tc.state is CommandState.SENT and tc.deadline is not None and tc.deadline <= now:
                    changed.append(
                        self._set(
                            tc,
                            state=CommandState.TIMED_OUT,
                            answered_at=self.wall(),
                            reason=f"no reply within {self.timeout_s:g} s",
                        )
                    )
        self._notify(changed)
        return changed

    def on_reply(self, record: Any, push_id: int | None = None) -> ReplyMatch:
        """Pair a decoded push (PushRecord contract: kind, device, data) with a command."""
        if getattr(record, "kind", None) != "command":
            return ReplyMatch("ignored")
        data = record.data or {}
        raw = getattr(record, "raw", None)
        if "commandType" not in data or str(getattr(raw, "topic", "")).startswith("download/"):
            return ReplyMatch("ignored")  # our own command echoed back, not a reply
        device = record.device
        ctype = data.get("commandType")
        content = data.get("content")
        # Plain-text content is the platform speaking only under its own type, MQTT_CMD;
        # a device answering P01 with plain text is still an answer to P01.
        perr = data.get("platformError") if ctype in (None, "", "MQTT_CMD") else None
        profile = getattr(raw, "profile", "") or ""
        with self._lock:
            candidates = [
                c
                for c in self._commands.values()
                if c.open
                and c.device == device
                and (not profile or not c.profile or c.profile == profile)
            ]
            if perr:
                target = candidates[0] if candidates else None
                if target is not None:
                    tc = self._set(
                        target,
                        state=CommandState.FAILED,
                        reason=str(perr),
                        reply=content,
                        reply_type=ctype,
                        reply_push_id=push_id,
                        answered_at=self.wall(),
                    )
                    outcome: Literal["answered", "failed"] = "failed"
            else:
                same = [c for c in candidates if ctype and c.command.name == ctype]
                serial = _serial_of(content)
                by_serial = [
                    c
                    for c in same
                    if serial is not None and c.command.serial and int(c.command.serial) == serial
                ]
                target = (by_serial or same or [None])[0]
                if target is not None:
                    tc = self._set(
                        target,
                        state=CommandState.ANSWERED,
                        reply=content,
                        reply_type=ctype,
                        reply_push_id=push_id,
                        answered_at=self.wall(),
                    )
                    outcome = "answered"
            if target is None:
                u = UnsolicitedReply(device, ctype, content, perr, self.wall(), push_id, profile)
                self._unsolicited.append(u)
        if target is None:
            for fn in list(self._unsolicited_listeners):
                try:
                    fn(u)
                except Exception:
                    log.exception("unsolicited listener failed")
            return ReplyMatch("unsolicited", unsolicited=u)
        self._notify([tc])
        return ReplyMatch(outcome, tc)

    def on_batch(self, records: list[Any], ids: list[int]) -> None:
        """Shaped as a Recorder/JournalWriter listener: feed every command reply."""
        for record, pid in zip(records, ids, strict=False):
            if getattr(record, "kind", None) == "command":
                self.on_reply(record, pid)

    # ---- explicit retry ------------------------------------------------------------

    def retry(self, cid: int, serials: SerialCounter) -> Command:
        """A NEW command like `cid`'s with a fresh serial; the caller tracks and sends it.

        Refused while the original is still open: two identical commands in flight are
        exactly the double unlock the serial rule exists to prevent.
        """
        with self._lock:
            tc = self._commands[cid]
            if tc.open:
                raise ValueError(f"command {cid} is still {tc.state.label}; wait for its outcome")
        cmd = tc.command
        return cmd if cmd.short else cmd.with_serial(serials.next(cmd.device))
