"""Many clients at once: every POST answered 200 and journaled, none lost."""

from __future__ import annotations

import http.client
import json
import threading
import time
from collections import Counter
from collections.abc import Callable

from webhook_helpers import Receiver, post

from app.protocol.topics import WEBHOOK_PATHS

CLIENTS = 20
PER_CLIENT = 10
PATHS = [*WEBHOOK_PATHS, "/receive"]


def _body(client: int, n: int) -> str:
    return json.dumps({
        "assetId": f"{client:04d}{n:04d}", "alarmType": 46, "dateTime": "2020-04-01T00:00:00Z",
        "longitude": 113.9, "latitude": 22.6, "speed": 0, "mileage": 0, "cells": "",
        "describe": "", "fileIndex": "",
    })


def _run_clients(port: int, keep_alive: bool) -> tuple[list[int], float]:
    statuses: list[int] = []
    lock = threading.Lock()
    go = threading.Barrier(CLIENTS)
    errors: list[BaseException] = []

    def client(c: int) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30) if keep_alive else None
        try:
            go.wait()
            for n in range(PER_CLIENT):
                reply = post(port, "/receiveAlarmData", _body(c, n), conn=conn)
                with lock:
                    statuses.append(reply.status)
        except BaseException as exc:  # reported below, with the statuses seen so far
            errors.append(exc)
        finally:
            if conn is not None:
                conn.close()

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    elapsed = time.perf_counter() - started
    assert not errors, errors[:3]
    return statuses, elapsed


def _check_all_journaled(r: Receiver) -> None:
    rows = r.rows()
    assert len(rows) == CLIENTS * PER_CLIENT
    devices = Counter(row.device for row in rows)
    expected = {f"{c:04d}{n:04d}" for c in range(CLIENTS) for n in range(PER_CLIENT)}
    assert set(devices) == expected
    assert max(devices.values()) == 1  # none twice
    assert {row.kind for row in rows} == {"alarm"}
    assert {row.source for row in rows} == {"webhook"}
    assert r.server.stats.accepted == CLIENTS * PER_CLIENT
    assert r.server.stats.rejected == {}


def test_200_posts_from_20_clients_on_fresh_connections(
    receiver_factory: Callable[..., Receiver],
) -> None:
    r = receiver_factory()
    statuses, elapsed = _run_clients(r.port, keep_alive=False)
    assert statuses == [200] * (CLIENTS * PER_CLIENT)
    _check_all_journaled(r)
    print(f"\n{len(statuses) / elapsed:,.0f} posts/s, 20 clients, new connection per post")


def test_200_posts_from_20_clients_with_keep_alive(
    receiver_factory: Callable[..., Receiver],
) -> None:
    r = receiver_factory()
    statuses, elapsed = _run_clients(r.port, keep_alive=True)
    assert statuses == [200] * (CLIENTS * PER_CLIENT)
    _check_all_journaled(r)
    assert r.server.stats.connections == CLIENTS
    print(f"\n{len(statuses) / elapsed:,.0f} posts/s, 20 clients, keep-alive")
