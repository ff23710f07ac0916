"""Journal rows as JSONL or CSV — for `export`, the push log and audits.

JSONL keeps everything; CSV is flat, common columns first, so it opens cleanly
in a spreadsheet. Both stream: a million rows never sit in memory at once.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from app.journal.store import JournalRow


def iso_utc(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def raw_text(raw: bytes) -> str:
    """The payload as text; bytes that are not UTF-8 survive as surrogate escapes (lossless:
    `text.encode('utf-8', 'surrogateescape')` gives the bytes back)."""
    return raw.decode("utf-8", "surrogateescape")


def row_to_dict(row: JournalRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "kind": row.kind,
        "source": row.source,
        "profile": row.profile,
        "topic": row.topic,
        "received_at": iso_utc(row.received_at),
        "device": row.device,
        "sublock": row.sublock,
        "raw": raw_text(row.raw),
        "data": row.data,
        "errors": row.errors,
        "warnings": row.warnings,
    }


def write_jsonl(rows: Iterable[JournalRow], out: TextIO) -> int:
    n = 0
    for row in rows:
        out.write(json.dumps(row_to_dict(row), ensure_ascii=True))
        out.write("\n")
        n += 1
    return n


# The fields a dispatcher looks for first; everything else stays in `data`.
CSV_FIELDS = [
    "id", "received_at", "source", "profile", "kind", "device", "sublock", "topic", "name",
    "time", "latitude", "longitude", "speed", "battery", "charging", "voltage", "locType",
    "alarmType", "eventType", "unLockType", "commandType", "content", "temperature", "humidity",
    "errors", "warnings", "data", "raw",
]
_NAME_KEYS = ("alarmName", "eventName", "commandType", "locTypeName")
_TIME_KEYS = ("gpsTime", "dateTime", "recvTime")


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe_text(text: str) -> str:
    """Text any file can hold: lone surrogates (from a "\\ud800" in a payload) become the
    escape `\\ud800`, as undecodable bytes of `raw` do; a NUL stays a NUL (CSV keeps it)."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def _csv_text(text: str) -> str:
    """A CSV cell: safe text, and never a formula — a spreadsheet would run a cell starting
    with = + - @ (CSV injection); a leading ' makes it plain text."""
    text = _safe_text(text)
    if text.startswith(_FORMULA_START):
        return "'" + text
    return text


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, dict | list):
        return _csv_text(json.dumps(value, ensure_ascii=False))
    if isinstance(value, str):
        return _csv_text(value)
    return value  # numbers and booleans as they are (a negative number is not a formula)


def csv_row(row: JournalRow) -> dict[str, Any]:
    d = row.data
    out: dict[str, Any] = {
        "id": row.id,
        "received_at": iso_utc(row.received_at),
        "source": _cell(row.source),
        "profile": _cell(row.profile),
        "kind": _cell(row.kind),
        "device": _cell(row.device),
        "sublock": _cell(row.sublock),
        "topic": _cell(row.topic),
        "name": _cell(next((d[k] for k in _NAME_KEYS if d.get(k) is not None), "")),
        "time": _cell(next((d[k] for k in _TIME_KEYS if d.get(k)), "")),
        "errors": _cell("; ".join(str(e) for e in row.errors)),
        "warnings": _cell("; ".join(str(w) for w in row.warnings)),
        "data": _cell(json.dumps(d, ensure_ascii=False)),
        "raw": _cell(row.raw.decode("utf-8", "backslashreplace")),  # \xff stays readable
    }
    for key in CSV_FIELDS:
        if key not in out:
            out[key] = _cell(d.get(key))
    return out


def write_csv(rows: Iterable[JournalRow], out: TextIO) -> int:
    writer = csv.DictWriter(out, fieldnames=CSV_FIELDS, extrasaction="ignore")
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(csv_row(row))
        n += 1
    return n
