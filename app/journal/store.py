"""Reading and writing the journal. One `Journal` per thread: SQLite connections are not shared."""

from __future__ import annotations

import json
import json.encoder
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from app.journal import search
from app.journal.schema import migrate
from app.protocol.push import PushRecord, RawPush

_INSERT = (
    "INSERT INTO push (received_at, source, profile, topic, kind, device, sublock, raw, data,"
    " errors, warnings) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
)
_COLUMNS = ("id, received_at, source, profile, topic, kind, device, sublock, raw, data, errors,"
            " warnings")
_INSERT_READING = (
    "INSERT INTO reading (push_id, device, sublock, received_at, charging, battery, voltage,"
    " temperature, humidity, speed, cell_signal, gnss_signal, rssi, led_voltage, led_current,"
    " luminance1, luminance2, luminance3, luminance4, vibration)"
    " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
)
_NO_DOC: dict[str, Any] = {}
_NO_KS = (None,) * 7


_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _num(value: Any) -> float | int | None:
    """A number for the readings table: int or float (NaN is already None), else None.

    An integer beyond SQLite's 64 bits goes in as a float (the columns are REAL anyway), or
    is left out when not even a float holds it; `data` keeps it exactly either way.
    """
    kind = type(value)
    if kind is float:
        return value
    if kind is int:
        if _INT64_MIN <= value <= _INT64_MAX:
            return value
        try:
            return float(value)
        except OverflowError:
            return None
    return None


def _text(value: str | None) -> str | None:
    """A text column as SQLite takes it: lone surrogates (a "\\ud800" escape in a payload)
    cannot be encoded as UTF-8, so they are kept escaped, the way export writes raw bytes."""
    if value is None or value.isascii():
        return value
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "backslashreplace").decode("utf-8")
    return value


def _location_reading(d: dict[str, Any]) -> tuple | None:
    """(charging, battery … vibration) of a decoded location push; None without a number."""
    ex = d.get("expandInfo")
    if type(ex) is not dict:
        ex = _NO_DOC
    ks = d.get("ksInfo")
    values = (
        _num(d.get("battery")), _num(d.get("voltage")), _num(ex.get("temperature")),
        _num(ex.get("humidity")), _num(d.get("speed")), _num(d.get("cellSignal")),
        _num(d.get("gnssSignal")), None,
    ) + ((
        _num(ks.get("volValue")), _num(ks.get("eleValue")), _num(ks.get("luminance1")),
        _num(ks.get("luminance2")), _num(ks.get("luminance3")), _num(ks.get("luminance4")),
        _num(ks.get("vibrate")),
    ) if type(ks) is dict else _NO_KS)  # KS20A only
    charging = d.get("charging")
    charging = 1 if charging is True else 0 if charging is False else None
    if charging != 1 and values.count(None) == len(values):
        return None
    return (charging, *values)


def _sublock_reading(d: dict[str, Any]) -> tuple | None:
    values = (_num(d.get("battery")), _num(d.get("voltage")), _num(d.get("temperature")),
              _num(d.get("humidity")))
    rssi = _num(d.get("rssi"))
    if rssi is None and values.count(None) == 4:
        return None
    return (None, *values, None, None, None, rssi, None, None, None, None, None, None,
            None)


@dataclass(slots=True)
class JournalRow:
    """One stored push, as read back."""

    id: int
    received_at: float
    source: str
    profile: str
    topic: str
    kind: str
    device: str | None
    sublock: str | None
    raw: bytes
    data: dict[str, Any]
    errors: list[str]
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_sql(cls, row: Sequence[Any]) -> JournalRow:
        return cls(
            id=row[0],
            received_at=row[1],
            source=row[2],
            profile=row[3],
            topic=row[4],
            kind=row[5],
            device=row[6],
            sublock=row[7],
            raw=bytes(row[8]),
            data=json.loads(row[9]) if row[9] else {},
            errors=json.loads(row[10]) if row[10] else [],
            # Queries of their own may select the first eleven columns only.
            warnings=json.loads(row[11]) if len(row) > 11 and row[11] else [],
        )

    def to_raw_push(self) -> RawPush:
        return RawPush(self.source, self.topic, self.raw, self.received_at, self.profile)  # type: ignore[arg-type]


def _new_encoder() -> Any:
    """json.dumps(…, ensure_ascii=False, separators=(",", ":"), allow_nan=False), made once:
    json.dumps builds a new encoder for every call with these arguments (~1.3 µs of the
    ~6 µs a decoded push takes to write). Same text, same exceptions."""
    c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
    if c_make_encoder is None:  # no C accelerator: json.dumps as it is
        return None
    return c_make_encoder({}, json.JSONEncoder().default, json.encoder.encode_basestring, None,
                          ":", ",", False, False, False)


_ENCODER = _new_encoder()


_orjson_dumps = orjson.dumps
_ORJSON_REFUSES = (TypeError, orjson.JSONEncodeError)


def _encode(obj: Any, finite: bool = False) -> str:
    """Compact JSON: orjson (~4 µs where json takes ~7, issue 22) when `finite` — the caller
    knows no NaN or ±inf is in `obj` (orjson writes them as null where json raises: see
    `_dumps`) — and json otherwise, or where orjson refuses (a key not a str, a number past
    64 bits). The same value as json writes; a float below 1e-4 or from 1e16 is written
    without json's exponent padding (0.00001 for 1e-05, 1e16 for 1e+16), the same number."""
    global _ENCODER
    if finite:
        try:
            return _orjson_dumps(obj).decode()
        except _ORJSON_REFUSES:
            pass
    if _ENCODER is None:
        return json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    try:
        return "".join(_ENCODER(obj, 0))
    except BaseException:
        _ENCODER = _new_encoder()  # its circular-reference marks may be left half-way
        raise


def _dumps(obj: Any, finite: bool = False) -> str:
    # allow_nan=False keeps the journal strict JSON; the decoder already nulls NaN.
    try:
        text = _encode(obj, finite)
    except (TypeError, ValueError, RecursionError) as exc:  # never lose the push over it
        return json.dumps({"_unserialisable": str(exc)})
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # a lone surrogate from a "\ud800" escape in the payload
            return json.dumps(obj, separators=(",", ":"), allow_nan=False)
    return text


def _push_row(r: PushRecord) -> tuple:
    raw = r.raw
    texts = (raw.source, raw.profile, raw.topic, r.kind, r.device, r.sublock)
    safe = tuple(map(_text, texts))
    errors = r.errors
    if safe != texts:  # a text column had to be escaped: say so on the push
        note = ("text could not be stored as is (not UTF-8): kept with \\u escapes, "
                "as the payload shows")
        if isinstance(errors, list):
            errors.append(note)  # the writer's counts and the window see it too
        else:
            errors = [*errors, note]
    # The decoder turns NaN and ±inf into null and says so in the errors: a document
    # decoded without an error has none, and may take the fast way (`_encode`).
    return (raw.received_at, *safe, raw.payload, _dumps(r.data, finite=not errors),
            _dumps(errors) if errors else None, _dumps(r.warnings) if r.warnings else None)


def _readings(records: list[PushRecord], first_id: int) -> list[tuple]:
    """`reading` rows for the records stored with ids first_id, first_id + 1, …"""
    out = []
    for push_id, r in enumerate(records, first_id):
        kind = r.kind
        if kind == "location":
            values = _location_reading(r.data)
            sub = None
        elif kind == "sublock":
            values = _sublock_reading(r.data)
            sub = r.sublock or str(r.data.get("subAssetID") or "?")
        else:
            continue
        if values is not None and r.device is not None:
            out.append((push_id, _text(r.device), _text(sub), r.raw.received_at, *values))
    return out


@dataclass(slots=True)
class Prepared:
    """A batch made storable, ready for `Journal.write_prepared` — plain tuples of text,
    bytes and numbers, so it crosses a pipe to the journal process cheaply. `readings`
    rows start with the index of their push in `rows` where the stored row has its id;
    `lines` are the pushes' decoded lines for the search index (None: SQL makes it)."""

    rows: list[tuple]
    readings: list[tuple]
    lines: list[str | None] | None = None

    def __len__(self) -> int:
        return len(self.rows)

    def extend(self, other: Prepared) -> None:
        offset = len(self.rows)
        if self.lines is None:
            self.lines = [None] * offset
        self.lines.extend(other.lines if other.lines is not None else [None] * len(other))
        self.rows.extend(other.rows)
        self.readings.extend((i + offset, *rest) for i, *rest in other.readings)


def prepare(records: list[PushRecord]) -> Prepared:
    """Every value of a batch made storable, without the journal: the Python half of
    `Journal.write` (the journal process's parent does it, beside its network thread)."""
    # Every value is made storable here, row by row, so that nothing in one push can make
    # SQLite refuse the batch: what executemany raises is about the journal, not a push.
    rows = [_push_row(r) for r in records]
    line = search.supplied_line
    # The line of the row as stored: its kind, device and sub-lock columns (rows[5:7]).
    lines = [line(row[4], row[5], row[6], r.data) for row, r in zip(rows, records, strict=True)]
    return Prepared(rows, _readings(records, 0), lines)


def prepare_bare(record: PushRecord, exc: BaseException) -> Prepared:
    """A record that could not be prepared, as its raw bytes with safe text columns, its
    errors and no decoded form — made without anything that failed on it."""
    raw = record.raw
    errors = [_safe(e) or "" for e in (record.errors if isinstance(record.errors, list) else [])]
    errors.append(f"decoded form could not be stored: {type(exc).__name__}: {exc}")
    at = raw.received_at if isinstance(raw.received_at, float | int) else 0.0
    payload = raw.payload if isinstance(raw.payload, bytes) else b""
    row = (at, _safe(raw.source) or "mqtt", _safe(raw.profile) or "", _safe(raw.topic) or "",
           _safe(record.kind) or "unknown", _safe(record.device), _safe(record.sublock),
           payload, "{}", _dumps(errors), None)
    return Prepared([row], [], [None])


def bare_row(row: tuple, exc: BaseException) -> tuple:
    """A prepared push row that could not be stored, as raw bytes with safe text columns and
    no decoded form (JournalWriter's `_bare` for a record, for a row)."""
    at, *texts, raw, _data, errors, warnings = row
    safe = [_safe(t) for t in texts]
    kept = json.loads(errors) if isinstance(errors, str) else []
    kept.append(f"decoded form could not be stored: {type(exc).__name__}: {exc}")
    return (at if isinstance(at, float | int) else 0.0, *safe,
            raw if isinstance(raw, bytes) else b"", "{}", _dumps([_safe(e) for e in kept]),
            warnings if isinstance(warnings, str) else None)


def _safe(text: object) -> str | None:
    if text is None:
        return None
    return str(text).encode("utf-8", "replace").decode("utf-8")


class AlarmAcknowledgements:
    """Alarm acknowledgements, the same SQL on both journals (`conn` is SQLite's or the
    PostgreSQL adapter, which spells `INSERT OR IGNORE` its own way): an alarm acknowledged
    already keeps its first acknowledgement — two desks at once, the first wins."""

    conn: Any

    def acknowledge(self, push_ids: Iterable[int], *, at: float, operator: str,
                    reason: str = "", note: str = "") -> int:
        ids = list(push_ids)
        with self.conn:
            self.conn.execute("BEGIN")
            self.conn.executemany(
                "INSERT OR IGNORE INTO alarm_ack (push_id, acked_at, operator, reason, note)"
                " VALUES (?,?,?,?,?)",
                [(i, at, operator, reason, note) for i in ids],
            )
        return len(ids)

    def unacknowledge(self, push_ids: Iterable[int], *, acked_at: float) -> int:
        """Undo an acknowledgement (made at `acked_at`, so an older one of the same alarm by
        someone else is never undone); returns how many were undone."""
        ids = list(push_ids)
        with self.conn:
            self.conn.execute("BEGIN")
            cur = self.conn.executemany(
                "DELETE FROM alarm_ack WHERE push_id=? AND acked_at=?",
                [(i, acked_at) for i in ids],
            )
        return cur.rowcount

    def unacknowledged_alarms(self, limit: int = 10000) -> list[JournalRow]:
        sql = (
            f"SELECT {', '.join('p.' + c.strip() for c in _COLUMNS.split(','))} FROM push p"
            " LEFT JOIN alarm_ack a ON a.push_id = p.id"
            " WHERE p.kind='alarm' AND a.push_id IS NULL ORDER BY p.id DESC LIMIT ?"
        )
        return [JournalRow.from_sql(r) for r in self.conn.execute(sql, (limit,))]


class Journal(AlarmAcknowledgements):
    """A SQLite journal in WAL mode. Writes come in batches, one transaction each."""

    def __init__(self, path: str | Path, *, readonly: bool = False) -> None:
        self.path = str(path)
        self._copy_dir: str | None = None
        self._schema_seen: int | None = None
        self._supplies = False
        if readonly:
            self.conn = self._open_readonly()
        else:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            self.conn = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            self.conn.execute("PRAGMA journal_mode=WAL")
            # NORMAL in WAL: a commit survives an application crash; only an OS
            # crash or power cut can roll back the last transactions.
            self.conn.execute("PRAGMA synchronous=NORMAL")
            migrate(self.conn)
        self.conn.execute("PRAGMA busy_timeout=5000")

    def _open_readonly(self) -> sqlite3.Connection:
        """Read-only, also where the folder cannot be written (a CD, a read-only share, a
        locked-down folder): WAL wants its -shm beside the file, so there SQLite opens the
        file as immutable — or a copy of it and its WAL, when a WAL holds commits."""
        path = Path(self.path).resolve()
        conn = sqlite3.connect(path.as_uri() + "?mode=ro", uri=True, check_same_thread=False)
        try:
            conn.execute("SELECT count(*) FROM sqlite_master").fetchone()
            return conn
        except sqlite3.OperationalError:
            conn.close()
            if not path.is_file():
                raise
        wal = Path(str(path) + "-wal")
        if wal.is_file() and wal.stat().st_size > 0:  # commits not yet in the main file
            import shutil
            import tempfile

            self._copy_dir = tempfile.mkdtemp(prefix="sealdesk-readonly-")
            shutil.copyfile(path, Path(self._copy_dir, path.name))
            shutil.copyfile(wal, Path(self._copy_dir, wal.name))
            return sqlite3.connect(Path(self._copy_dir, path.name), check_same_thread=False)
        return sqlite3.connect(path.as_uri() + "?immutable=1", uri=True,
                               check_same_thread=False)

    def close(self) -> None:
        self.conn.close()
        if self._copy_dir is not None:
            import shutil

            shutil.rmtree(self._copy_dir, ignore_errors=True)
            self._copy_dir = None

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------

    def write(self, records: Iterable[PushRecord]) -> list[int]:
        """Store a batch of records in one transaction; returns their row ids in order.

        Location and sub-lock records with a number also get their `reading` row (the
        charts' narrow table), in the same transaction.
        """
        if not isinstance(records, list):
            records = list(records)
        first, last = self.write_prepared(prepare(records))
        return list(range(first, last + 1))

    def write_prepared(self, batch: Prepared) -> tuple[int, int]:
        """Store a prepared batch in one transaction; returns its first and last row id
        (first > last for an empty batch)."""
        rows = batch.rows
        if not rows:
            return 1, 0
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            lines = batch.lines if self._supplies_lines(cur) else None
            if lines is not None:
                cur.execute(search.SUPPLY_BEGIN_SQL)  # the trigger stands aside
            cur.executemany(_INSERT, rows)
            last = cur.execute("SELECT last_insert_rowid()").fetchone()[0]
            # One transaction, one writer, INTEGER PRIMARY KEY: the new ids are consecutive.
            first = last - len(rows) + 1
            if batch.readings:
                cur.executemany(_INSERT_READING,
                                [(i + first, *rest) for i, *rest in batch.readings])
            if lines is not None:
                cur.executemany(search.SUPPLY_LINE_SQL,
                                [(i, line) for i, line in enumerate(lines, first)
                                 if line is not None])
                for i, line in enumerate(lines, first):
                    if line is None:
                        cur.execute(search.SQL_LINE_SQL, (i,))
                cur.execute(search.SUPPLY_END_SQL)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise
        return first, last

    def _supplies_lines(self, cur: sqlite3.Cursor) -> bool:
        """Whether this journal lets its writer supply the search lines (migration 11, and
        the index there); asked again whenever the schema changed."""
        version = cur.execute("PRAGMA schema_version").fetchone()[0]
        if version != self._schema_seen:
            self._supplies = search.writers_supply_lines(cur)
            self._schema_seen = version
        return self._supplies

    # -- reading -------------------------------------------------------------

    def count(self, **filters: Any) -> int:
        where, params = _where(**filters)
        return self.conn.execute(f"SELECT count(*) FROM push{where}", params).fetchone()[0]

    def rows(
        self, *, newest_first: bool = False, limit: int | None = None, **filters: Any
    ) -> Iterator[JournalRow]:
        """Stream rows matching the filters (those of `_where`), oldest first unless asked."""
        where, params = _where(**filters)
        order = "DESC" if newest_first else "ASC"
        sql = f"SELECT {_COLUMNS} FROM push{where} ORDER BY id {order}"
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        for row in self.conn.execute(sql, params):
            yield JournalRow.from_sql(row)

    def get(self, push_id: int) -> JournalRow | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM push WHERE id=?", (push_id,)).fetchone()
        return JournalRow.from_sql(row) if row else None


def _where(
    *,
    kind: str | None = None,
    device: str | None = None,
    since: float | None = None,
    until: float | None = None,
    source: str | None = None,
    after_id: int | None = None,
    before_id: int | None = None,
) -> tuple[str, list[Any]]:
    clauses: list[str] = []
    params: list[Any] = []
    for column, op, value in (
        ("kind", "=", kind),
        ("device", "=", device),
        ("received_at", ">=", since),
        ("received_at", "<", until),
        ("source", "=", source),
        ("id", ">", after_id),
        ("id", "<", before_id),
    ):
        if value is not None:
            clauses.append(f"{column} {op} ?")
            params.append(value)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params
