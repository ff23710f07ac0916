"""Audit rows follow a command through its states; search and CSV export.

On both journals (`journal_target`: a SQLite file, a PostgreSQL database), but for the
migration test, which reads SQLite's own catalogue."""

from __future__ import annotations

import csv
import io
import sqlite3

from app.commands import audit
from app.commands.builder import build, build_text, template
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandTracker
from app.journal.schema import SCHEMA_VERSION
from app.journal.store import Journal


class Clock:
    t = 0.0

    def __call__(self) -> float:
        return self.t


# SQLite only: its PRAGMAs (PostgreSQL's schema is tests/core/test_pg_journal.py's).
def test_migration_adds_the_command_table(tmp_path) -> None:
    path = tmp_path / "j.sqlite"
    Journal(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    cols = {r[1] for r in conn.execute("PRAGMA table_info(command)")}
    assert {
        "profile",
        "device",
        "sublock",
        "operator",
        "text",
        "name",
        "serial",
        "sent_at",
        "state",
        "reason",
        "reply_push_id",
        "reply",
        "answered_at",
    } <= cols
    idx = {r[1] for r in conn.execute("PRAGMA index_list(command)")}
    assert {"command_device_time", "command_time"} <= idx


def test_rows_follow_the_states(journal_target, long_reply, make_reply) -> None:
    clock = Clock()
    walls = iter(float(t) for t in range(100, 200))
    tracker = CommandTracker(10, clock=clock, wall=lambda: next(walls), operator="bob")
    log = audit.AuditLog(journal_target).attach(tracker)
    a = tracker.track(build(template("version"), "D1", 1), "site")
    tracker.mark_sent(a)
    b = tracker.track(
        build(template("unlock_sublock"), "D2", 7, minutes=1, sublock="E0171E0365"), "site"
    )
    tracker.mark_sent(b)
    c = tracker.track(build_text("P01", "D3"), "site")
    tracker.mark_sent(c)
    tracker.on_reply(long_reply("D1", "BASE", "1", "001", "FW1"), push_id=42)
    tracker.on_reply(
        make_reply("D2", "MQTT_CMD", "Device not online！", platform_error="Device not online！"),
        push_id=43,
    )
    clock.t = 11
    tracker.expire()

    rows = {r.device: r for r in audit.search(log.conn)}
    assert rows["D1"].state == "answered" and rows["D1"].reply_push_id == 42
    assert rows["D1"].reply[5] == "FW1" and rows["D1"].operator == "bob"
    assert rows["D1"].text == "(D1,1,001,BASE,1)" and rows["D1"].serial == "001"
    assert rows["D1"].sent_at is not None and rows["D1"].answered_at is not None
    assert rows["D2"].state == "failed" and rows["D2"].reason == "Device not online！"
    assert rows["D2"].dangerous and rows["D2"].sublock == "E0171E0365"
    assert rows["D3"].state == "timed_out" and rows["D3"].serial is None
    assert len(rows) == 3 and all(r.profile == "site" for r in rows.values())
    log.close()


def test_operator_defaults_to_the_os_user(journal_target) -> None:
    tracker = CommandTracker()
    log = audit.AuditLog(journal_target).attach(tracker)
    tracker.track(build(template("version"), "D1", 1))
    (row,) = audit.search(log.conn)
    assert row.operator == audit.current_operator() != ""
    log.close()


def _filled(target):
    walls = iter([100.0, 200.0, 300.0, 400.0])
    tracker = CommandTracker(wall=lambda: next(walls))
    log = audit.AuditLog(target).attach(tracker)
    tracker.track(build(template("version"), "D1", 1))
    tracker.track(build(template("time"), "D1", 2))
    tracker.track(build(template("version"), "D2", 9))
    tracker.track(build_text("P43,1234", "D2"))
    return log


def test_search_by_device_text_and_time(journal_target) -> None:
    log = _filled(journal_target)
    conn = log.conn
    assert [r.text for r in audit.device_history(conn, "D1")] == [
        "(D1,1,002,BASE,2)",
        "(D1,1,001,BASE,1)",
    ]
    assert {r.device for r in audit.search(conn, text="BASE,1")} == {"D1", "D2"}
    assert [r.created_at for r in audit.search(conn, since=200, until=400)] == [300.0, 200.0]
    assert audit.search(conn, state="answered") == []
    assert len(audit.search(conn, limit=2)) == 2
    log.close()


def test_last_serial_seeds_the_counter(journal_target) -> None:
    log = _filled(journal_target)
    assert audit.last_serial(log.conn, "D1") == "002"
    assert audit.last_serial(log.conn, "D2") == "009"  # P43 carries no serial
    assert audit.last_serial(log.conn, "D3") is None
    counter = SerialCounter(seed=lambda d: audit.last_serial(log.conn, d), first=2)
    assert counter.next("D1") == "003"
    assert counter.next("D3") == "002"
    log.close()


def test_export_csv(journal_target, tmp_path) -> None:
    log = _filled(journal_target)
    rows = audit.search(log.conn)
    buf = io.StringIO()
    assert audit.export_csv(rows, buf) == 4
    got = list(csv.DictReader(io.StringIO(buf.getvalue())))
    assert got[0]["text"] == "(P43,1234)" and got[0]["dangerous"] == "1"
    assert got[-1]["created_at"] == "1970-01-01T00:01:40.000Z"
    path = tmp_path / "out.csv"
    assert audit.export_csv(rows, path) == 4
    assert path.read_text(encoding="utf-8").splitlines()[0].startswith("id,profile,device")
    log.close()
