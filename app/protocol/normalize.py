"""Turn a parsed push into the export dict (`PushRecord.data`) other code depends on.

The rules (see the brief of the protocol layer, and the seed):
- every field stays under its seed name; unknown fields survive;
- JSON documents carried as strings (`statusJson`/`FStatusJson`, `expandInfo`, `ksInfo`,
  a waybill `describe`, a command `content` array) become objects; "" becomes null;
- sentinels become null: the string "null" anywhere, temperature -1000, battery 255
  (which sets ``charging``), fuel level -1; NaN/Infinity become null with an error;
- packed strings are split: `cells` → `cell`, `posture` → {x,y,z}, `backBattery`,
  `fuels`; `voltage` becomes a float;
- code fields gain a readable `…Name`.
Nothing here raises for any input: problems go to the `errors` list.
"""

from __future__ import annotations

import json
import math
import re
from datetime import UTC, datetime
from typing import Any, Final

import orjson

from app.protocol import codes
from app.protocol.push import Kind

TIME_FIELDS: Final = ("gpsTime", "recvTime", "dateTime", "subGpsTime")
# JSON documents carried as strings; the seed also spells statusJson as FStatusJson.
DOC_FIELDS: Final = ("statusJson", "FStatusJson", "expandInfo", "ksInfo")
POSTURE_FIELDS: Final = ("posture", "fAcceleration", "fPosture", "acceleration")
_PACKED_EXPAND: Final = frozenset(("fuels", "backBattery", *POSTURE_FIELDS))
NO_TEMPERATURE: Final = -1000.0
CHARGING: Final = 255

_AXIS_RE: Final = re.compile(r"\s*([xyzXYZ])\s*:\s*(-?)\s*(\d+(?:\.\d*)?|\.\d+)\s*")
_AXIS_SPLIT_RE: Final = re.compile(r"[;,]")
_CELLS_RE: Final = re.compile(
    r"\s*(\d{1,10})\s*,\s*(\d{1,10})\s*,\s*(\d{1,10})\s*,\s*(\d{1,12})\s*"
)
_INF: Final = (math.inf, -math.inf)


def show(value: object, limit: int = 40) -> str:
    """repr() cut short, so that a 1 MB field never lands in an error message."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def json_error(exc: BaseException) -> str:
    """Short reason a JSON text failed to parse."""
    if isinstance(exc, json.JSONDecodeError):
        return f"{exc.msg} at line {exc.lineno} column {exc.colno}"
    if isinstance(exc, RecursionError):
        return "nested too deeply"
    return str(exc)[:80] or type(exc).__name__


_SCAN: Final = json.JSONDecoder().scan_once  # the C scanner, without json.loads' wrappers


# orjson reads a whole number past 64 bits as a float, where json keeps it exact: a text with
# 20 digits in a row anywhere (also in a string) goes the json way. Found with bytes.translate
# (~0.6 µs; a regular expression takes ~5).
_DIGITS_AS_ZERO: Final = bytes.maketrans(b"123456789", b"000000000")
_TWENTY_DIGITS: Final = b"0" * 20
_orjson_loads: Final = orjson.loads
_OrjsonError: Final = orjson.JSONDecodeError


NOT_FAST: Final = object()  # what fast_loads returns when json must say


def fast_loads(data: bytes) -> Any:
    """UTF-8 JSON read by orjson, or NOT_FAST where only json can say what it is: the text
    has 20 digits in a row (see above), or orjson refuses it (bad JSON, bad UTF-8, NaN…).
    For bytes as they come (a payload): no decoding to str first."""
    if _TWENTY_DIGITS in data.translate(_DIGITS_AS_ZERO):
        return NOT_FAST
    try:
        return _orjson_loads(data)
    except _OrjsonError:
        return NOT_FAST


def loads(text: str) -> Any:
    """json.loads for a str, faster on good input; the same value, or the same exceptions.

    orjson first (~1 µs where json's scanner takes ~3): on the JSON both accept they give
    the same value, long numbers aside (above). What orjson refuses and json takes — NaN,
    Infinity, 1e400, a lone surrogate escape — and bad input go through json itself, so
    the value, or the error and its message, is json's."""
    try:
        data = text.encode()
    except UnicodeEncodeError:  # a lone surrogate: json's way
        pass
    else:
        value = fast_loads(data)
        if value is not NOT_FAST:
            return value
    try:
        value, end = _SCAN(text, 0)
    except (StopIteration, ValueError):
        return json.loads(text)  # raises the canonical JSONDecodeError
    if end != len(text) and not text[end:].isspace():
        return json.loads(text)
    return value


_ISO_UTC_RE: Final = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?Z")


def is_time(value: str) -> bool:
    """Whether `value` is an ISO-8601 time parse_time understands (fast for the usual form)."""
    return _ISO_UTC_RE.fullmatch(value) is not None or parse_time(value) is not None


def parse_time(value: object) -> float | None:
    """Epoch seconds of a UTC ISO-8601 time ("2025-02-07T07:26:30Z", millis optional)."""
    if not isinstance(value, str) or not value or len(value) > 40:
        return None
    try:
        moment = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.timestamp()
    except (OverflowError, ValueError, OSError):
        return None


# Devices send the same few number strings over and over ("0", "0.0", "-1000.0", "61"):
# remember what they parse to. Results are immutable; the cache is cleared when full.
_NUMBERS: Final[dict[str, int | float | None]] = {}
_NUMBERS_MAX: Final = 4096
_MISSING: Final = object()


def parse_number(text: str) -> int | float | None:
    """A decimal number written as text ("0" → 0, "3.5" → 3.5), else None. No nan/inf."""
    number = _NUMBERS.get(text, _MISSING)
    if number is _MISSING:
        number = _parse_number(text)
        if len(text) <= 40:
            if len(_NUMBERS) >= _NUMBERS_MAX:
                _NUMBERS.clear()
            _NUMBERS[text] = number
    return number  # type: ignore[return-value]


def _parse_number(text: str) -> int | float | None:
    if len(text) > 40 or not text.isascii() or "_" in text:
        return None
    if "." in text or "e" in text or "E" in text:
        try:
            number = float(text)
        except ValueError:
            return None
        return number if number - number == 0.0 else None
    try:
        return int(text)
    except ValueError:
        return None


def _is_no_temperature(value: object) -> bool:
    if type(value) is str:
        number = parse_number(value)
        return number is not None and number == NO_TEMPERATURE
    return (type(value) is int or type(value) is float) and value == NO_TEMPERATURE


def scrub(root: dict[str, Any] | list[Any], where: str, errors: list[str]) -> None:
    """In place, iteratively (deep input must not recurse): "null" → None, NaN/±inf → None."""
    bad = False
    stack: list[Any] = [root]
    while stack:
        container = stack.pop()
        pairs = container.items() if type(container) is dict else enumerate(container)
        for key, value in pairs:
            kind = type(value)
            if kind is str:
                if value == "null":
                    container[key] = None
            elif kind is float:
                if value != value or value in _INF:
                    container[key] = None
                    bad = True
            elif kind is dict or kind is list:
                stack.append(value)
    if bad:
        errors.append(f"{where}: NaN/Infinity replaced by null")


def clean_top(obj: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """In place: "null" and NaN/Infinity become None (the form the models validate)."""
    for key, value in obj.items():
        kind = type(value)
        if kind is str:
            if value == "null":
                obj[key] = None
        elif kind is float:
            if value - value != 0.0:
                errors.append(f"{key}: {value!r} is not a number, set to null")
                obj[key] = None
        elif kind is dict or kind is list:
            scrub(value, key, errors)
    return obj


def parse_json_text(name: str, value: object, errors: list[str], want: type = dict) -> Any:
    """Decode a JSON document carried as a string; on failure keep the string, add an error."""
    if type(value) is not str:
        return value
    text = value.strip()
    if not text:
        return None
    try:
        parsed = loads(text)
    except (ValueError, RecursionError) as exc:
        errors.append(f"{name} is not valid JSON: {json_error(exc)}")
        return value
    if type(parsed) is not want:
        what = "object" if want is dict else "array"
        errors.append(f"{name} is not a JSON {what}: {show(value)}")
        return value
    return parsed


def parse_axes(text: str) -> dict[str, int | float] | None:
    """ "x: 1; y: -29; z: -2903" → {"x": 1, "y": -29, "z": -2903}; None if malformed."""
    if len(text) > 200:
        return None
    axes: dict[str, int | float] = {}
    for part in _AXIS_SPLIT_RE.split(text):
        if not part.strip():
            continue
        match = _AXIS_RE.fullmatch(part)
        if match is None:
            return None
        axis, sign, digits = match.groups()
        number: int | float = float(digits) if "." in digits else int(digits)
        axes[axis.lower()] = -number if sign else number
    if len(axes) != 3:
        return None
    return {"x": axes["x"], "y": axes["y"], "z": axes["z"]}


def _number_list(text: str) -> list[int | float] | None:
    if len(text) > 400:
        return None
    numbers = []
    for part in text.split(","):
        number = parse_number(part.replace(" ", ""))
        if number is None:
            return None
        numbers.append(number)
    return numbers


def parse_fuels(value: object) -> list[int | float | None] | None:
    """ "-1,-1,-1" → [None, None, None] (-1 means no sensor); None if malformed."""
    if type(value) is int or type(value) is float:
        return [None if value == -1 else value]
    if type(value) is list:
        if all(type(v) in (int, float) or v is None for v in value):
            return [None if v == -1 else v for v in value]
        return None
    if type(value) is not str:
        return None
    if value == "-1,-1,-1":  # the usual "no fuel sensor"
        return [None, None, None]
    numbers = _number_list(value)
    if numbers is None:
        return None
    return [None if n == -1 else n for n in numbers]


def parse_back_battery(value: str) -> dict[str, int | float] | None:
    """ "55,3.88,0" → {"percent": 55, "voltage": 3.88, "state": 0}; None if malformed."""
    numbers = _number_list(value)
    if numbers is None or len(numbers) != 3:
        return None
    return {"percent": numbers[0], "voltage": float(numbers[1]), "state": numbers[2]}


_CELLS: Final[dict[str, tuple[int, int, int, int] | None]] = {}
_CELLS_MAX: Final = 4096


def parse_cells(value: str) -> dict[str, int] | None:
    """ "460,0,9383,220792647" → {"mcc", "mnc", "lac", "cid"}; None if not 4 integers."""
    numbers = _CELLS.get(value, _MISSING)
    if numbers is _MISSING:
        numbers = _parse_cells(value)
        if len(value) < 80:
            if len(_CELLS) >= _CELLS_MAX:
                _CELLS.clear()
            _CELLS[value] = numbers
    if numbers is None:
        return None
    mcc, mnc, lac, cid = numbers  # type: ignore[misc]
    return {"mcc": mcc, "mnc": mnc, "lac": lac, "cid": cid}


def _parse_cells(value: str) -> tuple[int, int, int, int] | None:
    parts = value.split(",", 4) if len(value) < 80 else ()
    if len(parts) != 4:
        return None
    numbers = []
    for part in parts:
        part = part.strip()
        if not (part.isdigit() and part.isascii()):
            return None
        numbers.append(int(part))
    return (numbers[0], numbers[1], numbers[2], numbers[3])


def _packed(
    doc: dict[str, Any], key: str, where: str, errors: list[str], parser: Any, what: str
) -> None:
    value = doc[key]
    if value is None or (type(value) is str and not value.strip()):
        doc[key] = None
        return
    if type(value) is dict and key != "fuels":
        return  # already decoded by someone upstream
    parsed = parser(value) if (type(value) is str or key == "fuels") else None
    if parsed is None:
        errors.append(f"{where}.{key} is not {what}: {show(value)}")
    else:
        doc[key] = parsed


def normalize_expand_info(doc: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """Typed values of an expandInfo document (modified in place and returned)."""
    bad = False
    for key, value in doc.items():
        kind = type(value)
        if kind is str:
            if value == "null":
                doc[key] = None
            elif key not in _PACKED_EXPAND:
                number = _NUMBERS.get(value, _MISSING)
                if number is _MISSING:
                    number = parse_number(value)
                if number is not None:
                    doc[key] = number
        elif kind is float:
            if value - value != 0.0:
                doc[key] = None
                bad = True
        elif kind is dict or kind is list:
            scrub(value, f"expandInfo.{key}", errors)
    if bad:
        errors.append("expandInfo: NaN/Infinity replaced by null")
    if "temperature" in doc and _is_no_temperature(doc["temperature"]):
        doc["temperature"] = None
    if "fuels" in doc:
        _packed(doc, "fuels", "expandInfo", errors, parse_fuels, "a list of fuel levels")
    if "backBattery" in doc:
        _packed(
            doc, "backBattery", "expandInfo", errors, parse_back_battery, "percent,voltage,state"
        )
    for key in POSTURE_FIELDS:
        if key in doc:
            _packed(doc, key, "expandInfo", errors, parse_axes, "x/y/z axes")
    if "reportType" in doc or "fReportType" in doc:
        code = doc.get("reportType")
        doc["reportTypeName"] = codes.report_type_name(
            code if code is not None else doc.get("fReportType")
        )
    if "networkType" in doc or "fNetworkType" in doc:
        code = doc.get("networkType")
        doc["networkTypeName"] = codes.network_type_name(
            code if code is not None else doc.get("fNetworkType")
        )
    return doc


def normalize_ks_info(doc: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """KS20A document: sentinels, posture axes, and the `subInfo` peripherals map."""
    scrub(doc, "ksInfo", errors)
    if "temperature" in doc and _is_no_temperature(doc["temperature"]):
        doc["temperature"] = None
    if "posture" in doc:
        _packed(doc, "posture", "ksInfo", errors, parse_axes, "x/y/z axes")
    if "subInfo" in doc:
        raw_sub_info = doc["subInfo"]
        sub_info = parse_json_text("ksInfo.subInfo", raw_sub_info, errors)
        if type(sub_info) is dict:
            if type(raw_sub_info) is str:  # an object was already scrubbed with ksInfo
                scrub(sub_info, "ksInfo.subInfo", errors)
            for peripheral in sub_info.values():
                if (
                    type(peripheral) is dict
                    and "temperature" in peripheral
                    and _is_no_temperature(peripheral["temperature"])
                ):
                    peripheral["temperature"] = None
        doc["subInfo"] = sub_info
    return doc


# Some documents repeat verbatim push after push (a lock's statusJson takes a handful of
# values): remember their result when it is a flat object, and hand out copies.
_FLAT: Final = (str, int, float, bool, type(None))
_DOCS: Final[dict[tuple[str, str], tuple[dict[str, Any], tuple[str, ...]]]] = {}
_DOCS_MAX: Final = 2048
_DOC_TEXT_MAX: Final = 400


def _normalize_doc(name: str, value: Any, errors: list[str]) -> Any:
    if type(value) is not str or len(value) > _DOC_TEXT_MAX:
        return _normalize_doc_uncached(name, value, errors)
    key = (name, value)
    hit = _DOCS.get(key)
    if hit is not None:
        if hit[1]:
            errors.extend(hit[1])
        return hit[0].copy()
    before = len(errors)
    result = _normalize_doc_uncached(name, value, errors)
    if type(result) is dict and all(type(v) in _FLAT for v in result.values()):
        if len(_DOCS) >= _DOCS_MAX:
            _DOCS.clear()
        _DOCS[key] = (result.copy(), tuple(errors[before:]))
    return result


def _normalize_doc_uncached(name: str, value: Any, errors: list[str]) -> Any:
    parsed = parse_json_text(name, value, errors)
    if type(parsed) is not dict:
        return parsed
    if name == "expandInfo":
        return normalize_expand_info(parsed, errors)
    if name == "ksInfo":
        return normalize_ks_info(parsed, errors)
    scrub(parsed, name, errors)
    return parsed


def _normalize_voltage(data: dict[str, Any], errors: list[str]) -> None:
    value = data["voltage"]
    kind = type(value)
    if kind is str:
        number = parse_number(value)
        if number is not None:
            data["voltage"] = float(number)
        elif not value.strip():
            data["voltage"] = None
        else:
            errors.append(f"voltage is not a number: {show(value)}")
    elif kind is int:
        data["voltage"] = float(value)


def _normalize_battery(data: dict[str, Any]) -> None:
    value = data["battery"]
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is int:
        if value == CHARGING:
            data["battery"] = None
            data["charging"] = True
            return
        if 0 <= value <= 100:
            data["charging"] = False
            return
    data["charging"] = None


def _normalize_command(data: dict[str, Any], errors: list[str]) -> None:
    content = data.get("content")
    if type(content) is not str:
        return
    text = content.strip()
    if text.startswith("["):
        parsed = parse_json_text("content", content, errors, want=list)
        if type(parsed) is list:
            scrub(parsed, "content", errors)
            data["content"] = parsed
    elif text and not text.startswith("("):
        # Plain text is the platform talking ("Device not online！"), not the device.
        data["platformError"] = content


def normalize(kind: Kind, obj: dict[str, Any], errors: list[str]) -> dict[str, Any]:
    """The export dict for a payload already passed through `clean_top` (modified in place)."""
    data = obj
    for name in DOC_FIELDS:
        if name in data:
            data[name] = _normalize_doc(name, data[name], errors)
    if "voltage" in data:
        _normalize_voltage(data, errors)
    if "battery" in data:
        _normalize_battery(data)
    if "temperature" in data and _is_no_temperature(data["temperature"]):
        data["temperature"] = None
    if "cells" in data:
        cells = data["cells"]
        cell = parse_cells(cells) if type(cells) is str else None
        if cell is None and type(cells) is str and cells.strip():
            errors.append(f"cells is not MCC,MNC,LAC,CID: {show(cells)}")
        data["cell"] = cell
    for name in TIME_FIELDS:
        value = data.get(name)
        if type(value) is str and value and not is_time(value):
            errors.append(f"{name} is not an ISO-8601 time: {show(value)}")
    if (
        kind == "event"
        and type(data.get("describe")) is str
        and data["describe"].lstrip().startswith("{")
    ):
        describe = parse_json_text("describe", data["describe"], errors)
        if type(describe) is dict:
            scrub(describe, "describe", errors)
        data["describe"] = describe
    elif kind == "command":
        _normalize_command(data, errors)
    if "alarmType" in data:
        data["alarmName"] = codes.alarm_name(data["alarmType"])
    if "eventType" in data:
        name_of = codes.sublock_event_name if kind == "sublock" else codes.event_name
        data["eventName"] = name_of(data["eventType"])
    if "unLockType" in data:
        data["unLockTypeName"] = codes.unlock_type_name(data["unLockType"])
    if "sensorType" in data:
        data["sensorTypeName"] = codes.sensor_type_name(data["sensorType"])
    if "locType" in data:
        data["locTypeName"] = codes.loc_type_name(data["locType"])
    return data
