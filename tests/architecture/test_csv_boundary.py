"""Every CSV SealDesk writes goes through `app/csvsafe.py`: no module elsewhere in `app/`
makes a `csv.writer` or `csv.DictWriter` of its own, so no export can forget to neutralise a
formula-leading cell (CSV injection). Reading CSV (`csv.reader`) is anyone's business.

What counts is code: `import csv [as x]` then `x.writer` / `x.DictWriter`, and
`from csv import writer, DictWriter`, found with `ast` in every module of `app/`.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ALLOWED = APP / "csvsafe.py"
WRITERS = frozenset({"writer", "DictWriter"})


def csv_writers(source: str) -> list[tuple[int, str]]:
    """(line, what) of every CSV writer made in `source` without app.csvsafe."""
    tree = ast.parse(source)
    aliases = {a.asname or a.name for node in ast.walk(tree) if isinstance(node, ast.Import)
               for a in node.names if a.name == "csv"}
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module == "csv":
            found += [(node.lineno, f"from csv import {a.name}") for a in node.names
                      if a.name in WRITERS or a.name == "*"]
        elif (isinstance(node, ast.Attribute) and node.attr in WRITERS
              and isinstance(node.value, ast.Name) and node.value.id in aliases):
            found.append((node.lineno, f"{node.value.id}.{node.attr}"))
    return found


@pytest.mark.parametrize("source, expected", [
    ("import csv\nw = csv.writer(fh)", [(2, "csv.writer")]),
    ("import csv as c\nw = c.DictWriter(fh, f)", [(2, "c.DictWriter")]),
    ("from csv import writer", [(1, "from csv import writer")]),
    ("from csv import *", [(1, "from csv import *")]),
    ("import csv\nrows = csv.reader(fh)", []),
    ("from app import csvsafe\nw = csvsafe.writer(fh)", []),
])
def test_the_check_finds_writers_and_nothing_else(source, expected):
    assert csv_writers(source) == expected


def test_no_csv_writer_outside_csvsafe():
    offenders = [
        f"{path.relative_to(APP.parent)}:{line}: {what}"
        for path in sorted(APP.rglob("*.py")) if path != ALLOWED
        for line, what in csv_writers(path.read_text(encoding="utf-8"))
    ]
    assert not offenders, "use app.csvsafe.writer / dict_writer:\n" + "\n".join(offenders)
