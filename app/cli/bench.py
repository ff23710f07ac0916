"""`bench`: measure the console against its performance targets (not a test)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench",
                       help="measure throughput, window flood, journal, start-up; or a soak")
    p.add_argument("--quick", action="store_true", help="small sizes: proves it works (CI)")
    p.add_argument("--json", default="bench-results.json", help="where to write the figures")
    p.add_argument("--flood-only", action="store_true",
                   help="only the window flood (e.g. the main-window issue's 5 000/s scenario)")
    p.add_argument("--flood-rate", type=int, metavar="N", help="pushes per second in the flood")
    p.add_argument("--flood-devices", type=int, metavar="N", help="devices in the flood")
    p.add_argument("--flood-seconds", type=int, metavar="S", help="length of the flood")
    p.add_argument("--soak", type=float, metavar="MINUTES",
                   help="only the soak: a long steady stream; memory per process (slope over "
                        "the second half, peak) and event-loop stalls per ten minutes")
    p.add_argument("--soak-rate", type=int, default=330, metavar="R",
                   help="pushes per second in the soak (default 330: 10 000 devices, one "
                        "push each 30 s)")
    p.add_argument("--soak-devices", type=int, default=10_000, metavar="N",
                   help="devices in the soak (default 10 000)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.run import run as bench

    return bench(args.quick, args.json, flood_only=args.flood_only, flood_rate=args.flood_rate,
                 flood_devices=args.flood_devices, flood_seconds=args.flood_seconds,
                 soak_minutes=args.soak, soak_rate=args.soak_rate,
                 soak_devices=args.soak_devices)
