"""The shared journal on PostgreSQL (issue 23): what only it does — a push delivered twice
stored once, ids from several writers, NOTIFY for desks, its schema versions, URLs without
passwords — and the SQL spelling it translates. A real server (tests/conftest.py `pg_url`);
the journal's common behaviour is tested on both journals elsewhere (`journal_target`)."""

from __future__ import annotations

import threading

import psycopg
import pytest

from app.journal import pg_schema
from app.journal.pg import PgJournal, content_key, duplicate_window
from app.journal.pgconn import translate
from app.journal.store import prepare
from app.journal.url import display, exists, is_journal_url, open_journal, target_of
from app.protocol.push import PushRecord, RawPush

W = pg_schema.DUPLICATE_WINDOW_S


def _record(n: int, at: float, *, kind: str = "location", device: str = "D1",
            payload: bytes | None = None) -> PushRecord:
    raw = RawPush("mqtt", f"upload/K/{device}/{kind}", payload or b'{"n":%d}' % n, at, "p1")
    return PushRecord(raw, kind, device, None, {"n": n, "battery": 50.0}, [])  # type: ignore[arg-type]


# -- URLs -------------------------------------------------------------------------------------


def test_urls_and_paths_are_told_apart():
    assert is_journal_url("postgresql://desk@db.example/sealdesk")
    assert is_journal_url("postgres://desk@db.example/sealdesk")
    assert is_journal_url(" POSTGRESQL://x/y")
    assert not is_journal_url("/home/ada/journal.sqlite")
    assert not is_journal_url("postgresql.sqlite")
    assert not is_journal_url(None)


def test_a_url_argument_stays_a_url(tmp_path):
    """A Path would fold "postgresql://h/db" into "postgresql:/h/db"."""
    assert target_of(" postgresql://desk@db/sealdesk ") == "postgresql://desk@db/sealdesk"
    assert target_of(str(tmp_path / "j.sqlite")) == tmp_path / "j.sqlite"
    assert exists("postgresql://desk@db/sealdesk")  # asked when opened
    assert not exists(tmp_path / "none.sqlite")


def test_journal_errors_catch_both_drivers():
    import sqlite3

    from app.journal.url import JOURNAL_ERRORS

    assert issubclass(sqlite3.OperationalError, JOURNAL_ERRORS)
    assert issubclass(psycopg.OperationalError, JOURNAL_ERRORS)


def test_a_password_in_a_url_is_never_shown():
    shown = display("postgresql://desk:s3cret@db.example:5433/sealdesk?sslmode=verify-full")
    assert "s3cret" not in shown
    assert shown == "postgresql://desk@db.example:5433/sealdesk?sslmode=verify-full"
    assert display("/tmp/j.sqlite") == "/tmp/j.sqlite"


def test_open_journal_gives_the_implementation_of_the_target(tmp_path, pg_url):
    from app.journal.store import Journal

    with open_journal(tmp_path / "j.sqlite") as j:
        assert isinstance(j, Journal)
    with open_journal(pg_url) as j:
        assert isinstance(j, PgJournal)
        assert j.path == pg_url  # no password in the test server's URL


# -- the SQL spelling -------------------------------------------------------------------------


@pytest.mark.parametrize(("sqlite", "postgresql"), [
    ("SELECT id FROM push WHERE kind = ? AND id < ?",
     "SELECT id FROM push WHERE kind = %s AND id < %s"),
    ("INSERT OR IGNORE INTO alarm_ack (push_id) VALUES (?)",
     "INSERT INTO alarm_ack (push_id) VALUES (%s) ON CONFLICT DO NOTHING"),
    ("SELECT json_extract(data, '$.alarmType') FROM push",
     "SELECT CAST((CAST(data AS json) #> '{alarmType}') AS jsonb) FROM push"),
    ("SELECT json_extract(p.data, '$.ksInfo.volValue') FROM push p",
     "SELECT CAST((CAST(p.data AS json) #> '{ksInfo,volValue}') AS jsonb) FROM push p"),
    ("SELECT json_extract(data, '$.a', '$.b.c') FROM push",
     "SELECT CAST(json_build_array((CAST(data AS json) #> '{a}'),"
     " (CAST(data AS json) #> '{b,c}')) AS text) FROM push"),
    ("SELECT id FROM push WHERE +kind = ? AND +received_at >= ? + k * ?",
     "SELECT id FROM push WHERE kind = %s AND received_at >= %s + k * %s"),
    ("SELECT 1 WHERE x LIKE ? ESCAPE '\\' AND y = '50%'",
     "SELECT 1 WHERE x ILIKE %s ESCAPE '\\' AND y = '50%%'"),
    ("SELECT 1 FROM command WHERE instr(text, ?) > 0 OR ifnull(reply, '') = ''",
     "SELECT 1 FROM command WHERE strpos(text, %s) > 0 OR coalesce(reply, '') = ''"),
    ("SELECT 1 FROM push WHERE instr(raw, ?) > 0 OR CAST(raw AS TEXT) LIKE ?",
     "SELECT 1 FROM push WHERE position(%s in raw) > 0 OR encode(raw, 'escape') ILIKE %s"),
    ("DELETE FROM temp.chart_bucket", "DELETE FROM pg_temp.chart_bucket"),
    ("BEGIN IMMEDIATE", "BEGIN"),
    ("SELECT 'what? +x' FROM push", "SELECT 'what? +x' FROM push"),
])
def test_the_sqlite_spelling_is_translated(sqlite, postgresql):
    assert translate(sqlite) == postgresql


def test_the_search_line_is_the_stored_column():
    from app.journal import search

    clause, _ = search.row_clause("SOS")
    assert translate(f"SELECT id FROM push WHERE {clause}") == \
        "SELECT id FROM push WHERE (line) ILIKE %s ESCAPE '\\'"


# -- stored once ------------------------------------------------------------------------------


def test_a_push_delivered_twice_is_stored_once_with_its_first_id(pg_url):
    with PgJournal(pg_url) as j:
        first = j.write([_record(1, 1000.0), _record(2, 1000.0)])
        again = j.write([_record(3, 1030.0), _record(1, 1030.0), _record(1, 1031.0)])
        assert again[1] == again[2] == first[0]
        assert again[0] not in first
        assert j.count() == 3
        # the reading of the repeated push is not doubled either
        assert j.conn.execute("SELECT count(*) FROM reading").fetchone()[0] == 3


@pytest.mark.parametrize(("first", "second", "merged"), [
    (10 * W - 1.0, 10 * W + 1.0, True),  # across a window's edge
    (10 * W + 0.49 * W, 10 * W + 0.51 * W, True),  # across the other grid's edge
    (10 * W, 10 * W + 0.499 * W, True),  # anything within W/2
    (10 * W, 11 * W, False),  # W apart: a push sent again on purpose
    (10 * W, 13 * W + 5.0, False),
])
def test_the_same_bytes_are_one_push_only_within_the_window(pg_url, first, second, merged):
    """Always one within W/2, never beyond W (between the two: as the windows fall)."""
    with PgJournal(pg_url) as j:
        a = j.write([_record(1, first)])
        b = j.write([_record(1, second)])
        assert (a == b) is merged
        assert j.count() == (1 if merged else 2)


def test_a_payload_with_its_own_time_is_one_push_for_a_day(pg_url):
    """A recorder restarted hours later may be handed its old session's pushes again: a
    payload with a time of its own is the same push within a day, any other within an
    hour."""
    timed = b'{"assetId":"D1","gpsTime":"2025-02-07T06:00:00Z","speed":3}'
    untimed = b'{"assetId":"D1","speed":3}'
    assert duplicate_window(timed) == pg_schema.TIMED_DUPLICATE_WINDOW_S == 86400
    assert duplicate_window(untimed) == pg_schema.DUPLICATE_WINDOW_S == 3600
    t = 20_000 * 86400.0
    with PgJournal(pg_url) as j:
        first = j.write([_record(1, t, payload=timed), _record(2, t, payload=untimed)])
        later = j.write([_record(1, t + 10 * 3600, payload=timed),
                         _record(2, t + 10 * 3600, payload=untimed)])
        assert later[0] == first[0] and later[1] != first[1]
        assert j.write([_record(1, t + 2 * 86400, payload=timed)]) != [first[0]]
        # a row written by other means gets the same windows (the trigger's rule)
        j.conn.execute("INSERT INTO push (received_at, source, topic, kind, raw, data)"
                       " VALUES (?, 'mqtt', 'upload/K/D9/location', 'location', ?, '{}')",
                       (t, timed))
        (other,) = j.conn.execute("SELECT id FROM push WHERE topic = ?",
                                  ("upload/K/D9/location",)).fetchone()
        assert j.write([_record(1, t + 11 * 3600, device="D9", payload=timed)]) == [other]


def test_the_key_is_the_topic_and_the_bytes():
    assert content_key("upload/K/D1/alarm", b"{}") == content_key("upload/K/D1/alarm", b"{}")
    assert content_key("upload/K/D1/alarm", b"{}") != content_key("upload/K/D2/alarm", b"{}")
    assert content_key("a", b"b\x00c") != content_key("a\x00b", b"c")  # the topic ends at 0x00


def test_another_writer_gets_the_key_too(pg_url):
    """A row written by anything but PgJournal (psql, a tool) has the same key."""
    with PgJournal(pg_url) as j:
        j.conn.execute("INSERT INTO push (received_at, source, topic, kind, raw, data)"
                       " VALUES (1000, 'mqtt', 'upload/K/D1/location', 'location', ?, '{}')",
                       (b'{"n":1}',))
        stored = j.conn.execute("SELECT id, content_key FROM push").fetchone()
        assert bytes(stored[1]) == content_key("upload/K/D1/location", b'{"n":1}')
        assert j.write([_record(1, 1001.0)]) == [stored[0]]


def test_concurrent_writers_store_a_redelivered_batch_once(pg_url):
    """Two recorders of one shared subscription, the broker redelivering what one of them
    had not acknowledged to the other: every push once, both told the same ids."""
    batch = [_record(i, 5000.0 + i / 100) for i in range(400)]
    redelivered = [_record(i, 5030.0 + i / 100) for i in range(400)]
    results: dict[str, list[int]] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def recorder(name: str, records: list[PushRecord]) -> None:
        try:
            with PgJournal(pg_url) as j:
                start.wait(10)
                ids: list[int] = []
                for i in range(0, len(records), 50):
                    ids += j.write(records[i:i + 50])
                results[name] = ids
        except BaseException as exc:  # e.g. a deadlock between the two: said, not hidden
            errors.append(exc)

    threads = [threading.Thread(target=recorder, args=("a", batch)),
               threading.Thread(target=recorder, args=("b", redelivered[::-1]))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert results["a"] == results["b"][::-1]
    with PgJournal(pg_url) as j:
        assert j.count() == 400
        assert {r.raw for r in j.rows()} == {r.raw.payload for r in batch}


def test_ids_of_concurrent_writers_are_each_rows_own(pg_url):
    """Other writers take ids in between: each id says its own row."""
    errors: list[BaseException] = []

    def writer(device: str) -> None:
        try:
            with PgJournal(pg_url) as j:
                for n in range(20):
                    records = [_record(n * 10 + i, 100.0 + n, device=device) for i in range(10)]
                    ids = j.write_prepared_ids(prepare(records))
                    assert len(set(ids)) == 10 and ids == sorted(ids)
                    for push_id, record in zip(ids, records, strict=True):
                        row = j.get(push_id)
                        assert row is not None and row.device == device
                        assert row.raw == record.raw.payload
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(d,)) for d in ("A", "B", "C")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with PgJournal(pg_url) as j:
        assert j.count() == 600
        first, last = j.write_prepared(prepare([_record(9999, 1.0)]))
        assert first == last


# -- notifications ----------------------------------------------------------------------------


def _listen(url: str) -> psycopg.Connection:
    conn = psycopg.connect(url, autocommit=True)
    conn.execute("LISTEN sealdesk_push")
    conn.execute("LISTEN sealdesk_change")
    return conn


def _next(conn: psycopg.Connection, n: int = 1) -> list[tuple[str, str]]:
    got = [(m.channel, m.payload) for m in conn.notifies(timeout=5, stop_after=n)]
    assert len(got) == n, f"expected {n} notifications, got {got}"
    return got


def test_every_write_a_desk_shows_is_notified(pg_url):
    listener = _listen(pg_url)
    try:
        with PgJournal(pg_url) as j:
            ids = j.write([_record(i, 10.0, kind="alarm") for i in range(3)])
            assert _next(listener) == [("sealdesk_push", f"{min(ids)}-{max(ids)}")]
            j.write([_record(0, 11.0, kind="alarm")])  # stored already: nothing new
            j.acknowledge(ids[:2], at=20.0, operator="ada", note="on site")
            j.unacknowledge(ids[:1], acked_at=20.0)
            assert _next(listener, 2) == [("sealdesk_change", "alarm_ack")] * 2

            from app.commands.audit import AuditLog
            from app.journal import commands

            audit = AuditLog(pg_url)
            row = commands.insert(audit.conn, ("p", "D1", None, "ada", "BASE,1", "version",
                                               None, 0, 1.0, None, "pending", None, None,
                                               None, None))
            assert row > 0
            assert _next(listener) == [("sealdesk_change", "command")]
            audit.close()

            from app.journal.commissioning import CommissioningTable

            table = CommissioningTable(pg_url)
            table.upsert([("B1", "D1", "std", "ada", 1.0, None, "IN PROGRESS", "[]", "")])
            assert _next(listener) == [("sealdesk_change", "commissioning")]
            table.close()
    finally:
        listener.close()


# -- schema -----------------------------------------------------------------------------------


def test_schema_is_versioned_and_a_newer_one_refused(pg_url):
    with PgJournal(pg_url) as j:
        assert j.conn.execute("PRAGMA user_version").fetchone()[0] == pg_schema.SCHEMA_VERSION
        j.conn.execute("INSERT INTO sealdesk_schema (version) VALUES (?)",
                       (pg_schema.SCHEMA_VERSION + 1,))
    with pytest.raises(RuntimeError, match="newer"):
        PgJournal(pg_url)


def test_journals_opened_together_migrate_once(pg_url):
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def opener() -> None:
        try:
            start.wait(10)
            PgJournal(pg_url).close()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=opener) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    with psycopg.connect(pg_url) as conn:
        versions = [r[0] for r in conn.execute("SELECT version FROM sealdesk_schema"
                                               " ORDER BY version")]
    assert versions == list(range(1, pg_schema.SCHEMA_VERSION + 1))


def test_text_postgresql_cannot_hold_is_kept_escaped(pg_url):
    """U+0000 in a device id (a garbage payload): SQLite keeps it, PostgreSQL's text cannot;
    the push is stored with the character escaped, never refused."""
    raw = RawPush("mqtt", "upload/K/D\x001/alarm", b'{"assetId":"D\\u00001"}', 1.0, "p\x00")
    record = PushRecord(raw, "alarm", "D\x001", None, {"assetId": "D\x001"}, [])  # type: ignore[arg-type]
    # and a lone surrogate in a word of the search line ("\ud800" in the payload)
    odd = PushRecord(RawPush("mqtt", "upload/K/D2/alarm", b'{"alarmName":"\\ud800!"}', 2.0),
                     "alarm", "D2", None, {"alarmName": "\ud800!", "alarmType": 1}, [])  # type: ignore[arg-type]
    with PgJournal(pg_url) as j:
        push_id, odd_id = j.write([record, odd])
        row = j.get(push_id)
        assert row is not None and row.device == "D\\u00001"
        assert row.raw == raw.payload and row.data == {"assetId": "D\x001"}
        stored = j.get(odd_id)
        assert stored is not None and stored.data["alarmName"] == "\ud800!" and not stored.errors


def test_the_decoded_search_finds_by_the_stored_line(pg_url):
    from app.journal.push_query import PushFilter, fetch_page_raw

    with PgJournal(pg_url) as j:
        alarm = PushRecord(RawPush("mqtt", "upload/K/D7/alarm", b'{"alarmType":51}', 5.0),
                           "alarm", "D7", None, {"alarmName": "SOS", "alarmType": 51}, [])  # type: ignore[arg-type]
        j.write([_record(i, 1.0 + i) for i in range(5)] + [alarm])
        rows = fetch_page_raw(j.conn, PushFilter(text="sos (51", raw=False), None, 10,
                              fields=("alarmName",))
        assert [r[5] for r in rows] == ["D7"]
        rows = fetch_page_raw(j.conn, PushFilter(text='"alarmType":5', raw=True), None, 10,
                              fields=("alarmName", "alarmType"))
        assert [r[5] for r in rows] == ["D7"]


def test_a_cancelled_query_stops_at_the_server(pg_url):
    """The push log cancels a query a newer filter made useless: on PostgreSQL the statement
    is cancelled at the server (sqlite3's progress handler has no equivalent there)."""
    import time

    from app.journal.push_query import Cancelled, _run

    with PgJournal(pg_url) as j:
        stop = threading.Event()
        stop.set()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            _run(j.conn, "SELECT pg_sleep(30)", [], stop.is_set)
        assert time.monotonic() - started < 10
        j.conn.set_progress_handler(None, 0)
        assert j.count() == 0  # the connection goes on
        assert _run(j.conn, "SELECT 1", [], lambda: False) == [(1,)]


# -- roles ------------------------------------------------------------------------------------


def test_the_documented_grants_are_enough_and_no_more(pg_url):
    """A recorder stores pushes (and sees them stored once) but cannot acknowledge; a desk
    reads, acknowledges, audits commands and commissioning, reveals, but cannot store a push."""
    import uuid

    from app.journal import commands, pg_roles
    from app.journal.commissioning import CommissioningTable

    suffix = uuid.uuid4().hex[:8]
    recorder, desk = f"rec_{suffix}", f"desk_{suffix}"
    PgJournal(pg_url).close()  # the owner makes the schema
    admin = psycopg.connect(pg_url, autocommit=True)
    try:
        for role, kind in ((recorder, "recorder"), (desk, "desk")):
            admin.execute(f"CREATE ROLE {role} LOGIN")
            for statement in pg_roles.grants(kind, role):
                admin.execute(statement)
        as_recorder = pg_url.replace("sealdesk@", f"{recorder}@")
        as_desk = pg_url.replace("sealdesk@", f"{desk}@")
        with PgJournal(as_recorder) as j:
            first = j.write([_record(1, 10.0, kind="alarm"), _record(2, 10.0)])
            assert j.write([_record(1, 20.0, kind="alarm")]) == first[:1]
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                j.acknowledge(first[:1], at=30.0, operator="rec")
        with PgJournal(as_desk) as j:
            assert [r.id for r in j.unacknowledged_alarms()] == first[:1]
            j.acknowledge(first[:1], at=30.0, operator="ada", note="seen")
            assert j.unacknowledged_alarms() == []
            assert j.conn.execute("SELECT count(*) FROM reading").fetchone()[0] == 1
            with pytest.raises(psycopg.errors.InsufficientPrivilege):
                j.write([_record(3, 40.0)])
        audit = commands.connect(as_desk)
        assert commands.insert(audit, ("p", "D1", None, "ada", "BASE,1", "version", None, 0,
                                       1.0, None, "pending", None, None, None, None)) > 0
        audit.close()
        table = CommissioningTable(as_desk)
        table.upsert([("B1", "D1", "std", "ada", 1.0, None, "IN PROGRESS", "[]", "")])
        table.close()
        with PgJournal(as_desk) as j:
            from app.journal import reveals

            assert reveals.record(j.conn, at=1.0, operator="ada", place="push log") > 0
    finally:
        admin.execute(f"DROP OWNED BY {recorder}, {desk}")
        admin.execute(f"DROP ROLE {recorder}, {desk}")
        admin.close()


def test_grants_refuse_what_is_not_a_role_name():
    from app.journal import pg_roles

    with pytest.raises(ValueError):
        pg_roles.grants("desk", "x; DROP TABLE push")
    with pytest.raises(ValueError):
        pg_roles.grants("admin", "ada")


# -- holds ------------------------------------------------------------------------------------


def test_a_hold_is_one_connections_until_it_ends(pg_url):
    from app.journal import pg_holds

    first = psycopg.connect(pg_url, autocommit=True, application_name="sealdesk record A")
    second = psycopg.connect(pg_url, autocommit=True, application_name="sealdesk record B")
    try:
        assert pg_holds.try_hold(first, "broker|A")
        assert not pg_holds.try_hold(second, "broker|A")
        assert pg_holds.try_hold(second, "broker|B")  # another name
        assert pg_holds.is_connected(second, "sealdesk record A")
        where, since = pg_holds.oldest_other(second, "sealdesk record A")
        assert where == "127.0.0.1" and since is not None
        assert pg_holds.oldest_other(first, "sealdesk record A") is None  # itself
        assert not pg_holds.hold(second, "broker|A", 0.2)  # waited, still held
        first.close()  # the process ended: the server lets its hold go
        assert pg_holds.hold(second, "broker|A", 10)
        assert pg_holds.let_go(second, "broker|A")
    finally:
        first.close()
        second.close()
