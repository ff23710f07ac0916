"""Every CSV writer neutralises formula-leading cells (app/csvsafe.py), and keeps the rest.

The shared rule first (one case per hazard OWASP lists: = + - @ TAB CR), then the Qt-free
writers through their real entry points, read back with Python's csv. The journal's export
has its own file (test_csv_safety.py); the window's writers are in
tests/ui/test_csv_window_writers.py.
"""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal

import numpy as np
import pytest

from app import csvsafe
from app.commands import audit
from app.journal.commands import AuditRow

# (text, the cell a spreadsheet must get) — one per hazard.
HAZARDS = [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+31 20 555 0100", "'+31 20 555 0100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
]
HARMLESS = ["Depot north", "12 = twelve", "a-b", "mail@example.com", "'quoted", "",
            'he said "open",\nthen closed']


def read_back(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text, newline="")))


@pytest.mark.parametrize("text, cell", HAZARDS)
def test_the_shared_writer_quotes_each_hazard(text, cell):
    out = io.StringIO(newline="")
    csvsafe.writer(out).writerow([text, {"k": text}, [text]])
    [row] = read_back(out.getvalue())
    assert row[0] == cell and row[0][1:] == text
    assert json.loads(row[1]) == {"k": text}  # JSON starts with { or [: never a formula
    assert json.loads(row[2]) == [text]


def test_the_shared_writer_keeps_everything_else():
    out = io.StringIO(newline="")
    w = csvsafe.writer(out)
    w.writerow(HARMLESS)
    w.writerow([-5, -33.8688, np.float64(-1.5), np.int64(-7), Decimal("-2.50"), True, None])
    harmless, numbers = read_back(out.getvalue())
    assert harmless == HARMLESS
    assert numbers == ["-5", "-33.8688", "-1.5", "-7", "-2.50", "True", ""]


def test_the_dict_writer_and_idempotence():
    out = io.StringIO(newline="")
    w = csvsafe.dict_writer(out, ["a", "b", "c"])
    w.writeheader()
    w.writerow({"a": "=1", "b": csvsafe.cell("=1"), "extra": "ignored"})
    assert read_back(out.getvalue()) == [["a", "b", "c"], ["'=1", "'=1", ""]]


def _audit_row(i: int, text: str) -> AuditRow:
    return AuditRow(id=i, profile=text, device="8052400203", sublock=text, operator=text,
                    text="(8052400203,1,001,BASE,1)", name="BASE1", serial="001",
                    dangerous=False, created_at=100.0, sent_at=None, state="failed",
                    reason=text, reply_push_id=None, reply=text, answered_at=None)


def test_command_audit_export_neutralises_every_text_column():
    """Operator (the OS login), profile, sub-lock, reason and reply: free text."""
    rows = [_audit_row(i, text) for i, (text, _) in enumerate(HAZARDS, 1)]
    rows.append(_audit_row(99, "Depot north"))
    out = io.StringIO(newline="")
    assert audit.export_csv(rows, out) == len(rows)
    back = list(csv.DictReader(io.StringIO(out.getvalue(), newline="")))
    for got, (text, cell) in zip(back, HAZARDS, strict=False):
        for column in ("profile", "sublock", "operator", "reason"):
            assert got[column] == cell, (column, got)
        assert json.loads(got["reply"]) == text  # JSON text starts with ": never a formula
    last = back[-1]
    assert (last["profile"], last["operator"], last["id"]) == ("Depot north", "Depot north", "99")
    assert last["text"] == "(8052400203,1,001,BASE,1)" and last["serial"] == "001"
