"""The window as a whole: filled from a real broker, status bar, layout that persists, demo."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtGui import QImage
from screen_probe import screen_env

from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings
from app.ui.session import Session


@pytest.fixture
def settings(tmp_path) -> QSettings:
    return QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)


@pytest.fixture
def session(qtbot, tmp_path, settings):
    s = Session(tmp_path / "journal.sqlite", settings)
    window = s.open_window()
    qtbot.addWidget(window)
    yield s
    window.close()
    s.feed.stop()
    s.recording.stop()


def _connect(session: Session, broker, key: str) -> Simulator:
    session.connections.connect_profile(ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=key, qos=1, clean_session=True,
        client_id=f"win-{key}", profile="Test"))
    sim = ConnectionSettings.from_options(host=broker.host, port=broker.port, access_key=key,
                                          qos=1, client_id="", clean_session=True)
    return Simulator(sim, devices=12, seed=5, rate=300)


def test_window_fills_from_a_real_broker_and_reports_state(qtbot, session, broker):
    window = session.window
    sim = _connect(session, broker, "WIN")
    qtbot.waitUntil(lambda: "Test: connected" in window.conn_label.text(), timeout=15000)
    sim.start()
    try:
        sim.publish_now(sim.fleet.raise_alarm(sim.fleet.device_ids[0], 46))
        qtbot.waitUntil(lambda: len(session.fleet.devices) == 12, timeout=20000)
        qtbot.waitUntil(lambda: "unacknowledged alarm" in window.alarm_label.text(),
                        timeout=10000)
        qtbot.waitUntil(lambda: "pushes/s" in window.rate_label.text()
                        and not window.rate_label.text().startswith("0 "), timeout=10000)
        assert "last push" in window.last_label.text()
    finally:
        sim.stop(timeout=5)
    # every panel built, in a dock, and reachable from the View menu
    for key in ("connection", "devices", "detail", "alarms", "events", "pushlog"):
        assert key in window.docks, key


def test_broker_down_and_back_shows_in_the_status_bar(qtbot, session, broker):
    window = session.window
    session.connections.connect_profile(ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="K", qos=1, clean_session=True,
        client_id="win-down", profile="Test"))
    qtbot.waitUntil(lambda: "Test: connected" in window.conn_label.text(), timeout=15000)
    broker.stop()
    qtbot.waitUntil(lambda: "retrying in" in window.conn_label.text(), timeout=15000)
    broker.start()
    qtbot.waitUntil(lambda: "Test: connected" in window.conn_label.text(), timeout=30000)


def test_layout_is_saved_and_restored(qtbot, tmp_path, settings):
    first = Session(tmp_path / "j.sqlite", settings)
    window = first.open_window()
    qtbot.addWidget(window)
    window.show()
    window.docks["events"].hide()
    window.docks["pushlog"].setFloating(True)
    window.close()
    first.feed.stop()
    first.recording.stop()

    second = Session(tmp_path / "j.sqlite", settings)
    again = second.open_window()
    qtbot.addWidget(again)
    again.show()
    try:
        assert again.docks["events"].isHidden()
        assert again.docks["pushlog"].isFloating()
        assert not again.docks["alarms"].isHidden()
    finally:
        again.close()
        second.feed.stop()
        second.recording.stop()


def test_demo_starts_populated_and_saves_a_screenshot(cli, tmp_path):
    """The README's first command, as a user runs it (offscreen)."""
    png = tmp_path / "demo.png"
    res = cli.run("--demo", "--screenshot", str(png), "--quit-after", "10", timeout=120,
                  env=screen_env(tmp_path, 1920, 1080))
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    image = QImage(str(png))
    assert image.width() >= 1000 and image.height() >= 600
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7)
               for y in range(0, image.height(), 7)}
    assert len(colours) > 50  # panels with rows, not a blank window


def test_window_command_line_connects_directly(cli, broker, tmp_path):
    png = tmp_path / "direct.png"
    journal = tmp_path / "j.sqlite"
    res = cli.run("--host", broker.host, "--port", str(broker.port), "--access-key", "K",
                  "--journal", str(journal), "--screenshot", str(png), "--quit-after", "4",
                  timeout=120)
    assert res.returncode == 0, res.stderr[-2000:]
    assert Path(png).exists()


def test_panels_behind_a_tab_skip_batches_and_catch_up_when_brought_forward(qtbot, session):
    """In the default layout the push log and the map are tabs behind others: they do no
    per-batch work there (Qt keeps such docks 'visible', only off screen) and catch up —
    from the journal, from the fleet state — once brought forward."""
    import time

    from app.protocol.push import RawPush
    from app.sim.fleet import Fleet
    from app.ui.widgets.visibility import on_screen

    window = session.window
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    pushlog, map_panel = window.panels["pushlog"], window.panels["map"]
    qtbot.waitUntil(lambda: not pushlog.model.loading)
    assert not on_screen(pushlog) and not on_screen(map_panel)
    fleet = Fleet("TABKEY", devices=6, seed=3)
    pushes = [p for d in fleet.device_ids for p in fleet.location(d)]
    handed_out: list[int] = []  # sig_batch_delivered comes once every view has had its turn
    session.feed.sig_batch_delivered.connect(lambda change: handed_out.append(len(change.records)))
    for topic, payload in pushes:
        session.recording.submit(RawPush("mqtt", topic, payload, time.time(), "t"))
    assert session.recording.flush(10)
    qtbot.waitUntil(lambda: sum(handed_out) >= len(pushes), timeout=10_000)
    assert len(session.fleet.devices) == len(fleet.device_ids)
    assert pushlog.model.rowCount() == 0  # no rows built behind the Alarms tab
    assert map_panel.model.markers == {}

    window.show_panel("pushlog")
    window.show_panel("map")
    qtbot.waitUntil(lambda: pushlog.model.rowCount() == len(pushes), timeout=10_000)
    qtbot.waitUntil(lambda: set(map_panel.model.markers) == set(fleet.device_ids),
                    timeout=10_000)


def test_plain_mqtt_to_another_machine_is_marked_not_encrypted(qtbot, session, broker):
    window = session.window
    session.connections.connect_profile(ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="K", qos=1, clean_session=True,
        client_id="win-local", profile="Local"))
    qtbot.waitUntil(lambda: "Local: connected" in window.conn_label.text(), timeout=15000)
    assert "not encrypted" not in window.conn_label.text()  # this machine: nothing crosses
    session.connections.connect_profile(ConnectionSettings.from_options(
        host="192.0.2.1", port=1883, access_key="K", qos=1, clean_session=True,
        client_id="win-far", profile="Far"))  # TEST-NET-1: never answers
    qtbot.waitUntil(lambda: "Far: " in window.conn_label.text(), timeout=15000)
    text = window.conn_label.text()
    assert "Far: " in text and "· ⚠ not encrypted" in text.split("Far: ")[1]
    assert "not encrypted" not in text.split("Far: ")[0]
