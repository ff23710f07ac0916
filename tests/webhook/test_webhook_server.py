"""The receiver over real sockets with the stdlib HTTP client: paths, guards, status codes."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable

import pytest
from webhook_helpers import Receiver, post, seed_examples

from app.protocol.topics import WEBHOOK_PATHS

PATH_OF_KIND = {kind: path for path, kind in WEBHOOK_PATHS.items()}


def _parses(text: str) -> bool:
    try:
        return isinstance(json.loads(text), dict)
    except ValueError:
        return False


@pytest.mark.parametrize("route", ["kind-path", "catch-all"])
def test_every_seed_example_is_journaled_with_its_kind(receiver: Receiver, route: str) -> None:
    examples = seed_examples()
    assert len(examples) >= 10
    sent = []
    for ex in examples:
        path = PATH_OF_KIND[ex["kind"]] if route == "kind-path" else "/receive"
        reply = receiver.post(path, ex["payload"])
        # The seed's own event example is broken JSON: 400, but journaled all the same.
        expected = 200 if _parses(ex["payload"]) else 400
        assert reply.status == expected, (ex["name"], reply.body)
        assert reply.json()["result"] == expected
        assert reply.headers["content-type"] == "application/json"
        sent.append((ex, path))
    assert any(not _parses(ex["payload"]) for ex, _ in sent), "seed has a broken example"

    rows = receiver.rows()
    assert len(rows) == len(examples)
    for row, (ex, path) in zip(rows, sent, strict=True):
        assert row.source == "webhook"
        assert row.topic == path
        assert row.kind == ex["kind"], ex["name"]
        assert row.raw == ex["payload"].encode("utf-8")
        asset = json.loads(ex["payload"])["assetId"] if _parses(ex["payload"]) else None
        if asset is not None:
            assert row.device == str(asset)
        if not _parses(ex["payload"]):
            assert row.errors, "a broken body must be journaled with its errors"
    stats = receiver.server.stats
    assert stats.received == len(examples)
    assert stats.rejected == {}


def test_reply_matches_the_vendor_samples(receiver: Receiver) -> None:
    reply = receiver.post("/receiveLocationData", '{"assetId":"1","longitude":1,"latitude":2}')
    assert reply.status == 200
    assert reply.json() == {"result": 200}


def test_trailing_slash_and_query_string_are_the_same_path(receiver: Receiver) -> None:
    body = '{"assetId":"7","alarmType":46,"dateTime":"2020-04-01T00:00:00Z"}'
    assert receiver.post("/receiveAlarmData/", body).status == 200
    assert receiver.post("/receiveAlarmData?from=platform", body).status == 200
    rows = receiver.rows()
    assert [r.kind for r in rows] == ["alarm", "alarm"]
    assert {r.topic for r in rows} == {"/receiveAlarmData/", "/receiveAlarmData"}


def test_configured_paths_are_hints_and_any_path_is_accepted(
    receiver_factory: Callable[..., Receiver],
) -> None:
    # Issue 20: a path outside the map is accepted too (before: 404, not journaled).
    r = receiver_factory(paths={"/lock/alarm": "alarm"}, catch_all="/lock/any")
    body = '{"assetId":"7","alarmType":46,"dateTime":"2020-04-01T00:00:00Z"}'
    assert r.post("/lock/alarm", body).status == 200
    assert r.post("/lock/any", body).status == 200
    assert r.post("/receiveAlarmData", body).status == 200
    rows = r.rows()
    assert [row.kind for row in rows] == ["alarm", "alarm", "alarm"]
    assert all(row.errors == [] and row.warnings == [] for row in rows)


def test_unknown_path_is_journaled_and_remembered(receiver: Receiver) -> None:
    # Issue 20: any POST path is accepted (before: 404, not journaled); the path is still
    # remembered, so the window can show where the platform posts.
    reply = receiver.post("/wp-login.php", '{"assetId":"1"}')
    assert reply.status == 200
    (row,) = receiver.rows()
    assert (row.topic, row.kind, row.device) == ("/wp-login.php", "unknown", "1")
    assert receiver.server.stats.unknown_paths == {"/wp-login.php": 1}
    assert receiver.server.stats.rejected == {}


def test_any_path_infers_the_kind(receiver: Receiver) -> None:
    body = '{"assetId":"9","commandType":"BASE1","content":"[]","dateTime":"2020-01-01T00:00:00Z"}'
    assert receiver.post("/lock/cmdresponse", body).status == 200
    assert receiver.post("/my/own/hook", body).status == 200
    rows = receiver.rows()
    assert [(row.kind, row.topic) for row in rows] == [
        ("command", "/lock/cmdresponse"), ("command", "/my/own/hook")]


# -- the required header ----------------------------------------------------------------------


@pytest.fixture
def guarded(receiver_factory: Callable[..., Receiver]) -> Receiver:
    return receiver_factory(header_name="headerKey", header_value="s3cret-value")


BODY = '{"assetId":"8022300001","longitude":0.0,"latitude":0.0,"gpsTime":"2020-01-01T00:00:00Z"}'


def test_header_accepted(guarded: Receiver) -> None:
    # Header names are case-insensitive, as HTTP says.
    assert guarded.post("/receiveLocationData", BODY, {"headerKey": "s3cret-value"}).status == 200
    assert guarded.post("/receiveLocationData", BODY, {"HEADERKEY": "s3cret-value"}).status == 200
    assert len(guarded.rows()) == 2


@pytest.mark.parametrize("headers", [
    {"headerKey": "wrong"},
    {"headerKey": "s3cret-valu"},
    {"headerKey": "s3cret-value-and-more"},
    {"headerKey": ""},
    {"otherKey": "s3cret-value"},
    {},
], ids=["wrong", "prefix", "longer", "empty", "other-name", "missing"])
def test_header_refused(guarded: Receiver, headers: dict[str, str]) -> None:
    reply = guarded.post("/receiveLocationData", BODY, headers)
    assert reply.status == 401
    assert reply.json()["result"] == 401
    assert reply.headers["connection"] == "close"
    assert guarded.rows() == []
    assert guarded.server.stats.rejected == {401: 1}


def test_header_sent_twice_is_refused(guarded: Receiver) -> None:
    raw = _raw_exchange(
        guarded.port,
        b"POST /receiveLocationData HTTP/1.1\r\nHost: x\r\nheaderKey: s3cret-value\r\n"
        b"headerKey: other\r\nContent-Length: 2\r\n\r\n{}",
    )
    assert raw.startswith(b"HTTP/1.1 401 ")
    assert guarded.rows() == []


# -- bad input ------------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b'{"assetId": "8022300001", "longitude": ',  # cut short
    b"not json at all",
    b"[1, 2, 3]",  # JSON, but not an object
    b"\xff\xfe{}",  # not UTF-8
    b"",  # empty
], ids=["truncated", "text", "array", "not-utf8", "empty"])
def test_malformed_body_is_400_and_journaled(receiver: Receiver, body: bytes) -> None:
    reply = receiver.post("/receiveLocationData", body)
    assert reply.status == 400
    assert reply.json()["result"] == 400
    assert reply.json()["journaled"] is True
    (row,) = receiver.rows()
    assert row.source == "webhook"
    assert row.raw == body
    assert row.errors
    assert receiver.server.stats.malformed == 1


def test_body_over_the_limit_is_413_and_not_journaled(
    receiver_factory: Callable[..., Receiver],
) -> None:
    r = receiver_factory(max_body=1000)
    ok = '{"assetId":"1","pad":"' + "x" * (1000 - 24) + '"}'
    assert len(ok) == 1000
    assert r.post("/receive", ok).status == 200
    big = '{"assetId":"1","pad":"' + "x" * 5000 + '"}'
    reply = r.post("/receive", big)
    assert reply.status == 413
    assert reply.headers["connection"] == "close"
    assert len(r.rows()) == 1
    assert r.server.stats.rejected == {413: 1}


def test_default_limit_is_one_megabyte_and_a_2mb_post_gets_413(receiver: Receiver) -> None:
    big = b'{"pad":"' + b"x" * (2 * 1024 * 1024) + b'"}'
    assert receiver.post("/receive", big).status == 413
    assert receiver.rows() == []


def test_413_is_answered_without_reading_the_body(receiver: Receiver) -> None:
    # Only the head is sent, announcing a gigabyte: the answer comes at once.
    raw = _raw_exchange(
        receiver.port,
        b"POST /receive HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000000\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 413 ")
    assert receiver.rows() == []


def test_chunked_body_over_the_limit_is_413(receiver_factory: Callable[..., Receiver]) -> None:
    r = receiver_factory(max_body=100)
    chunk = b"x" * 80
    raw = _raw_exchange(
        r.port,
        b"POST /receive HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        + b"50\r\n" + chunk + b"\r\n" + b"50\r\n" + chunk + b"\r\n0\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 413 ")
    assert r.rows() == []


def test_chunked_body_is_accepted(receiver: Receiver) -> None:
    body = b'{"assetId":"5","alarmType":1,"dateTime":"2020-04-01T00:00:00Z"}'
    raw = _raw_exchange(
        receiver.port,
        b"POST /receive HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
        b"Connection: close\r\n\r\n"
        + f"{10:x}\r\n".encode() + body[:10] + b"\r\n"
        + f"{len(body) - 10:x};ext=1\r\n".encode() + body[10:] + b"\r\n0\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 200 ")
    (row,) = receiver.rows()
    assert (row.kind, row.raw) == ("alarm", body)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD", "OPTIONS"])
def test_only_post_is_accepted(receiver: Receiver, method: str) -> None:
    reply = receiver.post("/receiveLocationData", b"" if method in ("GET", "HEAD") else BODY,
                          method=method)
    assert reply.status == 405
    assert reply.headers["allow"] == "POST"
    assert receiver.rows() == []


def test_missing_content_length_is_411(receiver: Receiver) -> None:
    raw = _raw_exchange(receiver.port, b"POST /receive HTTP/1.1\r\nHost: x\r\n\r\n{}")
    assert raw.startswith(b"HTTP/1.1 411 ")
    assert receiver.rows() == []


@pytest.mark.parametrize("head", [
    b"GARBAGE\r\n\r\n",
    b"POST /receive HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
    b"POST /receive HTTP/1.1\r\nContent-Length: -2\r\n\r\n{}",
    b"POST /receive HTTP/1.1\r\nContent-Length: 2\r\nTransfer-Encoding: chunked\r\n\r\n{}",
    b"POST /receive HTTP/1.1\r\nX: a\r\n folded\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /receive HTTP/2.0\r\nContent-Length: 2\r\n\r\n{}",
    b"POST /receive HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n",
], ids=["request-line", "two-lengths", "negative-length", "length-and-chunked", "folded",
        "http2", "gzip"])
def test_unparseable_requests_are_refused_and_the_server_lives_on(
    receiver: Receiver, head: bytes
) -> None:
    raw = _raw_exchange(receiver.port, head)
    status = int(raw.split(b" ", 2)[1])
    assert 400 <= status < 600
    assert receiver.rows() == []
    assert receiver.post("/receive", BODY).status == 200


def test_oversized_head_is_431(receiver: Receiver) -> None:
    raw = _raw_exchange(
        receiver.port,
        b"POST /receive HTTP/1.1\r\nX-Big: " + b"a" * 100_000 + b"\r\n\r\n",
    )
    assert raw.startswith(b"HTTP/1.1 431 ")


def test_slow_body_is_408(receiver_factory: Callable[..., Receiver]) -> None:
    r = receiver_factory(body_timeout=0.3)
    with socket.create_connection(("127.0.0.1", r.port), timeout=10) as s:
        s.sendall(b"POST /receive HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        reply = _read_all(s)  # the server answers once its timeout is up, then closes
    assert reply.startswith(b"HTTP/1.1 408 ")
    assert r.rows() == []


def test_slow_head_is_408(receiver_factory: Callable[..., Receiver]) -> None:
    r = receiver_factory(header_timeout=0.3)
    with socket.create_connection(("127.0.0.1", r.port), timeout=10) as s:
        s.sendall(b"POST /receive HTTP/1.1\r\nHost: x\r\n")
        assert _read_all(s).startswith(b"HTTP/1.1 408 ")


def test_expect_100_continue(receiver: Receiver) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as s:
        s.sendall(b"POST /receive HTTP/1.1\r\nHost: x\r\nExpect: 100-continue\r\n"
                  b"Connection: close\r\nContent-Length: 15\r\n\r\n")
        interim = s.recv(100)
        assert interim == b"HTTP/1.1 100 Continue\r\n\r\n"
        s.sendall(b'{"assetId":"1"}')
        assert _read_all(s).startswith(b"HTTP/1.1 200 ")
    assert len(receiver.rows()) == 1


def test_keep_alive_carries_many_posts(receiver: Receiver) -> None:
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", receiver.port, timeout=10)
    try:
        for i in range(20):
            body = json.dumps({"assetId": str(i), "alarmType": 1, "dateTime": "2020-01-01"})
            reply = post(receiver.port, "/receiveAlarmData", body, conn=conn)
            assert reply.status == 200
            assert reply.headers["connection"] == "keep-alive"
        bad = post(receiver.port, "/receiveAlarmData", "{", conn=conn)
        assert bad.status == 400  # the body was read whole: the connection stays usable
        assert post(receiver.port, "/receiveAlarmData", BODY, conn=conn).status == 200
    finally:
        conn.close()
    assert len(receiver.rows()) == 22
    assert receiver.server.stats.connections == 1


def test_a_client_vanishing_mid_body_harms_nothing(receiver: Receiver) -> None:
    with socket.create_connection(("127.0.0.1", receiver.port), timeout=10) as s:
        s.sendall(b"POST /receive HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"a\"")
    assert receiver.post("/receive", BODY).status == 200
    assert len(receiver.rows()) == 1


def test_profile_name_is_kept(receiver_factory: Callable[..., Receiver]) -> None:
    r = receiver_factory(profile="depot-east")
    assert r.post("/receive", BODY).status == 200
    (row,) = r.rows()
    assert row.profile == "depot-east"


def test_stop_then_port_is_free_again(receiver_factory: Callable[..., Receiver]) -> None:
    r = receiver_factory()
    port = r.port
    r.server.stop()
    assert not r.server.running
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=2).close()


# -- raw socket helpers -----------------------------------------------------------------------


def _read_all(s: socket.socket) -> bytes:
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


def _raw_exchange(port: int, data: bytes) -> bytes:
    """Send bytes as they are, read until the server closes (every refusal closes)."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)
        return _read_all(s)
