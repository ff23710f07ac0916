"""`report`: the shift handover report of a journal, as a PDF or a CSV.

    python main.py report --journal FILE --since ISO [--until ISO] --out FILE.pdf|.csv
                          [--note TEXT | --note-file FILE] [--operator NAME]
                          [--severities CODE=SEVERITY,…]

The alarms raised in [since, until), which were acknowledged by the end (by whom, why, how
long after), which are still open, per severity, per device and per alarm type, with the
operator's handover note. Exit 0 when written; 1 when the journal cannot be read or the
report cannot be written; 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from app.fleet.severity import Severity, SeverityTable

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2
FORMATS = {".pdf": "pdf", ".csv": "csv"}


def _time(text: str) -> float:
    try:
        dt = datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(
            f"not an ISO-8601 time: {text!r} (e.g. 2025-02-07T06:00, UTC unless it says "
            "otherwise)") from exc
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.timestamp()


def parse_severities(text: str) -> SeverityTable:
    """'51=info,45=critical' on top of the defaults, strictly (a typo is an error here)."""
    changes: dict[int, Severity] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        code, _, value = part.partition("=")
        try:
            changes[int(code.strip())] = Severity(value.strip().lower())
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"not CODE=critical|warning|info: {part.strip()!r}") from None
    return SeverityTable().with_overrides(changes)


def add_parser(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="the shift handover report of a journal, as PDF or CSV",
        description="Alarms raised in a period, acknowledged (by whom, reason, note, time to "
        "acknowledge) and still open, per severity, per device and per alarm type, with a "
        "handover note; as a PDF or a CSV (chosen by --out's ending). Times are UTC.",
        epilog="exit status: 0 written, 1 journal unreadable or report not written, "
        "2 bad usage",
    )
    p.add_argument("--journal", required=True,
                   help="the journal file, or a shared journal's postgresql:// URL")
    p.add_argument("--since", required=True, type=_time, metavar="ISO",
                   help="start of the period, e.g. 2025-02-07T06:00 (UTC unless it says "
                   "otherwise)")
    p.add_argument("--until", type=_time, metavar="ISO",
                   help="end of the period (default: now)")
    p.add_argument("--out", required=True, metavar="FILE.pdf|FILE.csv",
                   help="where to write the report; its ending chooses PDF or CSV")
    note = p.add_mutually_exclusive_group()
    note.add_argument("--note", default=None, metavar="TEXT", help="the handover note")
    note.add_argument("--note-file", default=None, metavar="FILE",
                      help="read the handover note from FILE (- for standard input)")
    p.add_argument("--operator", default=None,
                   help="who hands over, printed on the report (default: the OS user)")
    p.add_argument("--severities", type=parse_severities, default=SeverityTable(),
                   metavar="CODE=SEVERITY,…",
                   help="alarm codes ranked otherwise than the defaults, e.g. "
                   "51=critical,45=info (the window's Settings write the same form)")
    p.set_defaults(func=run)


def _err(message: str) -> None:
    print(f"sealdesk report: error: {message}", file=sys.stderr)


def _note(args: argparse.Namespace) -> str | None:
    if args.note_file is None:
        return args.note or ""
    try:
        if args.note_file == "-":
            return sys.stdin.read()
        return Path(args.note_file).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _err(f"cannot read --note-file {args.note_file}: {reason}")
        return None


def run(args: argparse.Namespace) -> int:
    from app.commands.audit import current_operator
    from app.journal.shift import read_shift
    from app.journal.url import display, exists, is_journal_url, open_journal
    from app.reports.shift import (
        ShiftReportInfo,
        headline,
        period_text,
        severities_text,
        write_csv,
    )

    out = Path(args.out)
    kind = FORMATS.get(out.suffix.lower())
    if kind is None:
        _err(f"--out must end in .pdf or .csv: {args.out}")
        return EXIT_USAGE
    until = args.until if args.until is not None else time.time()
    if args.since >= until:
        _err("--since must be before --until (or before now)")
        return EXIT_USAGE
    note = _note(args)
    if note is None:
        return EXIT_USAGE
    if not exists(args.journal):
        _err(f"no journal at {args.journal}")
        return EXIT_FAILED
    try:
        with open_journal(args.journal, readonly=True) as journal:
            summary = read_shift(journal.conn, args.since, until, args.severities)
    except Exception as exc:
        _err(f"cannot read journal {display(args.journal)}: {exc}")
        return EXIT_FAILED
    name = display(args.journal) if is_journal_url(args.journal) else Path(args.journal).name
    info = ShiftReportInfo(operator=args.operator or current_operator(), note=note,
                           journal=name,
                           severities=severities_text(args.severities))
    try:
        if kind == "csv":
            # UTF-8 with a BOM: a spreadsheet then reads accents and names as written.
            with open(out, "w", newline="", encoding="utf-8-sig") as fh:
                write_csv(summary, info, fh)
        else:
            from app.ui.shift_report_pdf import write_shift_pdf

            write_shift_pdf(summary, info, out)
    except Exception as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        _err(f"cannot write {args.out}: {reason}")
        return EXIT_FAILED
    print(f"shift report {period_text(summary)}: {headline(summary)}; written to {out}")
    return EXIT_OK
