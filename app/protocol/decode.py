"""Bytes and a topic in, a `PushRecord` out — for any input, without raising.

The journal keeps every push, so garbage must still become a record: whatever could be
recovered goes to `data`, and `errors` says in short words what was wrong.
"""

from __future__ import annotations

import json
import re
from json.decoder import scanstring  # type: ignore[attr-defined]
from typing import Any, Final

from app.protocol.models import MODELS, LocationPush, validate
from app.protocol.normalize import NOT_FAST, clean_top, fast_loads, json_error, loads, normalize
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


# Any field of a location push says "location" once the fields that say another kind are
# absent (a position, a speed, a battery level, a status document …).
_LOCATION_FIELDS: Final = frozenset(LocationPush.model_fields) - {"assetId"}
# Why a shape was recognised, for the warning when the path or topic said otherwise.
_SHAPE_REASON: Final[dict[str, str]] = {
    "sublock": "subAssetID/sensorType",
    "command": "commandType/content",
    "alarm": "alarmType",
    "event": "eventType",
    "location": "a position",
}


def shape_kind(obj: object) -> Kind:
    """The kind a payload's fields say it is, whatever path or topic it came on.

    Sub-lock: `subAssetID` or `sensorType` (a sub-lock push carries `eventType` too, with the
    sub-lock's own codes); command: `commandType` or `content`; alarm: `alarmType`; event:
    `eventType`; location: any other field a location push has. Anything else is "unknown".
    """
    if not isinstance(obj, dict) or not obj:
        return "unknown"
    if "subAssetID" in obj or "sensorType" in obj:
        return "sublock"
    if "commandType" in obj or "content" in obj:
        return "command"
    if "alarmType" in obj:
        return "alarm"
    if "eventType" in obj:
        return "event"
    if not _LOCATION_FIELDS.isdisjoint(obj):
        return "location"
    return "unknown"


infer_kind = shape_kind  # the name it had when only webhooks on unknown paths used it


def _fits(kind: Kind, obj: dict[str, Any]) -> bool:
    """Whether every field of `obj` is one `kind`'s model knows (an object too thin to have a
    shape, such as {"assetId": …}, may then take its path's or topic's kind)."""
    model = MODELS.get(kind)
    return model is not None and all(key in model.model_fields for key in obj)


def _contradicts(obj: dict[str, Any], shape: Kind, hint: Kind) -> bool:
    """Whether `obj` has a field of its shape's kind that the hinted kind does not have.

    Without one the fields fit the hint too (a sub-lock push cut short before its
    subAssetID still reads as its eventType, an alarm whose alarmType was garbled as its
    position): nothing contradicts the path or topic, which then decides.
    """
    mine, theirs = MODELS[shape].model_fields, MODELS[hint].model_fields
    return any(key in mine and key not in theirs for key in obj)


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
    obj = fast_loads(payload)  # well-formed, as nearly every push: read as it came
    if obj is not NOT_FAST:
        return _as_object(obj, errors)
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
    return _as_object(obj, errors)


def _as_object(obj: Any, errors: list[str]) -> tuple[dict[str, Any], bool]:
    """A parsed payload, if it is the JSON object a push must be."""
    if type(obj) is not dict:
        name = _JSON_TYPE_NAMES.get(type(obj), type(obj).__name__)
        errors.append(f"payload is a JSON {name}, not an object")
        return {}, False
    return obj, True


def _decode(raw: RawPush, kind_hint: str | None) -> PushRecord:
    errors: list[str] = []
    warnings: list[str] = []
    hint: Kind | None = kind_hint if kind_hint in _HINTS else None  # type: ignore[assignment]
    device: str | None = None
    topic_sublock: str | None = None
    if raw.source == "webhook":
        hint = hint or webhook_kind(raw.topic)
        said_by = f"path {str(raw.topic)[:60]}"
    else:
        info = parse_topic(raw.topic)
        if info.error is not None:
            errors.append(info.error)
        device, topic_sublock = info.device, info.sublock
        if info.kind != "unknown":
            hint = info.kind
        said_by = f"topic {str(raw.topic)[:80]}"
        if info.direction == "download" and info.kind == "command":
            # Our own command, echoed by a broker: plain text such as "(id,1,001,BASE,1)".
            text = _payload_bytes(raw.payload).decode("utf-8", "replace")
            return PushRecord(raw, "command", device, None, {"command": text}, errors)

    obj, whole = _parse(_payload_bytes(raw.payload), errors)
    # The content decides; the path or topic is a hint, for what the content leaves open.
    kind = shape_kind(obj)
    if hint is not None and kind != hint:
        if kind == "unknown":
            if not whole or _fits(hint, obj):
                kind = hint  # damaged, empty or thin: nothing contradicts the hint
        elif _contradicts(obj, kind, hint):
            warnings.append(f"{said_by} says {hint}, but the content is {kind} "
                            f"({_SHAPE_REASON[kind]}): decoded as {kind}")
        else:
            kind = hint
    if kind == "unknown" and whole:  # a JSON object of no known shape (a status push?)
        fields = ", ".join(sorted(obj))[:120] or "none"
        warnings.append(f"unknown kind of push (fields: {fields})"
                        + (f"; {said_by} says {hint}" if hint else ""))

    asset = _as_id(obj.get("assetId"))
    if device is None:
        device = asset
    elif asset is not None and asset != device:
        errors.append(f"assetId {asset[:40]} differs from topic device {device[:40]}")
    sublock: str | None = None
    if kind == "sublock":
        # The topic's {subLockNum} is never defined by the seed (a slot number, or the
        # sub-lock's id): the payload's subAssetID names the sub-lock; the level is kept.
        sublock = _as_id(obj.get("subAssetID"))
        if sublock is None and topic_sublock is not None:
            sublock = topic_sublock
            if whole:
                warnings.append("no subAssetID: the sub-lock is named by the topic's level")

    data = clean_top(obj, errors)
    model, problems = validate(kind, data) if obj else (None, [])
    errors.extend(problems)
    data = normalize(kind, data, errors)
    if topic_sublock is not None:
        data["topicSubLock"] = topic_sublock
    return PushRecord(raw, kind, device, sublock, data, errors, model if whole else None,
                      warnings)


def decode(raw: RawPush, kind_hint: str | None = None) -> PushRecord:
    """Decode one push. Its kind is what its fields say (`shape_kind`); the MQTT topic, else
    `kind_hint` (webhooks pass the kind of their URL path), else the webhook path table, is a
    hint: it decides only for a payload without a shape of its own (damaged, empty, thin).
    A hint the content contradicts becomes a warning, not an error."""
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
