"""`export` reads a journal on read-only media (issue 21): WAL wants its -shm beside the file,
which a read-only folder cannot take. The folder is made read-only for real: a read-only bind
mount in a private mount namespace when the tests run as root (root ignores permissions),
else a folder without write permission."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from app.journal.store import Journal
from app.protocol.push import PushRecord, RawPush

ROOT = Path(__file__).resolve().parent.parent.parent


def _write(journal: Journal, start: int, n: int) -> None:
    journal.write([PushRecord(RawPush("mqtt", "upload/K/D1/alarm", b'{"n":%d}' % i,
                                      1000.0 + i, "p"), "alarm", "D1", None, {"n": i}, [])
                   for i in range(start, start + n)])


def _export_read_only(folder: Path, name: str) -> subprocess.CompletedProcess[str]:
    export = [sys.executable, str(ROOT / "main.py"), "export"]
    if os.geteuid() != 0:
        folder.chmod(0o555)
        try:
            return subprocess.run([*export, "--journal", str(folder / name)],
                                  capture_output=True, text=True, timeout=60, cwd=ROOT)
        finally:
            folder.chmod(0o755)
    if not shutil.which("unshare"):
        pytest.skip("root without unshare: cannot make a read-only folder")
    ro = folder.parent / "ro"
    ro.mkdir()
    script = ('mount --bind "$1" "$2" && mount -o remount,bind,ro "$2" && touch "$2/probe" '
              '2>/dev/null && exit 99; shift 2; exec "$@"')
    res = subprocess.run(["unshare", "-m", "sh", "-c", script, "sh", str(folder), str(ro),
                          *export, "--journal", str(ro / name)],
                         capture_output=True, text=True, timeout=60, cwd=ROOT)
    if res.returncode == 99 or "mount:" in res.stderr:
        pytest.skip(f"cannot make a read-only mount here: {res.stderr.strip()[:200]}")
    return res


def test_export_reads_a_journal_in_a_read_only_folder(tmp_path):
    folder = tmp_path / "media"
    with Journal(folder / "j.sqlite") as j:
        _write(j, 0, 50)
    res = _export_read_only(folder, "j.sqlite")
    assert res.returncode == 0, res.stderr
    assert [json.loads(line)["data"]["n"] for line in res.stdout.splitlines()] == list(range(50))


def test_export_reads_commits_still_in_the_wal_of_a_read_only_journal(tmp_path):
    """A journal copied while its writer ran (or that lost its writer) keeps commits in -wal."""
    folder = tmp_path / "media"
    writer = Journal(folder / "j.sqlite")
    try:
        writer.conn.execute("PRAGMA wal_autocheckpoint=0")
        _write(writer, 0, 30)
        assert Path(str(folder / "j.sqlite") + "-wal").stat().st_size > 0
        res = _export_read_only(folder, "j.sqlite")
    finally:
        writer.close()
    assert res.returncode == 0, res.stderr
    assert len(res.stdout.splitlines()) == 30
