"""The audit of secrets shown on purpose: each reveal of unlock passwords, by whom, where.

Rows live in the journal's `secret_reveal` table (migration 10). The window writes one when
an operator reveals secrets (app/ui/reveal.py) and closes it (`until`) when they are hidden
again; the handover and an auditor read them back with `history`.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from app.journal.dialect import is_postgres


@dataclass(frozen=True, slots=True)
class Reveal:
    id: int
    at: float
    operator: str
    place: str
    until: float | None


def record(conn: sqlite3.Connection, *, at: float, operator: str, place: str) -> int:
    """One reveal, committed before anything secret is shown; returns its id."""
    sql = "INSERT INTO secret_reveal (at, operator, place) VALUES (?, ?, ?)"
    if is_postgres(conn):  # no last_insert_rowid: the row says its id
        reveal_id = int(conn.execute(sql + " RETURNING id", (at, operator, place)).fetchone()[0])
    else:
        reveal_id = int(conn.execute(sql, (at, operator, place)).lastrowid)
    conn.commit()
    return reveal_id


def close(conn: sqlite3.Connection, reveal_id: int, *, at: float) -> None:
    """The secrets were hidden again at `at`."""
    conn.execute("UPDATE secret_reveal SET until = ? WHERE id = ? AND until IS NULL",
                 (at, reveal_id))
    conn.commit()


def history(conn: sqlite3.Connection, limit: int = 1000) -> list[Reveal]:
    """The newest reveals first."""
    rows = conn.execute("SELECT id, at, operator, place, until FROM secret_reveal"
                        " ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
    return [Reveal(*r) for r in rows]
