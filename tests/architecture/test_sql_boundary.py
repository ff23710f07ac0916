"""All SQL lives behind `app/journal`: no module elsewhere in `app/` holds an SQL statement.

The views ask the journal for pages, counts, acknowledgements and audit rows
(`app/journal/queries.py`, `push_query.py`, `readings.py`, `commands.py`,
`commissioning.py`), so a change of schema or of a query plan is made in one package.

What counts is code, not prose: the module's string literals (adjacent literals joined, the
literal parts of f-strings joined) are matched against SQL statement shapes written in
upper case, as SealDesk writes its SQL; docstrings and comments are skipped, so "select a
profile from the list" or "update the tree" in a docstring never trips it.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

APP = Path(__file__).resolve().parents[2] / "app"
ALLOWED = APP / "journal"

SQL = re.compile(
    r"\bSELECT\b[\s\S]*\bFROM\b"
    r"|^\s*SELECT\s"
    r"|\bINSERT\s+(?:OR\s+[A-Z]+\s+)?INTO\b"
    r"|\bREPLACE\s+INTO\b"
    r"|\bUPDATE\s+[\w.]+\s+SET\b"
    r"|\bDELETE\s+FROM\b"
    r"|\b(?:CREATE|DROP|ALTER)\s+(?:TEMP\s+|TEMPORARY\s+|UNIQUE\s+)?(?:TABLE|INDEX|VIEW|TRIGGER)\b"
    r"|\bPRAGMA\s+\w+"
    r"|^\s*(?:BEGIN|COMMIT|ROLLBACK)\b(?:\s+(?:IMMEDIATE|EXCLUSIVE|DEFERRED|TRANSACTION))?\s*$"
)


def _docstrings(tree: ast.AST) -> set[int]:
    """ids of the Constant nodes that are docstrings (module, class, function)."""
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                out.add(id(body[0].value))
    return out


def sql_literals(source: str) -> list[tuple[int, str]]:
    """(line, text) of every string literal in `source` that reads as an SQL statement."""
    tree = ast.parse(source)
    skip = _docstrings(tree)
    in_fstring: set[int] = set()
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            parts = []
            for value in node.values:
                in_fstring.add(id(value))
                parts.append(value.value if isinstance(value, ast.Constant) else " x ")
            text = "".join(str(p) for p in parts)
        elif (isinstance(node, ast.Constant) and isinstance(node.value, str)
              and id(node) not in skip and id(node) not in in_fstring):
            text = node.value
        else:
            continue
        if SQL.search(text):
            found.append((node.lineno, text))
    return found


def test_no_sql_outside_the_journal():
    offenders = []
    for path in sorted(APP.rglob("*.py")):
        if ALLOWED in path.parents:
            continue
        for line, text in sql_literals(path.read_text(encoding="utf-8")):
            offenders.append(f"{path.relative_to(APP.parent)}:{line}: {text.strip()[:70]!r}")
    assert not offenders, ("SQL outside app/journal (add a function there instead):\n"
                           + "\n".join(offenders))


@pytest.mark.parametrize("source", [
    'conn.execute("SELECT id FROM push WHERE kind = ?", (k,))',
    'sql = ("SELECT push_id, acked_at"\n       " FROM alarm_ack WHERE push_id BETWEEN ? AND ?")',
    'sql = f"SELECT {cols} FROM push{where} ORDER BY id DESC LIMIT ?"',
    'conn.execute("INSERT OR IGNORE INTO alarm_ack (push_id) VALUES (?)")',
    'conn.execute("UPDATE command SET state=? WHERE id=?")',
    'conn.execute("DELETE FROM temp.chart_bucket")',
    'conn.execute("CREATE TEMP TABLE IF NOT EXISTS t (k INTEGER PRIMARY KEY)")',
    'conn.execute("PRAGMA busy_timeout=30000")',
    'conn.execute("BEGIN IMMEDIATE")',
    'conn.execute("SELECT last_insert_rowid()")',
])
def test_the_check_finds_sql(source):
    assert sql_literals(source), source


@pytest.mark.parametrize("source", [
    '"""Select a profile from the list, then update the tree."""',
    'def f():\n    """SELECT-like words in a docstring: SELECT id FROM push is prose here."""',
    '# SELECT id FROM push\nx = 1',
    'label = "Select the devices to update"',
    'tip = "Delete the selected profile and its saved password (Del)"',
    'text = "Insert a card, then select Unlock"',
    'text = f"{n} rows selected from {total}"',
])
def test_the_check_ignores_prose(source):
    assert not sql_literals(source), source
