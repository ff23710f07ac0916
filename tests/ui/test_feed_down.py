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
        assert "retrying in" not in window.feed_banner.text()  # no countdown frozen in it
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


# -- per-profile threshold, silent feeds ------------------------------------------------------


def test_a_profile_carries_its_own_feed_quiet_after(qtbot, tmp_path, fake_keyring):
    from live_rig import LiveRig

    from app.ui.panels.connection.editor import ProfileEditor
    from app.ui.panels.connection.profiles import Profile
    from app.ui.panels.connection.widget import ConnectionPanel

    with LiveRig(tmp_path) as rig:
        panel = ConnectionPanel(rig.ctx)
        qtbot.addWidget(panel)
        editor = ProfileEditor(panel.store, Profile(name="Yard", host="127.0.0.1",
                                                    access_key="AK1", feed_quiet_after=0))
        qtbot.addWidget(editor)
        assert editor.feed_quiet.text() == "as Settings › Quiet after"
        editor.feed_quiet.setValue(45)
        panel.store.save(editor.build_profile())
        assert panel.store.get("Yard").feed_quiet_after == 45  # stored with the profile
        panel.refresh()
        assert rig.ctx.feed_health.quiet_after("Yard") == 45
        assert rig.ctx.feed_health.quiet_after("other") == rig.fleet.thresholds.quiet_after
        panel.shutdown()


def test_a_connected_but_silent_feed_is_down_and_says_so(qtbot, tmp_path):
    import time

    from live_rig import LiveRig
    from PySide6.QtWidgets import QMainWindow

    from app.transport.state import ConnectionState, Phase
    from app.ui.feed_banner import attach_feed_banner

    with LiveRig(tmp_path, listen=False) as rig:
        window = QMainWindow()
        qtbot.addWidget(window)
        attach_feed_banner(rig.ctx, window)
        health = rig.ctx.feed_health
        health.set_quiet_after("test", 60)
        now = time.time()
        health.on_state("test", ConnectionState(Phase.CONNECTED), at=now - 100)
        rig.send(qtbot, [("upload/K/D1/location", b'{"assetId":"D1","battery":50}')],
                 at=now - 90)
        assert rig.fleet.status("D1").value == "unknown"
        window.feed_watcher.update_now()  # what its one-second timer does
        assert window.feed_banner.text().startswith("Feed down: test — connected, but no push")
        assert "a feed with no push for 60 s counts as down" in window.feed_banner.text()
        # a push arrives: the feed is trusted again, the banner goes
        rig.send(qtbot, [("upload/K/D1/location", b'{"assetId":"D1","battery":49}')])
        health.check()
        window.feed_watcher.update_now()
        assert window.feed_banner.text() == ""
        assert rig.fleet.status("D1").value == "online"
