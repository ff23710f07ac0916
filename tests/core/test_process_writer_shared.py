"""The journal process writer on a shared PostgreSQL journal (issue 23): several writers at
once, each push's own id, a push written twice stored once, a lost connection retried."""

from __future__ import annotations

import threading

import psycopg
from waiting import wait_for

from app.journal.process_writer import ProcessJournalWriter
from app.journal.writer import RETRYING
from app.protocol.push import RawPush


def _push(i: int, ack=None) -> RawPush:
    payload = b'{"assetId":"D%d","alarmType":46,"dateTime":"2026-12-04T09:%02d:%02dZ"}' % (
        i % 7, i // 60 % 60, i % 60)
    return RawPush("mqtt", f"upload/K/D{i % 7}/alarm", payload, 1_800_000_000.0 + i, "", ack)


def _count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM push").fetchone()[0]


def test_two_writers_store_a_push_both_take_once_and_acknowledge_after_commit(pg_url):
    writers = [ProcessJournalWriter(pg_url).start() for _ in range(2)]
    ids: list[dict[bytes, int]] = [{}, {}]
    acked: list[tuple[int, bool]] = []  # (push, was it in the journal when acknowledged)
    lock = threading.Lock()
    checker = psycopg.connect(pg_url, autocommit=True)

    def listener(n: int):
        def got(records, row_ids) -> None:
            for record, row_id in zip(records, row_ids, strict=True):
                ids[n][record.raw.payload] = row_id
        return got

    def ack_for(i: int):
        raw = _push(i).payload

        def ack() -> None:
            with lock:
                stored = checker.execute("SELECT count(*) FROM push WHERE raw = %s",
                                         (raw,)).fetchone()[0]
                acked.append((i, stored == 1))
        return ack

    try:
        for n, writer in enumerate(writers):
            writer.add_listener(listener(n))
        shared, own = range(0, 600), {0: range(1000, 1200), 1: range(2000, 2200)}
        for n, writer in enumerate(writers):  # both take the shared ones, at the same time
            writer.submit_many([_push(i, ack_for(i)) for i in shared])
            writer.submit_many([_push(i, ack_for(i)) for i in own[n]])
        for writer in writers:
            assert writer.flush(60)
    finally:
        for writer in writers:
            writer.stop()
        checker.close()
    assert _count(pg_url) == 600 + 400  # each push once
    assert len(acked) == 2 * 600 + 400  # every delivery acknowledged …
    assert all(stored for _, stored in acked)  # … once its push was in the journal
    both = set(ids[0]) & set(ids[1])
    assert len(both) == 600
    assert all(ids[0][p] == ids[1][p] for p in both)  # the one stored row's id, on each side
    assert len(set(ids[0].values()) | set(ids[1].values())) == 1000


def test_a_lost_connection_is_retried_on_a_new_one(pg_url):
    writer = ProcessJournalWriter(pg_url).start()
    states: list[str] = []
    writer.add_health_listener(lambda health: states.append(health.state))
    try:
        writer.submit_many([_push(i) for i in range(100)])
        assert writer.flush(30)
        with psycopg.connect(pg_url, autocommit=True) as admin:  # the server ends it
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()").fetchone()[0]
        assert ended >= 1
        writer.submit_many([_push(i) for i in range(100, 200)])
        assert writer.flush(60)
        wait_for(lambda: not writer.health.stopped and writer.health.state != RETRYING, 10,
                 "the writer to say it writes again")
    finally:
        writer.stop()
    assert RETRYING in states
    assert writer.stats.written == 200
    assert _count(pg_url) == 200
