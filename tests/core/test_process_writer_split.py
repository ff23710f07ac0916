"""The journal writer split across two processes (issue 22): this side decodes and prepares,
the journal process stores. Listeners get the decoded records with the ids the journal gave
them, in order; acknowledgements come after the commit; a record that cannot be prepared is
journaled bare rather than holding up (or killing) the rest."""

from __future__ import annotations

import dataclasses
import threading

import pytest

from app.journal import store
from app.journal.process_writer import ProcessJournalWriter
from app.journal.store import Journal
from app.protocol.push import RawPush


def _push(i: int, token=None) -> RawPush:
    payload = b'{"assetId":"D%d","alarmType":46,"n":%d}' % (i % 5, i)
    return RawPush("mqtt", f"upload/K/D{i % 5}/alarm", payload, 1000.0 + i, "p", token)


def test_listeners_get_the_records_with_their_journal_ids_in_order(tmp_path):
    path = tmp_path / "j.sqlite"
    writer = ProcessJournalWriter(path)
    got: list[tuple[int, int]] = []  # (id, n)
    acked: list[int] = []
    lock = threading.Lock()
    writer.add_listener(lambda records, ids: got.extend(
        (i, r.data["n"]) for r, i in zip(records, ids, strict=True)))
    writer.start()
    try:
        n = 2500
        for start in range(0, n, 250):  # as a transport hands them over: a read at a time
            writer.submit_many([_push(i, lambda i=i: (lock.acquire(), acked.append(i),
                                                      lock.release()))
                                for i in range(start, start + 250)])
        assert writer.flush(60)
    finally:
        writer.stop()
    assert [n for _, n in got] == list(range(2500))
    assert acked == list(range(2500))  # in the order they came
    assert writer.stats.written == 2500 and writer.stats.by_kind == {"alarm": 2500}
    with Journal(path, readonly=True) as j:
        assert {row.id: row.data["n"] for row in j.rows()} == dict(got)


def test_a_record_that_cannot_be_prepared_is_journaled_bare(tmp_path, monkeypatch):
    real = store._push_row

    def fragile(record):
        if b"poison" in record.raw.payload:
            raise RuntimeError("cannot prepare this one")
        return real(record)

    monkeypatch.setattr(store, "_push_row", fragile)
    path = tmp_path / "j.sqlite"
    writer = ProcessJournalWriter(path).start()
    acked: list[int] = []
    try:
        pushes = [_push(i, lambda i=i: acked.append(i)) for i in range(10)]
        pushes[4] = RawPush("mqtt", "upload/K/D4/alarm", b'{"poison":1}', 5.0, "p",
                            lambda: acked.append(4))
        writer.submit_many(pushes)
        assert writer.flush(30)
    finally:
        writer.stop()
    assert sorted(acked) == list(range(10))
    with Journal(path, readonly=True) as j:
        rows = list(j.rows())
    assert len(rows) == 10
    bare = rows[4]
    assert bare.raw == b'{"poison":1}' and bare.data == {}
    assert any("cannot prepare this one" in e for e in bare.errors)
    assert all(r.errors == [] for i, r in enumerate(rows) if i != 4)


@pytest.mark.parametrize("records", [False, True])
def test_stop_commits_what_was_submitted(tmp_path, records):
    path = tmp_path / "j.sqlite"
    writer = ProcessJournalWriter(path, send_records=records).start()
    writer.submit_many([_push(i) for i in range(1200)])
    writer.stop()
    with Journal(path, readonly=True) as j:
        assert j.count() == 1200


def _mixed_pushes(n: int) -> list[tuple[RawPush, str | None]]:
    """Fleet pushes, damaged ones and webhooks with a kind from their path."""
    from app.sim.fleet import Fleet

    fleet = Fleet("K", devices=50, seed=3, now=lambda: 1_700_000_000.0)
    out: list[tuple[RawPush, str | None]] = []
    for i in range(n):
        topic, payload = fleet.next_push()
        if i % 7 == 3:
            payload = payload[: len(payload) // 2]  # cut short: decoded with errors
        if i % 11 == 5:
            out.append((RawPush("webhook", "/hook", payload, 1000.0 + i, "hook"), "alarm"))
        else:
            out.append((RawPush("mqtt", topic, payload, 1000.0 + i, "p"), None))
    return out


@pytest.mark.parametrize("share", [0.0, 0.5, 0.9])
def test_pushes_the_journal_process_decodes_are_stored_as_decoded_here(tmp_path, share):
    """`record`'s writer leaves a share of each batch to the journal process to decode
    (`_Balance`): what it stores, and what the stats say, are what decoding here gives."""
    from app.protocol.decode import decode

    pushes = _mixed_pushes(3000)
    here = [decode(push, hint) for push, hint in pushes]
    path = tmp_path / "j.sqlite"
    writer = ProcessJournalWriter(path)
    assert writer._balance is not None
    writer._balance.share = share
    writer._balance.STEP = 0.0  # hold it where the test put it
    writer.start()
    acked: list[int] = []
    try:
        for start in range(0, len(pushes), 600):
            for i, (push, hint) in enumerate(pushes[start:start + 600], start):
                writer.submit(dataclasses.replace(push, ack_token=lambda i=i: acked.append(i)),
                              hint)
        assert writer.flush(60)
    finally:
        writer.stop()
    assert acked == list(range(3000))
    assert writer.stats.written == 3000
    assert writer.stats.with_errors == sum(1 for r in here if r.errors) > 0
    expected_kinds: dict[str, int] = {}
    for r in here:
        expected_kinds[r.kind] = expected_kinds.get(r.kind, 0) + 1
    assert writer.stats.by_kind == expected_kinds
    with Journal(path, readonly=True) as j:
        rows = list(j.rows())
    assert [(r.source, r.topic, r.raw, r.kind, r.device, r.sublock, r.data, r.errors)
            for r in rows] == [
        (r.raw.source, r.raw.topic, r.raw.payload, r.kind, r.device, r.sublock, r.data,
         r.errors) for r in here]


def test_a_writer_with_listeners_decodes_everything_itself(tmp_path):
    writer = ProcessJournalWriter(tmp_path / "j.sqlite")
    writer.add_listener(lambda records, ids: None)
    assert writer._balance is None


def test_a_commits_grouped_acknowledgements_go_out_in_one_call_per_connection(tmp_path):
    """The MQTT transport's tokens (`GroupedAck`) are acknowledged a connection at a time;
    any other token (a webhook's) is called on its own, and one that fails stops none."""
    from app.protocol.push import GroupedAck

    calls: list[tuple[str, list[int]]] = []
    first = lambda mids: calls.append(("first", list(mids)))  # noqa: E731
    second = lambda mids: calls.append(("second", list(mids)))  # noqa: E731
    other: list[int] = []

    def broken() -> None:
        raise RuntimeError("gone")

    tokens = [GroupedAck(first, 1), GroupedAck(second, 7), None, lambda: other.append(1),
              broken, GroupedAck(first, 2), GroupedAck(first, 3)]
    pushes = [_push(i, token) for i, token in enumerate(tokens)]
    writer = ProcessJournalWriter(tmp_path / "j.sqlite").start()
    try:
        writer.submit_many(pushes)
        assert writer.flush(30)
    finally:
        writer.stop()
    assert sorted(calls) == [("first", [1, 2, 3]), ("second", [7])]
    assert other == [1]
