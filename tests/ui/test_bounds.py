"""Issue 26: everything the window keeps in memory has a bound, and holds to it.

50 000 pushes go through the real path — the recording process journals them, the live feed
hands them to the window's real panels in batches — with small bounds set in the settings,
as a dispatcher would set them. Every bounded structure (`bounds.census`: each panel's
`bounds()`, the fleet's unacknowledged alarms, the feed's backlog) ends at or under its
bound, the views say they show a window, and what fell off is still in the journal.
Speed and memory figures are the soak benchmark's (`python main.py bench --soak`), not this.
"""

from __future__ import annotations

import time

import pytest
from PySide6.QtCore import QSettings

from app.journal.queries import newest_page
from app.journal.store import Journal
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.ui import bounds
from app.ui.session import Session

PUSHES = 50_000
PIECE = 5_000
SMALL = {  # every bound at (or near) its minimum, so 50 000 pushes pass each of them
    bounds.ALARM_ROWS: 200,
    bounds.EVENT_ROWS: 200,
    bounds.UNACKNOWLEDGED: 150,
    bounds.PUSHLOG_ROWS: 1_000,
    bounds.TRACK_POINTS: 100,
    bounds.CHART_POINTS: 500,
    bounds.COMMAND_HISTORY: 100,
}


@pytest.fixture
def session(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
    for bound, value in SMALL.items():
        settings.setValue(bound.key, value)
    s = Session(tmp_path / "journal.sqlite", settings)
    window = s.open_window()
    qtbot.addWidget(window)
    window.resize(1600, 1000)
    window.show()
    qtbot.waitExposed(window)
    yield s
    window.close()
    s.feed.stop()
    s.recording.stop()


def test_fifty_thousand_pushes_leave_every_structure_within_its_bound(qtbot, session):
    window, fleet_state, feed = session.window, session.fleet, session.feed
    for key in ("map", "charts", "pushlog"):  # on screen: they take every batch
        window.show_panel(key)
    fleet = Fleet("BOUNDS", devices=15, seed=26)  # ~3 300 pushes a device
    watched = fleet.device_ids[0]
    session.selection.select(watched)  # its track and its charts fill too
    charts, map_panel = window.panels["charts"], window.panels["map"]
    qtbot.waitUntil(lambda: charts.is_loaded() and not map_panel.track_loading,
                    timeout=10_000)

    # In pieces the window takes whole (a flood would be coalesced: fewer positions reach
    # the views, every one still reaches the journal).
    for sent in range(PIECE, PUSHES + 1, PIECE):
        now = time.time()
        for _ in range(PIECE):
            topic, payload = fleet.next_push()
            session.recording.submit(RawPush("mqtt", topic, payload, now, "bounds"))
        assert session.recording.flush(60)
        qtbot.waitUntil(lambda n=sent: feed.delivered + feed.dropped >= n, timeout=30_000)
    assert feed.dropped == 0
    alarms, events = window.panels["alarms"], window.panels["events"]
    qtbot.waitUntil(lambda: not alarms._waiting_rows and not events._waiting_rows
                    and not feed._handing_out, timeout=30_000)

    held = bounds.census(window, fleet_state, feed)
    assert len(held) >= 8  # tables, waiting rows, track, charts, commands, fleet, feed
    over = [h for h in held if h.held > h.bound]
    assert not over, over
    full = {h.what: h.held for h in held if h.held == h.bound}
    # Not vacuous: the bounds were reached, and what went is said and kept.
    assert "alarms: rows in the table" in full and "events: rows in the table" in full
    assert "fleet: unacknowledged alarms in memory" in full
    assert "push log: rows held" in {h.what for h in held}  # (big batches: its newest page)
    assert fleet_state.dropped_unacknowledged > 0
    assert "showing newest 200" in alarms.drop_label.text()
    assert "showing newest 200" in events.drop_label.text()
    assert "newest 150 unacknowledged kept" in alarms.status_label.text()

    track = map_panel.model.track
    assert track is not None and len(track.points) <= 100 < track.fixes
    assert "thinned" in map_panel.track_note.text()
    series = charts.series[watched]
    assert series.held() <= 500 and series.window_from is not None
    assert "in memory since" in charts.status.text()

    # Older data stays reachable: the journal has every alarm and event the tables let go.
    oldest_alarm = min(r.push_id for r in alarms.model.rows)
    oldest_event = min(r.push_id for r in events.model.rows)
    with Journal(session.journal_path, readonly=True) as journal:
        older_alarms = newest_page(journal, "alarm", oldest_alarm, PUSHES)
        older_events = newest_page(journal, "event", oldest_event, PUSHES)
        assert len(older_alarms) == alarms.model.dropped > 0
        assert len(older_events) == events.model.dropped > 0

    # ... and the chart reads what memory let go from the journal when all of it is asked.
    first = series.time_span()[0]
    charts.set_range("all")
    qtbot.waitUntil(lambda: charts.is_loaded() and watched in charts.series
                    and charts.series[watched].window_from is None, timeout=15_000)
    assert charts.series[watched].time_span()[0] < first
    assert charts.series[watched].held() <= 500


def test_each_bound_is_seen_and_set_in_file_settings_and_applies_at_once(qtbot, session):
    from PySide6.QtWidgets import QSpinBox

    from app.ui.settings_dialog import SettingsDialog

    window = session.window
    dialog = SettingsDialog(session.ctx, list(window.panels.values()), window)
    qtbot.addWidget(dialog)
    boxes = {box.toolTip().split(":")[0]: box for box in dialog.findChildren(QSpinBox)}
    for bound, value in SMALL.items():
        assert boxes[bound.label].value() == value, bound.label

    events = window.panels["events"]
    fleet = Fleet("SET", devices=3, seed=1)
    now = time.time()
    sent = 0
    for device in fleet.device_ids:
        for _ in range(20):  # unlock and lock: events (and positions)
            for topic, payload in fleet.lock_cycle(device):
                session.recording.submit(RawPush("mqtt", topic, payload, now, "set"))
                sent += topic.endswith("/event")
    assert session.recording.flush(30)
    assert 120 < sent <= 200
    qtbot.waitUntil(lambda: events.model.rowCount() == sent, timeout=15_000)
    boxes[bounds.EVENT_ROWS.label].setValue(120)  # lowered: the oldest go at once
    assert int(session.settings.value(bounds.EVENT_ROWS.key)) == 120
    assert events.max_rows == 120 and events.model.rowCount() == 120
    assert events.model.dropped == sent - 120
    assert "showing newest 120" in events.drop_label.text()
    boxes[bounds.UNACKNOWLEDGED.label].setValue(300)
    assert session.fleet.max_unacknowledged == 300
    boxes[bounds.TRACK_POINTS.label].setValue(250)
    assert window.panels["map"].track_points == 250
    boxes[bounds.PUSHLOG_ROWS.label].setValue(2_000)
    assert window.panels["pushlog"].model.max_rows == 2_000
    boxes[bounds.CHART_POINTS.label].setValue(800)
    assert window.panels["charts"].chart_points == 800
    boxes[bounds.COMMAND_HISTORY.label].setValue(300)
    assert window.panels["commands"].model.max_rows == 300


def test_a_track_past_its_bound_is_thinned_evenly_keeping_its_first_and_last_fix():
    from app.ui.panels.map.model import AlarmPoint, Track, TrackPoint

    track = Track("D1", 0.0, limit=100)
    for i in range(1_000):
        track.add(TrackPoint(float(i), 22.0 + i / 1e4, 114.0))
        track.add_alarm(AlarmPoint(float(i), 22.0, 114.0, "SOS"))
    assert len(track.points) <= 100 and len(track.alarms) == 100
    assert track.points[0].at == 0.0 and track.points[-1].at == 999.0
    gaps = [b.at - a.at for a, b in zip(track.points, track.points[1:], strict=False)]
    assert len(set(gaps[:-1])) == 1 and gaps[-1] <= gaps[0]  # evenly: no stretch lost
    assert track.fixes == 1_000 and track.thinned
    assert track.describe().startswith(f"{len(track.points):,} of 1,000 fixes")
    assert track.alarms[0].at == 900.0  # the newest alarms


def test_a_chart_stream_past_its_bound_keeps_the_newest_and_says_since_when():
    from app.protocol.decode import decode
    from app.ui.panels.charts.series import DeviceSeries

    fleet = Fleet("CH", devices=1, seed=3)
    device = fleet.device_ids[0]
    series = DeviceSeries(device, limit=200)
    records = []
    for i in range(1_000):
        for topic, payload in fleet.location(device):
            records.append((i + 1, decode(RawPush("mqtt", topic, payload, 1000.0 + i, "p"))))
    series.add_records(records)
    assert series.held() <= 200
    t = series.location.t.view()
    assert t[-1] == 1999.0  # the newest kept...
    assert series.window_from == t[0] > 1000.0  # ...and from when the memory has them
