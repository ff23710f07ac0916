"""The few journal reads a desk needs that the journal's own API does not offer.

Written here, minimally, in SQL that SQLite and PostgreSQL both take (`?` placeholders; the
PostgreSQL journal's connection adapter turns them into its own), through the `.conn` of
whichever journal `open_journal` gave. Kept beside the desk rather than in `app/journal/`
so that the journal's interface stays what both implementations promise.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

CHUNK = 500  # ids per IN (...) list: well under SQLite's 999 bound parameters


@dataclass(frozen=True, slots=True)
class AckRow:
    """One stored acknowledgement, as another desk made it."""

    push_id: int
    acked_at: float
    operator: str
    reason: str
    note: str


_ACK_COLUMNS = "push_id, acked_at, operator, coalesce(reason, ''), coalesce(note, '')"


def newest_push_id(conn: Any) -> int:
    """The highest push id in the journal (0 for an empty one): where a desk's feed starts."""
    row = conn.execute("SELECT max(id) FROM push").fetchone()
    return int(row[0] or 0) if row else 0


def acks_since(conn: Any, since: float) -> list[AckRow]:
    """Acknowledgements made at or after `since` (epoch seconds, the acking desk's clock)."""
    rows = conn.execute(
        f"SELECT {_ACK_COLUMNS} FROM alarm_ack WHERE acked_at >= ? ORDER BY acked_at",
        (float(since),),
    ).fetchall()
    return [AckRow(int(r[0]), float(r[1]), str(r[2] or ""), str(r[3]), str(r[4])) for r in rows]


def acks_of(conn: Any, push_ids: Iterable[int]) -> list[AckRow]:
    """The acknowledgements of these alarms that the journal holds (one each at most)."""
    out: list[AckRow] = []
    for chunk in _chunks(list(push_ids)):
        marks = ",".join("?" * len(chunk))
        rows = conn.execute(
            f"SELECT {_ACK_COLUMNS} FROM alarm_ack WHERE push_id IN ({marks})", chunk
        ).fetchall()
        out.extend(AckRow(int(r[0]), float(r[1]), str(r[2] or ""), str(r[3]), str(r[4]))
                   for r in rows)
    return out


# What changed in a SQLite journal another process writes: SQLite says only *that* something
# was committed (PRAGMA data_version), so each shared table gets a cheap fingerprint: rows added,
# removed (an undone acknowledgement) or rewritten (a command answered, a checklist ticked).
SIGNATURES = {
    "alarm_ack": "SELECT count(*), max(rowid), max(acked_at) FROM alarm_ack",
    "command": "SELECT count(*), max(rowid), max(coalesce(answered_at, sent_at, created_at)),"
               " sum(length(state)) FROM command",
    "commissioning": "SELECT count(*), max(rowid), sum(length(checklist)),"
                     " sum(coalesce(finished_at, 0)) FROM commissioning",
}


def signatures(conn: Any) -> dict[str, tuple]:
    """Each shared table's fingerprint (SQLite only: PostgreSQL names the table it changed)."""
    out = {}
    for table, sql in SIGNATURES.items():
        try:
            out[table] = tuple(conn.execute(sql).fetchone())
        except Exception:  # a journal older than that table: nothing to watch
            out[table] = ()
    return out


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for i in range(0, len(ids), CHUNK):
        yield ids[i:i + CHUNK]
