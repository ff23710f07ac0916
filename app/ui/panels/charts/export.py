"""Chart exports: the drawn plots as PNG, the charted data as CSV (run the CSV in a worker)."""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

from PySide6.QtWidgets import QWidget

from app import csvsafe
from app.ui.panels.charts.series import PLOT_BY_KEY, DeviceSeries

CSV_HEADER = ("device", "series", "quantity", "unit", "time_utc", "epoch_s", "value")


def save_png(widget: QWidget, path: str | Path) -> bool:
    """What is on screen (every visible plot, legends and alarm strip) as a PNG."""
    return widget.grab().save(str(path), "PNG")


def write_csv(
    path: str | Path,
    series: list[DeviceSeries],
    progress: Callable[[int], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> int:
    """One row per sample (gap markers left out); alarms as rows of quantity 'alarm'."""
    n = 0
    with open(path, "w", newline="", encoding="utf-8") as fh:
        out = csvsafe.writer(fh)  # device ids and alarm names are the device's text
        out.writerow(CSV_HEADER)
        for dev in series:
            for spec, name, stream in dev.curves():
                plot = PLOT_BY_KEY[spec.plot]
                t, y = stream.series(spec.key)
                for at, value in zip(t.tolist(), y.tolist(), strict=True):
                    if math.isnan(value):
                        continue
                    stamp = datetime.fromtimestamp(at, UTC).isoformat(timespec="milliseconds")
                    out.writerow((dev.device, name, plot.title + spec.suffix, plot.unit,
                                  stamp, f"{at:.3f}", value))  # a number: -5.0 stays one
                    n += 1
                    if n % 50_000 == 0:
                        if progress:
                            progress(n)
                        if cancelled and cancelled():
                            return n
            for alarm in dev.alarms:
                stamp = datetime.fromtimestamp(alarm.at, UTC).isoformat(timespec="milliseconds")
                out.writerow((dev.device, dev.device, "alarm", "", stamp, f"{alarm.at:.3f}",
                              alarm.name))
                n += 1
    if progress:
        progress(n)
    return n
