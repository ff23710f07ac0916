"""Journal schema and its migrations, versioned with PRAGMA user_version.

Each migration is applied once, in order, inside one transaction, so an old
journal opened by a newer SealDesk is upgraded in place and never half-way.
"""

from __future__ import annotations

import sqlite3

MIGRATIONS: list[str] = [
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
]

SCHEMA_VERSION = len(MIGRATIONS)


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
                for statement in MIGRATIONS[version].split(";"):
                    if statement.strip():
                        conn.execute(statement)
                conn.execute(f"PRAGMA user_version={version + 1}")
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
    return found
