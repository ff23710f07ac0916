"""Start the window: `python main.py [--demo] [connection options] [--profile NAME]`.

The window runs on a qasync event loop so asyncio services (the demo's embedded
broker, the webhook receiver) share the GUI thread's loop; MQTT runs on paho's
own network thread (see app/transport/mqtt.py for why).
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import gc
import logging
import shutil
import sqlite3
import sys
import tempfile
import time
from pathlib import Path

from app import APP_NAME, __version__
from app.cli.common import (
    add_connection_args,
    resolve_secrets,
    settings_from_args,
    webhook_header_from_env,
)
from app.gctune import IDLE_FULL_COLLECT_S, collect_all, tune_for_latency
from app.webhook.options import add_webhook_args, webhook_config

log = logging.getLogger(__name__)


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="sealdesk",
        description="SealDesk window. Headless commands: record, export, simulate, send "
        "(python main.py COMMAND --help).",
    )
    p.add_argument("--version", action="version", version=f"{APP_NAME} {__version__}")
    p.add_argument("--demo", action="store_true",
                   help="embedded broker and a simulated fleet: try every panel")
    p.add_argument("--devices", type=int, default=30, help="demo fleet size (default 30)")
    p.add_argument("--rate", type=float, default=40.0, help="demo pushes per second (default 40)")
    p.add_argument("--profile", help="connect with a saved connection profile")
    p.add_argument("--journal", help="journal file (default: in the user data folder), or a "
                   "postgresql://user@host/db URL: a desk on that shared journal")
    p.add_argument("--desk", action="store_true",
                   help="a desk: no recording of its own, the live feed, acknowledgements, "
                        "notes, commands and commissioning sessions are the journal's (what "
                        "other desks and recorders write); the default for a postgresql:// "
                        "journal")
    p.add_argument("--operator", metavar="NAME",
                   help="who is at this desk, for this run (default: File › Settings › "
                        "Operator, else the OS user name)")
    p.add_argument("--read-only", action="store_true",
                   help="with --journal: look at a copy of that journal, taken now; nothing "
                        "done in the window changes it (File › Open journal read-only)")
    p.add_argument("--theme", choices=("system", "light", "dark"), default=None)
    p.add_argument("--screenshot", metavar="FILE",
                   help="save the window to a PNG, see --quit-after")
    p.add_argument("--show", metavar="PANEL", action="append", default=[],
                   help="bring a panel to the front at start (map, charts, pushlog…; repeatable)")
    p.add_argument("--quit-after", type=float, metavar="SECONDS",
                   help="quit after this many seconds (with --screenshot: take it first)")
    # For the benchmark: event-loop stalls, start-up time and memory as JSON at exit.
    p.add_argument("--report", metavar="FILE", help=argparse.SUPPRESS)
    # With --report, for the soak benchmark: stalls per slice of this many seconds, no samples.
    p.add_argument("--report-slices", type=float, metavar="SECONDS", help=argparse.SUPPRESS)
    # Settings from this ini file instead of the user's (the benchmark starts from defaults).
    p.add_argument("--settings-file", metavar="INI", help=argparse.SUPPRESS)
    add_connection_args(p, need_key=False)
    p.add_argument("--topic", action="append", metavar="FILTER")
    add_webhook_args(p)
    return p


def main(argv: list[str]) -> int:
    args = build_parser().parse_args(argv)
    if args.screenshot and args.quit_after is None:
        args.quit_after = 10.0
    # Secrets off the command line, as for `record`: the webhook header from
    # $SEALDESK_WEBHOOK_HEADER, the access key from $SEALDESK_ACCESS_KEY, the password from
    # --password-file, --password-stdin, $SEALDESK_PASSWORD or a prompt (each given as an
    # argument still works, with a one-line warning). Before the window, so a prompt comes first.
    webhook_header_from_env(args)
    if not args.demo and not args.profile:
        resolve_secrets(args)

    import qasync
    from PySide6.QtCore import QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app import logs, paths

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setOrganizationName(APP_NAME)
    app.setApplicationName(APP_NAME)
    app.setApplicationVersion(__version__)
    paths.set_identity()
    logs.setup()
    log.info("%s %s starting (frozen=%s)", APP_NAME, __version__, paths.frozen())
    from PySide6.QtGui import QIcon

    app.setWindowIcon(QIcon(str(paths.resource_path("icons/sealdesk.png"))))
    loop = qasync.QEventLoop(app)
    asyncio.set_event_loop(loop)

    if args.read_only and not args.journal:
        print("--read-only needs --journal FILE", file=sys.stderr)
        return 2
    from app.journal.url import JOURNAL_ERRORS, display, is_journal_url

    desk = args.desk or is_journal_url(args.journal)
    if desk and (args.demo or args.read_only or args.webhook_port is not None):
        print("a desk (--desk, or a postgresql:// journal) records nothing: not with --demo, "
              "--read-only or --webhook-port (webhooks go to a recorder)", file=sys.stderr)
        return 2
    # The demo and the read-only viewer keep their own settings: the user's profiles must not
    # auto-connect into them.
    if args.settings_file:
        settings = QSettings(args.settings_file, QSettings.Format.IniFormat)
    elif args.demo:
        settings = QSettings(APP_NAME, f"{APP_NAME} demo")
    elif args.read_only:
        settings = QSettings(APP_NAME, f"{APP_NAME} viewer")
    else:
        settings = QSettings()
    from app.ui.theme import apply_theme, follow_system

    theme = args.theme or str(settings.value("ui/theme", "system"))
    apply_theme(app, theme)
    follow_system(app, lambda: args.theme or str(settings.value("ui/theme", "system")))

    snapshot_of = None
    if args.journal and args.read_only:
        from app.journal.snapshot import snapshot

        view_dir = tempfile.mkdtemp(prefix="sealdesk-view-")
        atexit.register(shutil.rmtree, view_dir, True)
        try:
            journal_path = snapshot(args.journal, Path(view_dir) / Path(args.journal).name)
        except (OSError, sqlite3.Error) as exc:
            print(f"cannot read {args.journal}: {exc}", file=sys.stderr)
            return 1
        snapshot_of = (Path(args.journal), time.time())
    elif args.journal and is_journal_url(args.journal):
        journal_path = args.journal.strip()
    elif args.journal:
        journal_path = Path(args.journal)
    elif args.demo:
        demo_dir = tempfile.mkdtemp(prefix="sealdesk-demo-")
        atexit.register(shutil.rmtree, demo_dir, True)  # gone on exit, Ctrl+C included
        journal_path = Path(demo_dir) / "demo-journal.sqlite"
    else:
        journal_path = paths.journal_path()

    from app.ui.journal_banner import open_checked
    from app.ui.session import Session

    if not is_journal_url(journal_path) and not open_checked(journal_path):
        return 1  # a damaged journal: moved aside, or quit
    try:
        session = Session(journal_path, settings, desk=desk, operator=args.operator)
    except JOURNAL_ERRORS as exc:
        print(f"cannot open the journal {display(journal_path)}: {exc}", file=sys.stderr)
        return 1
    window = session.open_window()
    if snapshot_of is not None:
        window.show_read_only(*snapshot_of)
    window.show_fitted()
    for key in args.show:
        window.show_panel(key)
    report = None
    if args.report:
        from app.ui.run_report import RunReport

        report = RunReport(args.report, session, args.report_slices)

    # Closing the window ends the session; services stop while the loop still runs.
    closing = asyncio.Event()
    app.setQuitOnLastWindowClosed(False)
    window.sig_window_closed.connect(closing.set)
    app.aboutToQuit.connect(closing.set)
    exit_code = 0

    async def start_connections() -> None:
        nonlocal exit_code
        try:
            if args.demo:
                await session.start_demo(devices=args.devices, rate=args.rate)
                # Show a new user what a device looks like: pick one with sub-locks.
                await asyncio.sleep(3.0)
                if not session.selection.device_id and session.fleet.devices:
                    devices = session.fleet.devices.values()
                    pick = next((d for d in devices if d.sublocks), next(iter(devices)))
                    session.selection.select(pick.device_id)
            elif args.profile:
                session.connect_saved_profile(args.profile)
            elif args.access_key:
                session.connections.connect_profile(
                    _with_profile(settings_from_args(args), args.host)
                )
            if args.webhook_port is not None:
                session.start_webhook(webhook_config(args))
        except Exception as exc:  # shown, never a crash
            log.exception("start-up connection failed")
            window.statusBar().showMessage(f"Could not start: {exc}", 15000)
            if args.quit_after is not None:
                exit_code = 1

    def finish() -> None:
        if report is not None:
            report.write()
        if args.screenshot:
            Path(args.screenshot).parent.mkdir(parents=True, exist_ok=True)
            ok = window.grab().save(args.screenshot, "PNG")
            print(f"screenshot {'saved to' if ok else 'FAILED:'} {args.screenshot}")
        window.close()

    if args.quit_after is not None:
        QTimer.singleShot(int(args.quit_after * 1000), finish)

    # Start-up objects live as long as the window: keep the collector from rescanning them
    # (full collections during a flood were the longest pauses in the event loop); the full
    # collection runs once a minute, when no push has come for a few seconds.
    tune_for_latency()
    idle_collector = QTimer(interval=int(IDLE_FULL_COLLECT_S * 1000))
    idle_collector.timeout.connect(lambda: collect_all() if session.feed.idle_s() > 5 else None)
    idle_collector.start()
    started = time.monotonic()
    with loop:
        loop.create_task(start_connections())

        async def run() -> None:
            await closing.wait()
            await session.close()

        loop.run_until_complete(run())
    log.debug("ran %.1f s", time.monotonic() - started)
    # Tear Qt down in a known order rather than leave it to the interpreter's exit.
    window.deleteLater()
    session.window = None
    app.processEvents()
    asyncio.set_event_loop(None)
    gc.unfreeze()
    gc.enable()
    gc.collect()
    return exit_code


def _with_profile(settings, host: str):
    from dataclasses import replace

    return replace(settings, profile=settings.profile or host)
