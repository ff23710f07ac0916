"""Bytes and a topic in, a `PushRecord` out — for any input, without raising.

The journal keeps every push, so garbage must still become a record: whatever could be
recovered goes to `data`, and `errors` says in short words what was wrong.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Final

from app.protocol.models import validate
from app.protocol.normalize import clean_top, json_error, loads, normalize
from app.protocol.push import KINDS, Kind, PushRecord, RawPush
from app.protocol.topics import parse_topic, webhook_kind

_HINTS: Final = frozenset(k for k in KINDS if k != "unknown")
_WS: Final = re.compile(r"[ \t\n\r]*")
_DECODER: Final = json.JSONDecoder()
_JSON_TYPE_NAMES: Final[dict[type, str]] = {
    list: "array",
    str: "string",
    int: "number",
    float: "number",
    bool: "boolean",
    type(None): "null",
}


def infer_kind(obj: object) -> Kind:
    """Guess the kind of a payload from its fields (for webhooks on unknown paths)."""
    if not isinstance(obj, dict) or not obj:
        return "unknown"
    if "commandType" in obj:
        return "command"
    if "subAssetID" in obj or "sensorType" in obj:
        return "sublock"
    if "alarmType" in obj:
        return "alarm"
    if "eventType" in obj and (
        "unLockType" in obj or "card" in obj or ("dateTime" in obj and "gpsTime" not in obj)
    ):
        return "event"
    if "longitude" in obj or "gpsTime" in obj:
        return "location"
    return "unknown"


def salvage(text: str) -> dict[str, Any]:
    """Top-level fields of a broken JSON object that parse before the damage (linear time).

    A value not followed by "," or "}" is dropped: the damage may have started inside it.
    """
    out: dict[str, Any] = {}
    pos = _WS.match(text, 0).end()  # type: ignore[union-attr]
    if text[pos : pos + 1] != "{":
        return out
    pos += 1
    try:
        while True:
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos : pos + 1] != '"':
                break
            key, pos = scanstring(text, pos + 1)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            if text[pos : pos + 1] != ":":
                break
            pos = _WS.match(text, pos + 1).end()  # type: ignore[union-attr]
            value, pos = _DECODER.raw_decode(text, pos)
            pos = _WS.match(text, pos).end()  # type: ignore[union-attr]
            separator = text[pos : pos + 1]
            if separator not in (",", "}"):
                break
            out[key] = value
            if separator == "}":
                break
            pos += 1
    except (ValueError, RecursionError):
        pass
    return out


def _as_id(value: object) -> str | None:
    if type(value) is str:
        return value or None
    if type(value) is int:
        return str(value)
    return None


def _payload_bytes(payload: object) -> bytes:
    if isinstance(payload, bytes):
        return payload
    if isinstance(payload, str):
        return payload.encode("utf-8", "surrogatepass")
    if payload is None:
        return b""
    return bytes(payload)  # bytearray, memoryview


def _parse(payload: bytes, errors: list[str]) -> tuple[dict[str, Any], bool]:
    """The payload as a JSON object (maybe salvaged or empty) and whether it was whole."""
    if not payload or payload.isspace():
        errors.append("empty payload")
        return {}, False
    try:
        text = payload.decode("utf-8")
    except UnicodeDecodeError as exc:
        errors.append(f"payload is not UTF-8 (bad byte at offset {exc.start})")
        text = payload.decode("utf-8", "replace")
    if text.startswith("\ufeff"):
        text = text[1:]
    try:
        obj = loads(text)
    except (ValueError, RecursionError) as exc:
        errors.append(f"payload is not valid JSON: {json_error(exc)}")
        obj = salvage(text)
        if obj:
            errors.append(f"kept {len(obj)} fields read before the damage")
        return obj, False
    if type(obj) is not dict:
        name = _JSON_TYPE_NAMES.get(type(obj), type(obj).__name__)
        errors.append(f"payload is a JSON {name}, not an object")
        return {}, False
    return obj, True


def _decode(raw: RawPush, kind_hint: str | None) -> PushRecord:
    errors: list[str] = []
    kind: Kind | None = None
    device: str | None = None
    sublock: str | None = None
    outgoing = False
    hint: Kind | None = kind_hint if kind_hint in _HINTS else None  # type: ignore[assignment]
    if raw.source == "webhook":
        kind = hint or webhook_kind(raw.topic)
    else:
        info = parse_topic(raw.topic)
        if info.error is not None:
            errors.append(info.error)
        device, sublock = info.device, info.sublock
        kind = info.kind if info.kind != "unknown" else hint
        outgoing = info.direction == "download"

    payload = _payload_bytes(raw.payload)
    if outgoing and kind == "command":
        # Our own command, echoed by a broker: plain text such as "(id,1,001,BASE,1)".
        text = payload.decode("utf-8", "replace")
        return PushRecord(raw, "command", device, None, {"command": text}, errors)

    obj, whole = _parse(payload, errors)
    if kind is None:
        kind = infer_kind(obj)
        if kind == "unknown" and not errors:
            errors.append("cannot tell what kind of push this is")

    asset = _as_id(obj.get("assetId"))
    if device is None:
        device = asset
    elif asset is not None and asset != device:
        errors.append(f"assetId {asset[:40]} differs from topic device {device[:40]}")
    sub = _as_id(obj.get("subAssetID"))
    if sublock is None:
        sublock = sub
    elif sub is not None and sub != sublock:
        errors.append(f"subAssetID {sub[:40]} differs from topic sub-lock {sublock[:40]}")

    data = clean_top(obj, errors)
    model, problems = validate(kind, data) if obj else (None, [])
    errors.extend(problems)
    data = normalize(kind, data, errors)
    return PushRecord(raw, kind, device, sublock, data, errors, model if whole else None)


def decode(raw: RawPush, kind_hint: str | None = None) -> PushRecord:
    """Decode one push. Kind comes from the MQTT topic, else `kind_hint` (webhooks pass the
    kind of their URL path), else the webhook path table, else the payload's fields."""
    try:
        return _decode(raw, kind_hint)
    except Exception as exc:  # the journal must get a record whatever happens
        return PushRecord(
            raw=raw,
            kind="unknown",
            device=None,
            sublock=None,
            data={},
            errors=[f"internal decoder error: {type(exc).__name__}: {str(exc)[:80]}"],
        )
