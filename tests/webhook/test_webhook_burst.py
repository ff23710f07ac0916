"""Issue 20: a burst of 1 000 concurrent posts beside 300 half-open sockets; slots and 503s.

Real sockets, the stdlib HTTP client, a real journal. Every post answered 200 must be in the
journal (200 is sent after the commit), and no post may fail because slow or hostile
clients hold connections that never finish their request head.
"""

from __future__ import annotations

import http.client
import json
import resource
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager

from waiting import wait_for
from webhook_helpers import Receiver, post

from app.protocol.push import RawPush
from app.webhook import WebhookConfig, WebhookServer

CLIENTS = 50
CONNECTIONS_PER_CLIENT = 20  # each client's pool: 50 × 20 = 1 000 posts in flight at once
HALF_OPEN = 300
PARTIAL_HEAD = b"POST /receiveAlarmData HTTP/1.1\r\nHost: x\r\nheaderKey: "


def _alarm(client: int, n: int) -> str:
    return json.dumps({"assetId": f"{client:03d}{n:03d}", "alarmType": 46,
                       "dateTime": "2020-04-01T00:00:00Z", "longitude": 0.0, "latitude": 0.0})


def _enough_descriptors(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != resource.RLIM_INFINITY and soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(needed, hard), hard))


@contextmanager
def _half_open(port: int, n: int) -> Iterator[list[socket.socket]]:
    """n connections that send part of a request head and then nothing."""
    with ExitStack() as stack:
        socks = []
        for _ in range(n):
            s = stack.enter_context(socket.create_connection(("127.0.0.1", port), timeout=30))
            s.sendall(PARTIAL_HEAD)
            socks.append(s)
        yield socks


def _read_status(s: socket.socket) -> int:
    """The status the server sent on a socket (0 if it closed without one)."""
    data = b""
    while b"\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return int(data.split(b" ", 2)[1]) if data.startswith(b"HTTP/1.1 ") else 0


def _burst(port: int) -> list[tuple[str, int, dict[str, str]]]:
    """1 000 posts, all released at once; (device, status, headers) for each."""
    total = CLIENTS * CONNECTIONS_PER_CLIENT
    go = threading.Barrier(total)
    results: list[tuple[str, int, dict[str, str]]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def one(client: int, n: int) -> None:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.connect()
            go.wait(60)
            reply = post(port, "/receiveAlarmData", _alarm(client, n), conn=conn)
            conn.close()
            with lock:
                results.append((f"{client:03d}{n:03d}", reply.status, reply.headers))
        except BaseException as exc:
            with lock:
                errors.append(exc)

    threads = [threading.Thread(target=one, args=(c, n), daemon=True)
               for c in range(CLIENTS) for n in range(CONNECTIONS_PER_CLIENT)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors[:3]
    return results


def test_1000_concurrent_posts_beside_300_half_open_sockets(
    receiver_factory: Callable[..., Receiver],
) -> None:
    _enough_descriptors(4 * (CLIENTS * CONNECTIONS_PER_CLIENT + HALF_OPEN) + 256)
    r = receiver_factory()  # the defaults: 2 s for a head, the default connection cap
    total = CLIENTS * CONNECTIONS_PER_CLIENT
    with _half_open(r.port, HALF_OPEN) as socks:
        wait_for(lambda: r.server.stats.open_connections >= HALF_OPEN, 30,
                 "the half-open sockets to hold their slots")
        started = time.perf_counter()
        results = _burst(r.port)
        elapsed = time.perf_counter() - started
        statuses = Counter(status for _, status, _ in results)
        # Each half-open socket is answered 408 (its head never came) and closed.
        half_open = Counter(_read_status(s) for s in socks)
    assert statuses == {200: total}, statuses
    assert half_open == {408: HALF_OPEN}
    rows = r.rows()
    journaled = Counter(row.device for row in rows)
    assert set(journaled) == {device for device, _, _ in results}  # every 200 is there
    assert max(journaled.values()) == 1
    assert {row.kind for row in rows} == {"alarm"}
    assert 503 not in r.server.stats.rejected
    print(f"\n{total} concurrent posts beside {HALF_OPEN} half-open sockets: all 200 and "
          f"journaled in {elapsed:.2f} s ({total / elapsed:,.0f} posts/s)")


def test_half_open_sockets_give_their_slots_up_and_503_comes_only_with_every_slot_busy() -> None:
    """40 slots held by half-open sockets; 40 posts whose commit is held back each take a
    slot from one of them (408, the oldest first); the 41st post finds every slot carrying a
    request: 503 with Retry-After. Once the journal commits, the 40 are answered 200."""
    held: list[RawPush] = []
    lock = threading.Lock()

    def submit(push: RawPush, hint: str | None) -> None:
        with lock:
            held.append(push)

    # A head timeout far away: every 408 here is an eviction, not a timeout.
    config = WebhookConfig(max_connections=40, header_timeout=120, commit_timeout=120)
    server = WebhookServer(config, submit).start_in_thread()
    try:
        port = server.port
        assert port is not None
        with _half_open(port, 40) as socks:
            wait_for(lambda: server.stats.open_connections == 40, 30, "40 half-open sockets")
            replies: list[int] = []
            posters = [threading.Thread(
                target=lambda n=n: replies.append(post(port, "/x", _alarm(2, n)).status))
                for n in range(40)]
            for t in posters:
                t.start()
            wait_for(lambda: len(held) == 40, 30, "40 posts waiting for their commit")
            evicted = Counter(_read_status(s) for s in socks)
            busy = post(port, "/x", _alarm(2, 99))
            assert busy.status == 503 and busy.headers["retry-after"] == "1"
            for push in held:  # the journal commits: the waiting posts are answered
                assert push.ack_token is not None
                push.ack_token()
            for t in posters:
                t.join(30)
        assert evicted == {408: 40}
        assert replies == [200] * 40
        notes = Counter((e.status, e.note) for e in server.stats.recent if e.status != 200)
        assert notes == {(408, "request head too slow (slot needed)"): 40,
                         (503, "too many connections"): 1}
    finally:
        server.stop()
