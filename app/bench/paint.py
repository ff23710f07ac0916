"""What the alarm table and the device tree cost the GUI thread under a flood.

    python -m app.bench.paint [--rows 20000] [--batch 100] [--devices 5000]

The alarm table: a full repaint, and a batch of new rows into a full table. The device
tree: a full repaint, and what a batch that changed a tenth of the fleet costs it (the
model's announcement, the view's handling and its repaint). Offscreen, the sizes the
window gives them; CPU time of the GUI thread, median of repeats.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m app.bench.paint")
    parser.add_argument("--rows", type=int, default=20_000, help="rows in the table")
    parser.add_argument("--batch", type=int, default=100, help="new rows per batch")
    parser.add_argument("--devices", type=int, default=5_000, help="devices in the tree")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QApplication, QTableView

    from app.gctune import tune_for_latency
    from app.ui.panels.alarms.model import AlarmFilterProxy, AlarmTableModel, make_row

    app = QApplication.instance() or QApplication([])
    now = time.time()
    critical = {51, 42}

    def rows(first: int, n: int) -> list:
        return [make_row(i, f"8600{i % 5000:06d}", now + i * 0.01,
                         {"alarmType": 40 + i % 20, "latitude": 22.5 + i * 1e-6,
                          "longitude": 114.05, "speed": i % 90, "describe": "demo"})
                for i in range(first, first + n)]

    model = AlarmTableModel(lambda: critical, max_rows=args.rows)
    model.add_rows(rows(1, args.rows))
    proxy = AlarmFilterProxy()
    proxy.setSourceModel(model)
    view = QTableView()
    view.setModel(proxy)
    view.setAlternatingRowColors(True)
    view.setSortingEnabled(True)
    view.horizontalHeader().setSortIndicator(-1, Qt.SortOrder.AscendingOrder)
    view.resize(1100, 700)
    view.show()
    app.processEvents()

    def timed(action, times: int) -> float:
        spent = []
        for _ in range(times):
            start = time.thread_time()
            action()
            spent.append((time.thread_time() - start) * 1000.0)
        return statistics.median(spent)

    repaint = timed(view.viewport().repaint, 30)

    batches = iter([rows(args.rows + 1 + k * args.batch, args.batch) for k in range(20)])
    tune_for_latency()  # as in the window: no collector pauses inside the measurement
    insert = timed(lambda: model.add_rows(next(batches)), 20)
    print(f"alarm table, {args.rows:,} rows, ~{view.viewport().height() // 24} on screen")
    print(f"  full repaint            {repaint:6.1f} ms (median of 30)")
    print(f"  add {args.batch} rows to a full table {insert:6.1f} ms (median of 20)")
    view.close()
    tree_repaint, tree_batch = device_tree(app, args.devices, timed)
    print(f"device tree, {args.devices:,} devices")
    print(f"  full repaint            {tree_repaint:6.1f} ms (median of 20)")
    print(f"  a batch changing {args.devices // 10:,} of them {tree_batch:6.1f} ms (median of 20;"
          " fleet state, tree and repaint)")
    return 0


def device_tree(app, devices: int, timed) -> tuple[float, float]:
    """(full repaint, one batch changing a tenth of the devices), in ms of CPU."""
    import random
    import tempfile
    from pathlib import Path

    from PySide6.QtCore import QEventLoop, QSettings

    from app.fleet.state import FleetState
    from app.pipeline import Recorder
    from app.protocol.decode import decode
    from app.protocol.push import RawPush
    from app.sim.fleet import Fleet
    from app.ui.context import AppContext, Connections, Selection
    from app.ui.feed import LiveFeed
    from app.ui.panels.devices.widget import DevicesPanel

    tmp = Path(tempfile.mkdtemp(prefix="sealdesk-paint-"))
    recorder = Recorder(tmp / "j.sqlite").start()
    fleet = FleetState()
    feed = LiveFeed(fleet)
    ctx = AppContext(fleet=fleet, feed=feed, connections=Connections(recorder),
                     selection=Selection(), journal_path=str(tmp / "j.sqlite"),
                     settings=QSettings(str(tmp / "s.ini"), QSettings.Format.IniFormat),
                     operator="bench")
    sim = Fleet("BENCH", devices=devices, seed=1)
    next_id = [1]

    def decoded(pushes) -> list:
        return [decode(RawPush("mqtt", t, p, time.time(), "bench")) for t, p in pushes]

    def deliver(records) -> None:
        feed.push(records, list(range(next_id[0], next_id[0] + len(records))))
        next_id[0] += len(records)
        feed.drain()
        app.processEvents()

    panel = DevicesPanel(ctx)
    panel.resize(700, 900)
    panel.show()
    try:
        deliver(decoded([p for d in sim.device_ids for p in sim.location(d)]))
        while panel.model.waiting:  # new devices go in a few at a time, a breath apart
            app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 50)
        assert panel.model.rowCount() == devices
        repaint = timed(panel.view.viewport().repaint, 20)
        rng = random.Random(1)
        batches = iter([decoded([p for d in rng.sample(sim.device_ids, devices // 10)
                                 for p in sim.location(d)]) for _ in range(20)])
        batch = timed(lambda: deliver(next(batches)), 20)
    finally:
        panel.shutdown()
        panel.close()
        feed.stop()
        recorder.stop()
    return repaint, batch


if __name__ == "__main__":
    raise SystemExit(main())
