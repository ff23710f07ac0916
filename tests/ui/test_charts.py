"""Charts: series from a real journal and live pushes, overlays, alarms, a flood. Offscreen."""

from __future__ import annotations

import csv
import math
import time

import numpy as np
import pytest
from live_rig import decoded

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

KEY = "CHARTKEY"


@pytest.fixture
def sim():
    return Fleet(KEY, devices=10, seed=11)


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
    # opened on the data (its 30 minutes fill the plot), not on a fixed hour
    assert x1 - x0 == pytest.approx(time.time() - start, rel=0.1)
    panel.set_range("1 h")  # the presets are kept
    x0, x1 = panel.first_plot().getViewBox().viewRange()[0]
    assert x1 - x0 == pytest.approx(3600, rel=0.05)
    panel.set_range("fit")

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


def test_fit_opens_on_the_data_and_at_most_a_day(session, sim, qtbot):
    """Ten minutes of data fill the plot; three days of it open on the last 24 h."""
    short, long = [d for d in sim.device_ids if sim.devices[d].model in ("JT709A", "JT709A-S")][:2]
    now = time.time()
    write_history(session.journal_path, sim, short, now - 600, n=20, silence=0)
    write_history(session.journal_path, sim, long, now - 3 * 86400, n=20, step=3600.0,
                  silence=0)
    write_history(session.journal_path, sim, long, now - 600, n=5, silence=0)
    panel = ChartsPanel(session.ctx)
    qtbot.addWidget(panel)
    panel.resize(900, 600)
    panel.show()
    assert panel.range_buttons["fit"].defaultAction().isChecked()
    for device, span in ((short, 600.0), (long, 86400.0)):
        session.ctx.selection.select(device)
        qtbot.waitUntil(panel.is_loaded, timeout=10_000)
        panel.repaint_now()
        x0, x1 = panel.first_plot().getViewBox().viewRange()[0]
        assert x1 - x0 == pytest.approx(span, rel=0.1), device
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


# -- the journal's `reading` table (what the charts read) ---------------------------------

READING_COLUMNS = ("push_id, device, sublock, received_at, charging, battery, voltage,"
                   " temperature, humidity, speed, cell_signal, gnss_signal, rssi,"
                   " led_voltage, led_current, luminance1, vibration")


def readings(conn) -> list[tuple]:
    return conn.execute(f"SELECT {READING_COLUMNS} FROM reading ORDER BY push_id").fetchall()


def mixed_records(sim, at):
    """A location with a temperature, one without (-1000), one charging (255), a KS20A,
    a sub-lock, an alarm (no reading) — decoded as the writer decodes them."""
    hot = with_temperature(sim, True)
    cold = with_temperature(sim, False)
    sim.devices[hot].charging = False
    sim.devices[cold].charging = True
    ks = next(d.device_id for d in sim.devices.values() if d.model == "KS20A")
    host = next(d for d in sim.devices.values() if d.sublocks)
    pushes = (sim.location(hot) + sim.location(cold) + sim.location(ks)
              + sim.sublock_push(host.device_id, host.sublocks[0].sub_id)
              + sim.raise_alarm(hot, 46)[:1])
    return decoded(pushes, at), (hot, cold, ks, host.device_id, host.sublocks[0].sub_id)


def test_journal_write_fills_readings_with_numbers_and_nulls_for_sentinels(tmp_path, sim):
    records, (hot, cold, ks, host, sub) = mixed_records(sim, 1_700_000_000.0)
    with Journal(tmp_path / "j.sqlite") as j:
        ids = j.write(records)
        got = {r[0]: r for r in readings(j.conn)}
    assert sorted(got) == ids[:4]  # the alarm has no reading
    loc = records[0].data
    row = got[ids[0]]
    assert row[1:5] == (hot, None, 1_700_000_000.0, 0)
    assert row[5] == loc["battery"] and row[6] == loc["voltage"]
    assert row[7] == loc["expandInfo"]["temperature"] and row[9] == loc["speed"]
    assert row[10] == loc["cellSignal"] and row[12] is None  # no RSSI on a location
    # -1000 "no sensor" and battery 255 "charging" are NULL, not numbers
    row = got[ids[1]]
    assert records[1].data["expandInfo"]["temperature"] is None
    assert row[1] == cold and row[7] is None and row[5] is None and row[4] == 1
    # KS20A: LED voltage and current, luminance, vibration
    ks_info = records[2].data["ksInfo"]
    row = got[ids[2]]
    assert row[1] == ks
    assert row[13:] == (ks_info["volValue"], ks_info["eleValue"], ks_info["luminance1"],
                        ks_info["vibrate"])
    # sub-lock: its own id, battery, temperature, humidity, RSSI
    data = records[3].data
    row = got[ids[3]]
    assert row[1:3] == (host, sub)
    assert (row[5], row[8], row[12]) == (data["battery"], data["humidity"], data["rssi"])
    assert row[7] == data["temperature"]  # None when -1000
    assert all(type(v) in (int, float) or v is None for v in row[4:])


def test_migration_backfills_readings_of_an_old_journal(tmp_path, sim):
    from app.journal.schema import SCHEMA_VERSION

    """A journal from before the reading table: opened, it gets the same readings as
    `Journal.write` would have made, and the charts draw it."""
    path = tmp_path / "old.sqlite"
    records, (hot, *_rest) = mixed_records(sim, 1_700_000_000.0)
    more = [decoded(sim.location(hot), 1_700_000_000.0 + 30 * i)[0] for i in range(1, 6)]
    with Journal(path) as j:
        j.write(records)
        j.write(more)
        expected = readings(j.conn)
        j.conn.execute("DROP TABLE reading")  # as an older SealDesk left it
        j.conn.execute("PRAGMA user_version=5")
    assert len(expected) == 4 + 5
    with Journal(path) as j:
        assert j.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert readings(j.conn) == expected
        series = load_history(j.conn, hot)
    _, battery = series.location.series("battery")
    assert list(battery) == [records[0].data["battery"]] + [r.data["battery"] for r in more]


def test_week_range_is_downsampled_by_sqlite_keeping_spikes_and_gaps(tmp_path):
    from app.journal.store import _INSERT_READING
    from app.ui.panels.charts.series import BUCKETS

    n, spike_at, silence = 30_000, 12_345, (20_000, 23_600)  # one hour of silence
    t0 = 1_700_000_000.0
    rows = []
    for i in range(n):
        if silence[0] <= i < silence[1]:
            continue
        speed = 500.0 if i == spike_at else 40.0 + (i % 10)
        rows.append((i + 1, "DEV", None, t0 + i, 0, 50.0, 0.0 if i == 5 else 3.9, None, None,
                     speed, None, None, None, None, None, None, None, None, None, None))
    with Journal(tmp_path / "j.sqlite") as j:
        j.conn.execute("BEGIN")
        j.conn.executemany(_INSERT_READING, rows)
        j.conn.execute("COMMIT")
        full = load_history(j.conn, "DEV", downsample=len(rows))
        down = load_history(j.conn, "DEV", downsample=5_000)

    assert full.location.samples == len(rows) and down.location.samples == len(rows)
    assert down.rows == len(rows) and down.max_push_id == full.max_push_id == n
    t, speed = down.location.series("speed")
    assert len(t) <= 2 * BUCKETS + 2 < len(rows)
    assert np.nanmax(speed) == 500.0 and np.nanmin(speed) == 40.0  # the spike survives
    assert np.all(np.diff(t) >= 0)
    # the silence is one gap (NaN), where it was, and the only one
    gaps = np.nonzero(np.isnan(speed))[0]
    assert len(gaps) == 1
    assert t[gaps[0] - 1] <= t0 + silence[0] and t[gaps[0] + 1] >= t0 + silence[1]
    # voltage 0.0 is "no reading", not a dive to zero, downsampled too
    _, volts = down.location.series("voltage")
    assert np.nanmin(volts) == 3.9
    # the full-resolution series has the same gap
    _, speed_full = full.location.series("speed")
    assert len(np.nonzero(np.isnan(speed_full))[0]) == 1


def test_showing_a_plot_whose_history_was_not_read_reloads_it(session, sim, qtbot):
    dev = with_temperature(sim, True)
    write_history(session.journal_path, sim, dev, time.time() - 1800, n=10, silence=0)
    panel = ChartsPanel(session.ctx)
    qtbot.addWidget(panel)
    panel.show()
    panel.show_plot("cell", False)
    session.ctx.selection.select(dev)
    qtbot.waitUntil(panel.is_loaded, timeout=10_000)
    assert panel.curve(dev, "battery") is not None and panel.curve(dev, "cell") is None
    panel.show_plot("cell", True)  # only the shown plots' fields were read
    qtbot.waitUntil(lambda: panel.is_loaded() and panel.curve(dev, "cell") is not None,
                    timeout=10_000)
    _, y = panel.curve(dev, "cell").getData()
    assert np.isfinite(y).sum() == 10
    panel.shutdown()
