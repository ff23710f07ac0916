"""A journal that cannot be written stops loudly (issue 21): `record` ends non-zero with one
line and acknowledges nothing more, so the broker keeps the pushes for the next run."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from test_record_export import _publish_all
from waiting import wait_for

from app.journal.store import Journal
from app.protocol.push import RawPush

PUSH = ("upload/KEY/D1/location", b'{"assetId": "D1", "speed": 3}')


def damage_schema(path: Path) -> None:
    """Garble one index's entry in the schema, as a damaged page would: every statement the
    writer runs next fails with "malformed database schema" (a DatabaseError, not busy/full)."""
    conn = sqlite3.connect(path, isolation_level=None)
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("UPDATE sqlite_master SET sql='CREATE INDEX push_time ON push (garbled' "
                 "WHERE name='push_time'")
    conn.execute(f"PRAGMA schema_version={version + 1}")
    conn.close()


def _count(path: Path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM push").fetchone()[0]
    finally:
        conn.close()


def _start_record(cli, broker, journal: Path, *extra: str):
    proc = cli.start("record", "--host", broker.host, "--port", str(broker.port),
                     "--access-key", "KEY", "--client-id", "health-test", "--qos", "1",
                     "--journal", str(journal), *extra)
    for line in proc.stderr:
        if "connected" in line:
            break
    return proc


def test_record_exits_non_zero_with_one_line_when_its_writer_raises(cli, broker, tmp_path):
    journal = tmp_path / "j.sqlite"
    Journal(journal).close()
    proc = _start_record(cli, broker, journal, "--duration", "120")
    _publish_all(broker, [PUSH])
    wait_for(lambda: _count(journal) == 1, 20, "the first push journaled")
    damage_schema(journal)
    _publish_all(broker, [(PUSH[0], b'{"assetId": "D1", "speed": 4}')])
    # Long before --duration: the writer's death ends the run at once.
    out, err = proc.communicate(timeout=10)
    assert proc.returncode == 1, (out, err)
    errors = [line for line in err.splitlines() if "error" in line.lower()]
    assert len(errors) == 1, err
    assert f"journal {journal} stopped" in errors[0] and "malformed" in errors[0]
    assert "Traceback" not in err
    assert "recorded" not in out

    # Nothing journaled was acknowledged after the failure: the broker held the second push
    # and hands it to the next run of the same session.
    fresh = tmp_path / "fresh.sqlite"
    proc = _start_record(cli, broker, fresh, "--count", "1", "--duration", "30")
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    rows = list(Journal(fresh, readonly=True).rows())
    assert [r.data["speed"] for r in rows] == [4]


def test_the_journal_process_reports_a_stopped_journal_and_acknowledges_nothing(tmp_path):
    from app.journal.process_writer import ProcessJournalWriter

    path = tmp_path / "j.sqlite"
    writer = ProcessJournalWriter(path).start()
    healths = []
    stopped = threading.Event()
    writer.add_health_listener(lambda h: (healths.append(h), h.stopped and stopped.set()))
    acked: list[int] = []
    writer.submit(RawPush("mqtt", PUSH[0], PUSH[1], 1.0, "p", lambda: acked.append(1)))
    assert writer.flush(30) and acked == [1]
    damage_schema(path)
    writer.submit(RawPush("mqtt", PUSH[0], PUSH[1], 2.0, "p", lambda: acked.append(2)))
    assert stopped.wait(30)
    assert not writer.flush(5)  # returns at once: nothing more will be committed
    writer.stop()
    assert acked == [1]
    assert healths[-1].stopped and "malformed" in healths[-1].cause
    assert healths[-1].describe().startswith("Journal stopped: ")
    assert "pushes are held by the broker, not lost" in healths[-1].describe()
