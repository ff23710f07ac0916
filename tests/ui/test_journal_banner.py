"""The window says so when its journal stops (issue 21): a red banner, with a way out."""

from __future__ import annotations

import sqlite3

import paho.mqtt.client as mqtt
import pytest
from PySide6.QtCore import QSettings, Qt

from app.journal.store import Journal
from app.transport.settings import ConnectionSettings
from app.transport.state import Phase
from app.ui.session import Session

PUSH = ("upload/KEY/D1/location", b'{"assetId": "D1", "speed": 3}')


def damage_schema(path) -> None:
    """Garble one index's schema entry, as a damaged page would: the journal's next write
    fails with "malformed database schema" (a DatabaseError, not busy or full)."""
    conn = sqlite3.connect(path, isolation_level=None)
    version = conn.execute("PRAGMA schema_version").fetchone()[0]
    conn.execute("PRAGMA writable_schema=ON")
    conn.execute("UPDATE sqlite_master SET sql='CREATE INDEX push_time ON push (garbled' "
                 "WHERE name='push_time'")
    conn.execute(f"PRAGMA schema_version={version + 1}")
    conn.close()


def _count(path) -> int:
    conn = sqlite3.connect(path)
    try:
        return conn.execute("SELECT count(*) FROM push").fetchone()[0]
    finally:
        conn.close()


def _publish_all(broker, messages) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for info in [client.publish(t, p, qos=1) for t, p in messages]:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


@pytest.fixture
def session(qtbot, tmp_path):
    s = Session(tmp_path / "journal.sqlite",
                QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = s.open_window()
    qtbot.addWidget(window)
    window.show()
    yield s
    window.close()
    s.feed.stop()
    s.recording.stop()


def test_a_stopped_journal_shows_the_banner_and_a_new_journal_gets_the_held_pushes(
        qtbot, session, broker, tmp_path):
    journal = tmp_path / "journal.sqlite"
    banner = session.window.journal_banner
    assert not banner.isVisible()
    session.connections.connect_profile(ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="KEY", qos=1, clean_session=False,
        client_id="banner-test", profile="Test"))
    qtbot.waitUntil(lambda: (s := session.connections.states.get("Test")) is not None
                    and s.phase is Phase.CONNECTED, timeout=20_000)
    _publish_all(broker, [PUSH])
    qtbot.waitUntil(lambda: _count(journal) == 1, timeout=20_000)

    damage_schema(journal)
    _publish_all(broker, [(PUSH[0], b'{"assetId": "D1", "speed": 4}')])
    qtbot.waitUntil(banner.isVisible, timeout=20_000)
    text = banner.label.text()
    assert text.startswith("Journal stopped: ") and "malformed" in text
    assert text.endswith("pushes are held by the broker, not lost")
    assert banner.retry_button.isVisible() and banner.new_button.isVisible()

    qtbot.mouseClick(banner.new_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not banner.isVisible(), timeout=30_000)
    aside = [p for p in tmp_path.iterdir() if ".damaged-" in p.name and p.suffix == ".sqlite"]
    assert len(aside) == 1
    # The new journal gets the push the broker held (never acknowledged by the dead one).
    def held_push_arrived() -> bool:
        try:
            with Journal(journal, readonly=True) as j:
                return [r.data.get("speed") for r in j.rows()] == [4]
        except sqlite3.Error:
            return False

    qtbot.waitUntil(held_push_arrived, timeout=30_000)


def test_a_damaged_journal_is_refused_on_open_with_a_way_to_move_it_aside(qtbot, tmp_path):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication, QMessageBox

    from app.ui.journal_banner import open_checked

    journal = tmp_path / "j.sqlite"
    journal.write_bytes(b"SQLite format 3\x00" + bytes(range(256)) * 32)
    seen: list[str] = []

    def answer(button_text: str) -> None:
        box = QApplication.activeModalWidget()
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        button = next(b for b in box.buttons() if b.text().startswith(button_text))
        button.click()

    QTimer.singleShot(0, lambda: answer("Quit"))
    assert open_checked(journal) is False
    assert journal.exists() and "damaged" in seen[0]

    QTimer.singleShot(0, lambda: answer("Move it aside"))
    assert open_checked(journal) is True
    assert not journal.exists()
    assert len([p for p in tmp_path.iterdir() if ".damaged-" in p.name]) == 1
