"""Charts: series from a real journal and live pushes, overlays, alarms, a flood. Offscreen."""

from __future__ import annotations

import csv
import math
import time

import numpy as np
import pytest
from PySide6.QtCore import QSettings

from app.journal.store import Journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.ui.panels.charts.series import (
    MIN_GAP_S,
    load_history,
    series_from_rows,
)
from app.ui.panels.charts.widget import ChartsPanel
from app.ui.session import Session

KEY = "CHARTKEY"


def decoded(pushes, at):
    return [decode(RawPush("mqtt", t, p, at, "test")) for t, p in pushes]


@pytest.fixture
def sim():
    return Fleet(KEY, devices=10, seed=11)


@pytest.fixture
def session(tmp_path, qtbot):
    s = Session(tmp_path / "j.sqlite", QSettings(str(tmp_path / "s.ini"),
                                                 QSettings.Format.IniFormat))
    yield s
    s.feed.stop()
    s.recorder.stop()


def with_temperature(sim, has: bool) -> str:
    return next(d.device_id for d in sim.devices.values()
                if (d.temperature is not None) == has and d.model != "KS20A")


def write_history(path, sim, device, start, n=40, step=30.0, silence_after=20,
                  silence=3600.0, alarm_at=10):
    """n locations every `step` s with one long silence; one alarm; returns what was sent."""
    sent = []
    with Journal(path) as j:
        at = start
        for i in range(n):
            if i == silence_after:
                at += silence
            if i == alarm_at:
                j.write(decoded(sim.raise_alarm(device, 46)[:1], at - 1))
            dev = sim.devices[device]
            sim._drift(dev)
            records = decoded(sim.location(device), at)
            j.write(records)
            sent.append((at, records[0].data))
            at += step
    return sent


def test_series_from_journal_rows_values_gaps_sentinels_alarms(tmp_path, sim):
    path = tmp_path / "j.sqlite"
    hot = with_temperature(sim, True)
    cold = with_temperature(sim, False)
    sim.devices[hot].charging = False
    start = time.time() - 10_000
    sent = write_history(path, sim, hot, start)
    write_history(path, sim, cold, start)
    with Journal(path) as j:
        from_rows = series_from_rows(hot, j.rows(device=hot))
        from_sql = load_history(j.conn, hot)
        cold_series = load_history(j.conn, cold)

    for series in (from_rows, from_sql):
        t, battery = series.location.series("battery")
        real = ~np.isnan(battery)
        assert list(t[real]) == [at for at, _ in sent]
        assert list(battery[real]) == [float(d["battery"]) for _, d in sent]
        _, temp = series.location.series("temperature")
        assert list(temp[~np.isnan(temp)]) == [d["expandInfo"]["temperature"] for _, d in sent]
        # exactly one gap (the hour of silence), as a NaN half-way through it
        gaps = np.nonzero(np.isnan(battery))[0]
        assert len(gaps) == 1
        assert t[gaps[0] - 1] < t[gaps[0]] < t[gaps[0] + 1]
        assert t[gaps[0] + 1] - t[gaps[0] - 1] > MIN_GAP_S
        assert series.location.threshold == MIN_GAP_S
        # the alarm is a marker with its name
        assert [(a.name, a.code) for a in series.alarms] == [("Back cover opened", 46)]
    np.testing.assert_array_equal(from_rows.location.t.view(), from_sql.location.t.view())

    # no temperature sensor: the -1000 sentinel is never a number, the curve does not exist
    names = {spec.key for spec, _, _ in cold_series.curves()}
    assert "battery" in names and "temperature" not in names
    _, temp = cold_series.location.series("temperature")
    assert np.all(np.isnan(temp))


def test_charging_battery_is_not_plotted_and_marked(tmp_path, sim):
    dev = with_temperature(sim, True)
    sim.devices[dev].charging = True
    at = time.time() - 100
    records = decoded(sim.location(dev), at)
    assert records[0].data["battery"] is None and records[0].data["charging"] is True
    with Journal(tmp_path / "j.sqlite") as j:
        j.write(records)
        series = load_history(j.conn, dev)
    _, battery = series.location.series("battery")
    assert np.all(np.isnan(battery))
    assert series.charging_starts == [at]


def test_live_records_extend_the_series_with_gaps(sim):
    from app.ui.panels.charts.series import DeviceSeries

    dev = with_temperature(sim, True)
    series = DeviceSeries(dev)
    t0 = time.time()
    first = decoded(sim.location(dev), t0) + decoded(sim.location(dev), t0 + 10)
    assert series.add_records(list(enumerate(first, 1)))
    later = decoded(sim.raise_alarm(dev, 40), t0 + 10 + 2 * MIN_GAP_S)
    assert series.add_records(list(enumerate(later, 3)))
    t, y = series.location.series("voltage")
    assert len(t) == 4 and math.isnan(y[2]) and not math.isnan(y[3])
    assert [a.name for a in series.alarms] == ["Lock rope cut"]
    # rows already in the history are not added twice
    series.max_push_id = 10
    assert not series.add_records([(9, first[0])])


def test_two_devices_overlay_with_legend_and_extend_live(session, sim, qtbot, tmp_path):
    a, b = [d for d in sim.device_ids if sim.devices[d].model in ("JT709A", "JT709A-S")][:2]
    start = time.time() - 1800
    for d in (a, b):
        write_history(session.journal_path, sim, d, start, n=20, silence=0)
    panel = ChartsPanel(session.ctx)
    qtbot.addWidget(panel)
    panel.resize(900, 900)
    panel.show()
    session.ctx.selection.select_many([a, b])
    qtbot.waitUntil(panel.is_loaded, timeout=10_000)
    panel.repaint_now()

    curves = panel.curves_in("battery")
    assert sorted(c.name() for c in curves) == sorted([a, b])
    pens = {c.opts["pen"].color().name() for c in curves}
    assert len(pens) == 2  # each device its own colour
    legend = panel.plots["battery"].legend
    assert sorted(label.text for _, label in legend.items) == sorted([a, b])
    assert "battery" in panel.visible_plots()
    assert len(panel.alarm_points(a)) == 1 and "Back cover opened" in panel.alarm_points(a)[0][1]
    x0, x1 = panel.first_plot().getViewBox().viewRange()[0]
    assert x1 - x0 == pytest.approx(3600, rel=0.05)  # the 1 h preset

    before = len(panel.curve(a, "battery").xData)
    records = decoded(sim.location(a) + sim.raise_alarm(a, 40), time.time())
    session.feed.push(records, list(range(10_000, 10_000 + len(records))))
    qtbot.waitUntil(lambda: len(panel.curve(a, "battery").xData) > before, timeout=5000)
    qtbot.waitUntil(lambda: len(panel.alarm_points(a)) == 2, timeout=5000)

    png, data = tmp_path / "c.png", tmp_path / "c.csv"
    assert panel.export_png(str(png)) and png.stat().st_size > 1000
    panel.export_csv(str(data), wait=True)
    rows = list(csv.DictReader(data.open()))
    assert {r["device"] for r in rows} == {a, b}
    assert any(r["quantity"] == "alarm" and r["value"] == "Lock rope cut" for r in rows)
    assert all(r["value"] != "nan" for r in rows)
    panel.shutdown()


def test_plot_choice_persists(session, qtbot):
    panel = ChartsPanel(session.ctx)
    qtbot.addWidget(panel)
    panel.show_plot("sub_rssi", True)
    panel.show_plot("battery", False)
    panel.shutdown()
    again = ChartsPanel(session.ctx)
    qtbot.addWidget(again)
    assert "sub_rssi" in again.checked and "battery" not in again.checked
    assert again.plot_actions["sub_rssi"].isChecked()
    again.shutdown()


def test_survives_a_flood(session, sim, qtbot):
    panel = ChartsPanel(session.ctx)
    qtbot.addWidget(panel)
    panel.show()
    watched = sim.device_ids[:2]
    session.ctx.selection.select_many(watched)
    qtbot.waitUntil(panel.is_loaded, timeout=10_000)
    now = time.time()
    pushes = [sim.next_push() for _ in range(20_000)]
    records = [decode(RawPush("mqtt", t, p, now + i * 0.001, "test"))
               for i, (t, p) in enumerate(pushes)]
    for k in range(0, len(records), 1000):
        session.feed.push(records[k:k + 1000], list(range(k + 1, k + 1001)))
    qtbot.waitUntil(lambda: session.feed.delivered == 20_000, timeout=30_000)
    expected = sum(1 for r in records if r.device == watched[0] and r.kind == "location")
    qtbot.waitUntil(lambda: panel.series[watched[0]].location.samples == expected,
                    timeout=10_000)
    panel.repaint_now()
    assert panel.curve(watched[0], "battery") is not None
    panel.shutdown()
