"""The window's reads of a journal give the same answers on both journals (issue 23): the
charts' readings and buckets, a kind's newest page, a device's track, acknowledgements, the
secret-reveal audit and the commissioning sessions — each asked of a SQLite file and of a
PostgreSQL database (`journal_target`), through the same module and the same SQL."""

from __future__ import annotations

import pytest

from app.journal import queries, readings, reveals
from app.journal.commissioning import CommissioningTable
from app.journal.url import open_journal
from app.protocol.push import PushRecord, RawPush

T0 = 1_700_000_000.0


def _push(i: int, kind: str, device: str, data: dict, sublock: str | None = None
          ) -> PushRecord:
    raw = RawPush("mqtt", f"upload/K/{device}/{kind}", b'{"i":%d}' % i, T0 + i, "P")
    return PushRecord(raw, kind, device, sublock, data, [])  # type: ignore[arg-type]


@pytest.fixture
def journal(journal_target):
    j = open_journal(journal_target)
    records = []
    for i in range(60):  # a location a second, battery falling, charging from 40 s on
        records.append(_push(i, "location", "D1", {
            "battery": 100 - i, "voltage": 0 if i % 10 == 0 else 4.0, "charging": i >= 40,
            "latitude": 22.5 + i / 1000, "longitude": 114.0, "locType": 1}))
    for i in range(60, 70):  # sub-lock readings, two sub-locks
        sub = "S1" if i % 2 else "S2"
        records.append(_push(i, "sublock", "D1", {"battery": i, "rssi": -i}, sublock=sub))
    records.append(_push(70, "alarm", "D1", {"alarmName": "SOS", "alarmType": 51}))
    records.append(_push(71, "alarm", "D2", {"alarmName": "Rope cut", "alarmType": 40}))
    ids = j.write(records)
    yield j, ids
    j.close()


def test_chart_readings(journal):
    j, ids = journal
    c = j.conn
    rng = readings.ReadingRange("D1")
    assert readings.bounds(c, rng) == (T0, T0 + 59, ids[59])
    assert readings.more_than(c, rng, 59) and not readings.more_than(c, rng, 60)
    columns = [("battery", False), ("voltage", True), None]
    rows = readings.location_rows(c, rng, columns, 3)
    assert [tuple(r) for r in rows] == [(ids[57], T0 + 57, 1, 43.0, 4.0, None),
                                        (ids[58], T0 + 58, 1, 42.0, 4.0, None),
                                        (ids[59], T0 + 59, 1, 41.0, 4.0, None)]
    buckets = readings.location_buckets(c, rng, columns, T0, 20.0, 3)
    assert [tuple(b) for b in buckets] == [
        (0, 20, T0, T0 + 19, 0, 81.0, 100.0, 4.0, 4.0, None, None),
        (1, 20, T0 + 20, T0 + 39, 0, 61.0, 80.0, 4.0, 4.0, None, None),
        (2, 20, T0 + 40, T0 + 59, 1, 41.0, 60.0, 4.0, 4.0, None, None)]
    assert readings.reported(c, "D1", columns, 10) == [10, 9, 0]

    subs = readings.ReadingRange("D1", sublocks=True)
    scolumns = [("battery", False), ("rssi", False)]
    assert [tuple(r) for r in readings.sublock_rows(c, subs, scolumns, 2)] == [
        (ids[68], T0 + 68, "S2", 68.0, -68.0), (ids[69], T0 + 69, "S1", 69.0, -69.0)]
    got = [tuple(b) for b in readings.sublock_buckets(c, subs, scolumns, T0 + 60, 4.0)]
    assert got == [
        ("S1", 0, 2, T0 + 61, T0 + 63, 0, 61.0, 63.0, -63.0, -61.0),
        ("S1", 1, 2, T0 + 65, T0 + 67, 0, 65.0, 67.0, -67.0, -65.0),
        ("S1", 2, 1, T0 + 69, T0 + 69, 0, 69.0, 69.0, -69.0, -69.0),
        ("S2", 0, 2, T0 + 60, T0 + 62, 0, 60.0, 62.0, -62.0, -60.0),
        ("S2", 1, 2, T0 + 64, T0 + 66, 0, 64.0, 66.0, -66.0, -64.0),
        ("S2", 2, 1, T0 + 68, T0 + 68, 0, 68.0, 68.0, -68.0, -68.0)]
    assert [tuple(r) for r in readings.alarm_marks(c, "D1", None, None)] == [
        (ids[70], T0 + 70, "SOS", 51)]


def test_pages_tracks_and_acknowledgements(journal):
    j, ids = journal
    assert [r.id for r in queries.newest_page(j, "alarm", None, 10)] == [ids[71], ids[70]]
    assert [r.id for r in queries.newest_page(j, "alarm", ids[71], 10)] == [ids[70]]
    track = list(queries.track_rows(j.conn, "D1", T0 + 58, 100))
    assert [tuple(r) for r in track[:2]] == [(T0 + 58, "location", 22.558, 114.0, 1, None, None),
                                             (T0 + 59, "location", 22.559, 114.0, 1, None, None)]
    assert tuple(track[-1]) == (T0 + 70, "alarm", None, None, None, "SOS", 51)
    assert queries.oldest_push_at(j.conn, "D1") == T0
    assert queries.oldest_push_at(j.conn, "nobody") is None
    assert queries.newest_device(j) == "D2"
    j.acknowledge([ids[70]], at=T0 + 100, operator="ada", reason="handled on site", note="ok")
    assert queries.acknowledgements_between(j, ids[0], ids[-1]) == {
        ids[70]: (T0 + 100, "ada", "handled on site", "ok")}
    assert [r.id for r in j.unacknowledged_alarms()] == [ids[71]]


def test_secret_reveals_are_audited(journal):
    j, _ = journal
    first = reveals.record(j.conn, at=10.0, operator="ada", place="push log")
    second = reveals.record(j.conn, at=20.0, operator="ben", place="events")
    reveals.close(j.conn, first, at=15.0)
    reveals.close(j.conn, first, at=99.0)  # closed once
    assert second > first
    assert reveals.history(j.conn) == [
        reveals.Reveal(second, 20.0, "ben", "events", None),
        reveals.Reveal(first, 10.0, "ada", "push log", 15.0)]


def test_commissioning_sessions(journal_target):
    table = CommissioningTable(journal_target)
    try:
        table.upsert([("B1", "D1", "std", "ada", 10.0, None, "IN PROGRESS", "[]", ""),
                      ("B1", "D2", "std", "ada", 11.0, None, "IN PROGRESS", "[]", "")])
        table.upsert([("B1", "D1", "std", "ada", 10.0, 50.0, "PASS", '["done"]', "fine")])
        table.upsert([("B2", "D1", "KS20A", "ben", 100.0, None, "IN PROGRESS", "[]", "")])
        table.attach_report("B1", b"%PDF-1.4 report", "/tmp/b1.pdf", devices=["D1"])
        assert table.batches(10) == ["B2", "B1"]
        summary = [tuple(r) for r in table.summary_rows("B1")]
        assert [(d, v, bool(has)) for d, v, *_, has in summary] == [
            ("D1", "PASS", True), ("D2", "IN PROGRESS", False)]
        rows = table.batch_rows("B1")
        assert tuple(rows[0]) == ('["done"]', "ada", "fine", b"%PDF-1.4 report", "/tmp/b1.pdf")
        assert [h["batch"] for h in table.device_history("D1")] == ["B2", "B1"]
    finally:
        table.close()


def test_push_log_queries(journal):
    """The push log's pages (by device, by kind, by time, newer than, everything for an
    export) and counts."""
    from app.journal import push_query as q

    j, ids = journal
    c = j.conn
    fields = ("battery", "alarmName")
    assert q.max_id(c) == max(ids)
    page = q.fetch_page_raw(c, q.PushFilter(device="D1"), None, 5, fields=fields)
    assert [r[0] for r in page] == ids[70:65:-1]
    assert page[0][4:7] == ("alarm", "D1", None)
    assert json_list(page[0][7]) == [None, "SOS"] and json_list(page[-1][7]) == [66, None]
    by_kind = q.fetch_page_raw(c, q.PushFilter(kind="sublock"), ids[65], 100, fields=fields)
    assert [r[0] for r in by_kind] == ids[64:59:-1]
    timed = q.PushFilter(since=T0 + 10, until=T0 + 20)
    assert [r[0] for r in q.fetch_page_raw(c, timed, None, 100, fields=fields)] == \
        ids[19:9:-1]
    assert q.count_rows(c, timed) == 10
    assert q.count_rows(c, q.PushFilter(kind="alarm"), max_id=ids[70]) == 1
    newer = q.fetch_newer_raw(c, q.PushFilter(), ids[68], 10, fields=fields)
    assert [r[0] for r in newer] == ids[:68:-1]
    exported = list(q.iter_rows(c, q.PushFilter(device="D1"), page=7))
    assert [r.id for r in exported] == ids[:71]
    assert exported[70].data == {"alarmName": "SOS", "alarmType": 51}
    raw = q.fetch_page_raw(c, q.PushFilter(text='"i":71'), None, 10, fields=fields)
    assert [r[0] for r in raw] == [ids[71]]


def json_list(text: str) -> list:
    import json

    return json.loads(text)
