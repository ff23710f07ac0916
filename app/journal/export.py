"""Journal rows as JSONL or CSV — for `export`, the push log and audits.

JSONL keeps everything; CSV is flat, common columns first, so it opens cleanly
in a spreadsheet. Both stream: a million rows never sit in memory at once.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, TextIO

from app import csvsafe
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


def csv_row(row: JournalRow) -> dict[str, Any]:
    """The row's values by CSV column, as they are: the writer makes them cells (app.csvsafe:
    never a formula, JSON for a dict, numbers as numbers)."""
    d = row.data
    out: dict[str, Any] = {
        "id": row.id,
        "received_at": iso_utc(row.received_at),
        "source": row.source,
        "profile": row.profile,
        "kind": row.kind,
        "device": row.device,
        "sublock": row.sublock,
        "topic": row.topic,
        "name": next((d[k] for k in _NAME_KEYS if d.get(k) is not None), ""),
        "time": next((d[k] for k in _TIME_KEYS if d.get(k)), ""),
        "errors": "; ".join(str(e) for e in row.errors),
        "warnings": "; ".join(str(w) for w in row.warnings),
        "data": json.dumps(d, ensure_ascii=False),
        "raw": row.raw.decode("utf-8", "backslashreplace"),  # \xff stays readable
    }
    for key in CSV_FIELDS:
        if key not in out:
            out[key] = d.get(key)
    return out


def write_csv(rows: Iterable[JournalRow], out: TextIO) -> int:
    writer = csvsafe.dict_writer(out, CSV_FIELDS)
    writer.writeheader()
    n = 0
    for row in rows:
        writer.writerow(csv_row(row))
        n += 1
    return n
