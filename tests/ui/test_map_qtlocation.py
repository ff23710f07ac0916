"""The QtLocation map: tiles from the configured server, markers, clicks, selection, track.

A real HTTP tile server on loopback stands in for OpenStreetMap (CI has no internet); an
unreachable one shows how the map looks and says it offline.
"""

from __future__ import annotations

import re
import time

import pytest
from live_rig import decoded, fed, opened
from loopback_tiles import TileServer
from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest

from app.brokers import PortReservation
from app.journal.store import Journal
from app.sim.fleet import Fleet
from app.ui.panels.map.widget import (
    SETTINGS_TILE_CACHE,
    SETTINGS_TILES,
    MapPanel,
    MarkerListModel,
    QuickMapView,
)
from app.ui.theme import STATUS_COLOURS

KEY = "QMLKEY"
@pytest.fixture
def sim():
    return Fleet(KEY, devices=10, seed=21)


@pytest.fixture
def tiles():
    server = TileServer()
    yield server
    server.close()


def make_panel(session, qtbot, tmp_path, url: str):
    session.ctx.settings.setValue(SETTINGS_TILES, url)
    session.ctx.settings.setValue(SETTINGS_TILE_CACHE, str(tmp_path / "tiles"))
    return opened(qtbot, MapPanel(session.ctx), (800, 600), show=True)


def send(session, qtbot, records, first_id=1):
    fed(session.feed, qtbot, records, first_id)


def roles(model: MarkerListModel, row: int) -> dict[str, object]:
    index = model.index(row, 0)
    return {name.data().decode(): index.data(role) for role, name in model.roleNames().items()}


def test_fleet_on_tiles_from_the_configured_server(session, sim, tiles, qtbot, tmp_path,
                                                   qtmodeltester):
    lost = sim.device_ids[0]
    sim.devices[lost].has_fix = False
    with make_panel(session, qtbot, tmp_path, tiles.url) as panel:
        view = panel.view
        assert isinstance(view, QuickMapView) and view.ok, getattr(view, "errors", None)
        send(session, qtbot, decoded([p for d in sim.device_ids for p in sim.location(d)]))
        model = view.list_model
        qtbot.waitUntil(lambda: model.rowCount() == len(sim.device_ids) - 1, timeout=3000)
        qtmodeltester.check(model)
        rows = [roles(model, r) for r in range(model.rowCount())]
        assert {r["deviceId"] for r in rows} == set(sim.device_ids) - {lost}  # no (0, 0) dot
        for r in rows:
            marker = panel.model.markers[r["deviceId"]]
            assert (r["lat"], r["lon"]) == (marker.lat, marker.lon)
            assert r["colour"] == STATUS_COLOURS["online"].name()
        # every marker is a map item (plus the track line)
        qtbot.waitUntil(lambda: view.root.itemCount() == len(rows) + 1, timeout=3000)
        # the tiles come from the server in the settings, as z/x/y
        qtbot.waitUntil(lambda: len(tiles.paths) > 0, timeout=10_000)
        assert all(re.fullmatch(r"/\d+/\d+/\d+\.png", p) for p in tiles.paths)
        qtbot.waitUntil(lambda: panel.status.text() == "map tiles from "
                        + tiles.url.split("/")[2], timeout=10_000)
        assert panel.no_fix_button.text() == "no fix: 1 device"


def test_a_click_on_a_marker_selects_the_device_everywhere(session, sim, tiles, qtbot,
                                                           tmp_path):
    with make_panel(session, qtbot, tmp_path, tiles.url) as panel:
        send(session, qtbot, decoded([p for d in sim.device_ids for p in sim.location(d)]))
        view = panel.view
        qtbot.waitUntil(lambda: view.root.itemCount() == len(sim.device_ids) + 1, timeout=3000)
        # demo devices come in city clusters: zoom in on one so its dot stands alone
        a, b = sim.device_ids[3:5]
        marker = panel.model.markers[a]
        with qtbot.waitSignal(view.quick.quickWindow().afterRendering):  # items moved
            view.fit(marker.lat - 0.002, marker.lat + 0.002, marker.lon - 0.002,
                     marker.lon + 0.002)
        x, y = view.root.pointOf(marker.lat, marker.lon).toVariant()
        assert 0 < x < view.quick.width() and 0 < y < view.quick.height()
        with qtbot.waitSignal(session.ctx.selection.sig_device_selected) as sig:
            QTest.mouseClick(view.quick, Qt.MouseButton.LeftButton,
                             Qt.KeyboardModifier.NoModifier, QPoint(round(x), round(y)))
        assert sig.args == [a]
        row = view.list_model.rows[a]
        assert roles(view.list_model, row)["selected"] is True
        # selected elsewhere: the map follows
        session.ctx.selection.select(b)
        assert roles(view.list_model, view.list_model.rows[b])["selected"] is True
        assert roles(view.list_model, row)["selected"] is False


def test_track_and_alarms_of_the_selected_device(session, sim, tiles, qtbot, tmp_path):
    dev = next(d for d in sim.devices.values() if d.model == "GP")
    start = time.time() - 1800
    with Journal(session.journal_path) as j:
        for i in range(20):
            dev.speed = 60
            sim._drift(dev)
            if i == 7:
                j.write(decoded(sim.raise_alarm(dev.device_id, 51)[:1], start + i * 60))
            j.write(decoded(sim.location(dev.device_id), start + i * 60 + 1))
    with make_panel(session, qtbot, tmp_path, tiles.url) as panel:
        send(session, qtbot, decoded(sim.location(dev.device_id)))
        session.ctx.selection.select(dev.device_id)
        qtbot.waitUntil(lambda: panel.model.track is not None, timeout=5000)
        root = panel.view.root
        assert root.trackLength() == len(panel.model.track.points) == 20
        assert root.alarmCount() == 1
        # follow mode: the map centre is the device
        panel.follow.setChecked(True)
        dev.speed = 80
        sim._drift(dev)
        send(session, qtbot, decoded(sim.location(dev.device_id)), 100)
        assert root.trackLength() == 21
        marker = panel.model.markers[dev.device_id]
        x, y = root.pointOf(marker.lat, marker.lon).toVariant()
        w, h = panel.view.quick.width(), panel.view.quick.height()
        assert (x, y) == pytest.approx((w / 2, h / 2), abs=2)


def test_unreachable_tiles_say_so_and_markers_still_show(session, sim, qtbot, tmp_path):
    with PortReservation() as nobody, \
            make_panel(session, qtbot, tmp_path,
                       f"http://127.0.0.1:{nobody.port}/%z/%x/%y.png") as panel:
        send(session, qtbot, decoded([p for d in sim.device_ids for p in sim.location(d)]))
        qtbot.waitUntil(lambda: panel.status.text().startswith("⚠ no map tiles from 127.0.0.1"),
                        timeout=10_000)
        assert "plain background" in panel.status.text()
        qtbot.waitUntil(lambda: panel.view.root.itemCount() == len(sim.device_ids) + 1,
                        timeout=3000)


def test_the_map_is_built_when_first_shown(session, sim, tiles, qtbot, tmp_path):
    """Behind another tab at start-up the QML engine is not loaded; shown, it catches up."""
    from PySide6.QtQuickWidgets import QQuickWidget

    from app.ui.panels.map.widget import PendingMapView

    session.ctx.settings.setValue(SETTINGS_TILES, tiles.url)
    session.ctx.settings.setValue(SETTINGS_TILE_CACHE, str(tmp_path / "tiles"))
    with opened(qtbot, MapPanel(session.ctx), (800, 600)) as panel:
        assert isinstance(panel.view, PendingMapView)
        assert not panel.findChildren(QQuickWidget)
        send(session, qtbot, decoded([p for d in sim.device_ids for p in sim.location(d)]))
        session.ctx.selection.select(sim.device_ids[1])
        qtbot.waitUntil(lambda: panel.model.track is not None, timeout=5000)
        panel.show()
        assert isinstance(panel.view, QuickMapView)
        assert panel.view.list_model.rowCount() == len(panel.model.markers)
        assert panel.view.root.trackLength() == len(panel.model.track.points)
