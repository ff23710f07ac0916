"""`salvage`: copy every readable row of a damaged journal into a new journal."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("salvage", help="copy every readable row of a damaged journal",
                       description="Copy every readable row of a damaged journal into a new "
                       "one (ids kept); damaged stretches are skipped and reported.")
    p.add_argument("--journal", required=True, help="the damaged journal (only read)")
    p.add_argument("--out", required=True, help="the new journal to write (must not exist)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from app.journal.salvage import salvage

    if not Path(args.journal).is_file():
        print(f"sealdesk: error: no journal at {args.journal}", file=sys.stderr)
        return 1
    if Path(args.out).exists():
        print(f"sealdesk: error: {args.out} exists; salvage writes a new journal",
              file=sys.stderr)
        return 2
    try:
        report = salvage(args.journal, args.out)
    except Exception as exc:
        print(f"sealdesk: error: cannot salvage {args.journal}: {exc}", file=sys.stderr)
        return 1
    print(f"salvaged into {args.out}: {report.describe()}")
    return 0 if report.pushes else 1
