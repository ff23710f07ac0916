"""The journal's writer supplies the search lines of the pushes it writes (migration 11,
issue 22): the index then finds exactly what the trigger's lines find, lines it cannot vouch
for are made by SQL, and every other way into the journal is still indexed by the trigger."""

from __future__ import annotations

import sqlite3

from test_decoded_search import AT, corpus

from app.journal import search
from app.journal.store import Journal, prepare
from app.protocol.push import PushRecord, RawPush


def _odd_records() -> list[PushRecord]:
    """Words SQL writes its own way (a float, an object, a huge integer, a lone surrogate)."""
    raw = RawPush("mqtt", "upload/K/D1/alarm", b"{}", AT, "P")
    return [
        PushRecord(raw, "alarm", "D1", None, {"alarmName": "SOS", "alarmType": 51.0}, []),
        PushRecord(raw, "alarm", "D1", None, {"alarmName": {"a": [1, 2.5]}, "alarmType": 2**70},
                   []),
        PushRecord(raw, "event", "D\udc80", None,
                   {"eventName": "Unlock", "card": "C\ud800", "describe": {"waybillNo": 7.25}},
                   []),
        PushRecord(raw, "command", "D2", None, {"commandType": True, "platformError": None}, []),
        PushRecord(raw, "location", "D3", None, {"statusJson": {"lockStatus": 0.0}}, []),
    ]


def _index(records: list[PushRecord], path, supplied: bool) -> sqlite3.Connection:
    with Journal(path) as j:
        if not supplied:  # as schema 10 was: the trigger makes every line
            j.conn.execute("DROP TRIGGER push_text_index")
            j.conn.execute("DROP TABLE push_text_writer")
            j.conn.execute(search.TRIGGER_SQL)
        j.write(records)
    return sqlite3.connect(path)


def test_the_supplied_index_finds_what_the_triggers_lines_find(tmp_path):
    records = corpus() + _odd_records()
    lines = prepare(records).lines
    assert lines is not None and sum(line is None for line in lines) >= 3  # SQL made those
    ours = _index(records, tmp_path / "supplied.sqlite", supplied=True)
    theirs = _index(records, tmp_path / "trigger.sqlite", supplied=False)
    assert search.writers_supply_lines(ours) and not search.writers_supply_lines(theirs)
    # Every line's trigrams, and then some: the same pushes found in both journals.
    needles = {"SOS", "(51.0)", "1180591620717411303424", "2.5", "Unlock", "7.25", "locked",
               "unlocked", "BASE", "D3 "}
    ours.text_factory = lambda b: b.decode("utf-8", "replace")  # SQL's line of "C\ud800"
    for (line,) in ours.execute(f"SELECT {search.ROW_TEXT} FROM push"):
        needles.update(line[i:i + 5] for i in range(0, max(len(line) - 4, 1), 3))
    for needle in sorted(needles):
        if len(needle) >= 3:
            assert (search.candidates(ours, needle, None, 100_000)
                    == search.candidates(theirs, needle, None, 100_000)), needle
    assert ours.execute("SELECT count(*) FROM push_text_writer").fetchone()[0] == 0
    ours.close()
    theirs.close()


def test_a_push_inserted_another_way_is_indexed_by_the_trigger(tmp_path):
    path = tmp_path / "j.sqlite"
    with Journal(path) as j:
        j.write(corpus()[:50])
    conn = sqlite3.connect(path)
    conn.execute("INSERT INTO push (received_at, source, topic, kind, device, raw, data)"
                 " VALUES (1, 'mqtt', 't', 'alarm', 'OTHERWAY1', x'', ?)",
                 ('{"alarmName":"Tamper"}',))
    conn.commit()
    found = search.candidates(conn, "OTHERWAY1", None, 10)
    assert found == [conn.execute("SELECT max(id) FROM push").fetchone()[0]]
    assert search.candidates(conn, "Tamper", None, 10) == found
    conn.close()
