"""The panel's engine (no widgets): serials, tracker, audit, publishing and the reply route.

Replies reach the tracker through a *push listener* (`tracker.on_batch`, on the thread that
receives the recording process's batches), not through `ctx.feed.sig_batch_delivered`: the feed's
batches wait for the GUI's next tick and may be thinned when the window falls behind, and a
dropped reply would turn an answered command into a false "timed out" (the recording process
thins only readings, never replies). The tracker is thread-safe; its
listener callbacks are handed to the GUI thread by emitting Qt signals from this QObject
(queued across threads), so views only ever change on the GUI thread.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from PySide6.QtCore import QObject, QTimer, Signal

from app.commands import audit
from app.commands.builder import Command, CommandError
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandTracker, TrackedCommand, UnsolicitedReply
from app.journal.url import JOURNAL_ERRORS
from app.ui.bounds import COMMAND_HISTORY
from app.ui.context import AppContext

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT_S = 60.0


def _any_profile(record):
    """On a desk a reply comes through the journal, stored under the *recorder's* profile
    name, never the desk's own (which only publishes): the tracker pairs it by device,
    command type and serial, not by profile."""
    if record.kind != "command" or not record.raw.profile:
        return record
    return replace(record, raw=replace(record.raw, profile=""))


def _close_quietly(conn) -> None:
    try:
        conn.close()
    except Exception:
        log.debug("closing a dropped journal connection", exc_info=True)


class SendRefused(Exception):
    """Nothing was sent (no profile, not connected…); the message says why."""


class CommandConsole(QObject):
    sig_command_changed = Signal(object)  # TrackedCommand snapshot, GUI thread
    sig_unsolicited_received = Signal(object)  # UnsolicitedReply, GUI thread
    sig_command_sent = Signal(object)  # TrackedCommand right after the publish

    def __init__(self, ctx: AppContext, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._closed = False
        try:
            timeout = float(ctx.settings.value("commands/timeout_s", DEFAULT_TIMEOUT_S))
        except (TypeError, ValueError):
            timeout = DEFAULT_TIMEOUT_S
        # Commands with an outcome kept in memory: the history's bound (Settings › Commands).
        self.tracker = CommandTracker(max(0.1, timeout), operator=ctx.operator,
                                      max_closed=COMMAND_HISTORY.value(ctx.settings))
        # Audit writes: its own connection (WAL next to the journal writer's; a desk's
        # shared journal). The rows it wrote are this window's: on a desk the others are
        # read back from the journal (`others`).
        self.audit = audit.AuditLog(ctx.journal_path)
        self.own_rows: set[int] = set()
        self.tracker.add_listener(self._audit_write)
        # GUI-thread reads (history, serial seeds): another connection, never shared.
        self.read_conn = audit.connect(ctx.journal_path)
        self.serials = SerialCounter(seed=self._seed)
        self._reserved: dict[str, str] = {}  # device → serial shown in the preview
        self._issued: set[tuple[str, str]] = set()  # handed out by the counter, not yet sent
        self.tracker.add_listener(self._from_tracker)
        self.tracker.add_unsolicited_listener(self._from_unsolicited)
        ctx.connections.add_push_listener(self._on_batch)
        self._expiry = QTimer(self)
        self._expiry.setSingleShot(True)
        self._expiry.timeout.connect(self._expire)
        self.sig_command_changed.connect(lambda _tc: self._schedule_expiry())

    # ---- threads --------------------------------------------------------------------

    def _audit_write(self, tc: TrackedCommand) -> None:  # the changer's thread
        try:
            row = self.audit.write(tc)
        except JOURNAL_ERRORS:
            if not self.ctx.desk:
                raise
            # The shared journal dropped this connection since the last write (a restart,
            # a network blip): once more on a new one (the log keeps its rows' ids).
            old, self.audit.conn = self.audit.conn, audit.connect(self.ctx.journal_path)
            _close_quietly(old)
            row = self.audit.write(tc)
        self.own_rows.add(row)

    def _read(self, read):
        """`read(conn)` on the read connection; on a desk, once more on a new connection
        when the shared journal dropped the old one."""
        try:
            return read(self.read_conn)
        except JOURNAL_ERRORS:
            if not self.ctx.desk:
                raise
            old, self.read_conn = self.read_conn, audit.connect(self.ctx.journal_path)
            _close_quietly(old)
            return read(self.read_conn)

    def _on_batch(self, records, ids, _skipped: int = 0) -> None:  # not the GUI thread
        if self._closed:
            return
        if self.ctx.desk:
            records = [_any_profile(r) for r in records]
        self.tracker.on_batch(records, ids)

    def _from_tracker(self, tc: TrackedCommand) -> None:  # any thread
        if not self._closed:
            self.sig_command_changed.emit(tc)

    def _from_unsolicited(self, u: UnsolicitedReply) -> None:  # any thread
        if not self._closed:
            self.sig_unsolicited_received.emit(u)

    # ---- time-outs ------------------------------------------------------------------

    def _schedule_expiry(self) -> None:
        deadline = self.tracker.next_deadline()
        if deadline is None:
            self._expiry.stop()
            return
        ms = max(0, int((deadline - self.tracker.clock()) * 1000) + 5)
        if not self._expiry.isActive() or self._expiry.remainingTime() > ms:
            self._expiry.start(ms)

    def _expire(self) -> None:
        self.tracker.expire()
        self._schedule_expiry()

    def set_timeout(self, seconds: float) -> None:
        """For commands sent from now on."""
        self.tracker.timeout_s = float(seconds)

    # ---- serials --------------------------------------------------------------------

    def _seed(self, device: str) -> str | None:
        try:
            return self._read(lambda conn: audit.last_serial(conn, device))
        except JOURNAL_ERRORS:
            return None

    def peek_serial(self, device: str) -> str:
        """The serial the next long-form command to `device` will carry (reserved now, so
        what the preview shows is exactly what is sent)."""
        if device not in self._reserved:
            self._reserved[device] = self.serials.next(device)
            self._issued.add((device, self._reserved[device]))
        return self._reserved[device]

    def take_serial(self, device: str) -> str:
        s = self._reserved.pop(device, None)
        if s is None:
            s = self.serials.next(device)
            self._issued.add((device, s))
        return s

    # ---- profiles -------------------------------------------------------------------

    def connected_profiles(self) -> list[str]:
        return self.ctx.connections.connected_profiles()

    def profile_for(self, device: str) -> str | None:
        """The device's own profile, else the only connected one, else None (ask)."""
        dev = self.ctx.fleet.devices.get(device)
        profiles = self.connected_profiles()
        if dev is not None and dev.profile and dev.profile in profiles:
            return dev.profile
        return profiles[0] if len(profiles) == 1 else None

    def access_key(self, profile: str) -> str:
        s = self.ctx.connections.settings.get(profile)
        if s is None or not s.access_key:
            raise SendRefused(f"profile {profile!r} is not connected")
        return s.access_key

    # ---- sending --------------------------------------------------------------------

    def send(self, command: Command, profile: str) -> int:
        """Track and publish at QoS 1. Confirmation is the caller's job (before this).

        Raises SendRefused (nothing tracked) when the profile cannot publish at all; a
        publish the client refuses is tracked and failed with the client's reason.
        """
        if not profile:
            raise SendRefused("choose a connection profile")
        key = self.access_key(profile)
        issued = (command.device, command.serial) in self._issued
        if (
            command.serial is not None
            and not issued  # the counter's own serials are fresh; a typed one may repeat
            and self.serials.would_repeat(command.device, command.serial)
        ):
            raise SendRefused(
                f"serial {command.serial} repeats the previous command to {command.device};"
                " the platform would drop it"
            )
        if command.serial is not None:
            self._issued.discard((command.device, command.serial))
            if self._reserved.get(command.device) == command.serial:
                del self._reserved[command.device]
            elif not issued:
                self.serials.observe(command.device, command.serial)
        cid = self.tracker.track(command, profile, operator=self.ctx.operator)
        try:
            info = self.ctx.connections.publish(profile, command.topic(key), command.text, 1)
            rc = getattr(info, "rc", 0)
        except Exception as exc:  # not connected, transport gone…
            self.tracker.fail(cid, f"not sent: {exc}")
            return cid
        if rc != 0:
            self.tracker.fail(cid, f"not sent: the MQTT client refused the publish (rc {rc})")
        else:
            self.sig_command_sent.emit(self.tracker.mark_sent(cid))
        return cid

    def retry(self, cid: int) -> Command:
        """A new command like `cid`'s with a new serial (tracker rule: not while open)."""
        cmd = self.tracker.retry(cid, _Taker(self))
        return cmd

    def retry_audit(self, text: str, device: str) -> Command:
        """Retry of a command from an earlier session (only in the journal)."""
        from app.commands.builder import build_text, parse_command_text

        parsed = parse_command_text(text)
        if parsed.index is None:
            return build_text(text, device)
        serial = self.take_serial(device)
        if parsed.serial is not None:
            return build_text(text, device).with_serial(serial)
        return build_text(text, device, serial)

    # ---- life -----------------------------------------------------------------------

    def others(self, conn, since: float, limit: int = 500) -> list[audit.AuditRow]:
        """Commands other desks sent (or that changed) since `since`, from the shared
        journal through `conn` (any thread): the audit rows this window did not write."""
        own = self.own_rows
        return [r for r in audit.search(conn, since=since, limit=limit) if r.id not in own]

    def history(self, limit: int = 1000) -> list[audit.AuditRow]:
        try:
            return self._read(lambda conn: audit.search(conn, limit=limit))
        except JOURNAL_ERRORS:
            log.exception("cannot read the command history")
            return []

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._expiry.stop()
        # Open commands stay open in the journal: nothing is re-sent on the next start.
        self.audit.close()
        self.read_conn.close()


class _Taker:
    """Gives tracker.retry the console's serials (honouring a preview's reservation)."""

    def __init__(self, console: CommandConsole) -> None:
        self.console = console

    def next(self, device: str) -> str:
        return self.console.take_serial(device)


__all__ = ["CommandConsole", "CommandError", "SendRefused"]
