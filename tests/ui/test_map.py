"""Map: positions, status colours, no fix, selection both ways, tracks from the journal, flood.

These run the plain (offline) view; `test_map_qtlocation.py` runs the same rules on the
QtLocation map.
"""

from __future__ import annotations

import time

import pytest
from live_rig import decoded, fed, opened

from app.fleet.state import Status
from app.journal.store import Journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.ui.panels.map.model import MapModel, has_fix, load_track, mercator_lat, mercator_y
from app.ui.panels.map.widget import SETTINGS_BACKEND, MapPanel, PlainMapView
from app.ui.theme import STATUS_COLOURS

KEY = "MAPKEY"


@pytest.fixture
def sim():
    return Fleet(KEY, devices=10, seed=21)


def send(session, qtbot, records, first_id=1):
    fed(session.feed, qtbot, records, first_id)


@pytest.fixture
def panel(session, qtbot):
    session.ctx.settings.setValue(SETTINGS_BACKEND, "plain")
    with opened(qtbot, MapPanel(session.ctx), (800, 600), show=True) as p:
        yield p


def test_has_fix_and_projection():
    assert has_fix(51.9, 4.47, 1)
    assert not has_fix(0.0, 0.0, 1) and not has_fix(-0.0, -0.0)
    assert not has_fix(51.9, 4.47, 0)  # locType 0: no fix whatever the numbers say
    assert not has_fix(None, 4.47) and not has_fix(True, 4.0) and not has_fix(91.0, 0.0)
    assert mercator_lat(mercator_y(51.9)) == pytest.approx(51.9)


def test_positions_status_colours_and_no_fix(session, sim, panel, qtbot):
    lost, quiet, *_ = sim.device_ids
    sim.devices[lost].has_fix = False
    everyone = [p for d in sim.device_ids for p in sim.location(d)]
    send(session, qtbot, decoded(everyone, time.time()))
    model = panel.model
    assert set(model.markers) == set(sim.device_ids) - {lost}
    for d, marker in model.markers.items():
        dev = sim.devices[d]
        assert (marker.lat, marker.lon) == (round(dev.lat, 6), round(dev.lon, 6))
        assert marker.colour == STATUS_COLOURS["online"].name()
    # the device without a fix is not at (0, 0): it is listed
    assert model.no_fix_ids() == [lost]
    assert panel.no_fix_button.text() == "no fix: 1 device"
    assert [panel.no_fix_list.item(i).text() for i in range(panel.no_fix_list.count())] == [lost]
    view = panel.view
    assert isinstance(view, PlainMapView)  # chosen in the settings
    qtbot.waitUntil(lambda: len(view.markers.points()) == len(sim.device_ids) - 1,
                    timeout=3000)  # redrawn at most twice a second
    xs = [p.pos().x() for p in view.markers.points()]
    assert len(xs) == len(sim.device_ids) - 1 and 0.0 not in xs

    # a quiet device changes colour without any push
    session.fleet.devices[quiet].last_seen -= session.fleet.thresholds.quiet_after + 5
    panel._refresh()
    assert model.markers[quiet].status is Status.QUIET
    assert model.markers[quiet].colour == STATUS_COLOURS["quiet"].name()
    brushes = {p.data(): p.brush().color().name() for p in view.markers.points()}
    assert brushes[quiet] == STATUS_COLOURS["quiet"].name()

    # it gets a fix again: drawn, no longer listed
    sim.devices[lost].has_fix = True
    send(session, qtbot, decoded(sim.location(lost), time.time()), 100)
    assert lost in model.markers and model.no_fix_ids() == []
    assert panel.no_fix_button.text() == "no fix: 0 devices"


def test_selection_both_ways(session, sim, panel, qtbot):
    everyone = [p for d in sim.device_ids for p in sim.location(d)]
    send(session, qtbot, decoded(everyone, time.time()))
    a, b = sim.device_ids[2:4]
    # clicking a marker selects it everywhere
    view = panel.view
    # markers are redrawn at most twice a second: wait for the redraw
    qtbot.waitUntil(lambda: any(p.data() == a for p in view.markers.points()), timeout=3000)
    point = next(p for p in view.markers.points() if p.data() == a)
    with qtbot.waitSignal(session.ctx.selection.sig_device_selected) as sig:
        view._on_click(view.markers, [point])
    assert sig.args == [a]
    assert panel.model.selected == a and panel.model.markers[a].selected
    assert view.label.toPlainText() == a
    # selection from elsewhere highlights it
    session.ctx.selection.select(b)
    assert panel.model.selected == b
    assert panel.model.markers[b].selected and not panel.model.markers[a].selected
    assert view.halo.points()[0].pos().x() == pytest.approx(panel.model.markers[b].lon)
    # clicking a no-fix device in the list selects it too
    sim.devices[a].has_fix = False
    send(session, qtbot, decoded(sim.location(a), time.time()), 500)
    panel.no_fix_button.setChecked(True)
    item = panel.no_fix_list.item(0)
    panel.no_fix_list.itemClicked.emit(item)
    assert session.ctx.selection.device_id == a


def test_track_from_the_journal_with_alarms_and_live_extension(session, sim, panel, qtbot):
    dev = next(d for d in sim.devices.values() if d.model == "GP")
    start = time.time() - 3000
    sent = []
    with Journal(session.journal_path) as j:
        for i in range(30):
            dev.speed = 60
            sim._drift(dev)
            at = start + i * 60
            if i == 12:
                j.write(decoded(sim.raise_alarm(dev.device_id, 51)[:1], at))
            if i == 20:  # a position without fix is not part of the track
                dev.has_fix = False
                j.write(decoded(sim.location(dev.device_id), at + 1))
                dev.has_fix = True
            recs = decoded(sim.location(dev.device_id), at + 2)
            j.write(recs)
            sent.append((recs[0].data["latitude"], recs[0].data["longitude"]))
        old = decoded(sim.location(dev.device_id), start - 3 * 86400)  # outside 24 h
        j.write(old)
        track = load_track(j.conn, dev.device_id, start - 10)
    assert [(p.lat, p.lon) for p in track.points] == sent
    assert [a.name for a in track.alarms] == ["SOS"]

    send(session, qtbot, decoded(sim.location(dev.device_id), time.time()))
    panel.range_box.setCurrentText("24 h")
    session.ctx.selection.select(dev.device_id)
    qtbot.waitUntil(lambda: panel.model.track is not None, timeout=5000)
    assert len(panel.model.track.points) == len(sent)
    assert len(panel.view.track_line.xData) == len(sent)
    assert [p.data() for p in panel.view.alarms.points()] == ["SOS"]

    # live: follow mode re-centres, the track grows, alarms land on it
    panel.follow.setChecked(True)
    dev.speed = 80
    sim._drift(dev)
    send(session, qtbot, decoded(sim.location(dev.device_id) + sim.raise_alarm(dev.device_id, 40),
                                 time.time()), 50)
    assert len(panel.model.track.points) == len(sent) + 2
    assert len(panel.model.track.alarms) == 2
    (x0, x1), _ = panel.view.plot.getPlotItem().getViewBox().viewRange()
    assert (x0 + x1) / 2 == pytest.approx(panel.model.markers[dev.device_id].lon, abs=1e-6)


def test_model_without_widgets(session, sim, qtbot):
    model = MapModel(session.fleet)
    everyone = [p for d in sim.device_ids for p in sim.location(d)]
    send(session, qtbot, decoded(everyone, time.time()))
    assert model.update() == set(sim.device_ids)
    assert model.update() == set()
    d = sim.device_ids[0]
    m = model.markers[d]
    assert model.nearest(m.lat + 0.001, m.lon, 0.01) == d
    assert model.select(d) == {d} and model.selected_position() == (m.lat, m.lon)


def test_survives_a_flood(session, sim, panel, qtbot):
    session.ctx.selection.select(sim.device_ids[0])
    now = time.time()
    pushes = [sim.next_push() for _ in range(20_000)]
    records = [decode(RawPush("mqtt", t, p, now + i * 0.001, "test"))
               for i, (t, p) in enumerate(pushes)]
    for k in range(0, len(records), 1000):
        session.feed.push(records[k:k + 1000], list(range(k + 1, k + 1001)))
    qtbot.waitUntil(lambda: session.feed.delivered == 20_000, timeout=30_000)
    qtbot.waitUntil(lambda: len(panel.model.markers) + len(panel.model.no_fix)
                    == len(session.fleet.devices), timeout=5000)
    qtbot.waitUntil(lambda: len(panel.view.markers.points()) == len(panel.model.markers),
                    timeout=3000)


def test_a_map_behind_another_tab_catches_up_when_shown(session, sim, qtbot):
    """Hidden in its dock, the map skips marker work; shown, it has every device's place."""
    from PySide6.QtWidgets import QLabel, QTabWidget

    session.ctx.settings.setValue(SETTINGS_BACKEND, "plain")
    tabs = QTabWidget()
    qtbot.addWidget(tabs)
    tabs.resize(800, 600)
    tabs.addTab(QLabel("devices"), "Devices")
    panel = MapPanel(session.ctx)
    tabs.addTab(panel, "Map")
    tabs.show()
    send(session, qtbot, decoded([p for d in sim.device_ids for p in sim.location(d)]))
    assert panel.model.markers == {}  # behind the Devices tab: nothing done yet
    for d in sim.device_ids:
        sim.devices[d].lat += 0.01  # they all move
    send(session, qtbot, decoded([p for d in sim.device_ids for p in sim.location(d)]),
         first_id=100)
    tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: len(panel.model.markers) == len(sim.device_ids))
    for d, marker in panel.model.markers.items():
        assert marker.lat == round(sim.devices[d].lat, 6)
    panel.shutdown()
