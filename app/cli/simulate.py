"""`simulate`: a fleet of vendor-shaped devices publishing to a broker and answering commands.

Used to try a setup end to end before real devices exist, and to load-test the console.
With `--webhook URL` the pushes are POSTed instead, to the Java sample's paths under URL, as
the vendor's push engine does (no broker then, and no command answers).
"""

from __future__ import annotations

import argparse
import sys

from app.cli.common import add_connection_args, settings_from_args
from app.sim.fleet import DEFAULT_ALARM_RATE
from app.sim.runner import SimStats, SimulatorError, run_simulator
from app.webhook.config import parse_header_option


def add_parser(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    p = subparsers.add_parser(
        "simulate",
        help="publish simulated device pushes and answer commands",
        description="Publish location, alarm, event and sub-lock pushes exactly as the "
        "vendor platform formats them, and answer commands sent to "
        "download/{key}/{device}/cmd. Runs until --count or --duration, or Ctrl-C. "
        "With --webhook, POST them to a webhook receiver instead.",
    )
    add_connection_args(p, need_key=False)
    w = p.add_argument_group("webhook", "post the pushes as the vendor's push engine does, "
                             "instead of publishing them")
    w.add_argument("--webhook", metavar="URL", default=None,
                   help="base URL of the receiver, e.g. http://127.0.0.1:8080; pushes go to the "
                   "Java sample's paths under it (/receiveLocationData … and sub-lock data to "
                   "/receiveLocationData too)")
    w.add_argument("--webhook-header", metavar="NAME:VALUE", default=None,
                   help="the message header of the vendor's rule, e.g. headerKey:SECRET")
    g = p.add_argument_group("simulation")
    g.add_argument("--devices", type=_positive_int, default=20, help="fleet size (default 20)")
    g.add_argument(
        "--rate",
        type=_non_negative_float,
        default=10.0,
        help="messages per second; 0 = as fast as possible (default 10)",
    )
    g.add_argument(
        "--alarm-rate",
        type=_non_negative_float,
        default=DEFAULT_ALARM_RATE,
        metavar="A",
        help=f"alarms per device per hour, bursts included, whatever --rate is (default "
        f"{DEFAULT_ALARM_RATE:g}: three a minute from 30 devices); with --rate 0 (as fast as "
        "possible) alarms are a share of the pushes instead, about 2.6 %%",
    )
    stop = g.add_mutually_exclusive_group()
    stop.add_argument("--duration", type=_non_negative_float, default=None, help="seconds to run")
    stop.add_argument("--count", type=_positive_int, default=None, help="messages to publish")
    g.add_argument("--seed", type=int, default=None, help="seed for a reproducible fleet")
    return p


def _positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive integer, not {text}")
    return value


def _non_negative_float(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text}")
    return value


def _progress_line(stats: SimStats) -> str:
    return (
        f"\rpublished {stats.published}  acknowledged {stats.acknowledged}  "
        f"replies {stats.replies}  ({stats.rate:.0f} msg/s)   "
    )


def run(args: argparse.Namespace) -> int:
    if args.webhook is not None:
        return _run_webhook(args)
    if not args.access_key:
        print("sealdesk simulate: error: --access-key is required (or --webhook URL)",
              file=sys.stderr)
        return 2
    if args.webhook_header is not None:
        print("sealdesk simulate: error: --webhook-header needs --webhook", file=sys.stderr)
        return 2
    settings = settings_from_args(args, role="simulator")
    tty = sys.stderr.isatty()

    def progress(stats: SimStats) -> None:
        if tty:
            sys.stderr.write(_progress_line(stats))
            sys.stderr.flush()

    try:
        stats = run_simulator(
            settings,
            devices=args.devices,
            rate=args.rate,
            duration=args.duration,
            count=args.count,
            seed=args.seed,
            on_progress=progress,
            alarm_rate=args.alarm_rate,
        )
    except SimulatorError as exc:
        print(f"sealdesk simulate: {exc}", file=sys.stderr)
        return 1
    if tty:
        sys.stderr.write("\n")
    if stats.unacknowledged:
        print(
            f"sealdesk simulate: {stats.unacknowledged} messages were never acknowledged",
            file=sys.stderr,
        )
    print(f"published {stats.published} messages in {stats.seconds:.1f} s ({stats.rate:.0f} msg/s)")
    return 1 if stats.unacknowledged else 0


def _run_webhook(args: argparse.Namespace) -> int:
    from app.sim.webhook import run_webhook_simulator

    headers = {}
    if args.webhook_header is not None:
        try:
            name, value = parse_header_option(args.webhook_header)
        except ValueError as exc:
            print(f"sealdesk simulate: error: {exc}", file=sys.stderr)
            return 2
        headers[name] = value
    tty = sys.stderr.isatty()

    def progress(stats: SimStats) -> None:
        if tty:
            sys.stderr.write(f"\rposted {stats.published}  answered 200: {stats.acknowledged}  "
                             f"({stats.rate:.0f} posts/s)   ")
            sys.stderr.flush()

    try:
        stats = run_webhook_simulator(
            args.webhook, headers=headers, access_key=args.access_key or "SIM",
            devices=args.devices, rate=args.rate, duration=args.duration, count=args.count,
            seed=args.seed, on_progress=progress, alarm_rate=args.alarm_rate,
        )
    except SimulatorError as exc:
        print(f"sealdesk simulate: {exc}", file=sys.stderr)
        return 1
    if tty:
        sys.stderr.write("\n")
    if stats.unacknowledged:
        print(f"sealdesk simulate: {stats.unacknowledged} posts were not answered 200",
              file=sys.stderr)
    print(f"posted {stats.published} pushes to {args.webhook} in {stats.seconds:.1f} s "
          f"({stats.rate:.0f} posts/s)")
    return 1 if stats.unacknowledged else 0
