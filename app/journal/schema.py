"""Journal schema and its migrations, versioned with PRAGMA user_version.

Each migration is applied once, in order, inside one transaction, so an old
journal opened by a newer SealDesk is upgraded in place and never half-way.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable

from app.journal import search

MIGRATIONS: list[str | Callable[[sqlite3.Connection], None]] = [
    # 1: pushes, indexed for "by device", "by kind" and "by time".
    """
    CREATE TABLE push (
        id          INTEGER PRIMARY KEY,
        received_at REAL    NOT NULL,
        source      TEXT    NOT NULL,
        profile     TEXT    NOT NULL DEFAULT '',
        topic       TEXT    NOT NULL,
        kind        TEXT    NOT NULL,
        device      TEXT,
        sublock     TEXT,
        raw         BLOB    NOT NULL,
        data        TEXT    NOT NULL,
        errors      TEXT
    );
    CREATE INDEX push_time ON push (received_at);
    CREATE INDEX push_device_time ON push (device, received_at);
    CREATE INDEX push_kind_time ON push (kind, received_at);
    """,
    # 2: alarm acknowledgements survive restarts; one row per acknowledged alarm push.
    """
    CREATE TABLE alarm_ack (
        push_id  INTEGER PRIMARY KEY REFERENCES push (id),
        acked_at REAL NOT NULL,
        operator TEXT NOT NULL DEFAULT ''
    );
    """,
    # 3: command audit — every command sent, by whom, and what became of it.
    """
    CREATE TABLE command (
        id            INTEGER PRIMARY KEY,
        profile       TEXT    NOT NULL DEFAULT '',
        device        TEXT    NOT NULL,
        sublock       TEXT,
        operator      TEXT    NOT NULL DEFAULT '',
        text          TEXT    NOT NULL,
        name          TEXT    NOT NULL,
        serial        TEXT,
        dangerous     INTEGER NOT NULL DEFAULT 0,
        created_at    REAL    NOT NULL,
        sent_at       REAL,
        state         TEXT    NOT NULL,
        reason        TEXT,
        reply_push_id INTEGER,
        reply         TEXT,
        answered_at   REAL
    );
    CREATE INDEX command_device_time ON command (device, created_at);
    CREATE INDEX command_time ON command (created_at);
    """,
    # 4: commissioning — one row per device and session: its checklist (JSON), verdict,
    # notes, and the PDF report handed to the customer (kept so it can be reopened).
    """
    CREATE TABLE commissioning (
        id          INTEGER PRIMARY KEY,
        batch       TEXT    NOT NULL,
        device      TEXT    NOT NULL,
        template    TEXT    NOT NULL,
        technician  TEXT    NOT NULL DEFAULT '',
        started_at  REAL    NOT NULL,
        finished_at REAL,
        verdict     TEXT    NOT NULL,
        checklist   TEXT    NOT NULL,
        notes       TEXT    NOT NULL DEFAULT '',
        report_pdf  BLOB,
        report_path TEXT,
        UNIQUE (batch, device)
    );
    CREATE INDEX commissioning_time ON commissioning (started_at);
    CREATE INDEX commissioning_device_time ON commissioning (device, started_at);
    """,
    # 5: "newest rows of one kind" (alarm and event history, the push log's kind filter)
    # pages by id; without this SQLite sorts every row of the kind for each page.
    """
    CREATE INDEX push_kind_id ON push (kind, id);
    """,
    # 6: the charts' readings, one narrow row per location or sub-lock push with a number:
    # a week of one-second data is read without parsing 600 000 JSON documents. Filled by
    # Journal.write in the push's transaction; an older journal is backfilled here.
    # Sub-lock rows carry their sub-lock id (never NULL), location rows NULL; only numbers
    # are kept (a JSON string, bool or null is NULL); `charging` is 1/0/NULL. The index has
    # the sub-lock before the time: a device's locations (sublock IS NULL) are one index
    # range, and "has it sub-locks?" is a seek, not a scan of its 600 000 locations.
    """
    CREATE TABLE reading (
        push_id     INTEGER PRIMARY KEY,
        device      TEXT    NOT NULL,
        sublock     TEXT,
        received_at REAL    NOT NULL,
        charging    INTEGER,
        battery     REAL,
        voltage     REAL,
        temperature REAL,
        humidity    REAL,
        speed       REAL,
        cell_signal REAL,
        gnss_signal REAL,
        rssi        REAL,
        led_voltage REAL,
        led_current REAL,
        luminance1  REAL,
        luminance2  REAL,
        luminance3  REAL,
        luminance4  REAL,
        vibration   REAL
    );
    CREATE INDEX reading_device_time ON reading (device, sublock, received_at);
    INSERT INTO reading
    SELECT id, device, NULL, received_at, json_extract(data, '$.charging'),
        CASE WHEN json_type(data, '$.battery') IN ('integer', 'real')
             THEN json_extract(data, '$.battery') END,
        CASE WHEN json_type(data, '$.voltage') IN ('integer', 'real')
             THEN json_extract(data, '$.voltage') END,
        CASE WHEN json_type(data, '$.expandInfo.temperature') IN ('integer', 'real')
             THEN json_extract(data, '$.expandInfo.temperature') END,
        CASE WHEN json_type(data, '$.expandInfo.humidity') IN ('integer', 'real')
             THEN json_extract(data, '$.expandInfo.humidity') END,
        CASE WHEN json_type(data, '$.speed') IN ('integer', 'real')
             THEN json_extract(data, '$.speed') END,
        CASE WHEN json_type(data, '$.cellSignal') IN ('integer', 'real')
             THEN json_extract(data, '$.cellSignal') END,
        CASE WHEN json_type(data, '$.gnssSignal') IN ('integer', 'real')
             THEN json_extract(data, '$.gnssSignal') END,
        NULL,
        CASE WHEN json_type(data, '$.ksInfo.volValue') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.volValue') END,
        CASE WHEN json_type(data, '$.ksInfo.eleValue') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.eleValue') END,
        CASE WHEN json_type(data, '$.ksInfo.luminance1') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.luminance1') END,
        CASE WHEN json_type(data, '$.ksInfo.luminance2') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.luminance2') END,
        CASE WHEN json_type(data, '$.ksInfo.luminance3') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.luminance3') END,
        CASE WHEN json_type(data, '$.ksInfo.luminance4') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.luminance4') END,
        CASE WHEN json_type(data, '$.ksInfo.vibrate') IN ('integer', 'real')
             THEN json_extract(data, '$.ksInfo.vibrate') END
    FROM push WHERE kind = 'location' AND device IS NOT NULL;
    INSERT INTO reading (push_id, device, sublock, received_at, battery, voltage,
                         temperature, humidity, rssi)
    SELECT id, device,
        coalesce(sublock, nullif(CAST(json_extract(data, '$.subAssetID') AS TEXT), ''), '?'),
        received_at,
        CASE WHEN json_type(data, '$.battery') IN ('integer', 'real')
             THEN json_extract(data, '$.battery') END,
        CASE WHEN json_type(data, '$.voltage') IN ('integer', 'real')
             THEN json_extract(data, '$.voltage') END,
        CASE WHEN json_type(data, '$.temperature') IN ('integer', 'real')
             THEN json_extract(data, '$.temperature') END,
        CASE WHEN json_type(data, '$.humidity') IN ('integer', 'real')
             THEN json_extract(data, '$.humidity') END,
        CASE WHEN json_type(data, '$.rssi') IN ('integer', 'real')
             THEN json_extract(data, '$.rssi') END
    FROM push WHERE kind = 'sublock' AND device IS NOT NULL;
    DELETE FROM reading WHERE charging IS NOT 1 AND coalesce(
        battery, voltage, temperature, humidity, speed, cell_signal, gnss_signal, rssi,
        led_voltage, led_current, luminance1, luminance2, luminance3, luminance4,
        vibration) IS NULL;
    """,
    # 7: what is odd about a push but not wrong (e.g. its path said another kind than its
    # content), kept apart from `errors` so that a push with warnings only counts as good.
    # A function: SQLite has no ADD COLUMN IF NOT EXISTS, and a journal may have the column
    # with an older user_version (restored from a copy, or set back by hand).
    lambda conn: _add_column(conn, "push", "warnings", "TEXT"),
    # 8: an acknowledgement says why (a reason from a short list) and may carry a note:
    # the next shift reads them in the handover report.
    lambda conn: (_add_column(conn, "alarm_ack", "reason", "TEXT NOT NULL DEFAULT ''"),
                  _add_column(conn, "alarm_ack", "note", "TEXT NOT NULL DEFAULT ''")),
    # 9: what people read, searchable: each push's decoded line (alarm and event names,
    # card, sub-lock, …) in an FTS5 trigram index, filled by a trigger on push and, here,
    # for the pushes already journaled (app/journal/search.py).
    search.create,
    # 10: secrets shown on purpose, audited: who revealed unlock passwords, when, where.
    """
    CREATE TABLE IF NOT EXISTS secret_reveal (
        id       INTEGER PRIMARY KEY,
        at       REAL    NOT NULL,
        operator TEXT    NOT NULL DEFAULT '',
        place    TEXT    NOT NULL DEFAULT '',
        until    REAL
    );
    CREATE INDEX IF NOT EXISTS secret_reveal_time ON secret_reveal (at);
    """,
    # 11: the journal's writer supplies the decoded lines of the pushes it writes (made from
    # the record it has in hand); the trigger indexes every other push (app/journal/search.py).
    search.let_writers_supply_lines,
]

SCHEMA_VERSION = len(MIGRATIONS)


def _add_column(conn: sqlite3.Connection, table: str, column: str, sql_type: str) -> None:
    if not any(row[1] == column for row in conn.execute(f"PRAGMA table_info({table})")):
        conn.execute(f"ALTER TABLE {table} ADD COLUMN {column} {sql_type}")


def migrate(conn: sqlite3.Connection) -> int:
    """Bring the journal up to SCHEMA_VERSION; returns the version found before.

    Safe when two processes open a new journal at once (the window and its journal
    process): each migration runs under BEGIN IMMEDIATE and re-reads the version.
    """
    found = conn.execute("PRAGMA user_version").fetchone()[0]
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f"journal schema {found} is newer than this SealDesk understands ({SCHEMA_VERSION})"
        )
    for version in range(found, SCHEMA_VERSION):
        conn.execute("BEGIN IMMEDIATE")
        try:
            current = conn.execute("PRAGMA user_version").fetchone()[0]
            if current <= version:
                migration = MIGRATIONS[version]
                if callable(migration):
                    migration(conn)
                else:
                    for statement in migration.split(";"):
                        if statement.strip():
                            conn.execute(statement)
                conn.execute(f"PRAGMA user_version={version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found
