"""The journal keeps every push, raw and decoded, and upgrades its schema in place.

The tests taking `journal_target` run on both journals (a SQLite file, then a PostgreSQL
database: tests/conftest.py); those on `tmp_path` alone test SQLite's own machinery (WAL,
PRAGMA user_version migrations) or the writer thread's, and run on SQLite only.
"""

from __future__ import annotations

import sqlite3

from app.journal.schema import SCHEMA_VERSION, migrate
from app.journal.store import Journal
from app.journal.url import open_journal
from app.protocol.push import PushRecord, RawPush


def _record(i: int, kind: str = "location", device: str = "D1", errors=None) -> PushRecord:
    raw = RawPush("mqtt", f"upload/K/{device}/{kind}", b'{"n":%d}' % i, 1000.0 + i, "p1")
    return PushRecord(raw, kind, device, None, {"n": i}, list(errors or []))  # type: ignore[arg-type]


# SQLite only: WAL and PRAGMA user_version (PostgreSQL's schema: tests/core/test_pg_journal.py).
def test_fresh_journal_is_at_current_schema_in_wal(tmp_path):
    j = Journal(tmp_path / "j.sqlite")
    assert j.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert j.conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_old_journal_is_migrated_without_losing_rows(tmp_path):
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.executescript(
        "BEGIN;" + __import__("app.journal.schema", fromlist=["MIGRATIONS"]).MIGRATIONS[0]
        + "PRAGMA user_version=1;COMMIT;"
    )
    conn.execute(
        "INSERT INTO push (received_at, source, topic, kind, raw, data) VALUES (1, 'mqtt', 't',"
        " 'alarm', x'00', '{}')"
    )
    conn.close()
    j = Journal(path)
    assert j.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert j.count() == 1
    assert [r.id for r in j.unacknowledged_alarms()] == [1]


def test_a_journal_from_the_future_is_refused(tmp_path):
    conn = sqlite3.connect(tmp_path / "f.sqlite")
    conn.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    conn.close()
    conn = sqlite3.connect(tmp_path / "f.sqlite")
    try:
        migrate(conn)
    except RuntimeError as exc:
        assert "newer" in str(exc)
    else:
        raise AssertionError("a newer schema must not be touched")


def test_batch_round_trip_keeps_raw_bytes_and_errors(journal_target):
    j = open_journal(journal_target)
    recs = [_record(i) for i in range(3)]
    bad_raw = RawPush("webhook", "/x", b"\xff\xfe not utf-8", 5.0)
    recs.append(PushRecord(bad_raw, "unknown", None, None, {}, ["payload is not UTF-8"]))
    ids = j.write(recs)
    assert len(ids) == 4 and ids == sorted(ids)
    rows = list(j.rows())
    assert [r.data.get("n") for r in rows[:3]] == [0, 1, 2]
    assert rows[3].raw == b"\xff\xfe not utf-8"
    assert rows[3].errors == ["payload is not UTF-8"]
    assert rows[3].source == "webhook"
    j.close()


def test_filters_by_device_kind_time_and_paging(journal_target):
    j = open_journal(journal_target)
    ids = j.write([_record(i, kind="alarm" if i % 2 else "location", device=f"D{i % 3}")
                   for i in range(30)])
    assert j.count(device="D1") == 10
    assert j.count(kind="alarm") == 15
    assert j.count(since=1020.0) == 10
    page = list(j.rows(newest_first=True, limit=5))
    assert [r.id for r in page] == ids[:-6:-1]
    nxt = list(j.rows(newest_first=True, limit=5, before_id=page[-1].id))
    assert nxt[0].id == ids[-6]
    assert [r.id for r in j.rows(device="D1")] == ids[1::3]
    assert j.get(ids[7]).data == {"n": 7}
    assert j.get(10**9) is None
    j.close()


def test_acknowledged_alarms_stay_acknowledged_after_reopen(journal_target):
    j = open_journal(journal_target)
    ids = j.write([_record(i, kind="alarm") for i in range(4)])
    j.acknowledge(ids[:3], at=2000.0, operator="tester")
    j.close()
    with open_journal(journal_target) as j:
        assert [r.id for r in j.unacknowledged_alarms()] == [ids[3]]
        # undone only where it was made at that time
        assert j.unacknowledge(ids[:2], acked_at=2000.0) == 2
        assert j.unacknowledge(ids[2:3], acked_at=1.0) == 0
        assert [r.id for r in j.unacknowledged_alarms()] == [ids[3], ids[1], ids[0]]


def test_an_acknowledgement_keeps_its_first_reason(journal_target):
    with open_journal(journal_target) as j:
        (alarm,) = j.write([_record(1, kind="alarm")])
        j.acknowledge([alarm], at=10.0, operator="ada", reason="false alarm", note="n1")
        j.acknowledge([alarm], at=11.0, operator="ben", reason="other", note="n2")
        from app.journal.queries import acknowledgements_between

        assert acknowledgements_between(j, alarm, alarm) == {
            alarm: (10.0, "ada", "false alarm", "n1")}


def test_a_read_only_journal_refuses_writes(journal_target):
    with open_journal(journal_target) as j:
        j.write([_record(1)])
    from app.journal.url import JOURNAL_ERRORS

    with open_journal(journal_target, readonly=True) as j:
        assert j.count() == 1
        try:
            j.write([_record(2)])
        except JOURNAL_ERRORS:
            pass
        else:
            raise AssertionError("a read-only journal took a write")
    with open_journal(journal_target) as j:
        assert j.count() == 1


def test_writer_stores_a_push_whose_text_sqlite_refuses(journal_target):
    """One poisonous push must neither be lost nor block the pushes around it."""
    from app.journal.writer import JournalWriter

    writer = JournalWriter(journal_target).start()
    good = RawPush("mqtt", "upload/K/D1/alarm", b'{"assetId":"D1","alarmType":46}', 1.0)
    poison = RawPush("mqtt", "upload/K/\udcff/alarm", b'{"alarmType":46}', 2.0)
    # Not the same bytes as `good`: a shared journal stores a push delivered twice once.
    good_again = RawPush("mqtt", "upload/K/D1/alarm", b'{"assetId":"D1","alarmType":46 }', 3.0)
    writer.submit(good)
    writer.submit(poison)
    writer.submit(good_again)
    assert writer.flush(10)
    writer.stop()
    with open_journal(journal_target) as j:
        rows = list(j.rows())
    assert len(rows) == 3
    assert rows[1].raw == b'{"alarmType":46}'
    assert any("could not be stored" in e for e in rows[1].errors)
    assert rows[2].data["alarmName"] == "Back cover opened"


# SQLite only: the writer thread's queue, not the journal (it floods one push, which a shared
# journal would store once).
def test_flush_waits_for_what_was_submitted_before_it_not_for_an_idle_writer(tmp_path):
    """Under a flood the writer is never idle: a flush waiting for that (as hanging up
    does) never returned, and the window killed the recording process on quitting."""
    import threading

    from app.journal.writer import JournalWriter

    writer = JournalWriter(tmp_path / "j.sqlite")
    stop_flood = threading.Event()
    push = RawPush("mqtt", "upload/K/D1/location", b'{"assetId":"D1"}', 1.0)

    def keep_coming(records, ids) -> None:  # after every commit, another push is waiting
        if not stop_flood.is_set():
            writer.submit(push)

    writer.add_listener(keep_coming)
    writer.start()
    try:
        for _ in range(10):
            writer.submit(push)
        assert writer.flush(10)  # before the fix: False after 10 s, pushes still coming
        assert writer.stats.written >= 10
    finally:
        stop_flood.set()
        writer.stop()
