"""`send`: publish one command, wait for its paired reply or the timeout, print the outcome.

Exit codes (scripts rely on them):
  0  answered — the reply's labelled fields are printed
  1  failed — the platform's reason (e.g. "Device not online！"), a refused publish,
     or no connection to the broker
  2  bad usage — unreadable command text, bad parameters, or a dangerous command
     (unlock, bind, restart) that was not confirmed; nothing was sent
  3  timed out — no reply within --timeout seconds (the device may still act on it)

The reply is journalled and every command is audited in the journal's `command` table.
Without --journal the journal is $SEALDESK_JOURNAL, else the per-user data journal
(see `default_journal_path`), so serials keep rolling across runs and the command shows
in the window's device history.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import os
import secrets
import sys
import threading
import time
from pathlib import Path

from app.cli.common import add_connection_args, settings_from_args
from app.commands.audit import AuditLog, current_operator, last_serial
from app.commands.builder import CommandError, build_text, check_device, parse_command_text
from app.commands.replies import label_reply
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandState, CommandTracker, TrackedCommand, UnsolicitedReply
from app.journal.url import display, target_of
from app.transport.settings import hashed_client_id

EXIT_ANSWERED, EXIT_FAILED, EXIT_USAGE, EXIT_TIMED_OUT = 0, 1, 2, 3


def default_journal_path() -> str | Path:
    """$SEALDESK_JOURNAL (a file or a postgresql:// URL), else the per-user data directory
    of the platform."""
    env = os.environ.get("SEALDESK_JOURNAL")
    if env:
        return target_of(env)
    from app import paths  # the window's journal, so its audit shows the command too

    return paths.journal_path()


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "send",
        help="send one command and wait for its reply",
        description="Send one command to a device, wait for the paired reply or the timeout.",
        epilog="exit status: 0 answered, 1 failed (platform reason, publish refused or no "
        "broker), 2 bad usage or not confirmed (nothing sent), 3 timed out",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_connection_args(p)
    p.add_argument("--device", required=True, help="target device id")
    p.add_argument(
        "text",
        metavar="COMMAND",
        help='"BASE,1", "WLNET,1,0", "P01", "(P04,1,60,30)" or the full text '
        '"(deviceId,1,serial,CMD,index,…)"',
    )
    p.add_argument(
        "--timeout", type=float, default=60.0, help="seconds to wait for the reply (default 60)"
    )
    p.add_argument(
        "--journal",
        default=None,
        help="journal file (or a shared journal's postgresql:// URL) for the reply and the "
        "audit row "
        "(default: $SEALDESK_JOURNAL or the per-user journal)",
    )
    p.add_argument(
        "--yes",
        action="store_true",
        help="confirm a dangerous command (unlock, bind, restart) without a prompt",
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=15.0,
        help="give up if the broker cannot be reached for this long (default 15 s)",
    )
    p.set_defaults(func=run)


def _err(msg: str) -> None:
    print(f"sealdesk: error: {msg}", file=sys.stderr)


def _confirm(device: str, reason: str, yes: bool) -> bool:
    """Typed confirmation, or --yes. Without a terminal there is no one to ask: refuse."""
    if yes:
        return True
    if not sys.stdin.isatty():
        _err(f"this command {reason}; pass --yes to confirm it without a terminal")
        return False
    try:
        typed = input(f"This command {reason}. Type the device id {device} to confirm: ")
    except EOFError:
        typed = ""
    if typed.strip() != device:
        _err("not confirmed; nothing sent")
        return False
    return True


def _print_outcome(tc: TrackedCommand, elapsed: float, timeout: float) -> int:
    if tc.state is CommandState.ANSWERED:
        print(f"answered: {tc.reply_type} from {tc.device} in {elapsed:.2f} s")
        fields = label_reply(tc.reply_type or "", tc.reply)
        width = max((len(label) for label, _ in fields), default=0)
        for label, value in fields:
            print(f"  {label:<{width}}  {value}")
        return EXIT_ANSWERED
    if tc.state is CommandState.TIMED_OUT:
        print(
            f"timed out after {timeout:g} s: no reply from {tc.device} "
            f"(the device may be asleep; it may still act on the command)"
        )
        return EXIT_TIMED_OUT
    print(f"failed: {tc.reason}")
    return EXIT_FAILED


def run(args: argparse.Namespace) -> int:
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]  # "！" on cp1252
    if args.timeout <= 0:
        _err("--timeout must be positive")
        return EXIT_USAGE
    try:
        device = check_device(args.device)
        parsed = parse_command_text(args.text)
    except CommandError as exc:
        _err(str(exc))
        return EXIT_USAGE
    settings = settings_from_args(args, role="send")
    key = settings.access_key
    # A fresh clean session: a persistent one would replay old replies that could pair
    # with this command. An explicit --client-id is the user's choice and kept.
    client_id = args.client_id or f"{hashed_client_id(key, 'send')}_{secrets.token_hex(3)}"
    settings = dataclasses.replace(
        settings,
        topics=(f"upload/{key}/{device}/cmd",),
        client_id=client_id,
        clean_session=True if not args.client_id else settings.clean_session,
        profile=settings.profile or f"{settings.host}:{settings.port}",
    )

    journal = target_of(args.journal) if args.journal else default_journal_path()
    try:
        if isinstance(journal, Path):
            journal.parent.mkdir(parents=True, exist_ok=True)
        from app.pipeline import Recorder

        recorder = Recorder(journal).start()  # creates and migrates the journal first
        audit = AuditLog(journal)
    except Exception as exc:
        _err(f"cannot open journal {display(journal)}: {exc}")
        return EXIT_FAILED
    try:
        return _send(args, parsed, device, settings, recorder, audit)
    finally:
        recorder.stop()
        audit.close()


def _send(args, parsed, device, settings, recorder, audit) -> int:  # type: ignore[no-untyped-def]
    serials = SerialCounter(seed=lambda d: last_serial(audit.conn, d))
    try:
        if parsed.index is not None and parsed.serial is not None:
            if serials.would_repeat(device, parsed.serial):
                _err(
                    f"serial {parsed.serial} repeats the previous command to {device}; "
                    "the platform would drop it as a duplicate"
                )
                return EXIT_USAGE
            command = build_text(args.text, device)
        else:
            command = build_text(
                args.text, device, serials.next(device) if parsed.index is not None else None
            )
    except CommandError as exc:
        _err(str(exc))
        return EXIT_USAGE

    print(f"command: {command.text}  (expects {command.name})")
    if command.dangerous and not _confirm(device, command.reason, args.yes):
        return EXIT_USAGE

    tracker = CommandTracker(args.timeout, operator=current_operator())
    audit.attach(tracker)
    closed = threading.Event()
    target: list[int] = []
    tracker.add_listener(
        lambda tc: closed.set() if target and tc.id == target[0] and not tc.open else None
    )

    def on_unsolicited(u: UnsolicitedReply) -> None:
        print(
            f"note: unsolicited reply from {u.device}: {u.command_type} "
            f"{u.platform_error or u.content}",
            file=sys.stderr,
        )

    tracker.add_unsolicited_listener(on_unsolicited)
    recorder.add_listener(tracker.on_batch)

    transport = recorder.connect(settings)
    if not transport.wait_connected(args.connect_timeout):
        _err(
            f"could not connect to {settings.host}:{settings.port} "
            f"({transport.state.describe()}); nothing sent"
        )
        return EXIT_FAILED

    topic = command.topic(settings.access_key)
    cid = tracker.track(command, settings.profile)
    target.append(cid)
    started = time.monotonic()
    info = transport.publish(topic, command.text.encode(), qos=1)
    if info.rc != 0:
        tracker.fail(cid, f"publish refused by the client (rc {info.rc})")
    else:
        tracker.mark_sent(cid)
        print(f"sent to {topic} at QoS 1, waiting up to {args.timeout:g} s")
    try:
        while not closed.is_set():
            deadline = tracker.next_deadline()
            wait = 0.5 if deadline is None else max(0.0, deadline - time.monotonic())
            if closed.wait(min(wait, 0.5) if deadline is None else wait):
                break
            tracker.expire()
    except KeyboardInterrupt:
        tracker.fail(cid, "abandoned: interrupted before a reply (the device may still act)")
        raise
    return _print_outcome(tracker.get(cid), time.monotonic() - started, args.timeout)
