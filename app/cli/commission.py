"""`commission`: run the automatic commissioning checks on one or more devices, write the report.

The command connects like `send`, subscribes to the devices' pushes, sends BASE,1 / BASE,2 /
WLNET,1,0 (for the checks that apply), and waits until every device passed every applicable
check or --timeout runs out. The lock cycle and the alarm path need a person at the lock:
here they wait for evidence like everything else (the technician acts in the field while
the command runs), or `--skip lock_cycle,alarm_path` marks them not applicable.

Exit codes:
  0  every applicable check of every device passed
  1  at least one check failed (or never got its evidence before --timeout)
  2  bad usage (unknown template or check, bad device id)
  3  no connection to the broker, or the journal/report could not be written
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import secrets
import sys
import threading
import time
from pathlib import Path

from app import paths
from app.cli.common import add_connection_args, settings_from_args
from app.cli.send import default_journal_path
from app.commands.audit import AuditLog, current_operator, last_serial
from app.commands.builder import CommandError, check_device
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandTracker
from app.commissioning.checks import State, Verdict
from app.commissioning.session import CommissioningSession
from app.commissioning.templates import (
    CHECKS,
    DEFAULT_TEMPLATE,
    TemplateError,
    default_path,
    load_templates,
)
from app.journal.url import display, target_of
from app.transport.settings import hashed_client_id

EXIT_PASS, EXIT_FAIL, EXIT_USAGE, EXIT_NO_BROKER = 0, 1, 2, 3
SKIP_REASON = "skipped on the command line"


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "commission",
        help="commission devices: automatic checks, verdict and PDF report",
        description="Prove that locks work: online, fix, power, lock cycle, alarm, firmware, "
        "clock and sub-locks, with the push that proved each; optionally write a PDF report.",
        epilog="exit status: 0 every applicable check passed, 1 a check failed, 2 bad usage, "
        "3 no broker / cannot write",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_connection_args(p)
    p.add_argument("--device", action="append", required=True, metavar="ID",
                   help="device to commission (repeat for a batch)")
    p.add_argument("--timeout", type=float, default=300.0,
                   help="seconds to wait for all evidence (default 300)")
    p.add_argument("--report", metavar="FILE.pdf", help="write the PDF report here")
    p.add_argument("--template", default=None,
                   help=f"checklist template (default {DEFAULT_TEMPLATE!r})")
    p.add_argument("--templates", default=None, metavar="FILE",
                   help="templates JSON (default: the per-user file the window edits)")
    p.add_argument("--technician", default=None, help="name on the report (default: OS user)")
    p.add_argument("--skip", default="", metavar="CHECKS",
                   help="comma-separated checks to mark not applicable, e.g. "
                   "lock_cycle,alarm_path; checks: " + ", ".join(CHECKS))
    p.add_argument("--notes", default="", help="notes printed on the report")
    p.add_argument("--journal", default=None,
                   help="journal file or a shared journal's postgresql:// URL (default: "
                   "$SEALDESK_JOURNAL or the per-user journal)")
    p.add_argument("--connect-timeout", type=float, default=15.0,
                   help="give up if the broker cannot be reached for this long (default 15 s)")
    p.set_defaults(func=run)


def _err(msg: str) -> None:
    print(f"sealdesk: error: {msg}", file=sys.stderr)


def run(args: argparse.Namespace) -> int:
    with contextlib.suppress(AttributeError, ValueError):
        sys.stdout.reconfigure(errors="replace")  # type: ignore[union-attr]
    if args.timeout <= 0:
        _err("--timeout must be positive")
        return EXIT_USAGE
    try:
        devices = list(dict.fromkeys(check_device(d) for d in args.device))
    except CommandError as exc:
        _err(str(exc))
        return EXIT_USAGE
    skip = [s.strip() for s in args.skip.split(",") if s.strip()]
    unknown = [s for s in skip if s not in CHECKS]
    if unknown:
        _err(f"unknown check {unknown[0]!r}; checks are: {', '.join(CHECKS)}")
        return EXIT_USAGE
    try:
        templates = load_templates(args.templates or default_path(paths.data_dir()))
    except TemplateError as exc:
        _err(str(exc))
        return EXIT_USAGE
    name = args.template or DEFAULT_TEMPLATE
    if name not in templates:
        _err(f"no template {name!r}; known: {', '.join(sorted(templates))}")
        return EXIT_USAGE
    template = templates[name]

    settings = settings_from_args(args, role="commission")
    key = settings.access_key
    client_id = args.client_id or f"{hashed_client_id(key, 'commission')}_{secrets.token_hex(3)}"
    settings = dataclasses.replace(
        settings,
        topics=tuple(f"upload/{key}/{d}/#" for d in devices),
        client_id=client_id,
        clean_session=True if not args.client_id else settings.clean_session,
        profile=settings.profile or f"{settings.host}:{settings.port}",
    )
    journal = target_of(args.journal) if args.journal else default_journal_path()
    try:
        if isinstance(journal, Path):
            journal.parent.mkdir(parents=True, exist_ok=True)
        from app.pipeline import Recorder

        recorder = Recorder(journal).start()
        audit = AuditLog(journal)
    except Exception as exc:
        _err(f"cannot open journal {display(journal)}: {exc}")
        return EXIT_NO_BROKER
    try:
        return _commission(args, devices, template, skip, settings, recorder, audit, journal)
    finally:
        recorder.stop()
        audit.close()


def _commission(args, devices, template, skip, settings, recorder, audit, journal) -> int:  # type: ignore[no-untyped-def]
    technician = args.technician or current_operator()
    tracker = CommandTracker(template.command_timeout_s, operator=technician)
    audit.attach(tracker)
    transport_box: list = []

    def publish(cmd) -> bool | str:  # type: ignore[no-untyped-def]
        info = transport_box[0].publish(cmd.topic(settings.access_key), cmd.text.encode(), qos=1)
        return True if info.rc == 0 else f"publish refused by the client (rc {info.rc})"

    session = CommissioningSession(
        template,
        publish,
        technician=technician,
        serials=SerialCounter(seed=lambda d: last_serial(audit.conn, d)),
        tracker=tracker,
    )
    for d in devices:
        session.add_device(d)
        for key in skip:
            session.mark_not_applicable(d, key, SKIP_REASON)
    wake = threading.Event()
    session.add_listener(lambda _d, _k: wake.set())
    recorder.add_listener(session.on_records)  # journal writer thread, after the commit

    transport = recorder.connect(settings)
    transport_box.append(transport)
    if not transport.wait_connected(args.connect_timeout):
        _err(f"could not connect to {settings.host}:{settings.port} "
             f"({transport.state.describe()}); nothing sent")
        return EXIT_NO_BROKER
    print(f"commissioning {len(devices)} device(s) with template {template.name!r}, "
          f"up to {args.timeout:g} s; batch {session.batch}", flush=True)
    session.start()
    deadline = time.monotonic() + args.timeout
    last_line = ""
    try:
        while not session.all_passed:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            nd = session.next_deadline()
            wait = left if nd is None else min(left, max(0.01, nd - time.monotonic()))
            wake.wait(min(wait, 5.0))
            wake.clear()
            session.tick()
            line = session.summary()
            if line != last_line:
                print(f"  {line}", flush=True)
                last_line = line
    except KeyboardInterrupt:
        print("interrupted: finishing with what was proven so far", file=sys.stderr)
    recorder.writer.flush(10)
    session.finish()

    checklists = [session.checklists[d] for d in devices]
    _print_summary(checklists)
    from app.commissioning.store import CommissioningStore

    try:
        with CommissioningStore(journal) as store:
            store.save(session.batch, checklists, technician=technician, notes=args.notes)
            if args.report:
                from app.commissioning.report import ReportInfo
                from app.ui.commissioning_pdf import render_pdf

                info = ReportInfo(session.batch, technician, args.notes)
                pdf = render_pdf(checklists, info, args.report)
                store.attach_report(session.batch, pdf, str(Path(args.report).resolve()))
                print(f"report: {args.report}")
    except Exception as exc:
        _err(f"cannot write the report or the journal: {exc}")
        return EXIT_NO_BROKER
    return EXIT_PASS if all(c.verdict is Verdict.PASS for c in checklists) else EXIT_FAIL


def _print_summary(checklists) -> None:  # type: ignore[no-untyped-def]
    for c in checklists:
        ok, total = c.progress()
        print(f"{c.device_id}: {c.verdict.value} ({ok}/{total} checks passed)")
        for item in c.items.values():
            if item.state is State.PASSED:
                detail = item.evidence[-1].summary if item.evidence else ""
            else:
                detail = item.reason
            print(f"  {item.label:<13} {item.state.label:<15} {detail}")
