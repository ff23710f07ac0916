"""`record`: subscribe, journal every push, show progress, end with one summary line."""

from __future__ import annotations

import argparse
import sys
import threading
import time

from app.cli.common import add_connection_args, settings_from_args
from app.recorder import Recorder
from app.transport.state import ConnectionState, Phase


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("record", help="subscribe and journal every push")
    add_connection_args(p)
    p.add_argument("--topic", action="append", metavar="FILTER",
                   help="topic filter (repeatable; default upload/KEY/#)")
    p.add_argument("--journal", required=True, help="SQLite journal file (created if missing)")
    p.add_argument("--count", type=int, default=None, help="stop after N pushes")
    p.add_argument("--duration", type=float, default=None, help="stop after S seconds")
    p.add_argument("--connect-timeout", type=float, default=15.0,
                   help="give up if the first connection fails for this long (default 15 s)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if args.count is not None and args.count <= 0:
        print("sealdesk: error: --count must be positive", file=sys.stderr)
        return 2
    settings = settings_from_args(args, role="recorder")
    try:
        recorder = Recorder(args.journal).start()
    except Exception as exc:
        print(f"sealdesk: error: cannot open journal {args.journal}: {exc}", file=sys.stderr)
        return 1
    tty = sys.stderr.isatty()
    last_state: list[ConnectionState] = []

    def on_state(state: ConnectionState) -> None:
        last_state[:] = [state]
        if state.phase is not Phase.CONNECTED or tty:
            print(f"\r{settings.host}:{settings.port}: {state.describe()}", file=sys.stderr)

    transport = recorder.connect(settings, on_state)
    if not transport.wait_connected(args.connect_timeout):
        why = last_state[0].describe() if last_state else "no answer"
        print(f"sealdesk: error: could not connect to {settings.host}:{settings.port} ({why})",
              file=sys.stderr)
        recorder.stop()
        return 1

    started = time.monotonic()
    done = threading.Event()
    stats = recorder.writer.stats
    if args.count:
        recorder.add_listener(lambda records, ids: done.set() if stats.written + len(records)
                              >= args.count else None)
    try:
        while not done.is_set():
            elapsed = time.monotonic() - started
            if args.duration is not None and elapsed >= args.duration:
                break
            if tty:
                rate = stats.written / elapsed if elapsed > 0 else 0.0
                print(f"\rrecorded {stats.written} ({stats.with_errors} with errors), "
                      f"{rate:,.0f} msg/s   ", end="", file=sys.stderr, flush=True)
            done.wait(0.5 if args.duration is None else min(0.5, args.duration - elapsed))
    except KeyboardInterrupt:
        pass
    finally:
        recorder.stop()
    elapsed = time.monotonic() - started
    if tty:
        print(file=sys.stderr)
    print(f"recorded {stats.written} messages ({stats.with_errors} with errors) in {elapsed:.1f} s")
    return 0
