"""The fleet as it truly is: with the broker stopped, no device stays green.

A real window on a real broker with 20 simulated devices: stop the broker and every device
reads "unknown — feed down since HH:MM" (well within the quiet threshold: the disconnect is
seen at once), the banner and the status-bar mark say the feed is down; start the broker
again and the statuses come back to online from the pushes that arrive."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings
from app.ui.panels.devices.model import COL_STATUS
from app.ui.session import Session

DEVICES = 20


@pytest.fixture
def session(qtbot, tmp_path):
    s = Session(tmp_path / "journal.sqlite",
                QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = s.open_window()
    qtbot.addWidget(window)
    window.show()
    yield s
    window.close()
    s.feed.stop()
    s.recording.stop()


def statuses(panel) -> set[str]:
    return {panel.model.status_text(d) for d in panel.ctx.fleet.devices}


def test_broker_stopped_every_device_unknown_then_online_again(qtbot, session, broker):
    window = session.window
    devices = window.panels["devices"]
    session.connections.connect_profile(ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="FEED", qos=1, clean_session=True,
        client_id="win-feed", profile="Feed"))
    qtbot.waitUntil(lambda: "Feed: connected" in window.conn_label.text(), timeout=15000)
    sim = Simulator(ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="FEED", qos=1, client_id="",
        clean_session=True), devices=DEVICES, seed=3, rate=100).start()
    try:
        qtbot.waitUntil(lambda: len(session.fleet.devices) == DEVICES, timeout=20000)
        assert statuses(devices) == {"online"}
        assert window.feed_banner.text() == "" and window.feed_mark.isHidden()

        broker.stop()
        # The wait is far shorter than the quiet threshold (300 s): the outage is seen at once.
        assert session.fleet.thresholds.quiet_after > 15
        qtbot.waitUntil(lambda: all(t.startswith("unknown — feed down since ")
                                    for t in statuses(devices)), timeout=15000)
        qtbot.waitUntil(lambda: window.feed_banner.text().startswith("Feed down: Feed"),
                        timeout=5000)
        assert f"Its {DEVICES} devices show as unknown" in window.feed_banner.text()
        assert window.feed_mark.text().startswith("⚠ feed down")
        assert not window.feed_mark.isHidden()
        devices.update_counts()
        assert f"{DEVICES} unknown" in devices.counts_text()
        assert "0 online" in devices.counts_text()
        # what the tree draws, too: the first row's status cell
        first = devices.model.index(0, COL_STATUS)
        devices.view.scrollTo(first)
        devices.view.viewport().repaint()
        assert first.data().startswith("unknown — feed down since ")

        broker.start()
        qtbot.waitUntil(lambda: statuses(devices) == {"online"}, timeout=60000)
        qtbot.waitUntil(lambda: window.feed_banner.text() == "", timeout=5000)
        assert window.feed_mark.isHidden()
    finally:
        sim.stop(timeout=5)
