"""The push log's one-line rows and their summaries. No Qt: usable from any thread.

The rows come from the journal through `app/journal/push_query.py` (which explains the
paging); `fetch_page` and `fetch_newer` make its tuples into `LogRow`s.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from app.journal.push_query import PushFilter, fetch_newer_raw, fetch_page_raw
from app.protocol.push import PushRecord

PAGE_SIZE = 500

# Only the fields the summary needs, pulled out of `data` by SQLite (`page_columns`).
SUMMARY_FIELDS = (
    "alarmName", "alarmType", "eventName", "eventType", "unLockType", "card",
    "describe.waybillNo", "commandType", "platformError", "latitude", "longitude", "locType",
    "speed", "battery", "charging", "statusJson.lockStatus", "statusJson.lockRope",
    "statusJson.acc", "statusJson.door", "sensorTypeName", "locStatus", "locRope",
)


# -- one line per push ---------------------------------------------------------------------

COLUMNS = ("Time", "Source", "Profile", "Kind", "Device", "Sub-lock", "Summary", "Errors")
COL_TIME, COL_SOURCE, COL_PROFILE, COL_KIND, COL_DEVICE, COL_SUBLOCK, COL_SUMMARY, COL_ERRORS = (
    range(len(COLUMNS))
)


@dataclass(slots=True)
class LogRow:
    """What the table shows for one push: display strings made once, not per paint."""

    id: int
    received_at: float
    cells: tuple[str, ...]
    errors: int
    first_error: str


_THIS_YEAR = time.localtime().tm_year


def local_time(ts: float) -> str:
    """'25 Nov 19:45:33.405' (local); the year only when it is not this one."""
    whole = int(ts)
    ms = min(999, round((ts - whole) * 1000))
    t = time.localtime(whole)
    fmt = "%d %b %H:%M:%S" if t.tm_year == _THIS_YEAR else "%d %b %Y %H:%M:%S"
    return time.strftime(fmt, t) + f".{ms:03d}"


def full_local_time(ts: float) -> str:
    whole = int(ts)
    ms = min(999, round((ts - whole) * 1000))
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(whole)) + f".{ms:03d} " + \
        time.strftime("%Z", time.localtime(whole))


def make_row(
    push_id: int,
    received_at: float,
    source: str,
    profile: str,
    kind: str,
    device: str | None,
    sublock: str | None,
    fields: dict[str, Any],
    errors: list[str],
) -> LogRow:
    """`fields`: SUMMARY_FIELDS name → value (see `summary_fields`)."""
    n = len(errors)
    first = str(errors[0]) if errors else ""
    err_text = "" if not n else (first if n == 1 else f"{n} errors: {first}")
    return LogRow(
        id=push_id,
        received_at=received_at,
        cells=(
            local_time(received_at),
            source,
            profile,
            kind,
            device or "",
            sublock or "",
            summarize(kind, fields, errors),
            err_text,
        ),
        errors=n,
        first_error=first,
    )


def summary_fields(data: dict[str, Any]) -> dict[str, Any]:
    """The same flat view of a decoded `data` dict that the SQL json_extract gives."""
    out: dict[str, Any] = {}
    for name in SUMMARY_FIELDS:
        head, _, tail = name.partition(".")
        value = data.get(head)
        if tail:
            value = value.get(tail) if isinstance(value, dict) else None
        if value is not None:
            out[name] = value
    return out


def row_from_record(push_id: int, rec: PushRecord) -> LogRow:
    raw = rec.raw
    return make_row(push_id, raw.received_at, raw.source, raw.profile, rec.kind, rec.device,
                    rec.sublock, summary_fields(rec.data), rec.errors)


def _row_from_sql(r: tuple[Any, ...]) -> LogRow:
    fields: dict[str, Any] = {}
    if r[7]:
        try:
            values = json.loads(r[7])
        except ValueError:
            values = []
        if isinstance(values, list):
            fields = {k: v for k, v in zip(SUMMARY_FIELDS, values, strict=False) if v is not None}
    errors: list[str] = []
    if r[8]:
        try:
            loaded = json.loads(r[8])
            errors = [str(e) for e in loaded] if isinstance(loaded, list) else [str(loaded)]
        except ValueError:
            errors = [str(r[8])]
    return make_row(r[0], r[1], r[2], r[3], r[4], r[5], r[6], fields, errors)


# -- summaries -----------------------------------------------------------------------------

_UNLOCK_SHORT = {
    1: "card",
    2: "remote",
    3: "Bluetooth",
    4: "rope cut",
    5: "SMS",
    6: "regional trigger",
}


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _lock_words(f: dict[str, Any]) -> list[str]:
    words = []
    lock = f.get("statusJson.lockStatus")
    if lock == 0:
        words.append("locked")
    elif lock == 1:
        words.append("unlocked")
    if f.get("statusJson.lockRope") == 1:
        words.append("rope out")
    acc = f.get("statusJson.acc")
    if acc is not None:
        words.append("ACC on" if acc == 1 else "ACC off")
    if f.get("statusJson.door") == 1:
        words.append("door open")
    return words


def _battery(f: dict[str, Any]) -> str:
    if f.get("charging") in (True, 1):
        return "charging"
    b = _num(f.get("battery"))
    return f"{b:.0f} %" if b is not None else ""


def _position(f: dict[str, Any]) -> str:
    lat, lon = _num(f.get("latitude")), _num(f.get("longitude"))
    if lat is None or lon is None:
        return ""
    if f.get("locType") == 0 or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
        return "no fix"
    return f"lat {lat:.4f} lon {lon:.4f}"


def _code(name: Any, code: Any, what: str) -> str:
    if isinstance(name, str) and name:
        return f"{name} ({code})" if isinstance(code, int) else name
    return f"{what} {code}" if code is not None else what


def summarize(kind: str, fields: dict[str, Any], errors: list[str]) -> str:
    """A short, decoded one-liner: what a dispatcher reads before opening the details."""
    try:
        text = _summarize(kind, fields)
    except Exception:  # a summary must never break the table
        text = ""
    if not text and errors:  # nothing decoded worth a line: say what went wrong
        text = f"⚠ {errors[0]}"
    return text


def _summarize(kind: str, f: dict[str, Any]) -> str:
    if kind == "alarm":
        return _code(f.get("alarmName"), f.get("alarmType"), "Alarm")
    if kind == "event":
        return _event_summary(f)
    if kind == "command":
        return _command_summary(f)
    if kind == "location":
        speed = _num(f.get("speed"))
        parts = [
            _position(f),
            f"{speed:.0f} km/h" if speed else "",
            _battery(f),
            *_lock_words(f),
        ]
        return " · ".join(p for p in parts if p)
    if kind == "sublock":
        head = " ".join(
            str(x) for x in (f.get("sensorTypeName"), f.get("eventName")) if x and x != "None"
        ) or _code(None, f.get("eventType"), "Sub-lock")
        lock = f.get("locStatus")
        parts = [
            head,
            _battery(f),
            "locked" if lock == 0 else "unlocked" if lock == 1 else "",
            "rope out" if f.get("locRope") == 1 else "",
        ]
        return " · ".join(p for p in parts if p)
    return ""


def _event_summary(f: dict[str, Any]) -> str:
    etype = f.get("eventType")
    name = f.get("eventName")
    if etype == 1:  # unlock: say how
        how = _UNLOCK_SHORT.get(f.get("unLockType"))  # type: ignore[arg-type]
        head = f"Unlock — {how}" if how else "Unlock"
    else:
        head = name if isinstance(name, str) and name else _code(None, etype, "Event")
    extra = []
    card = f.get("card")
    if isinstance(card, str) and card:
        if head.endswith("— card"):
            head += f" {card}"
        else:
            extra.append(f"card {card}")
    waybill = f.get("describe.waybillNo")
    if waybill:
        extra.append(f"waybill {waybill}")
    return " · ".join([head, *extra])


def _command_summary(f: dict[str, Any]) -> str:
    ctype = f.get("commandType") or "command"
    error = f.get("platformError")
    if isinstance(error, str) and error:
        return f"{ctype}: platform says “{error.strip()}”"
    return f"{ctype} answered"


# -- pages -------------------------------------------------------------------------------


def fetch_page(
    conn: sqlite3.Connection,
    flt: PushFilter,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
    *,
    cancelled: Callable[[], bool] | None = None,
) -> list[LogRow]:
    """The newest `limit` rows matching `flt` with id < before_id, newest first."""
    return [_row_from_sql(r) for r in fetch_page_raw(conn, flt, before_id, limit,
                                                     fields=SUMMARY_FIELDS,
                                                     cancelled=cancelled)]


def fetch_newer(
    conn: sqlite3.Connection,
    flt: PushFilter,
    after_id: int,
    limit: int,
    *,
    cancelled: Callable[[], bool] | None = None,
) -> list[LogRow]:
    """Rows newer than `after_id` (catching up after a pause), newest first, at most `limit`."""
    return [_row_from_sql(r) for r in fetch_newer_raw(conn, flt, after_id, limit,
                                                      fields=SUMMARY_FIELDS,
                                                      cancelled=cancelled)]
