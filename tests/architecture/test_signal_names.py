"""Signals are named sig_<thing>_<action> and say what they carry, in a docstring under them
or a comment beside them (as Spyder names its signals): a newcomer reads what a panel
announces without reading who emits it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

APP = Path(__file__).resolve().parents[2] / "app"
# A panel's own private signal (leading underscore) needs only the prefix.
NAME = re.compile(r"^(sig_[a-z0-9]+(_[a-z0-9]+)+|_sig_[a-z0-9_]+)$")


def signals(path: Path):
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ClassDef):
            continue
        body = node.body
        for i, stmt in enumerate(body):
            if not (isinstance(stmt, ast.Assign) and isinstance(stmt.value, ast.Call)
                    and getattr(stmt.value.func, "id", "") == "Signal"):
                continue
            name = stmt.targets[0].id if isinstance(stmt.targets[0], ast.Name) else "?"
            nxt = body[i + 1] if i + 1 < len(body) else None
            documented = "#" in lines[stmt.end_lineno - 1] or (
                isinstance(nxt, ast.Expr) and isinstance(nxt.value, ast.Constant)
                and isinstance(nxt.value.value, str))
            yield f"{path.relative_to(APP.parent)}:{stmt.lineno} {name}", name, documented


def test_signals_are_named_and_say_what_they_carry():
    found = [s for path in sorted(APP.rglob("*.py")) for s in signals(path)]
    assert len(found) > 40  # the scan sees the signals
    badly_named = [where for where, name, _ in found if not NAME.match(name)]
    undocumented = [where for where, _, documented in found if not documented]
    assert badly_named == [], "name signals sig_<thing>_<action>"
    assert undocumented == [], "say what a signal carries (docstring under it or a comment)"


def test_the_check_fails_on_a_bad_signal(tmp_path):
    bad = tmp_path / "bad.py"
    bad.write_text("from PySide6.QtCore import QObject, Signal\n\n"
                   "class X(QObject):\n    sig_done = Signal()\n    changed = Signal(int)\n")
    names = {name: documented for _, name, documented in signals_at(bad)}
    assert not NAME.match("sig_done") and not NAME.match("changed")
    assert names == {"sig_done": False, "changed": False}


def signals_at(path: Path):
    global APP
    saved, APP = APP, path.parent
    try:
        return list(signals(path))
    finally:
        APP = saved
