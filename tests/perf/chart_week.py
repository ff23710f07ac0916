"""Perf script (not a test): one week of one push per second for one device, charted.

    QT_QPA_PLATFORM=offscreen python tests/perf/chart_week.py [--rows 604800] [--keep PATH]

Builds the journal with executemany from one real decoded location push whose numbers are
varied per row (with a few silences so gaps are exercised); each row's `reading` comes from
the same function `Journal.write` uses. Then times the history queries (last hour at full
resolution, whole week downsampled by SQLite), "select → last hour drawn" and "select →
whole week drawn" in the Charts panel, and a few pans and zooms. Prints the figures.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from app.journal.store import _INSERT_READING, Journal, _location_reading
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet

KEY = "PERFKEY"


def _flush(conn: sqlite3.Connection, chunk: list[tuple], readings: list[tuple]) -> None:
    conn.executemany(
        "INSERT INTO push (id, received_at, source, profile, topic, kind, device, sublock,"
        " raw, data) VALUES (?,?,?,?,?,?,?,?,?,?)", chunk)
    conn.executemany(_INSERT_READING, readings)
    conn.commit()
    chunk.clear()
    readings.clear()


def build(path: Path, rows: int) -> tuple[str, float, float]:
    fleet = Fleet(KEY, devices=3, seed=3)
    device = next(d for d in fleet.devices.values() if d.model == "KS20A").device_id
    topic, payload = fleet.location(device)[0]
    record = decode(RawPush("mqtt", topic, payload, time.time(), "perf"))
    Journal(path).close()  # schema
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=OFF")
    start = time.time() - rows
    data = record.data
    t0 = time.perf_counter()
    chunk: list[tuple] = []
    readings: list[tuple] = []
    push_id = 0
    for i in range(rows):
        at = start + i
        if 200_000 <= i < 201_000 or 400_000 <= i < 400_600:
            continue  # two silences (17 min and 10 min): gaps
        data["battery"] = 100 - (i * 80 // rows)
        data["voltage"] = round(3.5 + data["battery"] * 0.007, 2)
        data["speed"] = int(40 + 40 * math.sin(i / 600))
        data["expandInfo"]["temperature"] = round(20 + 5 * math.sin(i / 3600), 1)
        data["cellSignal"] = 20 + i % 7
        if i == 300_000:
            data["speed"] = 500  # one spike: downsampling must keep it
        push_id += 1
        chunk.append((push_id, at, "mqtt", "perf", topic, "location", device, None, payload,
                      json.dumps(data, separators=(",", ":"))))
        reading = _location_reading(data)
        if reading is not None:
            readings.append((push_id, device, None, at, *reading))
        if len(chunk) >= 50_000:
            _flush(conn, chunk, readings)
    _flush(conn, chunk, readings)
    # a few alarms on the time line
    for k in range(1, 8):
        conn.execute(
            "INSERT INTO push (received_at, source, profile, topic, kind, device, raw, data)"
            " VALUES (?,?,?,?,?,?,?,?)",
            (start + k * rows / 8, "mqtt", "perf", topic.replace("location", "alarm"), "alarm",
             device, b"{}", json.dumps({"alarmType": 40, "alarmName": "Lock rope cut"})))
    conn.commit()
    conn.close()
    return device, time.perf_counter() - t0, start


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=7 * 24 * 3600)
    ap.add_argument("--keep", type=Path, help="reuse or keep the journal at this path")
    args = ap.parse_args()
    tmp = tempfile.TemporaryDirectory()
    path = args.keep or Path(tmp.name) / "week.sqlite"
    if path.exists():
        with sqlite3.connect(path) as c:
            device = c.execute("SELECT device FROM push LIMIT 1").fetchone()[0]
        print(f"journal: reusing {path}")
    else:
        device, took, _ = build(path, args.rows)
        size = path.stat().st_size / 1e6
        print(f"journal: {args.rows:,} rows built in {took:.1f} s ({size:.0f} MB)")

    from app.ui.panels.charts.series import LOCATION_FIELDS, PLOT_BY_KEY, load_history

    shown = {f.key for f in LOCATION_FIELDS if PLOT_BY_KEY[f.plot].default}
    with Journal(path) as j:
        for label, kwargs in (
            ("last hour", {"since": time.time() - 3600}),
            ("whole week, default plots", {"fields": shown}),
            ("whole week, every field", {}),
        ):
            took = []
            for _ in range(3):
                t0 = time.perf_counter()
                series = load_history(j.conn, device, **kwargs)
                took.append(time.perf_counter() - t0)
            print(f"history query, {label}: {series.rows:,} rows → {len(series.location.t):,}"
                  f" points in {statistics.median(took)*1000:.0f} ms (median of 3)")

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.ui.session import Session

    app = QApplication.instance() or QApplication(sys.argv)
    session = Session(path, QSettings(str(Path(tmp.name) / "s.ini"), QSettings.Format.IniFormat))
    from app.ui.panels.charts.widget import ChartsPanel

    panel = ChartsPanel(session.ctx)
    panel.resize(1200, 800)
    panel.show()
    panel.set_range("all")
    app.processEvents()
    firsts, weeks, worst_frames = [], [], []
    for _ in range(3):
        session.ctx.selection.select_many([])
        app.processEvents()
        t0 = time.perf_counter()
        session.ctx.selection.select(device)
        while not panel.is_drawn():
            app.processEvents()
            time.sleep(0.001)
        panel.repaint_now()
        firsts.append(time.perf_counter() - t0)
        frames = []
        while not panel.is_loaded():
            t1 = time.perf_counter()
            app.processEvents()
            frames.append(time.perf_counter() - t1)
            time.sleep(0.005)
        panel.set_range("all")
        panel.repaint_now()
        weeks.append(time.perf_counter() - t0)
        worst_frames.append(max(frames, default=0))
    first, week = statistics.median(firsts), statistics.median(weeks)
    print(f"charts panel: select → last hour drawn in {first:.2f} s (median of 3)")
    print(f"charts panel: select → whole week drawn in {week:.2f} s (median of 3: "
          + ", ".join(f"{w:.2f}" for w in weeks)
          + f"; {'under' if week < 2 else 'OVER'} the 2 s target); GUI event loop meanwhile:"
          f" worst {max(worst_frames)*1000:.0f} ms per iteration")

    # pans and zooms at several widths, each one a full repaint
    view = panel.first_plot().getViewBox()
    lo, hi = view.viewRange()[0]
    timings: dict[str, tuple[list[float], list[float]]] = {}
    for label, width in (("all (7 d)", hi - lo), ("24 h", 86400.0), ("1 h", 3600.0)):
        ranged, painted = [], []
        for step in range(12):
            left = lo + (hi - lo - width) * step / 11 + (step % 2) * 60
            t1 = time.perf_counter()
            view.setXRange(left, left + width, padding=0)  # clip + downsample, all plots
            t2 = time.perf_counter()
            panel.repaint_now()  # the paint itself (software raster when offscreen)
            ranged.append(t2 - t1)
            painted.append(time.perf_counter() - t1)
        timings[label] = (ranged, painted)
    for label, (ranged, painted) in timings.items():
        print(f"pan over {label}: data (clip + peak downsample) median"
              f" {statistics.median(ranged)*1000:.0f} ms, worst {max(ranged)*1000:.0f} ms;"
              f" with the paint median {statistics.median(painted)*1000:.0f} ms,"
              f" worst {max(painted)*1000:.0f} ms per frame (12 frames)")
    panel.shutdown()
    session.recorder.stop()
    tmp.cleanup()


if __name__ == "__main__":
    main()
