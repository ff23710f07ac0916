"""Searching what people read: an index of each push's decoded text. No Qt, any thread.

The push log's Summary says "SOS (51)" where the raw payload only has `"alarmType":51`; a
dispatcher searches for the alarm's name, an event's unlock type, a card number, a sub-lock
id. Every push gets one line of such text, and an SQLite FTS5 table with the trigram
tokenizer indexes it, so "any substring of at least 3 characters, case-insensitive" is an
index lookup: the newest 500 matches among 1 000 000 pushes in milliseconds, where a scan
of the raw payloads takes over a second (`python -m app.bench.search`).

What the line holds (`SEARCH_TEXT`, and `search_text` for a live record — the same words):
the device and sub-lock ids; an alarm's name and code as the Summary shows it ("SOS (51)");
an event's name, unlock type, card and waybill number; a command reply's type and the
platform's error; a sub-lock's sensor type and event; a location's lock state. Never a
password, nor a command reply's content (an unlock password is echoed there).

The line is made by SQL, in a trigger on `push`: every way a push gets into a journal —
`Journal.write`, `salvage`, a benchmark's bulk fill — indexes it in the same transaction,
and migration 9 indexes what an older journal holds. Only numbers and strings of the
decoded document are read (`json_extract`), so the SQL and `search_text` agree (a test
checks it). Matching is case-insensitive: the index folds case; a row tested on its own
(`row_clause`) uses LIKE, which folds ASCII letters only (the vendor's names are ASCII).

On PostgreSQL (the shared journal, `pg.py`) the writer stores each push's line in its
`line` column (`search_text`), a pg_trgm GIN index makes `line ILIKE '%SOS%'` an index
lookup, and the SQL line (`ROW_TEXT`) is read as that column (`pgconn.translate`).
"""

from __future__ import annotations

import json
from typing import Any

from app.journal.dialect import is_postgres


def _cat(*parts: str) -> str:
    """SQL: the parts joined, a NULL part as ''."""
    return "(" + " || ".join(p if p.startswith("'") else f"ifnull({p}, '')" for p in parts) + ")"


def _doc(path: str) -> str:
    # json_extract, not ->>: the same values for strings and numbers, and an SQLite older
    # than 3.38 (a read-only journal opened elsewhere) knows it too.
    return f"json_extract(new.data, '{path}')"


# (kind, decoded fields): the words each kind contributes, in order. `alarmType` is written
# as the Summary writes it, "(51)" after the name.
WORDS: dict[str, tuple[str, ...]] = {
    "alarm": ("alarmName", "(alarmType)"),
    "event": ("eventName", "unLockTypeName", "card", "describe.waybillNo"),
    "command": ("commandType", "platformError"),
    "sublock": ("sensorTypeName", "eventName"),
}
LOCK_WORDS = {0: "locked", 1: "unlocked"}  # a location's statusJson.lockStatus


def _kind_sql(kind: str) -> str:
    parts: list[str] = []
    for name in WORDS[kind]:
        if parts:
            parts.append("' '")
        if name.startswith("("):
            inner = _doc("$." + name[1:-1])
            parts.append(f"CASE WHEN {inner} IS NULL THEN '' ELSE '(' || {inner} || ')' END")
        else:
            parts.append(_doc("$." + name))
    return _cat(*parts)


_LOCK_SQL = ("CASE " + _doc("$.statusJson.lockStatus") + " "
             + " ".join(f"WHEN {k} THEN '{w}'" for k, w in LOCK_WORDS.items()) + " ELSE '' END")

# The line of one new push row (`new.` in the trigger).
SEARCH_TEXT = _cat(
    "new.device", "' '", "new.sublock", "' '",
    # CASE, not AND: SQLite may evaluate both sides of an AND, and ->> on a document that
    # is not JSON raises.
    "CASE WHEN json_valid(new.data) THEN CASE new.kind "
    + " ".join(f"WHEN '{k}' THEN {_kind_sql(k)}" for k in WORDS)
    + f" WHEN 'location' THEN {_LOCK_SQL} ELSE '' END ELSE '' END",
)

# The same line of a `push` row in a query (its own columns).
ROW_TEXT = SEARCH_TEXT.replace("new.", "")

# Contentless (the lines are not stored: the index lists matching ids, and a row's own line
# is made again from the row when a query must test it) and without column sizes (no
# ranking here): the smallest index, and the least work for each push written.
TABLE_SQL = ("CREATE VIRTUAL TABLE push_text USING fts5(text, content='', columnsize=0,"
             " tokenize='trigram')")
TRIGGER_SQL = (
    "CREATE TRIGGER push_text_index AFTER INSERT ON push BEGIN "
    f"INSERT INTO push_text (rowid, text) VALUES (new.id, {SEARCH_TEXT}); END"
)
BACKFILL_SQL = f"INSERT INTO push_text (rowid, text) SELECT id, {ROW_TEXT} FROM push"

# Migration 11: a writer may supply the lines of the pushes it writes. Making a line in SQL
# parses the push's decoded document twice (json_valid, json_extract), ~11 µs a push, where
# the writer has the document in hand (`supplied_line`, ~1 µs); with the index's own work
# the trigger was a third of what storing a push cost. A writer that supplies the lines
# marks its transaction with a row in `push_text_writer` (inserted after BEGIN, deleted
# before COMMIT: no other connection ever sees it), and the trigger stands aside for the
# pushes of that transaction. Every other way into a journal is indexed by the trigger,
# as before.
WRITER_TABLE_SQL = "CREATE TABLE IF NOT EXISTS push_text_writer (writing INTEGER)"
SUPPLYING_TRIGGER_SQL = (
    "CREATE TRIGGER push_text_index AFTER INSERT ON push"
    " WHEN NOT EXISTS (SELECT 1 FROM push_text_writer) BEGIN "
    f"INSERT INTO push_text (rowid, text) VALUES (new.id, {SEARCH_TEXT}); END"
)
SUPPLY_BEGIN_SQL = "INSERT INTO push_text_writer (writing) VALUES (1)"
SUPPLY_END_SQL = "DELETE FROM push_text_writer"
SUPPLY_LINE_SQL = "INSERT INTO push_text (rowid, text) VALUES (?, ?)"
# A line the writer could not vouch for (see supplied_line) is made by SQL, as the trigger.
SQL_LINE_SQL = f"INSERT INTO push_text (rowid, text) SELECT id, {ROW_TEXT} FROM push WHERE id = ?"


def create(conn) -> None:
    """Migration 9: the index, its trigger, and the line of every push already journaled
    (seconds for a million pushes, once, when an older journal is first opened). Where
    SQLite has no FTS5 trigram tokenizer (older than 3.34) there is no index: the search
    then makes each row's line as it scans (slow, but it answers)."""
    # A journal set back to an older version (restored from a copy, by hand) may have them:
    # made again from its pushes, so the index holds exactly what the journal holds.
    conn.execute("DROP TRIGGER IF EXISTS push_text_index")
    conn.execute("DROP TABLE IF EXISTS push_text")
    try:
        conn.execute(TABLE_SQL)
    except Exception:
        return
    conn.execute(TRIGGER_SQL)
    conn.execute(BACKFILL_SQL)


def let_writers_supply_lines(conn) -> None:
    """Migration 11 (see SUPPLYING_TRIGGER_SQL); nothing where there is no index."""
    if not indexed(conn):
        return
    conn.execute(WRITER_TABLE_SQL)
    conn.execute("DROP TRIGGER IF EXISTS push_text_index")
    conn.execute(SUPPLYING_TRIGGER_SQL)


def writers_supply_lines(conn) -> bool:
    """The journal's trigger stands aside for a writer that supplies the lines."""
    return conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE name IN ('push_text', 'push_text_writer')"
    ).fetchone()[0] == 2


def indexed(conn) -> bool:
    """The journal has the trigram index of its pushes' lines."""
    if is_postgres(conn):
        return conn.execute("SELECT to_regclass('push_line_trgm') IS NOT NULL").fetchone()[0]
    return conn.execute(
        "SELECT 1 FROM sqlite_master WHERE name = 'push_text'").fetchone() is not None


# -- the same line for a live record ---------------------------------------------------------


def _value(data: dict[str, Any], path: str) -> Any:
    value: Any = data
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def _word(value: Any) -> str:
    """As SQLite's `->>` gives a value as text: numbers and strings as themselves, true/false
    as 1/0, null as '', an object or array as compact JSON."""
    if value is None:
        return ""
    if value is True:
        return "1"
    if value is False:
        return "0"
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else ""
    return str(value)


def search_text(kind: str, device: str | None, sublock: str | None,
                data: dict[str, Any] | None) -> str:
    """The indexed line of a push, from its decoded record (what `SEARCH_TEXT` makes)."""
    words: list[str] = []
    if isinstance(data, dict):
        if kind in WORDS:
            for name in WORDS[kind]:
                if name.startswith("("):
                    value = _value(data, name[1:-1])
                    words.append("" if value is None else f"({_word(value)})")
                else:
                    words.append(_word(_value(data, name)))
        elif kind == "location":
            lock = _value(data, "statusJson.lockStatus")  # 0, 0.0 and false alike, as SQL
            words.append(LOCK_WORDS.get(lock, "") if isinstance(lock, int | float) else "")
    return " ".join([device or "", sublock or "", " ".join(words)])


_INT64 = (-(2**63), 2**63 - 1)


def _vouched(value: Any) -> bool:
    """A word SQLite writes exactly as `_word` does: text it can store, an integer it holds
    as one, true/false, null. A float (SQLite's own digits), an object or array (its own
    JSON) is left to SQL."""
    kind = type(value)
    if kind is str:
        if value.isascii():
            return True
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:
            return False
        return True
    if kind is int:
        return _INT64[0] <= value <= _INT64[1]
    return value is None or kind is bool


def supplied_line(kind: str, device: str | None, sublock: str | None,
                  data: dict[str, Any]) -> str | None:
    """The line SQL would make for a push stored with these columns (device and sub-lock as
    stored), or None when only SQL can say it exactly."""
    for name in WORDS.get(kind, ()):
        if not _vouched(_value(data, name.strip("()"))):
            return None
    return search_text(kind, device, sublock, data)


def matches(needle: str, kind: str, device: str | None, sublock: str | None,
            data: dict[str, Any] | None) -> bool:
    """The index's test for a live record: a case-insensitive substring of its line."""
    return needle.lower() in search_text(kind, device, sublock, data).lower()


# -- the SQL the push log uses ---------------------------------------------------------------


def like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def row_clause(needle: str) -> tuple[str, list[Any]]:
    """A condition on a `push` row: its line contains `needle`. The line is made from the
    row (a few µs: one JSON parse), so it suits a device's rows, counts and exports; the
    index (`candidates`) is what finds matches among a million."""
    return f"({ROW_TEXT}) LIKE ? ESCAPE '\\'", ["%" + like_escape(needle) + "%"]


def can_drive(conn, needle: str) -> bool:
    """The trigram index can list the matches itself (3 characters or more)."""
    return len(needle) >= 3 and (is_postgres(conn) or indexed(conn))


def phrase(needle: str) -> str:
    """An FTS5 query for `needle` as one string of characters (quotes doubled)."""
    return '"' + needle.replace('"', '""') + '"'


def candidates(conn, needle: str, before_id: int | None, limit: int,
               run=None) -> list[int]:
    """Ids of pushes whose line contains `needle`, newest first, below `before_id`."""
    if is_postgres(conn):  # the stored line, through its pg_trgm index
        sql = "SELECT id FROM push WHERE line ILIKE ? ESCAPE '\\'"
        params: list[Any] = ["%" + like_escape(needle) + "%"]
        column = "id"
    else:
        sql = "SELECT rowid FROM push_text WHERE push_text MATCH ?"
        params = [phrase(needle)]
        column = "rowid"
    if before_id is not None:
        sql += f" AND {column} < ?"
        params.append(before_id)
    sql += f" ORDER BY {column} DESC LIMIT ?"
    params.append(limit)
    rows = run(conn, sql, params) if run is not None else conn.execute(sql, params).fetchall()
    return [r[0] for r in rows]
