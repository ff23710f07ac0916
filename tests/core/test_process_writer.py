"""The child-process journal writer keeps every push and acknowledges only after commit."""

from __future__ import annotations

import threading

from app.journal.process_writer import ProcessJournalWriter
from app.journal.store import Journal
from app.protocol.push import RawPush


def test_every_push_is_committed_before_its_acknowledgement(tmp_path):
    path = tmp_path / "j.sqlite"
    writer = ProcessJournalWriter(path).start()
    checker = Journal(path)
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def ack_for(i: int):
        def ack() -> None:
            with lock:
                seen.append((i, checker.count()))
        return ack

    n = 3000
    for i in range(n):
        payload = b'{"assetId":"D%d","alarmType":46}' % (i % 7)
        writer.submit(RawPush("mqtt", f"upload/K/D{i % 7}/alarm", payload, float(i), "p",
                              ack_for(i)))
    writer.submit(RawPush("webhook", "/receiveAlarmData", b"{broken", 1.0), "alarm")
    assert writer.flush(60)
    writer.stop()
    assert writer.stats.written == n + 1
    assert writer.stats.with_errors == 1
    assert len(seen) == n
    assert all(count >= i + 1 for i, count in seen)  # on disk before acknowledged
    with Journal(path) as j:
        assert j.count() == n + 1
        assert j.count(kind="alarm") == n + 1
        assert j.count(source="webhook") == 1
