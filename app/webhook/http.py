"""The little of HTTP/1.1 the receiver needs: parse a request head, format a response.

Pure functions over bytes, so the odd inputs (folded headers, two Content-Lengths, a request
line of garbage) are tested without sockets. Anything ambiguous is refused: a request that
two parsers could read differently is how request smuggling starts.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from http import HTTPStatus
from typing import Final

_METHOD: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_DIGITS: Final = re.compile(r"^[0-9]{1,18}$")
_HEX: Final = re.compile(rb"^[0-9A-Fa-f]{1,16}$")


class BadRequest(Exception):
    """The request cannot be understood; answer `status` and close the connection."""

    def __init__(self, status: int, reason: str) -> None:
        super().__init__(reason)
        self.status = status
        self.reason = reason


@dataclass(slots=True)
class RequestHead:
    method: str
    target: str  # as sent, e.g. "/receiveAlarmData?x=1"
    version: str  # "HTTP/1.1" or "HTTP/1.0"
    headers: dict[str, list[str]]  # lower-case name → values in order

    @property
    def path(self) -> str:
        """The target without query or fragment (an absolute URI is cut to its path)."""
        target = self.target
        if "://" in target:  # absolute-form, as proxies send it
            rest = target.split("://", 1)[1]
            target = "/" + rest.split("/", 1)[1] if "/" in rest else "/"
        return target.split("?", 1)[0].split("#", 1)[0]

    def header(self, name: str) -> str | None:
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @property
    def keep_alive(self) -> bool:
        values = self.headers.get("connection", [])
        tokens = {t.strip().lower() for v in values for t in v.split(",")}
        if self.version == "HTTP/1.1":
            return "close" not in tokens
        return "keep-alive" in tokens

    def content_length(self) -> int | None:
        """The declared body size; None if absent. Raises BadRequest if unreadable."""
        values = self.headers.get("content-length")
        if not values:
            return None
        items = {v.strip() for value in values for v in value.split(",")}
        if len(items) != 1:
            raise BadRequest(400, "conflicting Content-Length headers")
        (text,) = items
        if not _DIGITS.match(text):
            raise BadRequest(400, f"bad Content-Length {text[:20]!r}")
        return int(text)

    def chunked(self) -> bool:
        """Whether the body is chunked; any other transfer coding is refused."""
        values = self.headers.get("transfer-encoding")
        if not values:
            return False
        codings = [c.strip().lower() for v in values for c in v.split(",") if c.strip()]
        if codings != ["chunked"]:
            raise BadRequest(501, f"transfer coding not supported: {', '.join(codings)[:40]}")
        if "content-length" in self.headers:
            raise BadRequest(400, "both Content-Length and Transfer-Encoding")
        return True


def parse_head(data: bytes) -> RequestHead:
    """Parse the bytes up to and including the blank line; raises BadRequest."""
    try:
        text = data.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise BadRequest(400, "undecodable request head") from exc
    lines = text.split("\r\n")
    while lines and lines[-1] == "":
        lines.pop()
    # RFC 9112 2.2: a server should ignore empty lines before the request line.
    while lines and lines[0] == "":
        lines.pop(0)
    if not lines:
        raise BadRequest(400, "empty request")
    parts = lines[0].split(" ")
    if len(parts) != 3:
        raise BadRequest(400, "malformed request line")
    method, target, version = parts
    if not _METHOD.match(method):
        raise BadRequest(400, "malformed method")
    if version not in ("HTTP/1.1", "HTTP/1.0"):
        raise BadRequest(505 if version.startswith("HTTP/") else 400, "unsupported HTTP version")
    if not target or any(c.isspace() or ord(c) < 0x21 for c in target):
        raise BadRequest(400, "malformed request target")
    headers: dict[str, list[str]] = {}
    for line in lines[1:]:
        if not line or line[0] in " \t":
            raise BadRequest(400, "folded or empty header line")
        name, sep, value = line.partition(":")
        if not sep or not name or not _METHOD.match(name):
            raise BadRequest(400, "malformed header line")
        headers.setdefault(name.lower(), []).append(value.strip(" \t"))
    return RequestHead(method, target, version, headers)


def parse_chunk_size(line: bytes) -> int:
    """The size on a chunk's first line (extensions ignored); raises BadRequest."""
    size = line.split(b";", 1)[0].strip(b" \t\r\n")
    if not _HEX.match(size):
        raise BadRequest(400, "malformed chunk size")
    return int(size, 16)


def response(
    status: int,
    body: dict[str, object] | None = None,
    *,
    keep_alive: bool,
    extra: dict[str, str] | None = None,
) -> bytes:
    """A complete HTTP/1.1 response with a small JSON body (the vendor reads `result`)."""
    if body is None:
        body = {"result": status}
    payload = json.dumps(body, separators=(",", ":")).encode()
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = "Unknown"
    lines = [
        f"HTTP/1.1 {status} {phrase}",
        "Content-Type: application/json",
        f"Content-Length: {len(payload)}",
        "Cache-Control: no-store",
        f"Connection: {'keep-alive' if keep_alive else 'close'}",
    ]
    for name, value in (extra or {}).items():
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + payload
