"""A damaged journal is refused on open, can be moved aside, and `salvage` copies every row
that is not on a damaged page (issue 21)."""

from __future__ import annotations

import random
import sqlite3
from pathlib import Path

import pytest

from app.journal.store import Journal
from app.protocol.push import PushRecord, RawPush

N = 1500


def _make_journal(path: Path) -> None:
    """Alarms only (no readings table rows): the file holds the push table and its indexes.
    Big payloads put few rows on each page, so the tail is mostly the push table's leaves.
    Without the decoded-text index (schema 9): its pages, written with each batch, would
    interleave with the push table's and put an interior page of it in the tail."""
    with Journal(path) as j:
        j.conn.execute("DROP TRIGGER push_text_index")
        j.conn.execute("DROP TABLE push_text")
        for start in range(0, N, 100):
            j.write([
                PushRecord(RawPush("mqtt", f"upload/K/D{i % 9}/alarm",
                                   b'{"assetId":"D%d","alarmType":46,"pad":"%s"}'
                                   % (i % 9, b"x" * 900), 1000.0 + i, "p"),
                           "alarm", f"D{i % 9}", None, {"alarmType": 46, "n": i}, [])
                for i in range(start, start + 100)
            ])
    # Closing the last connection checkpoints the WAL into the file and removes it.
    assert not Path(str(path) + "-wal").exists()


def _varint(buf: bytes, at: int) -> tuple[int, int]:
    value = 0
    for i in range(9):
        byte = buf[at + i]
        if i == 8:
            return (value << 8) | byte, at + 9
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            return value, at + i + 1
    raise AssertionError


def _rowids_on_table_leaves(data: bytes, page_size: int, pages: range) -> set[int]:
    """The rowids stored on the table-leaf pages among `pages` (SQLite's file format)."""
    ids: set[int] = set()
    for number in pages:
        page = data[(number - 1) * page_size:number * page_size]
        if page[0] != 0x0D:  # not a table leaf (an index page, an interior page)
            continue
        cells = int.from_bytes(page[3:5], "big")
        for c in range(cells):
            at = int.from_bytes(page[8 + 2 * c:10 + 2 * c], "big")
            _size, at = _varint(page, at)
            rowid, _ = _varint(page, at)
            ids.add(rowid)
    return ids


def garble_tail(path: Path, pages: int = 12) -> set[int]:
    """Overwrite the file's last pages with noise; returns the push ids they held."""
    data = path.read_bytes()
    page_size = int.from_bytes(data[16:18], "big")
    count = len(data) // page_size
    tail = range(count - pages + 1, count + 1)
    lost = _rowids_on_table_leaves(data, page_size, tail)
    noise = random.Random(21).randbytes(pages * page_size)
    path.write_bytes(data[:(count - pages) * page_size] + noise)
    return lost


@pytest.fixture
def damaged(tmp_path) -> tuple[Path, set[int]]:
    path = tmp_path / "damaged.sqlite"
    _make_journal(path)
    lost = garble_tail(path)
    assert lost and len(lost) < N / 2  # the damage holds some pushes, not most
    return path, lost


def test_a_journal_with_garbled_tail_pages_is_refused_on_open(cli, damaged):
    path, _lost = damaged
    before = path.read_bytes()
    res = cli.run("record", "--access-key", "K", "--journal", str(path), "--duration", "1")
    assert res.returncode == 1
    lines = [x for x in res.stderr.splitlines() if not x.startswith("sealdesk: warning")]
    assert len(lines) == 1, res.stderr
    line = lines[0]
    assert "\n" not in line and "damaged" in line and "--move-aside" in line
    assert "salvage" in line and "Traceback" not in res.stderr
    assert path.read_bytes() == before  # not touched


def test_move_aside_keeps_the_damaged_journal_and_starts_a_new_one(damaged, broker, cli):
    path, _lost = damaged
    before = path.read_bytes()
    res = cli.run("record", "--host", broker.host, "--port", str(broker.port),
                  "--access-key", "K", "--journal", str(path), "--duration", "0.5",
                  "--move-aside")
    assert res.returncode == 0, res.stderr
    aside = [p for p in path.parent.iterdir() if ".damaged-" in p.name]
    assert len(aside) == 1 and aside[0].read_bytes() == before
    assert "moved aside to" in res.stderr
    with Journal(path, readonly=True) as j:
        assert j.count() == 0  # a new, sound journal


def test_salvage_recovers_every_row_not_on_a_damaged_page(cli, damaged, tmp_path):
    path, lost = damaged
    out = tmp_path / "salvaged.sqlite"
    res = cli.run("salvage", "--journal", str(path), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "push:" in res.stdout and "damaged" in res.stdout
    with Journal(out, readonly=True) as j:
        rows = list(j.rows())
    assert {r.id for r in rows} == set(range(1, N + 1)) - lost
    for r in rows:  # each as it was written
        assert r.data == {"alarmType": 46, "n": r.id - 1}
        assert r.raw.startswith(b'{"assetId":"D%d"' % ((r.id - 1) % 9))
    # The salvaged journal is sound and exports.
    res = cli.run("export", "--journal", str(out), "--format", "csv")
    assert res.returncode == 0 and len(res.stdout.splitlines()) == len(rows) + 1
    conn = sqlite3.connect(out)
    assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    conn.close()


def test_salvage_refuses_to_overwrite(cli, damaged, tmp_path):
    path, _ = damaged
    (tmp_path / "exists.sqlite").write_bytes(b"")
    res = cli.run("salvage", "--journal", str(path), "--out", str(tmp_path / "exists.sqlite"))
    assert res.returncode == 2 and "exists" in res.stderr
