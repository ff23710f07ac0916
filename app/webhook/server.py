"""The webhook receiver: the vendor's push engine POSTs one JSON object per request.

Why a hand-written asyncio server (`asyncio.start_server`) and not something else:

* It needs no new dependency, and it runs wherever an asyncio loop runs: on the window's
  qasync loop, and headless (`record`) on a plain asyncio loop in a background thread
  (`start_in_thread`).
* qasync's Windows loop is IOCP-based and lacks `add_reader()`, which is what breaks the
  paho-on-asyncio pattern. Streams and servers do not use it: `start_server` goes through
  the loop's own transports (proactor accept/recv/send on Windows, qasync's
  QSocketNotifier-backed selector on Linux and macOS), and TLS is layered on them by asyncio's
  `SSLProtocol`. The tests run it on qasync's loop too.
* Qt's `QHttpServer` is not in PySide6-Essentials (it is an add-on module), and Python's
  `http.server` would need one thread per connection plus hand-over to the loop anyway.

One request, one push. In order:
  405 (with `Allow: POST`) for any method but POST; 401 if the configured header is missing or
  wrong (constant-time comparison); 411 without Content-Length (chunked bodies are accepted);
  413 when the declared length exceeds `max_body` — answered before a byte of the body is read;
  408 if the body does not arrive within `body_timeout` (slowloris). None of these is
  journaled: nothing was accepted. Any path is accepted (the vendor lets the customer type any
  URL): the body goes to the journal with the kind its path hints at, if any (the decoder goes
  by the content and notes a disagreement as a warning), and the answer is 200
  `{"result":200}` — or 400 if it is not a JSON object, which is *still* journaled: it decodes
  into a record that says what was wrong, so nothing the platform sent is lost.

Slots: at most `max_connections` connections are open. A connection holds a slot, not a
worker: until its request head is complete it only waits (2 s, `header_timeout`, then 408).
When every slot is taken, a new connection evicts the oldest one that is not in the middle of
a request — a half-open socket still to send its head (answered 408) or an idle keep-alive one
(closed) — and only when every slot carries a request in progress is it answered 503 with
`Retry-After`. A slow or hostile client therefore cannot make a valid post fail.

The 200 (or 400) is sent only after the journal writer has committed the push (through the
`RawPush.ack_token` the writer calls after each commit, like the MQTT QoS 1 manual ack), so a
200 means "on disk". If the disk does not answer within `commit_timeout` the answer is 503 and
the push stays queued: the platform may send it again (a duplicate beats a loss).

Rejections close the connection (after a short "lingering close" that discards what the client
is still sending, so it reads our status instead of a reset); 200 and 400 keep it alive.
A request never crashes the server: every handler catches everything it did not expect, logs
it, and closes only its own connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import json
import logging
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Final

from app import logs
from app.protocol.push import Kind, RawPush
from app.protocol.topics import webhook_kind
from app.webhook.config import WebhookConfig
from app.webhook.http import BadRequest, RequestHead, parse_chunk_size, parse_head, response

log = logging.getLogger(__name__)

Submit = Callable[[RawPush, str | None], None]

_HEAD_LIMIT: Final = 32 * 1024  # request line + headers; the stream's line limit as well
_LINGER_SECONDS: Final = 2.0
_LINGER_BYTES: Final = 8 * 1024 * 1024
_MAX_UNKNOWN_PATHS: Final = 32
_RECENT: Final = 200


class _TooLarge(Exception):
    pass


@dataclass(frozen=True, slots=True)
class RequestLogEntry:
    """One handled request, for the window's webhook panel."""

    at: float
    peer: str
    method: str
    path: str
    status: int
    size: int
    note: str = ""


@dataclass
class WebhookStats:
    """Counters for the window and `record`; updated on the server's loop only."""

    received: int = 0  # pushes handed to the journal (answered 200, 400 or 503)
    accepted: int = 0  # answered 200
    malformed: int = 0  # answered 400 and journaled as failed pushes
    commit_timeouts: int = 0  # answered 503: journaled late, the platform may resend
    rejected: dict[int, int] = field(default_factory=dict)  # status → count, NOT journaled
    connections: int = 0
    open_connections: int = 0
    bytes_received: int = 0
    last_push_at: float = 0.0
    # Paths the platform posted to that are not in the path map (bounded): "name its kind?"
    unknown_paths: dict[str, int] = field(default_factory=dict)
    recent: deque[RequestLogEntry] = field(default_factory=lambda: deque(maxlen=_RECENT))

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())

    def describe(self) -> str:
        rejected = ", ".join(f"{n}×{code}" for code, n in sorted(self.rejected.items()))
        return (
            f"{self.received} received ({self.accepted} ok, {self.malformed} malformed), "
            f"{self.rejected_total} rejected{f' ({rejected})' if rejected else ''}"
        )


@dataclass(eq=False, slots=True)
class _Conn:
    writer: asyncio.StreamWriter
    peer: str
    idle: bool = True  # waiting for a request head: the slot may be given to a newcomer
    requests: int = 0


@dataclass(slots=True)
class _Outcome:
    status: int
    keep_alive: bool
    note: str = ""
    size: int = 0


class WebhookServer:
    """Receives vendor webhook POSTs and hands each body to `submit` (the journal writer).

    On a running loop (the window, via qasync): `await server.start()` … `await server.aclose()`.
    Headless: `server.start_in_thread()` … `server.stop()`.

    `submit(push, kind_hint)` must return at once; with `config.wait_commit` it must also call
    `push.ack_token()` once the push is stored (JournalWriter.submit does both).
    """

    def __init__(self, config: WebhookConfig, submit: Submit) -> None:
        config.validate()
        self.config = config
        self._submit = submit
        self.stats = WebhookStats()
        self.started = threading.Event()  # set while listening (tests and `record` wait on it)
        self.port: int | None = None
        self._server: asyncio.Server | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._conns: dict[asyncio.Task[object], _Conn] = {}
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._expected = (config.header_value or "").encode("utf-8")
        logs.add_secret(config.header_value)  # masked in the log under any header name

    # -- facts for the window ------------------------------------------------------------

    @property
    def exposed(self) -> bool:
        """Listening beyond this machine (0.0.0.0, ::, a LAN address): the window warns."""
        return self.config.exposed

    @property
    def running(self) -> bool:
        return self.started.is_set()

    @property
    def url(self) -> str:
        """Base URL to put in the vendor rule (host as bound; the window may show the LAN IP)."""
        scheme = "https" if self.config.tls else "http"
        host = self.config.bind or "0.0.0.0"
        if ":" in host and not host.startswith("["):
            host = f"[{host}]"
        return f"{scheme}://{host}:{self.port if self.port is not None else self.config.port}"

    def urls(self) -> dict[str, str]:
        """Full URL of each path → the kind it receives ("auto" for the catch-all)."""
        out = {self.url + path: str(kind) for path, kind in self.config.paths.items()}
        if self.config.catch_all:
            out[self.url + self.config.catch_all] = "auto"
        return out

    # -- life cycle on a running loop ----------------------------------------------------

    async def start(self) -> None:
        """Listen on the configured address; raises OSError (port taken…) or ssl.SSLError."""
        if self._server is not None:
            raise RuntimeError("webhook server already started")
        cfg = self.config
        ssl_ctx = self._ssl_context() if cfg.tls else None
        host = cfg.bind.strip().strip("[]")
        self._loop = asyncio.get_running_loop()
        self._stopping = False
        self._server = await asyncio.start_server(
            self._on_connect,
            host=None if host in ("", "*") else host,  # None: every interface, v4 and v6
            port=cfg.port,
            ssl=ssl_ctx,
            ssl_handshake_timeout=cfg.header_timeout if ssl_ctx else None,
            limit=_HEAD_LIMIT,
            # A burst of new connections waits in the kernel's queue, not in SYN retries.
            backlog=max(512, min(cfg.max_connections, 4096)),
        )
        self.port = self._server.sockets[0].getsockname()[1]
        self.started.set()
        log.info("webhook receiver listening on %s%s", self.url,
                 " (exposed to the network)" if self.exposed else "")

    async def aclose(self, grace: float = 2.0) -> None:
        """Stop listening, let requests in flight finish (up to `grace` s), close the rest."""
        self._stopping = True
        server, self._server = self._server, None
        if server is not None:
            server.close()
        busy = []
        for task, conn in list(self._conns.items()):
            if conn.idle:
                task.cancel()
            else:
                busy.append(task)
        if busy:
            _done, pending = await asyncio.wait(busy, timeout=grace)
            for task in pending:
                task.cancel()
        leftover = [t for t in self._conns if not t.done()]
        if leftover:
            await asyncio.wait(leftover, timeout=1.0)
        if server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(server.wait_closed(), 1.0)
        self.started.clear()

    # -- life cycle on a thread of its own (headless) -------------------------------------

    def start_in_thread(self, timeout: float = 10.0) -> WebhookServer:
        """Run on a private asyncio loop in a daemon thread; returns once listening."""
        if self._thread is not None:
            raise RuntimeError("webhook server already started")
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:
                failure.append(exc)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
                with contextlib.suppress(Exception):
                    loop.run_until_complete(asyncio.sleep(0))
                loop.close()

        self._thread = threading.Thread(target=run, name="webhook-server", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise TimeoutError("webhook server did not start")
        if failure:
            self._thread.join(timeout)
            self._thread = None
            raise failure[0]
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop a server started with `start_in_thread` (from any other thread)."""
        thread, loop = self._thread, self._loop
        if thread is None or loop is None:
            return
        if loop.is_running():
            future = asyncio.run_coroutine_threadsafe(self.aclose(), loop)
            try:
                future.result(timeout)
            except Exception:
                log.exception("webhook server did not stop cleanly")
            loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout)
        self._thread = None

    # -- connections ----------------------------------------------------------------------

    def _ssl_context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        ctx.load_cert_chain(self.config.certfile or "", self.config.keyfile)
        return ctx

    async def _on_connect(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        peer = _peer_text(writer.get_extra_info("peername"))
        conn = _Conn(writer, peer)
        stats = self.stats
        stats.connections += 1
        if len(self._conns) >= self.config.max_connections:
            self._evict_one()
        if self._stopping or len(self._conns) >= self.config.max_connections:
            with contextlib.suppress(Exception):
                writer.write(response(503, {"result": 503, "error": "busy"}, keep_alive=False,
                                      extra={"Retry-After": "1"}))
                await asyncio.wait_for(writer.drain(), 1.0)
            self._count(503, peer, "-", "-", 0, "too many connections")
            writer.close()
            return
        self._conns[task] = conn
        stats.open_connections += 1
        try:
            await self._serve(reader, writer, conn)
        except (ConnectionError, asyncio.IncompleteReadError, ssl.SSLError, TimeoutError):
            pass  # the peer went away or stalled: nothing to answer
        except asyncio.CancelledError:
            pass  # aclose(): the task ends here, which is what was asked
        except Exception:
            log.exception("webhook: unexpected error serving %s", peer)
        finally:
            if self._conns.pop(task, None) is not None:  # else evicted, already counted
                stats.open_connections -= 1
            with contextlib.suppress(Exception):
                writer.close()

    def _evict_one(self) -> bool:
        """Free the slot of the oldest connection waiting for a request head (see the module
        docstring); False if every connection is in the middle of a request."""
        for task, conn in self._conns.items():
            if conn.idle and not task.done():
                break
        else:
            return False
        del self._conns[task]
        self.stats.open_connections -= 1
        if conn.requests == 0:  # never sent a whole head: tell it, as the timeout would
            self._count(408, conn.peer, "-", "-", 0, "request head too slow (slot needed)")
            with contextlib.suppress(Exception):
                conn.writer.write(response(408, {"result": 408, "error": "request head too slow"},
                                           keep_alive=False))
        task.cancel()  # its finally closes the socket, after the 408 is flushed
        return True

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, conn: _Conn
    ) -> None:
        cfg = self.config
        while not self._stopping:
            conn.idle = True
            first = conn.requests == 0
            try:
                head_bytes = await asyncio.wait_for(
                    reader.readuntil(b"\r\n\r\n"),
                    cfg.header_timeout if first else cfg.idle_timeout,
                )
            except TimeoutError:
                # An idle keep-alive connection is closed silently: an unasked 408 could be
                # read by the client as the answer to the request it is just sending.
                if first:
                    await self._reject(reader, writer, conn, None, 408, "request head too slow")
                return
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    self._count(400, conn.peer, "-", "-", len(exc.partial), "truncated head")
                return
            except asyncio.LimitOverrunError:
                await self._reject(reader, writer, conn, None, 431, "request head too large")
                return
            conn.idle = False
            conn.requests += 1
            self.stats.bytes_received += len(head_bytes)
            try:
                head = parse_head(head_bytes)
            except BadRequest as exc:
                await self._reject(reader, writer, conn, None, exc.status, exc.reason)
                return
            outcome = await self._request(reader, writer, conn, head)
            if not outcome.keep_alive:
                return

    # -- one request ----------------------------------------------------------------------

    async def _request(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        conn: _Conn,
        head: RequestHead,
    ) -> _Outcome:
        cfg = self.config
        path = head.path

        async def reject(status: int, note: str, extra: dict[str, str] | None = None) -> _Outcome:
            await self._reject(reader, writer, conn, head, status, note, extra)
            return _Outcome(status, False, note)

        if head.method != "POST":
            return await reject(405, "only POST is accepted", {"Allow": "POST"})
        if cfg.header_name is not None:
            values = head.headers.get(cfg.header_name.lower(), [])
            given = values[0].encode("latin-1") if len(values) == 1 else b""
            if not hmac.compare_digest(given, self._expected):
                return await reject(401, "missing or wrong header" if values else "missing header")
        kind = self._route(path)
        try:
            chunked = head.chunked()
            length = head.content_length()
        except BadRequest as exc:
            return await reject(exc.status, exc.reason)
        if not chunked:
            if length is None:
                return await reject(411, "Content-Length required")
            if length > cfg.max_body:
                return await reject(413, f"body over {cfg.max_body} bytes")
        expect = head.header("expect")
        if expect is not None:
            if expect.lower() != "100-continue":
                return await reject(417, "unsupported Expect")
            if head.version == "HTTP/1.1":
                writer.write(b"HTTP/1.1 100 Continue\r\n\r\n")
        try:
            body = await asyncio.wait_for(
                _read_body(reader, length or 0, chunked, cfg.max_body), cfg.body_timeout
            )
        except TimeoutError:
            return await reject(408, "body too slow", None)
        except _TooLarge:
            return await reject(413, f"body over {cfg.max_body} bytes")
        except BadRequest as exc:
            return await reject(exc.status, exc.reason)
        except asyncio.LimitOverrunError:
            return await reject(400, "malformed chunk")
        except asyncio.IncompleteReadError:
            self._count(400, conn.peer, head.method, path, 0, "client closed mid-body")
            return _Outcome(400, False, "client closed mid-body")
        self.stats.bytes_received += len(body)
        return await self._accept(writer, conn, head, path, kind, body)

    def _route(self, path: str) -> Kind | None:
        """The kind `path` hints at (None: let the content alone decide); a path outside the
        map is remembered, so the window can show where the platform posts."""
        cfg = self.config
        if cfg.catch_all is not None and path.rstrip("/") == cfg.catch_all.rstrip("/"):
            return None
        kind = cfg.paths.get(path)
        if kind is None:
            kind = webhook_kind(path, cfg.paths)
            if path not in cfg.paths and path.rstrip("/") not in cfg.paths:
                unknown = self.stats.unknown_paths
                if path in unknown or len(unknown) < _MAX_UNKNOWN_PATHS:
                    unknown[path] = unknown.get(path, 0) + 1
        return kind

    async def _accept(
        self,
        writer: asyncio.StreamWriter,
        conn: _Conn,
        head: RequestHead,
        path: str,
        kind: Kind | None,
        body: bytes,
    ) -> _Outcome:
        cfg = self.config
        stats = self.stats
        received_at = time.time()
        problem = json_problem(body)
        committed: asyncio.Future[None] | None = None
        ack: Callable[[], None] | None = None
        if cfg.wait_commit:
            loop = asyncio.get_running_loop()
            committed = loop.create_future()
            ack = _make_ack(loop, committed)
        push = RawPush("webhook", path, body, received_at, cfg.profile, ack_token=ack)
        try:
            self._submit(push, kind)
        except Exception:
            log.exception("webhook: journal refused a push")
            await self._reject(None, writer, conn, head, 503, "journal unavailable")
            return _Outcome(503, False)
        stats.received += 1
        stats.last_push_at = received_at
        status = 200 if problem is None else 400
        note = problem or ""
        if committed is not None:
            try:
                await asyncio.wait_for(committed, cfg.commit_timeout)
            except TimeoutError:
                status, note = 503, "journal did not commit in time (push still queued)"
        keep = head.keep_alive and not self._stopping
        if status == 200:
            stats.accepted += 1
            body_out: dict[str, object] = {"result": 200}
        else:
            if status == 400:
                stats.malformed += 1
            else:
                stats.commit_timeouts += 1
            body_out = {"result": status, "error": note, "journaled": True}
        writer.write(response(status, body_out, keep_alive=keep,
                              extra={"Retry-After": "5"} if status == 503 else None))
        await writer.drain()
        stats.recent.append(RequestLogEntry(received_at, conn.peer, head.method, path, status,
                                            len(body), note))
        return _Outcome(status, keep, note, len(body))

    async def _reject(
        self,
        reader: asyncio.StreamReader | None,
        writer: asyncio.StreamWriter,
        conn: _Conn,
        head: RequestHead | None,
        status: int,
        note: str,
        extra: dict[str, str] | None = None,
    ) -> None:
        """Answer an error without journaling, then close (after draining what is in flight)."""
        method = head.method if head else "-"
        path = head.path if head else "-"
        self._count(status, conn.peer, method, path, 0, note)
        with contextlib.suppress(Exception):
            writer.write(response(status, {"result": status, "error": note}, keep_alive=False,
                                  extra=extra))
            await asyncio.wait_for(writer.drain(), 2.0)
        if reader is not None and head is not None and _may_have_body(head):
            await _linger(reader, writer)

    def _count(self, status: int, peer: str, method: str, path: str, size: int, note: str) -> None:
        rejected = self.stats.rejected
        rejected[status] = rejected.get(status, 0) + 1
        self.stats.recent.append(RequestLogEntry(time.time(), peer, method, path, status, size,
                                                 note))


# -- helpers --------------------------------------------------------------------------------


def json_problem(body: bytes) -> str | None:
    """Why `body` is not a JSON object (None if it is) — the 400 versus 200 decision."""
    if body.startswith(b"\xef\xbb\xbf"):
        body = body[3:]
    if not body.strip():
        return "empty body"
    try:
        obj = json.loads(body.decode("utf-8"))
    except UnicodeDecodeError:
        return "body is not UTF-8"
    except (ValueError, RecursionError) as exc:
        return f"body is not valid JSON: {str(exc)[:120]}"
    if not isinstance(obj, dict):
        return f"body is a JSON {type(obj).__name__}, not an object"
    return None


def _make_ack(loop: asyncio.AbstractEventLoop, future: asyncio.Future[None]) -> Callable[[], None]:
    """The callback the journal writer calls (on its thread) after committing the push."""

    def resolve() -> None:
        if not future.done():
            future.set_result(None)

    def ack() -> None:
        with contextlib.suppress(RuntimeError):  # the loop is closed: nobody waits any more
            loop.call_soon_threadsafe(resolve)

    return ack


async def _read_body(
    reader: asyncio.StreamReader, length: int, chunked: bool, limit: int
) -> bytes:
    if not chunked:
        return await reader.readexactly(length) if length else b""
    body = bytearray()
    while True:
        size = parse_chunk_size(await reader.readuntil(b"\r\n"))
        if size == 0:
            while await reader.readuntil(b"\r\n") != b"\r\n":  # trailers: ignored
                pass
            return bytes(body)
        if len(body) + size > limit:
            raise _TooLarge
        body += await reader.readexactly(size)
        if await reader.readexactly(2) != b"\r\n":
            raise BadRequest(400, "malformed chunk")


def _may_have_body(head: RequestHead) -> bool:
    if "transfer-encoding" in head.headers:
        return True
    try:
        return bool(head.content_length())
    except BadRequest:
        return True


async def _linger(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Discard (never keep) what the client still sends, briefly, so that closing does not
    reset the connection before it has read our answer. Bounded in time and bytes."""
    with contextlib.suppress(Exception):
        if writer.can_write_eof():
            writer.write_eof()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _LINGER_SECONDS
    discarded = 0
    with contextlib.suppress(Exception):
        while discarded < _LINGER_BYTES:
            remaining = deadline - loop.time()
            if remaining <= 0:
                break
            chunk = await asyncio.wait_for(reader.read(65536), remaining)
            if not chunk:
                break
            discarded += len(chunk)


def _peer_text(peer: object) -> str:
    if isinstance(peer, tuple) and len(peer) >= 2:
        host = str(peer[0])
        return f"[{host}]:{peer[1]}" if ":" in host else f"{host}:{peer[1]}"
    return str(peer) if peer else "?"
