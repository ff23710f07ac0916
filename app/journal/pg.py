"""The shared journal on PostgreSQL (team mode, issue 23): `PgJournal`, the same interface
as the SQLite `Journal`, for several recorders and desks on one record.

Open it with `app.journal.url.open_journal("postgresql://user@host/db")`. Its `.conn` is a
`PgConnection` (pgconn.py) with the sqlite3 surface the journal's other modules use, so the
command audit, commissioning, readings, the push log's queries, the shift report and the
exports run on either journal.

**Stored once.** The broker delivers a QoS 1 push at least once: after a recorder dies, or
a PUBACK is lost, the same push (same topic, same bytes) comes again — seconds to minutes
later, possibly to another recorder of the shared subscription — with nothing that says so
and no broker id that survives the redelivery. A push's key is therefore made from what it
is, not how it came: `content_key = sha256(topic ‖ 0x00 ‖ payload)`. The vendor's payloads
carry the device's and the platform's own times (gpsTime, dateTime, recvTime to the
millisecond), so identical bytes are the same push; but a device without a clock could send
the same bytes twice on purpose, so the key holds only within a window of receipt time:
two unique indexes, on (content_key, ⌊t / W⌋) and on (content_key, ⌊t / W + ½⌋). Any two
receipts less than W/2 apart share a window in one of the two grids (their boundaries
alternate every W/2), so a redelivery within W/2 is always refused by `INSERT … ON CONFLICT
DO NOTHING`; receipts W or more apart never are. W depends on the content alone (so both
deliveries get the same): a payload with a time of its own (`"gpsTime"`, `"dateTime"` or
`"recvTime"` in its bytes) is the same push for W = a day — a recorder restarted the next
morning may have its old session's pushes redelivered — any other for W = an hour
(`duplicate_window`, `pg_schema.TIMED_DUPLICATE_WINDOW_S`, `DUPLICATE_WINDOW_S`). Unique
indexes make it safe under concurrent writers: a second writer's insert waits for the
first's commit, then does nothing (a batch goes in key order, so two writers never wait for
each other in a cycle). Such a push is answered with the id it was stored with
(`write_prepared_ids`), so its recorder acknowledges it as usual.
`python -m app.bench.false_merge` measures how often distinct pushes of the simulator would
share a key (issue 23, part 2).

**Notifications** (statement-level triggers, so every writer notifies, whatever it is):

- channel `sealdesk_push`, payload `"<min id>-<max id>"` — the ids a statement inserted
  into `push`, sent at its commit. Other writers take ids in between (ids are never
  consecutive across writers), so a listener reads `id BETWEEN min AND max` and skips ids
  it has; a range may include other writers' rows, which their own notification announces
  too.
- channel `sealdesk_change`, payload the table's name: `alarm_ack`, `command` or
  `commissioning` changed (insert, update or delete).

**Ids.** Several recorders write at once: a batch's ids are increasing but not consecutive.
`write_prepared_ids(batch)` returns each row's id; `write` returns them too (on both
journals); `write_prepared` gives (first, last) for callers that only need the span.

**Passwords and TLS.** A URL never needs a password in a settings file or on a command line:
leave it out (`postgresql://recorder@db.example/sealdesk`) and libpq reads it from
`PGPASSFILE` (default `~/.pgpass`, mode 0600) or a service file (`PGSERVICEFILE`). Across a
network, ask for TLS with the server's certificate checked against its name:
`postgresql://desk@db.example/sealdesk?sslmode=verify-full&sslrootcert=/etc/sealdesk/ca.pem`.

**Roles.** The first connection migrates the schema: give it a role that owns the database
(`CREATE DATABASE sealdesk OWNER sealdesk_admin`; pg_trgm is a trusted extension), and the
others only what they do (`pg_roles.py` prints the GRANTs): a recorder stores and reads
pushes, a desk reads everything and writes acknowledgements, the command audit,
commissioning and secret reveals. Each person or machine its own login role, so the
server's log says who.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterable, Iterator
from typing import Any

from app.journal import pg_schema, pgconn, search
from app.journal.store import (
    _COLUMNS,
    AlarmAcknowledgements,
    JournalRow,
    Prepared,
    _where,
    prepare,
)
from app.journal.url import display
from app.protocol.push import PushRecord

_PUSH_COLUMNS = ("id, received_at, source, profile, topic, kind, device, sublock, raw, data,"
                 " errors, warnings, line, content_key, window_a, window_b")
_INSERT = (
    f"INSERT INTO push ({_PUSH_COLUMNS})"
    # Binary parameters (%b): psycopg then sends each array as it is, where the text
    # format escapes every element (a regular expression per element: most of the client's
    # time for a batch).
    " SELECT * FROM unnest(%b::bigint[], %b::float8[], %b::text[], %b::text[], %b::text[],"
    " %b::text[], %b::text[], %b::text[], %b::bytea[], %b::text[], %b::text[], %b::text[],"
    " %b::text[], %b::bytea[], %b::bigint[], %b::bigint[])"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_READING_TYPES = ("bigint", "text", "text", "float8", "integer", *("float8",) * 15)
_INSERT_READING = (
    "INSERT INTO reading (push_id, device, sublock, received_at, charging, battery, voltage,"
    " temperature, humidity, speed, cell_signal, gnss_signal, rssi, led_voltage, led_current,"
    " luminance1, luminance2, luminance3, luminance4, vibration) SELECT * FROM unnest("
    + ", ".join(f"%b::{t}[]" for t in _READING_TYPES) + ") ON CONFLICT DO NOTHING"
)
_NEW_IDS = "SELECT nextval(pg_get_serial_sequence('push', 'id')) FROM generate_series(1, %s)"
_STORED = "SELECT id, content_key, received_at FROM push WHERE content_key = ANY(%s)"


def content_key(topic: str, raw: bytes) -> bytes:
    """The push's "stored once" key (see the module): sha256(topic ‖ 0x00 ‖ payload), the
    topic as stored (a U+0000 in it escaped: the first 0x00 always ends the topic)."""
    return hashlib.sha256((_no_nul(topic) or "").encode("utf-8", "surrogatepass") + b"\0"
                          + raw).digest()


def duplicate_window(raw: bytes) -> int:
    """W, in seconds, within which a push with these bytes is the same push (the module)."""
    if any(field in raw for field in pg_schema.TIME_FIELDS):
        return pg_schema.TIMED_DUPLICATE_WINDOW_S
    return pg_schema.DUPLICATE_WINDOW_S


def _no_nul(text: str | None) -> str | None:
    """PostgreSQL's text cannot hold U+0000 (SQLite's can): kept as the escape `\\u0000`."""
    if text is None or "\0" not in text:
        return text
    return text.replace("\0", "\\u0000")


def _line(row: tuple, line: str | None) -> str:
    """The push's search line: the writer's, else made from the stored row."""
    if line is None:
        try:
            data = json.loads(row[8]) if row[8] else {}
        except ValueError:
            data = {}
        line = search.search_text(row[4], row[5], row[6], data if isinstance(data, dict)
                                  else {})
        if not line.isascii():  # a lone surrogate from a "\ud800" escape: kept escaped
            line = line.encode("utf-8", "backslashreplace").decode("utf-8")
    return _no_nul(line) or ""


def _reading(push_id: int, rest: list[Any]) -> tuple:
    """A `reading` row as its arrays take it: every number a float but `charging`
    (one type per array: psycopg sends an array of one type)."""
    device, sublock, at, charging, *values = rest
    return (push_id, _no_nul(device), _no_nul(sublock), float(at), charging,
            *(None if v is None else float(v) for v in values))


class PgJournal(AlarmAcknowledgements):
    """A journal in a PostgreSQL database, shared by recorders and desks. Its connection is
    safe to use from several threads (psycopg serialises it); open one per process."""

    dialect = pgconn.DIALECT

    def __init__(self, url: str, *, readonly: bool = False) -> None:
        self.url = url
        self.path = display(url)  # what people and logs see: never a password
        self.readonly = readonly
        self.conn = pgconn.connect(url, readonly=readonly)

    def close(self) -> None:
        if not self.conn.closed:
            self.conn.close()

    def __enter__(self) -> PgJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- writing -------------------------------------------------------------

    def write(self, records: Iterable[PushRecord]) -> list[int]:
        """Store a batch in one transaction; returns each record's id, in order (a push
        stored before — delivered twice — has its first id)."""
        if not isinstance(records, list):
            records = list(records)
        return self.write_prepared_ids(prepare(records))

    def write_prepared(self, batch: Prepared) -> tuple[int, int]:
        """Store a prepared batch; returns (smallest id, largest id) — not a range: other
        writers take ids in between. `write_prepared_ids` says which."""
        ids = self.write_prepared_ids(batch)
        if not ids:
            return 1, 0
        return min(ids), max(ids)

    def write_prepared_ids(self, batch: Prepared) -> list[int]:
        """Store a prepared batch in one transaction; returns the id of each row, in order.
        A row already stored (the same push within the window: see the module) is not
        stored again and has the id it was stored with."""
        rows = batch.rows
        if not rows:
            return []
        lines = batch.lines if batch.lines is not None else [None] * len(rows)
        keys = [content_key(r[3], r[7]) for r in rows]
        raw = self.conn.raw
        with raw.transaction(), raw.cursor() as cur:
            ids = [r[0] for r in cur.execute(_NEW_IDS, (len(rows),)).fetchall()]
            columns: list[list[Any]] = [[], *([] for _ in range(15))]
            # Inserted in key order: two writers storing the same pushes (a redelivery) then
            # wait for each other's keys in one order, never in a cycle (a deadlock).
            for i in sorted(range(len(rows)), key=keys.__getitem__):
                row, line, key = rows[i], lines[i], keys[i]
                columns[0].append(ids[i])
                at, source, profile, topic, kind, device, sublock, payload, data, errors, \
                    warnings = row
                at = float(at)  # one type an array: an int time among floats is refused
                window = duplicate_window(payload)
                for column, value in zip(columns[1:], (
                        at, _no_nul(source), _no_nul(profile), _no_nul(topic), _no_nul(kind),
                        _no_nul(device), _no_nul(sublock), payload, data, errors, warnings,
                        _line(row, line), key, math.floor(at / window),
                        math.floor(at / window + 0.5)), strict=True):
                    column.append(value)
            cur.execute(_INSERT, columns)
            stored = {r[0] for r in cur.fetchall()}
            if len(stored) < len(ids):
                ids = self._already_stored(cur, ids, stored, rows, keys)
            readings = [_reading(ids[i], rest) for i, *rest in batch.readings
                        if ids[i] in stored]
            if readings:
                cur.execute(_INSERT_READING, [list(c) for c in zip(*readings, strict=True)])
        return ids

    @staticmethod
    def _already_stored(cur: Any, ids: list[int], stored: set[int], rows: list[tuple],
                        keys: list[bytes]) -> list[int]:
        """The ids of a batch where the rows not stored have the id of the push they
        repeat: the one with their key received nearest in time."""
        missing = [i for i, push_id in enumerate(ids) if push_id not in stored]
        found: dict[bytes, list[tuple[int, float]]] = {}
        for push_id, key, at in cur.execute(_STORED, ([keys[i] for i in missing],)):
            found.setdefault(bytes(key), []).append((push_id, at))
        out = list(ids)
        for i in missing:
            at = rows[i][0]
            candidates = found.get(keys[i], [])
            if candidates:
                out[i] = min(candidates, key=lambda c: (abs(c[1] - at), c[0]))[0]
        return out

    # -- reading -------------------------------------------------------------

    def count(self, **filters: Any) -> int:
        where, params = _where(**filters)
        return int(self.conn.execute(f"SELECT count(*) FROM push{where}", params).fetchone()[0])

    def rows(self, *, newest_first: bool = False, limit: int | None = None,
             **filters: Any) -> Iterator[JournalRow]:
        """Stream rows matching the filters, oldest first unless asked: pages by id, so a
        million rows never sit in memory (psycopg would fetch a whole result at once)."""
        page, got = 2000, 0
        bound: int | None = None
        while limit is None or got < limit:
            where, params = _where(**filters)
            if bound is not None:
                where += (" AND " if where else " WHERE ") + ("id < ?" if newest_first
                                                              else "id > ?")
                params.append(bound)
            n = page if limit is None else min(page, limit - got)
            order = "DESC" if newest_first else "ASC"
            batch = self.conn.execute(
                f"SELECT {_COLUMNS} FROM push{where} ORDER BY id {order} LIMIT {int(n)}",
                params).fetchall()
            for row in batch:
                yield JournalRow.from_sql(row)
            got += len(batch)
            if len(batch) < n:
                return
            bound = batch[-1][0]

    def get(self, push_id: int) -> JournalRow | None:
        row = self.conn.execute(f"SELECT {_COLUMNS} FROM push WHERE id=?",
                                (push_id,)).fetchone()
        return JournalRow.from_sql(row) if row else None
