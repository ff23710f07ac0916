"""Pydantic models of the five push payloads, as they travel on the wire.

Field names and types are the seed's. Validation is strict: a device that sends
``"speed": "12"`` has a bug the console must show, not hide by coercion. Every field
is optional (real devices omit fields) and unknown fields are kept (``extra="allow"``).
JSON-in-string fields (`statusJson`, `expandInfo`, `ksInfo`) are accepted as the
string the seed documents or as an already-decoded object. `normalize` builds the
export dict; these models only say whether the payload is what the seed promises.
"""

from __future__ import annotations

from typing import Any, Final

from pydantic import BaseModel, ConfigDict, ValidationError

from app.protocol.push import Kind

JsonText = str | dict[str, Any]


class _Push(BaseModel):
    model_config = ConfigDict(extra="allow", strict=True, frozen=True)

    assetId: str | None = None


class _Positioned(_Push):
    longitude: float | None = None
    latitude: float | None = None
    speed: int | None = None
    mileage: int | None = None


class LocationPush(_Positioned):
    """Positioning / status data (`upload/{key}/{device}/location`)."""

    direction: int | None = None
    gpsTime: str | None = None
    recvTime: str | None = None
    locType: int | None = None
    cellSignal: int | None = None
    gnssSignal: int | None = None
    cells: str | None = None
    battery: int | None = None
    voltage: str | float | None = None
    statusJson: JsonText | None = None
    FStatusJson: JsonText | None = None
    expandInfo: JsonText | None = None
    ksInfo: JsonText | None = None


class AlarmPush(_Positioned):
    """An alarm (`upload/{key}/{device}/alarm`)."""

    alarmType: int | None = None
    dateTime: str | None = None
    cells: str | None = None
    describe: str | None = None
    fileIndex: str | None = None


class EventPush(_Positioned):
    """An event: lock, unlock, waybill … (`upload/{key}/{device}/event`)."""

    eventType: int | None = None
    unLockType: int | None = None
    dateTime: str | None = None
    cells: str | None = None
    card: str | None = None
    password: str | None = None
    describe: JsonText | None = None
    fileIndex: str | None = None


class CommandResponsePush(_Push):
    """A command response or platform error (`upload/{key}/{device}/cmd`)."""

    commandType: str | None = None
    content: str | list[Any] | None = None
    dateTime: str | None = None


class SubLockPush(_Positioned):
    """Slave lock / sensor data (`upload/{key}/{device}/{subLockNum}/sublock`)."""

    direction: int | None = None
    gpsTime: str | None = None
    recvTime: str | None = None
    subGpsTime: str | None = None
    subGpsTimestamp: int | None = None
    subAssetID: str | None = None
    sensorType: int | None = None
    battery: int | None = None
    voltage: str | float | None = None
    statusJson: JsonText | None = None
    FStatusJson: JsonText | None = None
    locStatus: int | None = None
    locRope: int | None = None
    rssi: int | None = None
    temperature: float | None = None
    humidity: int | None = None
    locTimes: int | None = None
    eventType: int | None = None


MODELS: Final[dict[Kind, type[_Push]]] = {
    "location": LocationPush,
    "alarm": AlarmPush,
    "event": EventPush,
    "command": CommandResponsePush,
    "sublock": SubLockPush,
}

# Pydantic's error types → the words a user reads.
_EXPECTED: Final[dict[str, str]] = {
    "int_type": "an integer",
    "int_from_float": "an integer",
    "float_type": "a number",
    "string_type": "a string",
    "dict_type": "an object",
    "list_type": "an array",
    "bool_type": "a boolean",
}


def _show(value: object, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_errors(exc: ValidationError) -> list[str]:
    """One short line per bad field, e.g. "speed: expected an integer, got '12'"."""
    by_field: dict[str, tuple[list[str], object]] = {}
    for err in exc.errors(include_url=False, include_context=False):
        loc = err.get("loc") or ()
        field = str(loc[0]) if loc else "payload"
        expected = _EXPECTED.get(err.get("type", ""), err.get("msg", "invalid"))
        entry = by_field.setdefault(field, ([], err.get("input")))
        if expected not in entry[0]:
            entry[0].append(expected)
    lines = []
    for field, (expected, value) in by_field.items():
        lines.append(f"{field}: expected {' or '.join(expected)}, got {_show(value)}")
    return lines


def validate(kind: Kind, payload: dict[str, Any]) -> tuple[_Push | None, list[str]]:
    """Validate `payload` as `kind`; return (model or None, error lines). Never raises."""
    model_cls = MODELS.get(kind)
    if model_cls is None:
        return None, []
    try:
        return model_cls.model_validate(payload), []
    except ValidationError as exc:
        return None, describe_errors(exc)
    except Exception as exc:  # a pydantic surprise must not lose the push
        return None, [f"payload could not be validated: {type(exc).__name__}"]
