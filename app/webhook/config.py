"""Settings of the webhook receiver, checked once so the server can trust them.

Plain data with no sockets: the profile editor, `record` and the tests build it alike.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Final

from app.protocol.push import KINDS, Kind
from app.protocol.topics import WEBHOOK_PATHS

DEFAULT_BIND: Final = "127.0.0.1"
DEFAULT_CATCH_ALL: Final = "/receive"
DEFAULT_MAX_BODY: Final = 1024 * 1024  # the vendor's objects are ~1 kB; 1 MB is generous
# Open connections at once: a burst of 1 000 concurrent posts (measured on a 2-core machine:
# tests/webhook/test_webhook_burst.py) plus room for half-open ones, which are evicted anyway
# when a slot is needed. Each costs a file descriptor and a few kB.
DEFAULT_MAX_CONNECTIONS: Final = 1500
# A client that has not sent its whole request head by then is answered 408 and closed.
DEFAULT_HEADER_TIMEOUT: Final = 2.0

# RFC 9110 token: what a header name may be made of.
_TOKEN: Final = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_ALL_INTERFACES: Final = frozenset({"", "0.0.0.0", "::", "*", "[::]"})
_LOOPBACK_NAMES: Final = frozenset({"localhost", "localhost.localdomain", "ip6-localhost"})


def _default_paths() -> dict[str, Kind]:
    return dict(WEBHOOK_PATHS)


@dataclass(slots=True)
class WebhookConfig:
    """What the receiver listens on and what it lets in.

    Every POST (with the right header, when one is set) is accepted and journaled, whatever its
    path: the vendor lets the customer type any URL, and the content decides the kind. `paths`
    maps URL paths to the kind they hint at (the seed's paths by default, plus the user's
    `--webhook-path`); `catch_all` is a path that hints at nothing. Paths outside the map are
    remembered in `WebhookStats.unknown_paths` (bounded), so the window can show where the
    platform posts. The header, not the path, is what keeps strangers out of the journal.
    """

    port: int = 0  # 0: any free port (the bound one is `WebhookServer.port`)
    bind: str = DEFAULT_BIND
    paths: dict[str, Kind] = field(default_factory=_default_paths)
    catch_all: str | None = DEFAULT_CATCH_ALL
    header_name: str | None = None  # the vendor rule's message header, e.g. "headerKey"
    header_value: str | None = field(default=None, repr=False)  # a secret: never in a repr
    max_body: int = DEFAULT_MAX_BODY
    certfile: str | None = None  # HTTPS when both are given
    keyfile: str | None = None
    profile: str = ""
    # Slowloris guards: a request's head, and its body, must arrive within these.
    header_timeout: float = DEFAULT_HEADER_TIMEOUT
    body_timeout: float = 5.0
    idle_timeout: float = 30.0  # a keep-alive connection with no request is closed after this
    # 200 is sent once the push is committed to the journal (like the MQTT QoS 1 ack);
    # if the disk does not answer in time the client gets 503 (the push stays queued).
    commit_timeout: float = 10.0
    wait_commit: bool = True
    # Connections open at once; when all are taken a new one evicts the oldest that has not
    # sent a request (yet, or since its last one) before it is answered 503 (Retry-After).
    max_connections: int = DEFAULT_MAX_CONNECTIONS

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ValueError with a message fit for the user on any bad setting."""
        if not isinstance(self.port, int) or not 0 <= self.port <= 65535:
            raise ValueError(f"webhook port must be 0…65535, got {self.port!r}")
        if not isinstance(self.bind, str):
            raise ValueError("webhook bind address must be text")
        if (self.header_name is None) != (self.header_value is None):
            raise ValueError("webhook header needs both a name and a value")
        if self.header_name is not None and not _TOKEN.match(self.header_name):
            raise ValueError(f"webhook header name is not a valid HTTP token: {self.header_name!r}")
        if self.header_value is not None:
            if not self.header_value or self.header_value != self.header_value.strip():
                raise ValueError("webhook header value must be non-empty, without outer spaces")
            if any(ord(c) < 0x20 or ord(c) == 0x7F for c in self.header_value):
                raise ValueError("webhook header value must not hold control characters")
        if not isinstance(self.max_body, int) or self.max_body <= 0:
            raise ValueError(f"webhook max body must be a positive byte count: {self.max_body!r}")
        if (self.certfile is None) != (self.keyfile is None):
            raise ValueError("HTTPS needs both a certificate and a key file")
        for path, kind in self.paths.items():
            _check_path(path)
            if kind not in KINDS or kind == "unknown":
                raise ValueError(f"webhook path {path} has no known kind: {kind!r}")
        if self.catch_all is not None:
            _check_path(self.catch_all)
            if self.catch_all in self.paths:
                raise ValueError(f"catch-all path {self.catch_all} is also a kind's path")
        for name in ("header_timeout", "body_timeout", "idle_timeout", "commit_timeout"):
            if getattr(self, name) <= 0:
                raise ValueError(f"webhook {name.replace('_', ' ')} must be positive")
        if self.max_connections < 1:
            raise ValueError("webhook max connections must be at least 1")

    @property
    def tls(self) -> bool:
        return self.certfile is not None

    @property
    def exposed(self) -> bool:
        """True unless only this machine can connect (the window shows a warning then)."""
        return not is_loopback(self.bind)


def _check_path(path: object) -> None:
    if not isinstance(path, str) or not path.startswith("/") or "?" in path or "#" in path:
        raise ValueError(f"webhook path must start with / and hold no ? or #: {path!r}")
    if any(c.isspace() for c in path):
        raise ValueError(f"webhook path must not hold spaces: {path!r}")


def is_loopback(bind: str) -> bool:
    """Whether an address to listen on is reachable from this machine only."""
    host = bind.strip()
    if host in _ALL_INTERFACES:
        return False
    if host.lower() in _LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False  # a host name: it may resolve to a public interface


def parse_path_option(text: str) -> tuple[str, Kind]:
    """`/lock/alarm=alarm` (as on the command line) → (path, kind); raises ValueError."""
    path, sep, kind = text.partition("=")
    path, kind = path.strip(), kind.strip().lower()
    kinds = [k for k in KINDS if k != "unknown"]
    if not sep or kind not in kinds:
        raise ValueError(f"webhook path must look like /PATH=KIND with KIND one of "
                         f"{', '.join(kinds)}, got {text!r}")
    _check_path(path)
    return path, kind  # type: ignore[return-value]


def default_paths() -> dict[str, Kind]:
    """The seed's paths and the kinds they hint at (a copy: the caller may add to it)."""
    return _default_paths()


def parse_header_option(text: str) -> tuple[str, str]:
    """`NAME:VALUE` (as on the command line) → (name, value); raises ValueError."""
    name, sep, value = text.partition(":")
    name, value = name.strip(), value.strip()
    if not sep or not name or not value:
        raise ValueError(f"webhook header must look like NAME:VALUE, got {text!r}")
    if not _TOKEN.match(name):
        raise ValueError(f"webhook header name is not a valid HTTP token: {name!r}")
    return name, value
