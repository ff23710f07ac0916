"""File › Open journal read-only: another window on a copy of a journal, which stays as it was."""

from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from PySide6.QtGui import QImage
from screen_probe import screen_env

from app.journal.snapshot import snapshot
from app.journal.store import Journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.ui.main_window import viewer_command


def _journal(path: Path, n_devices: int = 5) -> int:
    fleet = Fleet("VIEWKEY", devices=n_devices, seed=2)
    records = [decode(RawPush("mqtt", topic, payload, time.time(), "test"))
               for d in fleet.device_ids
               for topic, payload in fleet.location(d) + fleet.raise_alarm(d, 51)]
    with Journal(path) as journal:
        journal.write(records)
    return len(records)


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_a_snapshot_has_every_push_and_leaves_the_journal_as_it_was(tmp_path):
    source = tmp_path / "journal.sqlite"
    n = _journal(source)
    before = _digest(source)
    copy = snapshot(source, tmp_path / "copy.sqlite")
    assert _digest(source) == before
    with Journal(copy) as journal:
        assert journal.count() == n


def test_the_read_only_window_opens_on_a_copy(cli, tmp_path):
    source = tmp_path / "journal.sqlite"
    _journal(source)
    before = _digest(source)
    png = tmp_path / "view.png"
    res = cli.run("--journal", str(source), "--read-only", "--screenshot", str(png),
                  "--quit-after", "5", env=screen_env(tmp_path, 1366, 768))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert _digest(source) == before  # nothing written, nothing migrated
    assert QImage(str(png)).width() >= 1300  # the whole screen, less its frame


def test_read_only_needs_a_journal_and_says_so(cli, tmp_path):
    res = cli.run("--read-only", timeout=60)
    assert res.returncode == 2 and "--read-only needs --journal FILE" in res.stderr
    res = cli.run("--read-only", "--journal", str(tmp_path / "none.sqlite"), timeout=60)
    assert res.returncode == 1 and "cannot read" in res.stderr


def test_the_menu_starts_this_program_on_that_journal():
    program, args = viewer_command("/data/j.sqlite")
    assert program == sys.executable
    assert args[-3:] == ["--journal", "/data/j.sqlite", "--read-only"]
    assert Path(args[0]).name == "main.py" and Path(args[0]).is_file()
