"""`bench`: measure the console against its performance targets (not a test)."""

from __future__ import annotations

import argparse


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("bench", help="measure throughput, window flood, journal and start-up")
    p.add_argument("--quick", action="store_true", help="small sizes: proves it works (CI)")
    p.add_argument("--json", default="bench-results.json", help="where to write the figures")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.bench.run import run as bench

    return bench(args.quick, args.json)
