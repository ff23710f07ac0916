"""Copy every readable row of a damaged journal into a new one (`python main.py salvage`).

Row by row, in rowid order, through SQLite's own b-trees: where a page is damaged the read
fails, the rows of that page are lost, and the copy goes on from the first readable row
after it (found by probing ahead, then bisecting back). The new journal gets the current
schema; ids are kept, so alarm acknowledgements and command replies still point right.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from app.journal.store import Journal

TABLES = ("push", "reading", "alarm_ack", "command", "commissioning")
CHUNK = 500
_MAX_ROWID = 2**63 - 1


@dataclass
class TableReport:
    copied: int = 0
    first: int | None = None
    last: int | None = None
    damaged_ranges: list[tuple[int, int]] = field(default_factory=list)  # rowids skipped
    error: str = ""


@dataclass
class SalvageReport:
    tables: dict[str, TableReport] = field(default_factory=dict)

    @property
    def pushes(self) -> int:
        return self.tables.get("push", TableReport()).copied

    def describe(self) -> str:
        parts = []
        for name, t in self.tables.items():
            if t.error:
                parts.append(f"{name}: unreadable ({t.error})")
            elif t.copied or t.damaged_ranges:
                span = f" (ids {t.first}–{t.last})" if t.first is not None else ""
                damage = (f", {len(t.damaged_ranges)} damaged stretch(es) skipped"
                          if t.damaged_ranges else "")
                parts.append(f"{name}: {t.copied} rows{span}{damage}")
        return "; ".join(parts) or "nothing readable"


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "backslashreplace")


def salvage(bad: str | Path, out: str | Path) -> SalvageReport:
    """Copy what is readable of `bad` into the new journal `out` (which must not exist)."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; salvage writes a new journal")
    src = sqlite3.connect(Path(bad).resolve().as_uri() + "?mode=ro", uri=True)
    src.text_factory = _text  # bytes that are not UTF-8 do not stop the copy
    report = SalvageReport()
    try:
        with Journal(out) as journal:
            dst = journal.conn
            for table in TABLES:
                report.tables[table] = _copy_table(src, dst, table)
    finally:
        src.close()
    return report


def _columns(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> list[str]:
    theirs = [r[1] for r in src.execute(f"PRAGMA table_info({table})")]
    ours = {r[1] for r in dst.execute(f"PRAGMA table_info({table})")}
    return [c for c in theirs if c in ours]


def _copy_table(src: sqlite3.Connection, dst: sqlite3.Connection, table: str) -> TableReport:
    report = TableReport()
    try:
        cols = _columns(src, dst, table)
    except sqlite3.DatabaseError as exc:
        report.error = str(exc)
        return report
    if not cols:
        return report
    select = (f"SELECT rowid, {', '.join(cols)} FROM {table} WHERE rowid > ? "
              f"ORDER BY rowid LIMIT {CHUNK}")
    insert = (f"INSERT OR IGNORE INTO {table} ({', '.join(cols)}) "
              f"VALUES ({', '.join('?' * len(cols))})")
    fix = _push_fixer(cols) if table == "push" else None
    after = -_MAX_ROWID - 1
    last_resume = None
    while True:
        rows: list[tuple] = []
        failed = False
        try:
            for row in src.execute(select, (after,)):  # rows come until a damaged page
                rows.append(row)
        except sqlite3.DatabaseError:
            failed = True
            # The cursor reads a row ahead: the row before the damaged one may be readable.
            last = rows[-1][0] if rows else after
            while True:
                try:
                    row = src.execute(select.replace(f"LIMIT {CHUNK}", "LIMIT 1"),
                                      (last,)).fetchone()
                except sqlite3.DatabaseError:
                    break
                if row is None:
                    break
                rows.append(row)
                last = row[0]
        if rows:
            values = [fix(r[1:]) if fix else r[1:] for r in rows]
            dst.execute("BEGIN")
            dst.executemany(insert, values)
            dst.execute("COMMIT")
            report.copied += len(rows)
            report.first = rows[0][0] if report.first is None else report.first
            report.last = rows[-1][0]
            after = rows[-1][0]
        if not failed:
            if len(rows) < CHUNK:
                return report
            continue
        resume = _next_readable(src, table, after)
        if resume is None:
            report.damaged_ranges.append((after + 1, _MAX_ROWID))
            return report
        if not rows and resume == last_resume:  # its rowid reads, the row does not: skip it
            report.damaged_ranges.append((resume, resume))
            after = resume
            continue
        if resume > after + 1:
            report.damaged_ranges.append((after + 1, resume - 1))
        last_resume = resume
        after = resume - 1


def _probe(src: sqlite3.Connection, table: str, at: int) -> int | bool | None:
    """The first rowid >= at (None: no more rows), or False when that read fails."""
    try:
        row = src.execute(f"SELECT rowid FROM {table} WHERE rowid >= ? ORDER BY rowid LIMIT 1",
                          (at,)).fetchone()
    except sqlite3.DatabaseError:
        return False
    return None if row is None else row[0]


def _next_readable(src: sqlite3.Connection, table: str, after: int) -> int | None:
    """The first rowid past a damaged stretch that starts after `after`, or None."""
    step = 1
    bad = after  # probes at bad + 1 … fail
    while True:
        at = min(after + step, _MAX_ROWID)
        found = _probe(src, table, at)
        if found is not False:
            break
        bad = at
        if at == _MAX_ROWID:
            return None
        step *= 2
    good = at
    while good - bad > 1:  # bisect back to the first probe that reads
        mid = (bad + good) // 2
        if _probe(src, table, mid) is False:
            bad = mid
        else:
            good = mid
    return _probe(src, table, good) or None


def _push_fixer(cols: list[str]):
    """A push row whose JSON columns are unreadable keeps its raw bytes; the JSON is replaced
    by an empty document and the reason (export reads every row)."""
    data_i = cols.index("data") if "data" in cols else None
    errors_i = cols.index("errors") if "errors" in cols else None

    def fix(row: tuple) -> tuple:
        values = list(row)
        notes: list[str] = []
        if data_i is not None:
            try:
                json.loads(values[data_i] or "{}")
            except (ValueError, TypeError):
                values[data_i] = "{}"
                notes.append("decoded form unreadable in the damaged journal")
        if errors_i is not None:
            try:
                old = json.loads(values[errors_i]) if values[errors_i] else []
                if not isinstance(old, list):
                    raise ValueError
            except (ValueError, TypeError):
                old = ["errors unreadable in the damaged journal"]
                values[errors_i] = json.dumps(old)
            if notes:
                values[errors_i] = json.dumps(old + notes)
        return tuple(values)

    return fix
