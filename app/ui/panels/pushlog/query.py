"""The push log's journal queries and its one-line rows. No Qt: usable from any thread.

Paging is by id keyset (`id < before_id ORDER BY id DESC LIMIT n`): the primary key makes
the unfiltered case a range scan however big the journal is. The journal's secondary
indexes are on (device, received_at) and (kind, received_at) — they find a device's rows
but cannot give them in id order, so SQLite would sort *all* of a device's (or a kind's)
rows to return the newest 500. `fetch_page` therefore first walks a short window of ids
just below `before_id` with the indexes disabled (`+column`) — enough for any common device
or kind — and only then asks the index, for ids alone (the index holds device/kind,
received_at and the rowid, so sorting a selective filter's ids never touches the table),
and reads those rows by primary key, where the rest of the filter (text, errors, source)
is applied. Indexes on (device, id) and (kind, id) would make this one range scan; see
the panel's notes.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from app.journal.store import JournalRow
from app.protocol.push import PushRecord

PAGE_SIZE = 500
SCAN_WINDOW = 2_000  # ids walked below before_id before an index takes over
ID_CHUNK = 2_000  # candidate ids per round when part of the filter is not in the index

# Only the fields the summary needs, pulled out of `data` by SQLite (C, one parse per row):
# much cheaper than json.loads of the whole document in Python for every row of a page.
SUMMARY_FIELDS = (
    "alarmName", "alarmType", "eventName", "eventType", "unLockType", "card",
    "describe.waybillNo", "commandType", "platformError", "latitude", "longitude", "locType",
    "speed", "battery", "charging", "statusJson.lockStatus", "statusJson.lockRope",
    "statusJson.acc", "statusJson.door", "sensorTypeName", "locStatus", "locRope",
)
_EXTRACT = ", ".join(f"'$.{f}'" for f in SUMMARY_FIELDS)
_PAGE_COLUMNS = (
    "id, received_at, source, profile, kind, device, sublock,"
    f" CASE WHEN json_valid(data) THEN json_extract(data, {_EXTRACT}) END, errors"
)
_FULL_COLUMNS = "id, received_at, source, profile, topic, kind, device, sublock, raw, data, errors"


class Cancelled(Exception):
    """A query or export was cancelled (a newer filter, or the user)."""


# -- the filter ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PushFilter:
    """What the push log shows. Empty fields match everything."""

    device: str = ""
    kind: str = ""
    source: str = ""
    text: str = ""  # searched in the raw payload, ASCII case-insensitive like SQL LIKE
    since: float | None = None  # received_at >= since
    until: float | None = None  # received_at < until
    errors_only: bool = False

    @property
    def empty(self) -> bool:
        return self == PushFilter()

    @property
    def slow(self) -> bool:
        """No index can help: the query may scan the whole journal."""
        return bool(self.text) or self.errors_only or bool(self.source)

    def clauses(self, *, hint_scan: bool) -> tuple[list[str], list[Any]]:
        """SQL conditions without the id bounds. `hint_scan` disables the secondary indexes
        (unary +), so SQLite walks the primary key backwards and stops at LIMIT."""
        p = "+" if hint_scan else ""
        clauses: list[str] = []
        params: list[Any] = []
        if self.device:
            clauses.append(f"{p}device = ?")
            params.append(self.device)
        if self.kind:
            clauses.append(f"{p}kind = ?")
            params.append(self.kind)
        if self.source:
            clauses.append("source = ?")
            params.append(self.source)
        if self.since is not None:
            clauses.append(f"{p}received_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{p}received_at < ?")
            params.append(self.until)
        if self.errors_only:
            clauses.append("errors IS NOT NULL")
        if self.text:
            # LIKE sees text only up to a NUL byte; instr() on the blob finds the exact
            # bytes anywhere (garbage payloads do contain NULs).
            clauses.append("(CAST(raw AS TEXT) LIKE ? ESCAPE '\\' OR instr(raw, ?) > 0)")
            params += ["%" + like_escape(self.text) + "%", self.text.encode("utf-8")]
        return clauses, params

    def matches(self, rec: PushRecord) -> bool:
        """The same test as the SQL, for a live record (no journal round trip)."""
        raw = rec.raw
        if self.device and rec.device != self.device:
            return False
        if self.kind and rec.kind != self.kind:
            return False
        if self.source and raw.source != self.source:
            return False
        if self.since is not None and raw.received_at < self.since:
            return False
        if self.until is not None and raw.received_at >= self.until:
            return False
        if self.errors_only and not rec.errors:
            return False
        if not self.text:
            return True
        # As the SQL: ASCII case-insensitive up to the first NUL (bytes.lower() folds ASCII
        # only, like LIKE), exact bytes anywhere.
        needle = self.text.encode("utf-8")
        payload = raw.payload
        return needle.lower() in payload.split(b"\0", 1)[0].lower() or needle in payload

    def describe(self) -> str:
        parts = []
        if self.device:
            parts.append(f"device {self.device}")
        if self.kind:
            parts.append(self.kind)
        if self.source:
            parts.append(self.source)
        if self.text:
            parts.append(f"“{self.text}”")
        if self.since is not None:
            parts.append("from " + time.strftime("%Y-%m-%d %H:%M", time.localtime(self.since)))
        if self.until is not None:
            parts.append("to " + time.strftime("%Y-%m-%d %H:%M", time.localtime(self.until)))
        if self.errors_only:
            parts.append("with errors")
        return ", ".join(parts) or "all pushes"


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


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


# -- queries -------------------------------------------------------------------------------


def _install_cancel(conn: sqlite3.Connection, cancelled: Callable[[], bool] | None) -> None:
    if cancelled is None:
        conn.set_progress_handler(None, 0)
    else:
        # Returning non-zero makes SQLite abort the statement ("interrupted").
        conn.set_progress_handler(lambda: 1 if cancelled() else 0, 20_000)


def _run(
    conn: sqlite3.Connection, sql: str, params: list[Any], cancelled: Callable[[], bool] | None
) -> list[tuple[Any, ...]]:
    _install_cancel(conn, cancelled)
    try:
        return conn.execute(sql, params).fetchall()
    except sqlite3.OperationalError as exc:
        if cancelled is not None and cancelled():
            raise Cancelled() from exc
        raise
    finally:
        conn.set_progress_handler(None, 0)


def _page_sql(flt: PushFilter, *, lo: int | None, hi: int | None, hint_scan: bool,
              columns: str = _PAGE_COLUMNS) -> tuple[str, list[Any]]:
    clauses, params = flt.clauses(hint_scan=hint_scan)
    if hi is not None:
        clauses.append("id < ?")
        params.append(hi)
    if lo is not None:
        clauses.append("id >= ?")
        params.append(lo)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return f"SELECT {columns} FROM push{where} ORDER BY id DESC LIMIT ?", params


def _split(flt: PushFilter) -> tuple[PushFilter | None, PushFilter]:
    """(what one index answers alone, the rest). The journal's indexes hold
    (device, received_at, rowid), (kind, received_at, rowid) and (received_at, rowid)."""
    if not (flt.device or flt.kind or flt.since is not None or flt.until is not None):
        return None, flt
    by_device = bool(flt.device)
    index_part = PushFilter(device=flt.device, kind="" if by_device else flt.kind,
                            since=flt.since, until=flt.until)
    residual = PushFilter(kind=flt.kind if by_device else "", source=flt.source,
                          text=flt.text, errors_only=flt.errors_only)
    return index_part, residual


def keyed_columns(conn: sqlite3.Connection) -> frozenset[str]:
    """Columns c with an index on push (c, id): "newest rows where c = ?" is then one range
    scan in id order (schema 5 adds (kind, id)). Read from the journal, not assumed."""
    found = set()
    for row in conn.execute("PRAGMA index_list(push)").fetchall():
        cols = [r[2] for r in conn.execute(f"PRAGMA index_info({row[1]})").fetchall()]
        if len(cols) == 2 and cols[1] in ("id", None):  # the rowid alias
            found.add(cols[0])
    return frozenset(c for c in found if c)


def fetch_page_raw(
    conn: sqlite3.Connection,
    flt: PushFilter,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
    *,
    columns: str = _PAGE_COLUMNS,
    cancelled: Callable[[], bool] | None = None,
) -> list[tuple[Any, ...]]:
    """The newest `limit` rows matching `flt` with id < before_id, newest first (SQL tuples)."""
    if limit <= 0:
        return []
    keyed = keyed_columns(conn) if (flt.device or flt.kind) else frozenset()
    by = "device" if flt.device and "device" in keyed else \
        "kind" if flt.kind and not flt.device and "kind" in keyed else ""
    if by:  # an index on (column, id): one range scan, newest first, stops at LIMIT
        clauses, params = flt.clauses(hint_scan=True)  # every index off but this one:
        clauses[0] = f"{by} = ?"  # device (or kind without device) comes first
        if before_id is not None:
            clauses.append("id < ?")
            params.append(before_id)
        sql = f"SELECT {columns} FROM push WHERE {' AND '.join(clauses)} ORDER BY id DESC LIMIT ?"
        return _run(conn, sql, [*params, limit], cancelled)
    index_part, residual = _split(flt)
    if index_part is None:  # primary key walk, stops at LIMIT
        sql, params = _page_sql(flt, lo=None, hi=before_id, hint_scan=False, columns=columns)
        return _run(conn, sql, [*params, limit], cancelled)
    hi = before_id
    if hi is None:
        top = conn.execute("SELECT max(id) FROM push").fetchone()[0]
        if top is None:
            return []
        hi = top + 1
    # 1. A short walk down the primary key: enough for any common device, kind or recent time.
    lo = max(1, hi - SCAN_WINDOW)
    sql, params = _page_sql(flt, lo=lo, hi=hi, hint_scan=True, columns=columns)
    rows = _run(conn, sql, [*params, limit], cancelled)
    # 2. Candidate ids from the index alone (sorting ids never touches the table), then
    #    their rows by primary key, the rest of the filter applied there.
    cursor = lo
    chunk = limit if residual.empty else max(limit, ID_CHUNK)
    res_clauses, res_params = residual.clauses(hint_scan=True)
    while len(rows) < limit and cursor > 1:
        # `+id`: keep SQLite off the primary key here (it would walk the table to the range).
        clauses, params = index_part.clauses(hint_scan=False)
        sql = (f"SELECT id FROM push WHERE {' AND '.join([*clauses, '+id < ?'])}"
               " ORDER BY id DESC LIMIT ?")
        ids = [r[0] for r in _run(conn, sql, [*params, cursor, chunk], cancelled)]
        if not ids:
            break
        where = " AND ".join([f"id IN ({','.join('?' * len(ids))})", *res_clauses])
        got = _run(conn, f"SELECT {columns} FROM push WHERE {where} ORDER BY id DESC",
                   [*ids, *res_params], cancelled)
        rows.extend(got[: limit - len(rows)])
        if len(ids) < chunk:
            break
        cursor = ids[-1]
    return rows


def fetch_page(
    conn: sqlite3.Connection,
    flt: PushFilter,
    before_id: int | None = None,
    limit: int = PAGE_SIZE,
    *,
    cancelled: Callable[[], bool] | None = None,
) -> list[LogRow]:
    return [_row_from_sql(r) for r in fetch_page_raw(conn, flt, before_id, limit,
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
    clauses, params = flt.clauses(hint_scan=True)
    clauses.append("id > ?")
    params.append(after_id)
    sql = (f"SELECT {_PAGE_COLUMNS} FROM push WHERE {' AND '.join(clauses)}"
           " ORDER BY id DESC LIMIT ?")
    return [_row_from_sql(r) for r in _run(conn, sql, [*params, limit], cancelled)]


def iter_rows(
    conn: sqlite3.Connection,
    flt: PushFilter,
    *,
    max_id: int | None = None,
    page: int = 2000,
    cancelled: Callable[[], bool] | None = None,
) -> Iterator[JournalRow]:
    """Every row matching `flt` (up to max_id), oldest first, streamed page by page — for
    exports. Each page is a keyset query, so the read transaction is never held long."""
    after = 0
    while True:
        clauses, params = flt.clauses(hint_scan=True)
        clauses.append("id > ?")
        params.append(after)
        if max_id is not None:
            clauses.append("id <= ?")
            params.append(max_id)
        sql = (f"SELECT {_FULL_COLUMNS} FROM push WHERE {' AND '.join(clauses)}"
               " ORDER BY id ASC LIMIT ?")
        rows = _run(conn, sql, [*params, page], cancelled)
        for r in rows:
            yield JournalRow.from_sql(r)
        if len(rows) < page:
            return
        after = rows[-1][0]


def count_rows(
    conn: sqlite3.Connection,
    flt: PushFilter,
    *,
    max_id: int | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    clauses, params = flt.clauses(hint_scan=False)
    if max_id is not None:
        clauses.append("id <= ?")
        params.append(max_id)
    where = (" WHERE " + " AND ".join(clauses)) if clauses else ""
    return int(_run(conn, f"SELECT count(*) FROM push{where}", params, cancelled)[0][0])


def max_id(conn: sqlite3.Connection) -> int:
    return int(conn.execute("SELECT coalesce(max(id), 0) FROM push").fetchone()[0])
