"""What the alarm table costs the GUI thread under a flood: a full repaint, and taking a
batch of new rows into a full table.

    python -m app.bench.paint [--rows 20000] [--batch 100]

Offscreen, one view of 1 100 × 700 px (~35 rows on screen), the way the window shows it.
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
            start = time.perf_counter()
            action()
            spent.append((time.perf_counter() - start) * 1000.0)
        return statistics.median(spent)

    repaint = timed(view.viewport().repaint, 30)

    batches = iter([rows(args.rows + 1 + k * args.batch, args.batch) for k in range(20)])
    tune_for_latency()  # as in the window: no collector pauses inside the measurement
    insert = timed(lambda: model.add_rows(next(batches)), 20)
    print(f"alarm table, {args.rows:,} rows, ~{view.viewport().height() // 24} on screen")
    print(f"  full repaint            {repaint:6.1f} ms (median of 30)")
    print(f"  add {args.batch} rows to a full table {insert:6.1f} ms (median of 20)")
    view.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
