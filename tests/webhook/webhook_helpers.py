"""Helpers of the webhook tests (a module of its own: conftest is not importable)."""

from __future__ import annotations

import http.client
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.journal.store import Journal, JournalRow
from app.journal.writer import JournalWriter
from app.webhook import WebhookServer

SEED_EXAMPLES = Path(__file__).resolve().parent.parent / "data" / "seed_examples.json"


def seed_examples() -> list[dict[str, Any]]:
    return json.loads(SEED_EXAMPLES.read_text(encoding="utf-8"))


@dataclass
class Reply:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def post(
    port: int,
    path: str,
    body: bytes | str,
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    conn: http.client.HTTPConnection | None = None,
) -> Reply:
    """One request with the stdlib client (a fresh connection unless one is given)."""
    own = conn is None
    c = conn or http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        data = body.encode("utf-8") if isinstance(body, str) else body
        hdrs = {"Content-Type": "application/json", **(headers or {})}
        c.request(method, path, body=data, headers=hdrs)
        r = c.getresponse()
        return Reply(r.status, {k.lower(): v for k, v in r.getheaders()}, r.read())
    finally:
        if own:
            c.close()


class Receiver:
    """A started writer + server pair, and ways to look into the journal they fill."""

    def __init__(self, writer: JournalWriter, server: WebhookServer, path: Path) -> None:
        self.writer = writer
        self.server = server
        self.path = path

    @property
    def port(self) -> int:
        assert self.server.port is not None
        return self.server.port

    def post(self, path: str, body: bytes | str, headers: dict[str, str] | None = None,
             **kw: Any) -> Reply:
        return post(self.port, path, body, headers, **kw)

    def rows(self, **filters: Any) -> list[JournalRow]:
        assert self.writer.flush(30), "journal writer did not catch up"
        with Journal(self.path, readonly=True) as journal:
            return list(journal.rows(**filters))


