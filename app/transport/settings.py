"""What it takes to reach a broker. Plain data: profiles, the CLI and tests all build one."""

from __future__ import annotations

import hashlib
import os
import re
import socket
from dataclasses import dataclass, field, replace

_MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")


def md5_hex(password: str) -> str:
    """The vendor's broker wants the MD5-32 of the web password, never the password itself."""
    return hashlib.md5(password.encode("utf-8")).hexdigest()


def _host_tag() -> str:
    return re.sub(r"[^A-Za-z0-9]", "", socket.gethostname())[:16] or "host"


def default_client_id(access_key: str, role: str) -> str:
    """Stable per machine and role, so a persistent session survives restarts.

    Deprecated: it starts with the access key's first characters, and a client id is printed
    and logged. Nothing in SealDesk makes it any more (the commands and the window's profiles
    use `hashed_client_id`); a profile that stored such an id explicitly keeps it."""
    key = (access_key or "nokey")[:12]
    return f"{key}_sealdesk_{role}_{_host_tag()}"


def hashed_client_id(access_key: str, role: str) -> str:
    """Stable per machine, role and access key — derived from a hash of the key, never its
    text (a client id is printed, logged and seen by the broker's operator)."""
    digest = hashlib.sha256((access_key or "nokey").encode("utf-8")).hexdigest()[:12]
    return f"sealdesk_{role}_{_host_tag()}_{digest}"


def shared_filters(group: str, topics: tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """Each topic filter as a shared subscription of `group` (`$share/GROUP/FILTER`): the
    broker hands each push to one member of the group instead of to every subscriber, so
    recorders of one group split the intake (MQTT 5's form, which mosquitto >= 2 and EMQX
    also accept from MQTT 3.1.1 clients). Raises ValueError for a group MQTT cannot name."""
    if not group or any(c in group for c in "/+#") or group.startswith("$"):
        raise ValueError(f"share group {group!r} must be a non-empty name without '/', "
                         "'+' or '#' (and not starting with '$')")
    return tuple(t if t.startswith("$share/") else f"$share/{group}/{t}" for t in topics)


LOOPBACK_HOSTS = ("localhost", "::1")


def is_loopback(host: str) -> bool:
    host = host.strip("[]").lower()
    return host in LOOPBACK_HOSTS or host.startswith("127.") or host.endswith(".localhost")


@dataclass(frozen=True)
class ConnectionSettings:
    host: str = "127.0.0.1"
    port: int = 1883
    access_key: str = ""
    username: str | None = None
    password_md5: str | None = None  # what goes on the wire; never logged
    tls: bool = False
    cafile: str | None = None
    certfile: str | None = None
    keyfile: str | None = None
    tls_insecure: bool = False  # only ever set explicitly by the user
    qos: int = 1
    client_id: str = ""
    clean_session: bool = False
    topics: tuple[str, ...] = field(default_factory=tuple)
    profile: str = ""
    keepalive: int = 30

    @classmethod
    def from_options(
        cls,
        *,
        host: str,
        port: int | None,
        access_key: str,
        username: str | None = None,
        password: str | None = None,
        password_md5: str | None = None,
        tls: bool = False,
        cafile: str | None = None,
        certfile: str | None = None,
        keyfile: str | None = None,
        qos: int = 1,
        client_id: str | None = None,
        clean_session: bool = False,
        topics: list[str] | None = None,
        role: str = "console",
        profile: str = "",
    ) -> ConnectionSettings:
        if not host:
            raise ValueError("a broker host is required")
        if port is None:
            port = 8883 if tls else 1883
        if not 0 < port < 65536:
            raise ValueError(f"port {port} is out of range 1-65535")
        if qos not in (0, 1):
            raise ValueError("QoS must be 0 or 1")
        if password_md5 is not None and not _MD5_RE.match(password_md5):
            raise ValueError("--password-md5 must be 32 hexadecimal characters")
        for path in (cafile, certfile, keyfile):
            if path and not os.path.isfile(path):
                raise ValueError(f"file not found: {path}")
        wire = password_md5.lower() if password_md5 else (md5_hex(password) if password else None)
        return cls(
            host=host,
            port=port,
            access_key=access_key,
            username=username,
            password_md5=wire,
            tls=tls or bool(cafile),
            cafile=cafile,
            certfile=certfile,
            keyfile=keyfile,
            qos=qos,
            client_id=client_id or hashed_client_id(access_key, role),
            clean_session=clean_session,
            topics=tuple(topics or ()) or ((f"upload/{access_key}/#",) if access_key else ()),
            profile=profile,
        )

    @property
    def encrypted(self) -> bool:
        """False for plain MQTT to anything but this machine: the password's MD5 and every
        push cross the network readable ("not encrypted" in the status bar and the CLI)."""
        return self.tls or is_loopback(self.host)

    def with_topics(self, topics: list[str]) -> ConnectionSettings:
        return replace(self, topics=tuple(topics))

    def __repr__(self) -> str:  # keep the password digest out of logs and tracebacks
        return (
            f"ConnectionSettings(host={self.host!r}, port={self.port}, "
            f"access_key={'***' if self.access_key else ''!r}, username={self.username!r}, "
            f"tls={self.tls}, "
            f"qos={self.qos}, client_id={self.client_id!r}, profile={self.profile!r})"
        )
