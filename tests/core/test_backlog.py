"""The backlog between the journal and the views: every alarm, event and command reply is
kept; of positions and sub-lock readings only the newest per device (and sub-lock) survives
once the views fall behind; the hard cap drops the oldest; and nothing is lost to a race."""

from __future__ import annotations

import threading
import time

import pytest
from live_rig import decoded

from app.fleet.backlog import COALESCE_AT, SUPERSEDED_KINDS, Backlog
from app.sim.fleet import Fleet
from app.sim.responder import CommandResponder


def stream(n: int, seed: int = 5, with_commands: bool = True) -> list:
    """n decoded records from a 50-device fleet, with a command reply every 40 pushes."""
    fleet = Fleet("KEY", devices=50, seed=seed)
    responder = CommandResponder(fleet)
    device_ids = fleet.device_ids
    pushes = []
    while len(pushes) < n:
        if with_commands and len(pushes) % 40 == 39:
            device = device_ids[len(pushes) % len(device_ids)]
            pushes += responder.respond(f"download/KEY/{device}/cmd", b"(P45)")
        else:
            pushes.append(fleet.next_push())
    base = time.time()
    records = decoded(pushes[:n], base)
    return records


def key(record) -> tuple:
    return (record.kind, record.device, record.sublock)


def expected_after_coalescing(pairs: list[tuple]) -> list[tuple]:
    """What coalescing must leave, worked out independently: walk forward, and keep a
    superseded-kind record only if no later record has the same (kind, device, sublock)."""
    last_index: dict[tuple, int] = {}
    for index, (record, _) in enumerate(pairs):
        if record.kind in SUPERSEDED_KINDS:
            last_index[key(record)] = index
    return [
        (record, push_id)
        for index, (record, push_id) in enumerate(pairs)
        if record.kind not in SUPERSEDED_KINDS or last_index[key(record)] == index
    ]


@pytest.fixture(scope="module")
def records() -> list:
    return stream(3_000)


def test_the_stream_has_every_kind_the_backlog_tells_apart(records):
    kinds = {r.kind for r in records}
    assert {"location", "sublock", "alarm", "event", "command"} <= kinds
    assert {"location", "sublock"} == SUPERSEDED_KINDS
    assert COALESCE_AT > 3_000  # the default never coalesces a backlog this small


def test_below_the_threshold_nothing_is_coalesced_and_drain_empties_it(records):
    backlog = Backlog()
    ids = list(range(1, len(records) + 1))
    for k in range(0, len(records), 250):
        backlog.push(records[k:k + 250], ids[k:k + 250])

    assert len(backlog) == len(records)
    assert backlog.dropped == 0
    batch = backlog.drain()
    assert [i for _, i in batch] == ids  # everything, oldest first
    assert all(r is records[i - 1] for r, i in batch)
    assert len(backlog) == 0
    assert backlog.drain() == []
    assert backlog.dropped == 0


def test_past_the_threshold_only_the_newest_reading_per_device_and_sublock_is_kept(records):
    backlog = Backlog(coalesce_at=1_000)
    ids = list(range(101, 101 + len(records)))
    pairs = list(zip(records, ids, strict=True))
    backlog.push(records, ids)  # one push past the threshold: coalesced once, over all of it

    want = expected_after_coalescing(pairs)
    batch = backlog.drain()
    assert [i for _, i in batch] == [i for _, i in want]
    assert backlog.dropped == len(records) - len(batch) > 0

    kept = [i for _, i in batch]
    assert kept == sorted(kept)  # journal order survives
    for kind in ("alarm", "event", "command"):
        assert [i for r, i in batch if r.kind == kind] == [i for r, i in pairs if r.kind == kind]
    readings = [(r, i) for r, i in batch if r.kind in SUPERSEDED_KINDS]
    assert len({key(r) for r, _ in readings}) == len(readings)  # one per device / sub-lock
    newest = {key(r): i for r, i in pairs if r.kind in SUPERSEDED_KINDS}
    assert {key(r): i for r, i in readings} == newest
    assert {key(r)[0] for r, _ in readings} == {"location", "sublock"}


def test_coalescing_in_stages_ends_where_coalescing_once_would(records):
    backlog = Backlog(coalesce_at=400)
    ids = list(range(1, len(records) + 1))
    pairs = list(zip(records, ids, strict=True))
    alarms = [i for r, i in pairs if r.kind == "alarm"]
    for k in range(0, len(records), 100):
        backlog.push(records[k:k + 100], ids[k:k + 100])
        # At every step nothing is unaccounted for, and no alarm has gone.
        assert len(backlog) + backlog.dropped == k + len(records[k:k + 100])
        assert len(backlog) <= backlog.coalesce_at
    assert backlog.dropped > 0

    backlog.coalesce()  # as before a batch is handed over
    batch = backlog.drain()
    assert batch == expected_after_coalescing(pairs)
    assert [i for r, i in batch if r.kind == "alarm"] == alarms
    assert len(batch) + backlog.dropped == len(records)


def test_the_threshold_grows_with_what_was_kept_and_drain_resets_it(records):
    base = 500
    backlog = Backlog(coalesce_at=base)
    ids = list(range(1, len(records) + 1))
    backlog.push(records[:2_000], ids[:2_000])

    kept = len(backlog)
    assert backlog.dropped == 2_000 - kept > 0
    assert 2 * kept > base  # a fleet "bigger" than the threshold…
    assert backlog.coalesce_at == 2 * kept  # …is coalesced again only when it doubles
    assert backlog.base_coalesce_at == base

    # More pushes that stay within the raised threshold are not coalesced.
    room = backlog.coalesce_at - kept
    dropped = backlog.dropped
    backlog.push(records[2_000:2_000 + room], ids[2_000:2_000 + room])
    assert backlog.dropped == dropped
    assert len(backlog) == kept + room == backlog.coalesce_at
    # One more crosses it: coalesced again.
    backlog.push(records[2_000 + room:2_001 + room], ids[2_000 + room:2_001 + room])
    assert backlog.dropped > dropped
    assert backlog.coalesce_at == max(base, 2 * len(backlog))

    backlog.drain()
    assert backlog.coalesce_at == base
    assert len(backlog) == 0


def test_a_small_coalesced_backlog_keeps_the_base_threshold(records):
    backlog = Backlog(coalesce_at=10_000)
    backlog.push(records[:600], list(range(1, 601)))
    backlog.coalesce()  # explicitly, below the threshold
    assert 0 < len(backlog) < 600
    assert backlog.dropped == 600 - len(backlog)
    assert backlog.coalesce_at == 10_000  # 2 x kept is below the base: the base stays


def test_the_hard_cap_drops_the_oldest_and_counts_them(records):
    alarms = [r for r in records if r.kind not in SUPERSEDED_KINDS]  # nothing to coalesce
    assert len(alarms) > 300
    alarms = alarms[:300]
    backlog = Backlog(max_pending=100, coalesce_at=10**9)
    backlog.push(alarms[:80], list(range(1, 81)))
    assert len(backlog) == 80 and backlog.dropped == 0
    backlog.push(alarms[80:], list(range(81, 301)))

    assert len(backlog) == 100
    assert backlog.dropped == 200
    batch = backlog.drain()
    assert [i for _, i in batch] == list(range(201, 301))  # the newest 100, in order
    assert all(r is alarms[i - 1] for r, i in batch)


def test_the_cap_applies_after_coalescing(records):
    backlog = Backlog(max_pending=50, coalesce_at=1_000)
    ids = list(range(1, 2_001))
    backlog.push(records[:2_000], ids)
    pairs = list(zip(records[:2_000], ids, strict=True))
    coalesced = expected_after_coalescing(pairs)
    assert len(coalesced) > 50
    assert backlog.dropped == 2_000 - 50
    assert backlog.drain() == coalesced[-50:]


def test_pushes_from_many_threads_at_once_lose_nothing(records):
    threads_n, rounds, size = 8, 150, 7
    backlog = Backlog(coalesce_at=threads_n * rounds * size + 1)  # never reached
    barrier = threading.Barrier(threads_n)
    errors: list[BaseException] = []

    def pusher(t: int) -> None:
        try:
            barrier.wait(10)
            for n in range(rounds):
                first = (t * rounds + n) * size
                part = [records[(first + j) % len(records)] for j in range(size)]
                backlog.push(part, list(range(first, first + size)))
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=pusher, args=(t,)) for t in range(threads_n)]
    for th in threads:
        th.start()
    for th in threads:
        th.join(30)
    assert not errors
    assert not any(th.is_alive() for th in threads)

    total = threads_n * rounds * size
    assert len(backlog) == total
    assert backlog.dropped == 0
    batch = backlog.drain()
    got = [i for _, i in batch]
    assert sorted(got) == list(range(total))
    for t in range(threads_n):  # each thread's pushes stay in its own order, unsplit
        mine = [i for i in got if t * rounds * size <= i < (t + 1) * rounds * size]
        assert mine == sorted(mine)
    position = {i: n for n, i in enumerate(got)}
    for first in range(0, total, size):  # one push's records arrive together
        assert [position[first + j] for j in range(size)] == list(
            range(position[first], position[first] + size))


def test_pushing_and_draining_at_once_accounts_for_every_push(records):
    threads_n, rounds, size = 4, 200, 10
    backlog = Backlog(coalesce_at=300)  # coalescing runs concurrently with the drains
    alarm_like = {i for i, r in enumerate(records) if r.kind not in SUPERSEDED_KINDS}
    done = threading.Event()
    drained: list[tuple] = []
    errors: list[BaseException] = []

    def pusher(t: int) -> None:
        try:
            for n in range(rounds):
                first = (t * rounds + n) * size
                part = list(range(first, first + size))
                backlog.push([records[i % len(records)] for i in part], part)
        except BaseException as exc:
            errors.append(exc)

    def drainer() -> None:
        while not done.is_set():
            drained.extend(backlog.drain())
        drained.extend(backlog.drain())

    consumer = threading.Thread(target=drainer)
    consumer.start()
    pushers = [threading.Thread(target=pusher, args=(t,)) for t in range(threads_n)]
    for th in pushers:
        th.start()
    for th in pushers:
        th.join(30)
    done.set()
    consumer.join(30)
    assert not errors and not consumer.is_alive()

    total = threads_n * rounds * size
    ids = [i for _, i in drained]
    assert len(ids) == len(set(ids))  # nothing handed over twice
    assert len(ids) + backlog.dropped == total  # and nothing unaccounted for
    must_keep = {i for i in range(total) if i % len(records) in alarm_like}
    assert must_keep <= set(ids)  # coalescing never took an alarm, event or reply
