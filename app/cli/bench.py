"""`bench`: measure the console against its performance targets (not a test)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure throughput, window flood, journal and start-up")
    p.add_argument("--quick", action="store_true", help="small sizes: proves it works (CI)")
    p.add_argument("--json", default="bench-results.json", help="where to write the figures")
    p.add_argument("--flood-only", action="store_true",
                   help="only the window flood (e.g. the main-window issue's 5 000/s scenario)")
    p.add_argument("--flood-rate", type=int, metavar="N", help="pushes per second in the flood")
    p.add_argument("--flood-devices", type=int, metavar="N", help="devices in the flood")
    p.add_argument("--flood-seconds", type=int, metavar="S", help="length of the flood")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.run import run as bench

    return bench(args.quick, args.json, flood_only=args.flood_only, flood_rate=args.flood_rate,
                 flood_devices=args.flood_devices, flood_seconds=args.flood_seconds)
