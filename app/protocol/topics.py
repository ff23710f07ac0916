"""MQTT topics and webhook paths of the vendor push service.

The parser never raises: a topic that fits no known form still yields a `TopicInfo`
(kind "unknown", with `error` saying why), because the journal must keep every push.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Final, Literal

from app.protocol.push import Kind

Direction = Literal["upload", "download"]

# Last topic level → record kind ("cmd" is the wire name of command responses).
_UPLOAD_LEAVES: Final[dict[str, Kind]] = {
    "location": "location",
    "alarm": "alarm",
    "event": "event",
    "cmd": "command",
}
# Record kind → last topic level, for building topics.
_KIND_LEAVES: Final[dict[str, str]] = {
    "location": "location",
    "alarm": "alarm",
    "event": "event",
    "command": "cmd",
    "cmd": "cmd",
}

# Webhook URL paths the seed names → kind: hints only, since the vendor lets the customer type
# any URL and the content decides the kind (`decode.shape_kind`). The Java sample's paths (also
# SealDesk's defaults; its slave data goes to /receiveLocationData too), the Python sample's,
# the intro's example, and SealDesk's own /receiveSlaveData. The .NET sample names only its
# actions (ReceiveLocationData …): `webhook_kind` also matches a path's last segment, so any
# ASP.NET route ending in one of them (e.g. /api/Push/ReceiveAlarmData) gets its hint.
WEBHOOK_PATHS: Final[dict[str, Kind]] = {
    "/receiveLocationData": "location",
    "/receiveAlarmData": "alarm",
    "/receiveEventData": "event",
    "/receiveInsData": "command",
    "/receiveSlaveData": "sublock",
    "/lock/Positiondata": "location",
    "/lock/alarm": "alarm",
    "/lock/lockevent": "event",
    "/lock/cmdresponse": "command",
    "/revTerminalLocation": "location",
}


@dataclass(frozen=True, slots=True)
class TopicInfo:
    """What a topic says about a push: direction, rule key, device, sub-lock and kind."""

    direction: Direction | None
    access_key: str | None
    device: str | None
    sublock: str | None
    kind: Kind
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _short(text: str, limit: int = 60) -> str:
    return repr(text) if len(text) <= limit else repr(text[: limit - 3] + "...")


def _unknown(
    error: str,
    direction: Direction | None = None,
    key: str | None = None,
    device: str | None = None,
) -> TopicInfo:
    return TopicInfo(direction, key, device, None, "unknown", error)


def parse_topic(topic: object) -> TopicInfo:
    """Split an MQTT topic into its parts; unknown shapes give kind "unknown" and an error."""
    if type(topic) is not str:
        return _unknown(f"topic is not text: {type(topic).__name__}")
    if len(topic) > 512:  # not worth a cache slot; real topics are short
        return _parse_topic(topic)
    return _parse_topic_cached(topic)


def _parse_topic(topic: str) -> TopicInfo:
    if not topic:
        return _unknown("empty topic")
    parts = topic.split("/")
    n = len(parts)
    head = parts[0]
    if head not in ("upload", "download"):
        return _unknown(f"topic {_short(topic)} does not start with upload/ or download/")
    direction: Direction = "upload" if head == "upload" else "download"
    if n not in (4, 5):
        return _unknown(f"topic {_short(topic)} has {n} levels, expected 4 or 5", direction)
    for index, part in enumerate(parts):
        if not part:
            return _unknown(f"topic {_short(topic)} has an empty level {index + 1}", direction)
        if "+" in part or "#" in part:
            return _unknown(f"topic {_short(topic)} contains a wildcard", direction)
    key, device, leaf = parts[1], parts[2], parts[-1]
    if direction == "download":
        if n == 4 and leaf == "cmd":
            return TopicInfo("download", key, device, None, "command")
        return _unknown(
            f"download topic {_short(topic)} is not download/{{key}}/{{device}}/cmd",
            direction,
            key,
            device,
        )
    if n == 5:
        if leaf == "sublock":
            return TopicInfo("upload", key, device, parts[3], "sublock")
        return _unknown(
            f"five-level topic {_short(topic)} does not end in /sublock", direction, key, device
        )
    kind = _UPLOAD_LEAVES.get(leaf)
    if kind is None:
        return _unknown(
            f"unknown data type {_short(leaf)} in topic {_short(topic)}", direction, key, device
        )
    return TopicInfo("upload", key, device, None, kind)


# Topics repeat (one per device and kind), and TopicInfo is immutable: cache them.
_parse_topic_cached = lru_cache(maxsize=8192)(_parse_topic)


def _check_level(name: str, value: str) -> None:
    if not isinstance(value, str) or not value or "/" in value or "+" in value or "#" in value:
        raise ValueError(f"{name} must be a non-empty topic level without / + #, got {value!r}")


def upload_topic(key: str, device: str, kind: str, sublock: str | None = None) -> str:
    """The topic the platform publishes `kind` data of `device` on (raises ValueError)."""
    _check_level("access key", key)
    _check_level("device", device)
    if kind == "sublock":
        if sublock is None:
            raise ValueError("a sublock topic needs the sub-lock number")
        _check_level("sub-lock", sublock)
        return f"upload/{key}/{device}/{sublock}/sublock"
    leaf = _KIND_LEAVES.get(kind)
    if leaf is None:
        raise ValueError(f"no upload topic for kind {kind!r}")
    if sublock is not None:
        raise ValueError(f"kind {kind!r} takes no sub-lock")
    return f"upload/{key}/{device}/{leaf}"


def download_topic(key: str, device: str) -> str:
    """The topic a command for `device` is published on (raises ValueError)."""
    _check_level("access key", key)
    _check_level("device", device)
    return f"download/{key}/{device}/cmd"


def webhook_kind(path: object, paths: dict[str, Kind] | None = None) -> Kind | None:
    """Kind a webhook URL path hints at (query string and trailing slash ignored), else None.

    Looked up in `paths` (default `WEBHOOK_PATHS`) as given, then without case, then by its
    last segment without case (the .NET sample's actions under any route prefix).
    """
    if not isinstance(path, str):
        return None
    table = WEBHOOK_PATHS if paths is None else paths
    kind = table.get(path)
    if kind is not None:
        return kind
    clean = path.split("?", 1)[0].split("#", 1)[0]
    if len(clean) > 1:
        clean = clean.rstrip("/") or "/"
    if not clean.startswith("/"):
        clean = "/" + clean
    kind = table.get(clean)
    if kind is not None:
        return kind
    folded = _folded(tuple(table.items()))
    lower = clean.lower()
    return folded[0].get(lower) or folded[1].get(lower.rsplit("/", 1)[-1])


@lru_cache(maxsize=16)
def _folded(items: tuple[tuple[str, Kind], ...]) -> tuple[dict[str, Kind], dict[str, Kind]]:
    """(lower-case path → kind, lower-case last segment → kind); the first path wins."""
    by_path: dict[str, Kind] = {}
    by_leaf: dict[str, Kind] = {}
    for path, kind in items:
        by_path.setdefault(path.lower(), kind)
        leaf = path.rstrip("/").rsplit("/", 1)[-1].lower()
        if leaf:
            by_leaf.setdefault(leaf, kind)
    return by_path, by_leaf
