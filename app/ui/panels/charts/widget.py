"""Charts panel: the selected devices' readings over time, stacked plots on one time axis.

History comes from the journal's narrow `reading` table in a worker thread (own
connection): the chosen range (e.g. the last hour) is drawn at once, then all older history
follows in one query, downsampled by SQLite (min and max per time bucket) when it is long.
Live pushes from the feed's batches are appended to numpy arrays and drawn from one timer. Peak
downsampling and clip-to-view keep a week of one-second data fluid (tests/perf/chart_week.py).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from datetime import datetime

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QLabel,
    QMenu,
    QScrollArea,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import FleetChange
from app.ui.bounds import CHART_POINTS, Held, bounds_page
from app.ui.context import AppContext
from app.ui.panel import Panel
from app.ui.panels.charts import export
from app.ui.panels.charts.series import (
    DEFAULT_CHART_POINTS,
    LOCATION_FIELDS,
    PLOTS,
    DeviceSeries,
    downsampling_for,
    load_history,
    oldest,
    probe_fields,
)
from app.ui.widgets.flow import FlowLayout

log = logging.getLogger(__name__)

# "fit": the span of the devices' data, at most FIT_AT_MOST (0.0 marks it); "all": everything.
RANGES: dict[str, float | None] = {"fit": 0.0, "10 min": 600.0, "1 h": 3600.0, "24 h": 86400.0,
                                   "all": None}
FIT_AT_MOST = 86400.0
DEFAULT_RANGE = "fit"  # open on the data: a few minutes of it fill the plot, not a tenth
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b",
           "#e377c2")
DASHES = (Qt.PenStyle.SolidLine, Qt.PenStyle.DashLine, Qt.PenStyle.DotLine,
          Qt.PenStyle.DashDotLine)
FLUSH_MS = 250  # live data is drawn at most this often
MAX_DEVICES = len(PALETTE)
SETTINGS_PLOTS = "charts/plots"
SETTINGS_RANGE = "charts/range"
AXIS_WIDTH = 58


class _Loader(QObject):
    # generation, device, DeviceSeries chunk, first chunk?, done?
    sig_chunk_loaded = Signal(int, str, object, bool, bool)
    """A piece of a device's series: generation, device, series, first piece?, last?"""
    sig_export_progress = Signal(int, bool, str)  # rows written, done, error or path


def _load(ctx: AppContext, loader: _Loader, gen: int, device: str, since: float | None,
          alive, plots: frozenset[str], limit: int = DEFAULT_CHART_POINTS) -> None:
    """Worker: the chosen range `since` first, then all older history in one query (SQLite
    downsamples it when it is long: see `load_history`). Only the location fields of the
    shown `plots` are read (each costs a min and a max per row); showing another plot
    reloads."""
    try:
        journal = ctx.open_journal()
    except Exception:
        log.exception("charts: cannot open the journal")
        loader.sig_chunk_loaded.emit(gen, device, DeviceSeries(device), True, True)
        return
    try:
        conn = journal.conn
        fields = {f.key for f in LOCATION_FIELDS if f.plot in plots} & probe_fields(conn, device)
        # Both chunks together within the bound on points a stream (Settings › Charts).
        downsample, buckets = downsampling_for(limit)
        first = load_history(conn, device, since=since, fields=fields, downsample=downsample,
                             buckets=buckets)
        start = oldest(conn, device)
        more = since is not None and start is not None and start < since
        loader.sig_chunk_loaded.emit(gen, device, first, True, not more)
        if more and alive(gen):
            older = load_history(conn, device, until=since, fields=fields,
                                 downsample=downsample, buckets=buckets)
            loader.sig_chunk_loaded.emit(gen, device, older, False, True)
    except Exception:
        log.exception("charts: loading %s failed", device)
        loader.sig_chunk_loaded.emit(gen, device, DeviceSeries(device), False, True)
    finally:
        journal.close()


def _same_span(drawn, t) -> bool:
    """The curve already shows these times (same count, same first: a trim to the bound
    drops the oldest, so a count alone could match new data)."""
    if drawn is None or len(drawn) != len(t):
        return False
    return not len(t) or drawn[0] == t[0]


class _Plot:
    """One PlotWidget for one quantity."""

    def __init__(self, key: str, title: str, unit: str, strip: bool = False) -> None:
        axis = pg.DateAxisItem(orientation="bottom")
        self.key = key
        self.widget = pg.PlotWidget(axisItems={"bottom": axis})
        self.item = self.widget.getPlotItem()
        self.item.setDownsampling(auto=True, mode="peak")
        self.item.setClipToView(True)
        # A GridItem, not the axes' grid: the axes replay their grid lines from a QPicture
        # on every paint: 80 of the ~120 ms of a pan frame here, now ~40 ms in all.
        grid = pg.GridItem(textPen=None)
        grid.setTickSpacing(x=[None], y=[None])
        self.item.addItem(grid, ignoreBounds=True)
        self.item.getAxis("left").setWidth(AXIS_WIDTH)
        self.item.setMenuEnabled(False)
        if strip:
            self.widget.setFixedHeight(64)
            self.item.setYRange(0, 1, padding=0.1)
            self.item.getViewBox().setMouseEnabled(y=False)
            self.item.getAxis("left").setTicks([[]])
            self.item.setLabel("left", "alarms")
            self.legend = None
        else:
            self.widget.setMinimumHeight(140)
            self.item.setLabel("left", title, units=None)
            self.item.getAxis("left").setLabel(f"{title} ({unit})" if unit else title)
            self.legend = self.item.addLegend(offset=(6, 4), labelTextSize="8pt",
                                              brush=pg.mkBrush(255, 255, 255, 170))
        self.linked = False


class ChartsPanel(Panel):
    KEY = "charts"
    TITLE = "Charts"
    SHORTCUT = "Ctrl+8"
    sig_range_changed = Signal(str)
    """The time range shown changed (its name: \"10 min\", \"1 h\" …)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("ChartsPanel")
        pg.setConfigOptions(antialias=False, background=None)
        self.devices: list[str] = []
        self.series: dict[str, DeviceSeries] = {}
        self.loading: set[str] = set()
        self._pending: dict[str, list] = {}  # live records that arrived before the history
        self._gen = 0
        self._loaded_plots: frozenset[str] = frozenset()  # whose fields the history holds
        self._dirty = False
        self.chart_points = CHART_POINTS.value(ctx.settings)  # a stream's bound (issue 26)
        self._reload = QTimer(self, singleShot=True, interval=400, timeout=self._read_older)
        self._range = str(ctx.settings.value(SETTINGS_RANGE, DEFAULT_RANGE))
        if self._range not in RANGES:
            self._range = DEFAULT_RANGE
        self._follow = RANGES[self._range] is not None
        self._setting_range = False
        self._window_said = False  # the status says a window is in memory
        self._loader = _Loader(self)
        self._loader.sig_chunk_loaded.connect(self._on_chunk)
        self._loader.sig_export_progress.connect(self._on_export_progress)
        self._curves: dict[tuple[str, str, str], pg.PlotDataItem] = {}
        self._with_data: set[str] = set()
        self._alarm_scatter: dict[str, pg.ScatterPlotItem] = {}
        self._charge_scatter: dict[str, pg.ScatterPlotItem] = {}

        saved = ctx.settings.value(SETTINGS_PLOTS)
        if isinstance(saved, str):
            saved = [s for s in saved.split(",") if s]
        self.checked: set[str] = (set(saved) if isinstance(saved, list)
                                  else {p.key for p in PLOTS if p.default})

        # -- toolbar ------------------------------------------------------------------------
        bar = FlowLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        self.range_buttons: dict[str, QToolButton] = {}
        group = QActionGroup(self)
        for name in RANGES:
            act = QAction(name, self, checkable=True)
            if name == "fit":
                act.setToolTip("The span of the selected devices' data (at most 24 h), "
                               "following live")
            act.setChecked(name == self._range)
            act.triggered.connect(lambda _=False, n=name: self.set_range(n))
            group.addAction(act)
            button = QToolButton(self)
            button.setDefaultAction(act)
            bar.addWidget(button)
            self.range_buttons[name] = button
        group.setExclusionPolicy(QActionGroup.ExclusionPolicy.ExclusiveOptional)
        self._range_group = group

        self.plots_button = QToolButton(self)
        self.plots_button.setText("Plots")
        self.plots_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.plots_button)
        self.plot_actions: dict[str, QAction] = {}
        for spec in PLOTS:
            act = QAction(spec.title, menu, checkable=True)
            act.setChecked(spec.key in self.checked)
            act.toggled.connect(lambda on, k=spec.key: self.show_plot(k, on))
            menu.addAction(act)
            self.plot_actions[spec.key] = act
        self.plots_button.setMenu(menu)
        bar.addWidget(self.plots_button)
        png = QToolButton(self, text="PNG…", toolTip="Save the charts as an image")
        png.clicked.connect(self._ask_png)
        csv_b = QToolButton(self, text="CSV…", toolTip="Save the charted data as CSV")
        csv_b.clicked.connect(self._ask_csv)
        bar.addWidget(png)
        bar.addWidget(csv_b)
        self.status = QLabel("select a device to chart it", self)
        self.status.setObjectName("chartsStatus")
        bar.addWidget(self.status, 1)

        # -- plots ---------------------------------------------------------------------------
        self.container = QWidget(self)
        col = QVBoxLayout(self.container)
        col.setContentsMargins(0, 0, 0, 0)
        col.setSpacing(0)
        self.strip = _Plot("alarms", "Alarms", "", strip=True)
        col.addWidget(self.strip.widget)
        self.plots: dict[str, _Plot] = {}
        for spec in PLOTS:
            plot = _Plot(spec.key, spec.title, spec.unit)
            col.addWidget(plot.widget)
            self.plots[spec.key] = plot
        col.addStretch(0)
        self.scroll = QScrollArea(self)
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self.container)
        self.strip.item.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)
        for plot in self.plots.values():
            plot.item.getViewBox().sigRangeChangedManually.connect(self._on_manual_range)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.scroll, 1)
        self._apply_theme()
        self._update_plot_visibility()

        self._timer = QTimer(self, interval=FLUSH_MS, timeout=self._flush)
        self._timer.start()
        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        ctx.selection.sig_devices_selected.connect(self.set_devices)
        if ctx.selection.device_ids:
            self.set_devices(ctx.selection.device_ids)

    # -- public ------------------------------------------------------------------------------

    def set_devices(self, ids: list[str]) -> None:
        ids = list(dict.fromkeys(i for i in ids if i))[:MAX_DEVICES]
        if ids == self.devices:
            return
        self._start_loading(ids)

    def _start_loading(self, ids: list[str]) -> None:
        self._gen += 1
        self.devices = ids
        self.series = {}
        self._pending = {d: [] for d in ids}
        self.loading = set(ids)
        self._clear_items()
        self._with_data = set()
        if not ids:
            self.status.setText("select a device to chart it")
            self._update_plot_visibility()
            return
        self.status.setText("loading…")
        span = RANGES[self._range]
        # Draw the chosen range first (at least the last hour); older history follows.
        since = time.time() - max(span or 3600.0, 3600.0)
        gen = self._gen
        self._loaded_plots = frozenset(self.checked)
        for device in ids:
            threading.Thread(
                target=_load, args=(self.ctx, self._loader, gen, device, since,
                                    lambda g: g == self._gen, self._loaded_plots,
                                    self.chart_points),
                name=f"charts-load-{device}", daemon=True,
            ).start()

    def set_range(self, name: str) -> None:
        if name not in RANGES:
            return
        if RANGES[name] is None and self.window_from() is not None:
            self._reload.start()  # all of it: read what memory no longer holds
        self._range = name
        self.ctx.settings.setValue(SETTINGS_RANGE, name)
        for n, button in self.range_buttons.items():
            button.defaultAction().setChecked(n == name)
        self._follow = True
        self._apply_range()
        self.sig_range_changed.emit(name)

    def show_plot(self, key: str, on: bool) -> None:
        (self.checked.add if on else self.checked.discard)(key)
        act = self.plot_actions[key]
        if act.isChecked() != on:
            act.setChecked(on)
        self.ctx.settings.setValue(SETTINGS_PLOTS, ",".join(sorted(self.checked)))
        if on and key not in self._loaded_plots and self.devices:
            self._start_loading(self.devices)  # its history was not read: read it now
            return
        self._draw()
        if self._follow:
            self._apply_range()

    def is_loaded(self) -> bool:
        """All history of every selected device is in."""
        return bool(self.devices) and not self.loading

    def is_drawn(self) -> bool:
        """The chosen range of every selected device is drawn (older history may follow)."""
        return bool(self.devices) and all(d in self.series for d in self.devices)

    def first_plot(self) -> pg.PlotItem:
        return self.strip.item

    def visible_plots(self) -> list[str]:
        return [k for k, p in self.plots.items() if not p.widget.isHidden()]

    def curve(self, device: str, plot: str, name: str | None = None) -> pg.PlotDataItem | None:
        for (dev, key, curve_name), item in self._curves.items():
            if dev == device and key.startswith(plot) and (name is None or curve_name == name):
                return item
        return None

    def curves_in(self, plot: str) -> list[pg.PlotDataItem]:
        return [c for c in self.plots[plot].item.listDataItems()
                if isinstance(c, pg.PlotDataItem)]

    def alarm_points(self, device: str) -> list[tuple[float, str]]:
        scatter = self._alarm_scatter.get(device)
        if scatter is None:
            return []
        return [(p.pos().x(), p.data()) for p in scatter.points()]

    def repaint_now(self) -> None:
        """Flush pending data and paint synchronously (perf script and tests)."""
        self._flush()
        self.container.repaint()
        QApplication.processEvents()

    def export_png(self, path: str) -> bool:
        return export.save_png(self.container, path)

    def export_csv(self, path: str, *, wait: bool = False) -> None:
        snapshot = [self.series[d] for d in self.devices if d in self.series]
        self.status.setText("exporting CSV…")

        def run() -> None:
            try:
                n = export.write_csv(
                    path, snapshot,
                    progress=lambda k: self._loader.sig_export_progress.emit(k, False, ""))
                self._loader.sig_export_progress.emit(n, True, path)
            except OSError as exc:
                self._loader.sig_export_progress.emit(0, True, f"error: {exc}")

        if wait:
            run()
        else:
            threading.Thread(target=run, name="charts-csv", daemon=True).start()

    def shutdown(self) -> None:
        self._gen += 1  # workers stop at their next chunk
        self._timer.stop()

    # -- loading ------------------------------------------------------------------------------

    def _on_chunk(self, gen: int, device: str, chunk: DeviceSeries, first: bool,
                  done: bool) -> None:
        if gen != self._gen or device not in self.devices:
            return
        chunk.limit = self.chart_points
        if first:
            self.series[device] = chunk
            pending = self._pending.pop(device, [])
            if pending:
                chunk.add_records(pending)
        elif device in self.series:
            self.series[device].prepend(chunk)
        if done:
            self.loading.discard(device)
        self._dirty = True
        self._flush()
        if first and self._follow:
            self._apply_range()
        self._update_status()

    def _update_status(self) -> None:
        samples = sum(s.location.samples + sum(x.samples for x in s.sublocks.values())
                      for s in self.series.values())
        alarms = sum(len(s.alarms) for s in self.series.values())
        text = (f"{len(self.devices)} device{'s' if len(self.devices) != 1 else ''} · "
                f"{samples:,} samples · {alarms:,} alarms")
        since = self.window_from()
        if since is not None:  # a window of the history is in memory: say so
            text += (f" · in memory since {datetime.fromtimestamp(since):%d %b %H:%M} "
                     "(older points are read from the journal when shown)")
        if self.loading:
            text = "loading older history… · " + text
        self.status.setText(text)

    # -- live -----------------------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        if not self.devices:
            return
        wanted = set(self.devices)
        mine: dict[str, list] = {}
        for push_id, record in change.records:
            if record.device in wanted:
                mine.setdefault(record.device, []).append((push_id, record))
        for device, records in mine.items():
            series = self.series.get(device)
            if series is None:
                self._pending.setdefault(device, []).extend(records)
            elif series.add_records(records):
                self._dirty = True
                if series.window_from is not None and not self._window_said:
                    self._window_said = True
                    self._update_status()

    def _flush(self) -> None:
        if self._dirty:
            self._dirty = False
            self._draw()
        if self._follow and RANGES[self._range] is not None and self.series:
            self._apply_range()

    # -- drawing ---------------------------------------------------------------------------------

    def _clear_items(self) -> None:
        for (_dev, key, _name), item in self._curves.items():
            self.plots[self._plot_of(key)].item.removeItem(item)
        self._curves.clear()
        for scatter in self._alarm_scatter.values():
            self.strip.item.removeItem(scatter)
        self._alarm_scatter.clear()
        for scatter in self._charge_scatter.values():
            self.plots["battery"].item.removeItem(scatter)
        self._charge_scatter.clear()

    @staticmethod
    def _plot_of(field_key: str) -> str:
        from app.ui.panels.charts.series import FIELD_BY_KEY

        return FIELD_BY_KEY[field_key].plot

    def _draw(self) -> None:
        """setData for the curves of visible plots only: hidden plots cost nothing (they
        are not X-linked either, so a pan does not clip and downsample their curves)."""
        curves = {d: s.curves() for d, s in self.series.items()}
        self._with_data = {spec.plot for cs in curves.values() for spec, _, _ in cs}
        shown = self.checked & self._with_data
        for index, device in enumerate(self.devices):
            series = self.series.get(device)
            if series is None:
                continue
            colour = QColor(PALETTE[index % len(PALETTE)])
            subs = sorted(series.sublocks)
            for spec, name, stream in curves[device]:
                if spec.plot not in shown:
                    continue
                key = (device, spec.key, name)
                t, y = stream.series(spec.key)
                item = self._curves.get(key)
                if item is None:
                    style = DASHES[0]
                    if spec.kind == "sublock":
                        style = DASHES[subs.index(name.split("/", 1)[1]) % len(DASHES)]
                    elif spec.suffix:
                        style = DASHES[int(spec.key[-1]) % len(DASHES)]
                    # Added empty, then given data: pyqtgraph must know its view first.
                    item = pg.PlotDataItem(name=name,
                                           pen=pg.mkPen(colour, width=1.6, style=style))
                    self.plots[spec.plot].item.addItem(item)
                    item.setDownsampling(auto=True, method="peak")
                    item.setClipToView(True)
                    self._curves[key] = item
                elif _same_span(item.xData, t):
                    continue  # nothing new for this curve
                item.setData(t, y, connect="finite")
            self._draw_alarms(device, series, colour)
            self._draw_charging(device, series, colour)
        self._update_plot_visibility()

    def _draw_alarms(self, device: str, series: DeviceSeries, colour: QColor) -> None:
        scatter = self._alarm_scatter.get(device)
        if scatter is None:
            scatter = pg.ScatterPlotItem(
                symbol="t", size=11, pen=pg.mkPen("k", width=0.6), brush=pg.mkBrush(colour),
                hoverable=True, hoverSize=15, tip=self._alarm_tip)
            self.strip.item.addItem(scatter)
            self._alarm_scatter[device] = scatter
        if len(scatter.points()) == len(series.alarms):
            return
        row = 0.8 - 0.6 * (self.devices.index(device) / max(len(self.devices) - 1, 1))
        scatter.setData(
            x=[a.at for a in series.alarms], y=[row] * len(series.alarms),
            data=[f"{device}: {a.name}" + (f" ({a.code})" if a.code is not None else "")
                  for a in series.alarms])

    def _draw_charging(self, device: str, series: DeviceSeries, colour: QColor) -> None:
        if not series.charging_starts:
            return
        scatter = self._charge_scatter.get(device)
        if scatter is None:
            scatter = pg.ScatterPlotItem(
                symbol="star", size=10, pen=pg.mkPen(colour), brush=pg.mkBrush("#f5c400"),
                hoverable=True, tip=self._charging_tip)
            self.plots["battery"].item.addItem(scatter)
            self._charge_scatter[device] = scatter
        if len(scatter.points()) != len(series.charging_starts):
            scatter.setData(x=series.charging_starts, y=[100.0] * len(series.charging_starts),
                            data=[device] * len(series.charging_starts))

    @staticmethod
    def _alarm_tip(x: float, y: float, data: object) -> str:
        return f"{data}\n{datetime.fromtimestamp(x):%Y-%m-%d %H:%M:%S}"

    @staticmethod
    def _charging_tip(x: float, y: float, data: object) -> str:
        return f"{data}: charging from {datetime.fromtimestamp(x):%Y-%m-%d %H:%M:%S}"

    def _update_plot_visibility(self) -> None:
        last = None
        for key, plot in self.plots.items():
            show = bool(self.devices) and key in self.checked and key in self._with_data
            if show != plot.linked:
                plot.linked = show
                plot.item.setXLink(self.strip.item if show else None)
            plot.widget.setVisible(show)
            plot.item.showAxis("bottom", False)
            if show:
                last = plot
        if last is not None:
            last.item.showAxis("bottom", True)
        self.strip.item.showAxis("bottom", last is None)

    def _apply_range(self) -> None:
        span = RANGES[self._range]
        self._setting_range = True
        try:
            if span is None:
                lo, hi = math.inf, -math.inf
                for series in self.series.values():
                    s = series.time_span()
                    if s:
                        lo, hi = min(lo, s[0]), max(hi, s[1])
                if lo < hi:
                    self.strip.item.setXRange(lo, hi, padding=0.01)
            elif span == 0.0:  # fit: the data's span up to now, at most FIT_AT_MOST
                now = time.time()
                lo = min((s[0] for s in (x.time_span() for x in self.series.values()) if s),
                         default=now - 600.0)
                lo = max(lo, now - FIT_AT_MOST)
                width = max(now - lo, 60.0)
                self.strip.item.setXRange(now - width, now + width * 0.01, padding=0)
            else:
                now = time.time()
                self.strip.item.setXRange(now - span, now + span * 0.01, padding=0)
            for key in self.visible_plots():
                self.plots[key].item.enableAutoRange(axis="y")
                self.plots[key].item.setAutoVisible(y=True)
        finally:
            self._setting_range = False

    def _on_manual_range(self, *_args) -> None:
        if self._setting_range:
            return
        self._follow = False  # the dispatcher pans or zooms: stop sliding with time
        act = self._range_group.checkedAction()
        if act is not None:
            act.setChecked(False)
        since = self.window_from()
        if since is not None and self.strip.item.viewRange()[0][0] < since:
            self._reload.start()  # panned past what memory holds: read it (once they stop)

    # -- the bound on points (issue 26) ---------------------------------------------------

    def window_from(self) -> float | None:
        """When the points in memory begin, if older ones went for the bound; else None."""
        starts = [s.window_from for s in self.series.values() if s.window_from is not None]
        return max(starts) if starts else None

    def _read_older(self) -> None:
        """Read the selected devices' history again from the journal, downsampled to the
        bound: what was shown before the window in memory comes back."""
        if self.devices and self.window_from() is not None:
            self._window_said = False
            self._start_loading(self.devices)

    def set_chart_points(self, n: int) -> None:
        """Points per stream (File › Settings › Charts), applied at once."""
        self.chart_points = max(2, int(n))
        for series in self.series.values():
            series.limit = self.chart_points
            if series.trim():
                self._dirty = True
        self._update_status()

    def settings_page(self) -> QWidget:
        return bounds_page(self.ctx.settings, [(CHART_POINTS, self.set_chart_points)],
                           "Charts keep the newest points of each selected device in memory; "
                           "older history is read from the journal, downsampled, when shown.")

    def bounds(self) -> list[Held]:
        return [Held("charts: points of a selected device's stream",
                     max((s.held() for s in self.series.values()), default=0),
                     self.chart_points)]

    # -- exports ---------------------------------------------------------------------------------

    def _ask_png(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save charts", "charts.png", "PNG (*.png)")
        if path:
            ok = self.export_png(path)
            self.status.setText(f"saved {path}" if ok else f"could not save {path}")

    def _ask_csv(self) -> None:
        path, _ = QFileDialog.getSaveFileName(self, "Save chart data", "charts.csv",
                                              "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def _on_export_progress(self, n: int, done: bool, message: str) -> None:
        if not done:
            self.status.setText(f"exporting CSV… {n:,} rows")
        elif message.startswith("error"):
            self.status.setText(f"CSV export failed: {message[7:]}")
        else:
            self.status.setText(f"saved {n:,} rows to {message}")

    def _apply_theme(self) -> None:
        dark = self.palette().color(QPalette.ColorRole.Window).lightness() < 128
        fg = self.palette().color(QPalette.ColorRole.WindowText)
        for plot in (self.strip, *self.plots.values()):
            plot.widget.setBackground(self.palette().color(QPalette.ColorRole.Base))
            for axis in ("left", "bottom"):
                plot.item.getAxis(axis).setTextPen(fg)
                plot.item.getAxis(axis).setPen(fg)
            if plot.legend is not None:
                plot.legend.setBrush(pg.mkBrush(40, 42, 46, 200) if dark
                                     else pg.mkBrush(255, 255, 255, 200))
                plot.legend.setLabelTextColor(fg)


__all__ = ["ChartsPanel"]
