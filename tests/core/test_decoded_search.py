"""Search what people read: each push's decoded line in an FTS5 trigram index.

The SQL that makes the line (a trigger) and the Python that tests a live record agree push
by push; "SOS" finds the SOS alarm whose payload only says 51; a card, a sub-lock id, an
unlock type are found; passwords are not in the line; an older journal gets its lines when
migrated; pages of a decoded search are exactly what a brute-force scan finds.

The searches run on both journals (`journal` is parametrised: SQLite's FTS5 index, then the
shared journal's stored line with its pg_trgm index); the index's own machinery (FTS5,
its trigger, migrating an older file) is SQLite's and tested there only."""

from __future__ import annotations

import json
import random
import sqlite3
from pathlib import Path

import pytest

from app.journal import push_query, search
from app.journal.push_query import PushFilter, fetch_page_raw
from app.journal.store import Journal
from app.journal.url import open_journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.sim.responder import CommandResponder

SEED = Path(__file__).parents[1] / "data" / "seed_examples.json"
AT = 1_700_000_000.0


def corpus() -> list:
    fleet = Fleet("K", devices=40, seed=11)
    pushes = [fleet.next_push() for _ in range(1500)]
    dev = fleet.device_ids[0]
    pushes += fleet.raise_alarm(dev, 51)  # SOS
    pushes += fleet.unlock(dev, 1)  # a card
    responder = CommandResponder(fleet)
    for cmd in (b"(P01)", f"({dev},1,001,BASE,1)".encode()):
        pushes += responder.respond(f"download/K/{dev}/cmd", cmd)
    records = [decode(RawPush("mqtt", t, p, AT + i, "P")) for i, (t, p) in enumerate(pushes)]
    for example in json.loads(SEED.read_text("utf-8")):
        records.append(decode(RawPush("mqtt", example["topic"],
                                      example["payload"].encode("utf-8"), AT, "P")))
    for i, (topic, payload) in enumerate(pushes[:200:7]):  # damaged: cut, not JSON, empty
        records.append(decode(RawPush("mqtt", topic, payload[: i * 5], AT, "P")))
    records.append(decode(RawPush("mqtt", "somebody/else", b"\x00\xff", AT, "P")))
    return records


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def journal(request, tmp_path_factory):
    if request.param == "sqlite":
        target = str(tmp_path_factory.mktemp("search") / "j.sqlite")
    else:
        server = request.getfixturevalue("pg_server")
        target = server.new_database()
    j = open_journal(target)
    records = corpus()
    ids = j.write(records)
    # A shared journal stores a push delivered twice once (the corpus repeats a few): the
    # record kept under an id is as good as the other.
    yield j, dict(zip(ids, records, strict=True))
    j.close()
    if request.param == "postgresql":
        server.drop_database(target)


def test_sql_and_python_make_the_same_line(journal):
    j, records = journal
    sql = f"SELECT id, {search.ROW_TEXT} FROM push"
    lines = dict(j.conn.execute(sql).fetchall())
    assert set(lines) == set(records)
    for push_id, rec in records.items():
        assert lines[push_id] == search.search_text(rec.kind, rec.device, rec.sublock,
                                                    rec.data), (rec.kind, rec.raw.payload)
    # the trigger indexed every push as it was written
    some = next(i for i, r in records.items() if r.kind == "alarm")
    assert some in search.candidates(j.conn, records[some].data["alarmName"], None, 10_000)


def test_the_index_is_a_trigram_index(journal):
    assert search.indexed(journal[0].conn)  # FTS5 trigram, or pg_trgm on PostgreSQL


def newest(j, flt: PushFilter, limit: int = 500) -> list[int]:
    return [r[0] for r in fetch_page_raw(j.conn, flt, None, limit, fields=("alarmName",))]


def test_sos_is_found_by_its_name_though_the_payload_says_51(journal):
    j, records = journal
    sos = [i for i, r in records.items() if r.kind == "alarm" and r.data.get("alarmType") == 51]
    assert sos and all(b"SOS" not in records[i].raw.payload for i in sos)
    assert newest(j, PushFilter(text="SOS", raw=False))[: len(sos)] == sorted(sos, reverse=True)
    assert set(newest(j, PushFilter(text="sos (51)", raw=False))) == set(sos)


@pytest.mark.parametrize("pick", ["card", "sublock", "unlock type", "command type"])
def test_decoded_values_are_found(journal, pick):
    j, records = journal
    if pick == "card":
        needle = next(r.data["card"] for r in records.values()
                      if r.kind == "event" and r.data.get("card"))
    elif pick == "sublock":
        needle = next(r.sublock for r in records.values() if r.sublock)[2:]  # a substring
    elif pick == "unlock type":
        needle = next(r.data["unLockTypeName"] for r in records.values()
                      if r.kind == "event" and r.data.get("unLockTypeName"))
    else:
        needle = "BASE1"
    flt = PushFilter(text=needle, raw=False)
    expected = sorted((i for i, r in records.items() if flt.matches(r)), reverse=True)
    assert expected
    assert newest(j, flt, limit=10_000) == expected


def test_a_password_is_not_in_any_line(journal_target):
    fleet = Fleet("K", devices=3, seed=2)
    dev = fleet.device_ids[0]
    pushes = fleet.unlock(dev, 2, "98765432")
    responder = CommandResponder(fleet)
    pushes += responder.respond(f"download/K/{dev}/cmd", b"(P43,98765432)")
    with open_journal(journal_target) as j:
        records = [decode(RawPush("mqtt", t, p, AT, "P")) for t, p in pushes]
        assert any(b"98765432" in r.raw.payload for r in records)  # the journal keeps it
        j.write(records)
        lines = [search.search_text(r.kind, r.device, r.sublock, r.data) for r in records]
        assert not any("98765432" in line for line in lines)
        assert search.candidates(j.conn, "98765432", None, 10) == []
        assert newest(j, PushFilter(text="98765432", raw=False)) == []
        assert newest(j, PushFilter(text="8765", raw=False)) == []


# SQLite only (FTS5 and its trigger): a shared journal stores each line with its push.
def test_an_older_journal_gets_its_lines_when_migrated(tmp_path):
    path = tmp_path / "old.sqlite"
    records = corpus()[:300]
    with Journal(path) as j:
        j.write(records)
        # as schema 8 left it: no index, no trigger
        j.conn.execute("DROP TRIGGER push_text_index")
        j.conn.execute("DROP TABLE push_text")
        j.conn.execute("PRAGMA user_version=8")
    with Journal(path) as j:
        assert j.conn.execute("PRAGMA user_version").fetchone()[0] >= 9
        j.conn.execute("PRAGMA user_version=8")  # set back by hand, index and all: made again
    with Journal(path) as j:
        alarm = next(i for i, r in zip(range(1, 301), records, strict=True)
                     if r.kind == "alarm")
        name = records[alarm - 1].data["alarmName"]
        assert alarm in search.candidates(j.conn, name, None, 1000)
        assert alarm in newest(j, PushFilter(text=name, raw=False))


def test_pages_of_a_decoded_search_match_a_brute_force_scan(journal, monkeypatch):
    j, records = journal
    monkeypatch.setattr(push_query, "ID_CHUNK", 7)
    rng = random.Random(3)
    needles = ["locked", "Heartbeat", "Unlock", "(4", "SOS", "79", "zzz", "Remote", "ack"]
    for _ in range(30):
        flt = PushFilter(text=rng.choice(needles), raw=False,
                         kind=rng.choice(["", "", "location", "alarm", "event", "sublock"]),
                         errors_only=rng.random() < 0.1)
        got: list[int] = []
        before = None
        while True:
            page = fetch_page_raw(j.conn, flt, before, 13, fields=("alarmName",))
            got += [r[0] for r in page]
            if len(page) < 13:
                break
            before = page[-1][0]
        expected = sorted((i for i, r in records.items() if flt.matches(r)), reverse=True)
        assert got == expected, flt


def test_a_decoded_search_is_not_slow_and_raw_is(journal):
    assert not PushFilter(text="SOS", raw=False).slow
    assert PushFilter(text="SOS").slow  # raw payloads: a scan
    assert PushFilter(text="ab", raw=False).slow  # under 3 characters the index cannot help


# SQLite only (the same on PostgreSQL without pg_trgm: ILIKE on the stored line, unindexed).
def test_a_journal_without_the_index_still_answers(tmp_path):
    """An older journal opened read-only (no migration), or an SQLite without the trigram
    tokenizer: the search makes each row's line as it scans, and finds the same rows."""
    path = tmp_path / "ro.sqlite"
    records = corpus()[:400]
    with Journal(path) as j:
        j.write(records)
        j.conn.execute("DROP TRIGGER push_text_index")
        j.conn.execute("DROP TABLE push_text")
    conn = sqlite3.connect(path)
    assert not search.indexed(conn)
    flt = PushFilter(text="locked", raw=False)
    rows = fetch_page_raw(conn, flt, None, 1000, fields=("alarmName",))
    expected = sorted((i for i, r in zip(range(1, 401), records, strict=True)
                       if flt.matches(r)), reverse=True)
    assert expected and [r[0] for r in rows] == expected
    conn.close()


def test_live_records_match_as_the_journal_does(journal):
    """The push log tests a live record with `matches`: the same answers as the SQL."""
    j, records = journal
    for needle in ("SOS", "locked", "JT709"):
        flt = PushFilter(text=needle, raw=False)
        assert {i for i, r in records.items() if flt.matches(r)} == \
            set(newest(j, flt, limit=100_000))
