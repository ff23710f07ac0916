"""Every journaled push exports, CSV and JSONL, whatever its bytes (issue 21).

Through a real broker and the real `record`/`export` commands: a lone surrogate (valid JSON),
an integer of 2^70 and a NUL byte each keep their decoded fields, and none of them sends the
batch it arrived in to one-by-one inserts (which lost the decoded form of such pushes).
"""

from __future__ import annotations

import csv
import io
import json
import sqlite3

from test_record_export import _record_then_publish

BIG_INT = 2**70
PUSHES = [
    ("upload/KEY/D1/location", b'{"assetId": "D1", "speed": 12, "note": "\\ud800"}'),
    ("upload/KEY/D2/location", b'{"assetId": "D2", "speed": %d, "battery": 80}' % BIG_INT),
    ("upload/KEY/D3/location", b'{"assetId": "D3", "speed": 7, "note": "a\\u0000b"}'),
    ("upload/KEY/D4/location", b'{"assetId": "D4", "speed": 5, "note": "=1+2"}'),
]


def test_csv_and_jsonl_export_every_row_with_its_decoded_fields(cli, broker, tmp_path):
    journal = tmp_path / "odd.sqlite"
    out = _record_then_publish(cli, broker, journal, PUSHES)
    assert f"recorded {len(PUSHES)} messages (0 with errors)" in out

    res = cli.run("export", "--journal", str(journal), "--format", "csv")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout, newline="")))
    assert [r["device"] for r in rows] == ["D1", "D2", "D3", "D4"]
    by = {r["device"]: r for r in rows}
    assert by["D1"]["speed"] == "12" and json.loads(by["D1"]["data"])["note"] == "\ud800"
    assert by["D2"]["speed"] == str(BIG_INT) and by["D2"]["battery"] == "80"
    assert json.loads(by["D2"]["data"])["speed"] == BIG_INT  # exactly, not a float
    assert json.loads(by["D3"]["data"])["note"] == "a\x00b" and by["D3"]["speed"] == "7"
    assert json.loads(by["D4"]["data"])["note"] == "=1+2"  # the data cell starts with {

    res = cli.run("export", "--journal", str(journal))
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["data"]["speed"] for r in lines] == [12, BIG_INT, 7, 5]
    assert lines[0]["data"]["note"] == "\ud800" and lines[2]["data"]["note"] == "a\x00b"

    # The readings table (the charts) has every push too: the 2^70 as a float.
    conn = sqlite3.connect(journal)
    speeds = dict(conn.execute("SELECT device, speed FROM reading"))
    conn.close()
    assert speeds == {"D1": 12, "D2": float(BIG_INT), "D3": 7, "D4": 5}


def test_one_odd_push_does_not_break_its_batch(journal_target):
    """The journal takes a batch holding every kind of odd value in one transaction (a file
    and a shared journal alike)."""
    from app.journal.url import open_journal
    from app.protocol.push import PushRecord, RawPush

    def rec(i: int, device: str, data: dict) -> PushRecord:
        raw = RawPush("webhook", f"/push/{device}", b"{}", 1000.0 + i, "p")
        return PushRecord(raw, "location", device, None, data, [])  # type: ignore[arg-type]

    batch = [rec(0, "ok", {"speed": 1}), rec(1, "\udcff-dev", {"speed": 2}),
             rec(2, "big", {"speed": 10**400, "battery": -(2**64)}), rec(3, "ok2", {"speed": 3})]
    with open_journal(journal_target) as j:
        ids = j.write(batch)
        assert len(ids) == 4
        rows = list(j.rows())
        assert [r.data.get("speed") for r in rows] == [1, 2, 10**400, 3]
        assert rows[1].device == "\\udcff-dev"  # escaped as export escapes raw bytes
        readings = j.conn.execute("SELECT speed, battery FROM reading ORDER BY push_id").fetchall()
        assert readings == [(1, None), (2, None), (None, -(2.0**64)), (3, None)]
    from app.journal.export import write_csv

    buf = io.StringIO()
    with open_journal(journal_target, readonly=True) as j:
        assert write_csv(j.rows(), buf) == 4
    buf.getvalue().encode("utf-8")  # every cell is encodable


def test_the_export_command_reads_either_journal(cli, journal_target):
    """`export --journal FILE|URL`: the same rows, decoded, passwords masked."""
    from app.journal.url import open_journal
    from app.protocol.decode import decode
    from app.protocol.push import RawPush
    from app.sim.fleet import Fleet

    fleet = Fleet("K", devices=2, seed=5)
    dev = fleet.device_ids[0]
    pushes = [fleet.next_push() for _ in range(20)] + fleet.unlock(dev, 2, "98765432")
    with open_journal(journal_target) as j:
        ids = j.write([decode(RawPush("mqtt", t, p, 1000.0 + i, "P"))
                       for i, (t, p) in enumerate(pushes)])
    res = cli.run("export", "--journal", journal_target)
    assert res.returncode == 0, res.stderr
    lines = [json.loads(line) for line in res.stdout.splitlines()]
    assert [r["id"] for r in lines] == sorted(set(ids))
    assert "98765432" not in res.stdout  # masked unless --with-secrets
    res = cli.run("export", "--journal", journal_target, "--format", "csv", "--device", dev,
                  "--with-secrets")
    assert res.returncode == 0, res.stderr
    rows = list(csv.DictReader(io.StringIO(res.stdout, newline="")))
    assert rows and {r["device"] for r in rows} == {dev} and "98765432" in res.stdout
