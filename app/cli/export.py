"""`export`: journal rows to standard output as JSONL or CSV, from a journal file or a
shared journal's `postgresql://` URL."""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace
from datetime import UTC, datetime

from app.journal.export import write_csv, write_jsonl
from app.journal.store import JournalRow
from app.journal.url import display, exists, open_journal
from app.protocol.push import KINDS
from app.protocol.redact import mask_data, mask_raw, secrets_of


def _since(text: str) -> float:
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO-8601 time: {text!r}") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def masked(row: JournalRow) -> JournalRow:
    """The row with its unlock passwords masked, in the raw bytes and the decoded data."""
    raw = mask_raw(row.raw, secrets_of(row.kind, row.data))
    data = mask_data(row.kind, row.data)
    return row if raw == row.raw and data is row.data else replace(row, raw=raw, data=data)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="write journaled pushes to standard output")
    p.add_argument("--journal", required=True,
                   help="the journal file, or a shared journal's postgresql:// URL")
    p.add_argument("--kind", choices=KINDS)
    p.add_argument("--device")
    p.add_argument("--source", choices=("mqtt", "webhook"))
    p.add_argument("--since", type=_since, help="ISO-8601 time, UTC unless it says otherwise")
    p.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    p.add_argument("--with-secrets", action="store_true",
                   help="keep unlock passwords in clear (masked by default: the journal "
                        "keeps them, a file that leaves the desk need not)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not exists(args.journal):
        print(f"sealdesk: error: no journal at {args.journal}", file=sys.stderr)
        return 1
    journal = None
    try:
        journal = open_journal(args.journal, readonly=True)
        rows = journal.rows(kind=args.kind, device=args.device, since=args.since,
                            source=args.source)
        if not args.with_secrets:
            rows = (masked(r) for r in rows)
        out = sys.stdout
        if args.format == "csv":
            # UTF-8 whatever the locale says (a spreadsheet reads it so); write_csv already
            # escaped what UTF-8 cannot hold.
            out.reconfigure(newline="", encoding="utf-8")  # type: ignore[attr-defined]
            write_csv(rows, out)
        else:
            write_jsonl(rows, out)
        out.flush()
    except BrokenPipeError:  # `export … | head` is normal use
        return 0
    except Exception as exc:
        print(f"sealdesk: error: cannot read journal {display(args.journal)}: {exc}",
              file=sys.stderr)
        return 1
    finally:
        if journal is not None:
            journal.close()
    return 0
