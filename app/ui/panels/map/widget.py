"""Map panel: every device at its last fix, coloured by status; the selected device's track.

Which map component, and why:

- The real map is QtLocation's `Map` (QML, in a QQuickWidget) with the "osm" plugin and
  OpenStreetMap tiles. The tile server is a setting (`map/tile_url`, passed to the plugin as
  `osm.mapping.custom.host`, e.g. ``https://tile.openstreetmap.org/%z/%x/%y.png``); tiles are
  fetched asynchronously by Qt, so an unreachable server never blocks the window — the map
  then shows positions and tracks on a plain background (checked offscreen with no network).
- QtLocation ships in PySide6-Addons, not in PySide6-Essentials (our dependency). The
  Addons wheel must match Essentials exactly: 6.11.3 is a 175 MB download (~390 MB
  installed with Essentials), 6.12.0 a 59 MB one. Where it is not installed — or the QML
  fails to load, or `map/backend` is "plain" — the panel uses a fallback view: pyqtgraph
  scatter/lines on longitude × Mercator latitude (the tiles' own projection, aspect locked
  so shapes are true), a grid, the same markers, selection, track and alarm markers. No
  home-made tile renderer either way.

All the rules (no fix → not drawn but listed; status colours; selection) are in
`model.py`, shared by both views. Updates come once per batch, in the map's turn
(`feed.view_batches()`).
"""

from __future__ import annotations

import hashlib
import logging
import math
import threading
import time
from pathlib import Path
from typing import ClassVar

import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractListModel,
    QByteArray,
    QModelIndex,
    QObject,
    Qt,
    QTimer,
    QUrl,
    Signal,
)
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import FleetChange
from app.ui.bounds import TRACK_POINTS, Held, bounds_page
from app.ui.context import AppContext
from app.ui.panel import Panel
from app.ui.panels.map.model import (
    TRACK_RANGES,
    AlarmPoint,
    MapModel,
    Track,
    TrackPoint,
    has_fix,
    load_track,
    mercator_lat,
    mercator_y,
    thin,
)
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.visibility import WhenOnScreen, on_screen

log = logging.getLogger(__name__)

DEFAULT_TILE_URL = "https://tile.openstreetmap.org/%z/%x/%y.png"
SETTINGS_TILES = "map/tile_url"
SETTINGS_TILE_CACHE = "map/tile_cache"  # a folder; default: per tile server in the user cache
TILE_CHECK_TIMEOUT_MS = 8_000
SETTINGS_BACKEND = "map/backend"  # "auto" (QtLocation when installed) or "plain"
SETTINGS_RANGE = "map/track_range"
SETTINGS_FOLLOW = "map/follow"
STATUS_REFRESH_MS = 5_000
MARKER_REFRESH_MS = 500
QML_TRACK_POINTS = 5_000
QML = Path(__file__).with_name("qml") / "map.qml"


def qtlocation_available() -> bool:
    try:
        from PySide6 import QtLocation, QtQuickWidgets  # noqa: F401
    except ImportError:
        return False
    return True


# -- the plain view (no QtLocation) ----------------------------------------------------------


class _LatitudeAxis(pg.AxisItem):
    """Left axis of the Mercator plane, labelled in degrees of latitude."""

    def tickStrings(self, values, scale, spacing):
        digits = _digits(spacing)
        return [f"{mercator_lat(v):.{digits}f}°" for v in values]


class _LongitudeAxis(pg.AxisItem):
    def tickStrings(self, values, scale, spacing):
        digits = _digits(spacing)
        return [f"{v:.{digits}f}°" for v in values]


def _digits(spacing: float) -> int:
    """Decimals that tell neighbouring ticks apart (Mercator spacing shrinks with latitude)."""
    if spacing >= 1:
        return 0
    return max(1, min(6, math.ceil(-math.log10(spacing * 0.8))))


class PlainMapView(QWidget):
    sig_device_clicked = Signal(str)
    """A marker was clicked: its device id."""
    kind = "plain"

    def __init__(self, model: MapModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.plot = pg.PlotWidget(axisItems={"left": _LatitudeAxis("left"),
                                             "bottom": _LongitudeAxis("bottom")})
        item = self.plot.getPlotItem()
        item.setAspectLocked(True, 1.0)
        item.showGrid(x=True, y=True, alpha=0.3)
        item.setMenuEnabled(False)
        item.hideButtons()
        self.plot.setBackground(QColor("#dfe8ef"))
        for axis in ("left", "bottom"):
            item.getAxis(axis).setTextPen(QColor("#333333"))
        self.track_line = pg.PlotDataItem(pen=pg.mkPen("#2f6fba", width=2.5))
        self.track_line.setDownsampling(auto=True, method="subsample")
        self.markers = pg.ScatterPlotItem(
            size=12, pen=pg.mkPen("w", width=1.2), hoverable=True, hoverSize=16,
            tip=lambda x, y, data: str(data))
        self.markers.sigClicked.connect(self._on_click)
        self.halo = pg.ScatterPlotItem(size=22, pen=pg.mkPen("#111111", width=3),
                                       brush=pg.mkBrush(None))
        self.alarms = pg.ScatterPlotItem(
            symbol="d", size=14, pen=pg.mkPen("w", width=1), brush=pg.mkBrush("#d03b3b"),
            hoverable=True, tip=lambda x, y, data: str(data))
        self.label = pg.TextItem("", color="#111111", anchor=(-0.15, 0.5),
                                 fill=pg.mkBrush(255, 255, 255, 190))
        for it in (self.track_line, self.alarms, self.halo, self.markers, self.label):
            item.addItem(it)
        self.label.setZValue(20)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self._fitted = False
        self._brushes: dict[object, QBrush] = {}

    def update_markers(self, changed: set[str] | None = None) -> None:
        markers = list(self.model.markers.values())
        # One shared brush per colour: pyqtgraph caches a rendered symbol per distinct
        # brush object, so a fresh brush per marker re-renders every symbol each update.
        brushes = self._brushes
        for m in markers:
            if m.colour not in brushes:
                brushes[m.colour] = pg.mkBrush(m.colour)
        self.markers.setData(
            x=[m.lon for m in markers], y=[mercator_y(m.lat) for m in markers],
            brush=[brushes[m.colour] for m in markers],
            data=[m.device_id for m in markers])
        sel = self.model.markers.get(self.model.selected)
        if sel is not None:
            x, y = sel.lon, mercator_y(sel.lat)
            self.halo.setData(x=[x], y=[y])
            self.label.setText(sel.device_id)
            self.label.setPos(x, y)
            self.label.setVisible(True)
        else:
            self.halo.setData(x=[], y=[])
            self.label.setVisible(False)
        if not self._fitted and markers:
            self._fitted = True
            self.plot.getPlotItem().autoRange(padding=0.08)

    def set_track(self, track: Track | None) -> None:
        pts = track.points if track else []
        self.track_line.setData([p.lon for p in pts], [mercator_y(p.lat) for p in pts])
        alarms = track.alarms if track else []
        self.alarms.setData(
            x=[a.lon for a in alarms], y=[mercator_y(a.lat) for a in alarms],
            data=[a.name + (" (position of the last fix)" if a.approximate else "")
                  for a in alarms])

    def append_track(self, points: list[TrackPoint]) -> None:
        self.set_track(self.model.track)

    def centre_on(self, lat: float, lon: float) -> None:
        view = self.plot.getPlotItem().getViewBox()
        (x0, x1), (y0, y1) = view.viewRange()
        w, h = x1 - x0, y1 - y0
        y = mercator_y(lat)
        view.setRange(xRange=(lon - w / 2, lon + w / 2), yRange=(y - h / 2, y + h / 2),
                      padding=0)

    def fit(self, lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> None:
        pad = 0.01
        self.plot.getPlotItem().getViewBox().setRange(
            xRange=(lon_min - pad, lon_max + pad),
            yRange=(mercator_y(lat_min) - pad, mercator_y(lat_max) + pad), padding=0.1)

    def click_device(self, device_id: str) -> None:
        self.sig_device_clicked.emit(device_id)

    def _on_click(self, _item, points, *_args) -> None:
        if len(points):
            self.sig_device_clicked.emit(str(points[0].data()))


# -- the QtLocation view --------------------------------------------------------------------


class MarkerListModel(QAbstractListModel):
    """Markers for the QML MapItemView: one row per drawn device, stable rows."""

    ROLES: ClassVar[dict[int, bytes]] = {
        Qt.ItemDataRole.UserRole + 1: b"deviceId", Qt.ItemDataRole.UserRole + 2: b"lat",
        Qt.ItemDataRole.UserRole + 3: b"lon", Qt.ItemDataRole.UserRole + 4: b"colour",
        Qt.ItemDataRole.UserRole + 5: b"selected",
    }

    def __init__(self, model: MapModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.ids: list[str] = []
        self.rows: dict[str, int] = {}

    def rowCount(self, parent=QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.ids)

    def roleNames(self):
        return {k: QByteArray(v) for k, v in self.ROLES.items()}

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.ids):
            return None
        m = self.model.markers.get(self.ids[index.row()])
        if m is None:
            return None
        name = self.ROLES.get(role)
        return {b"deviceId": m.device_id, b"lat": m.lat, b"lon": m.lon, b"colour": m.colour,
                b"selected": m.selected}.get(name)

    def sync(self, changed: set[str] | None) -> None:
        markers = self.model.markers
        gone = [i for i in self.ids if i not in markers]
        if gone:
            self.beginResetModel()
            self.ids = list(markers)
            self.rows = {d: i for i, d in enumerate(self.ids)}
            self.endResetModel()
            return
        new = [d for d in markers if d not in self.rows]
        if new:
            first = len(self.ids)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            for d in new:
                self.rows[d] = len(self.ids)
                self.ids.append(d)
            self.endInsertRows()
        rows = [self.rows[d] for d in (changed if changed is not None else markers)
                if d in self.rows]
        if rows:
            self.dataChanged.emit(self.index(min(rows)), self.index(max(rows)))


class QuickMapView(QWidget):
    sig_device_clicked = Signal(str)
    """A marker was clicked: its device id."""
    kind = "qtlocation"

    def __init__(self, model: MapModel, tile_url: str, tile_cache: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtQuickWidgets import QQuickWidget

        self.model = model
        self.list_model = MarkerListModel(model, self)
        self.quick = QQuickWidget(self)
        self.quick.setResizeMode(QQuickWidget.ResizeMode.SizeRootObjectToView)
        context = self.quick.rootContext()
        context.setContextProperty("markers", self.list_model)
        context.setContextProperty("tileUrlSetting", tile_url)
        context.setContextProperty("tileCacheSetting", tile_cache)
        self.quick.setSource(QUrl.fromLocalFile(str(QML)))
        self.errors = [e.toString() for e in self.quick.errors()]
        self.root = self.quick.rootObject()
        if self.root is not None:
            self.root.deviceClicked.connect(self.sig_device_clicked)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.quick)
        self._fitted = False

    @property
    def ok(self) -> bool:
        return self.root is not None and not self.errors

    def update_markers(self, changed: set[str] | None = None) -> None:
        self.list_model.sync(changed)
        if not self._fitted and self.model.markers:
            self._fitted = True
            lats = [m.lat for m in self.model.markers.values()]
            lons = [m.lon for m in self.model.markers.values()]
            self.fit(min(lats), max(lats), min(lons), max(lons))

    def set_track(self, track: Track | None) -> None:
        if self.root is None:
            return
        pts = thin(track.points, QML_TRACK_POINTS) if track else []
        self.root.setTrack([[p.lat, p.lon] for p in pts])
        self.root.setAlarms([[a.lat, a.lon, a.name] for a in (track.alarms if track else [])])

    def append_track(self, points: list[TrackPoint]) -> None:
        self.set_track(self.model.track)

    def centre_on(self, lat: float, lon: float) -> None:
        if self.root is not None:
            self.root.centreOn(lat, lon)

    def fit(self, lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> None:
        if self.root is not None:
            pad = 0.01
            self.root.fit(lat_min - pad, lat_max + pad, lon_min - pad, lon_max + pad)

    def click_device(self, device_id: str) -> None:
        self.sig_device_clicked.emit(device_id)


def tile_host(url: str) -> str:
    return url.split("/")[2] if "//" in url else url


def tile_cache_dir(settings, url: str) -> str:
    """The setting if there is one, else a folder per tile server in the user cache."""
    folder = str(settings.value(SETTINGS_TILE_CACHE, "") or "")
    if not folder:
        from app import paths

        digest = hashlib.sha1(url.encode()).hexdigest()[:12]
        folder = str(paths.cache_dir() / "tiles" / f"{tile_host(url)}-{digest}")
    Path(folder).mkdir(parents=True, exist_ok=True)
    return folder


class TileCheck(QObject):
    """Asks the tile server for the world tile once, asynchronously, to tell the user whether
    the plain background is the map's choice or the network's (QtLocation says nothing)."""

    sig_check_finished = Signal(bool, str)
    """Whether the tile server answered, and what went wrong if not."""

    def __init__(self, url: str, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from PySide6.QtNetwork import QNetworkAccessManager, QNetworkRequest

        self.url = url
        self._nam = QNetworkAccessManager(self)
        request = QNetworkRequest(QUrl(url.replace("%z", "0").replace("%x", "0")
                                       .replace("%y", "0")))
        request.setHeader(QNetworkRequest.KnownHeaders.UserAgentHeader, "SealDesk")
        request.setTransferTimeout(TILE_CHECK_TIMEOUT_MS)
        self._reply = self._nam.get(request)
        self._reply.finished.connect(self._finished)

    def _finished(self) -> None:
        from PySide6.QtNetwork import QNetworkReply

        reply = self._reply
        ok = reply.error() == QNetworkReply.NetworkError.NoError
        detail = "" if ok else reply.errorString()
        reply.deleteLater()
        self.sig_check_finished.emit(ok, detail)


class PendingMapView(QWidget):
    """Stands in for the map until the panel is first shown; the model keeps the state."""

    sig_device_clicked = Signal(str)
    """A marker was clicked: its device id (never, while pending)."""

    kind = "pending"

    def update_markers(self, changed: set[str] | None = None) -> None:
        pass

    def set_track(self, track: Track | None) -> None:
        pass

    def append_track(self, points: list[TrackPoint]) -> None:
        pass

    def centre_on(self, lat: float, lon: float) -> None:
        pass

    def fit(self, lat_min: float, lat_max: float, lon_min: float, lon_max: float) -> None:
        pass


# -- the panel ----------------------------------------------------------------------------------


class _TrackLoader(QObject):
    sig_track_loaded = Signal(int, object)  # generation, Track


class MapPanel(Panel):
    KEY = "map"
    TITLE = "Map"
    SHORTCUT = "Ctrl+9"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("MapPanel")
        self.model = MapModel(ctx.fleet)
        self._gen = 0
        self._loader = _TrackLoader(self)
        self._loader.sig_track_loaded.connect(self._on_track)
        self.track_loading = False
        s = ctx.settings

        self.range_box = QComboBox(self)
        self.range_box.addItems(list(TRACK_RANGES))
        saved = str(s.value(SETTINGS_RANGE, "24 h"))
        self.range_box.setCurrentText(saved if saved in TRACK_RANGES else "24 h")
        self.range_box.setToolTip("Track of the selected device over this time")
        self.range_box.currentTextChanged.connect(self._on_range)
        self.follow = QCheckBox("Follow", self)
        self.follow.setToolTip("Keep the selected device in the centre as it moves")
        self.follow.setChecked(str(s.value(SETTINGS_FOLLOW, "false")).lower() == "true")
        self.follow.toggled.connect(self._on_follow)
        self.no_fix_button = QToolButton(self)
        self.no_fix_button.setCheckable(True)
        self.no_fix_button.setToolTip("Devices whose last position has no fix (not drawn)")
        self.no_fix_button.toggled.connect(lambda on: self.no_fix_list.setVisible(on))
        self.tiles_button = QToolButton(self, text="Tiles…")
        self.tiles_button.setToolTip("Tile server URL (OpenStreetMap by default)")
        self.tiles_button.clicked.connect(self._ask_tiles)
        self.status = QLabel("", self)
        self.status.setObjectName("mapStatus")
        self.track_points = TRACK_POINTS.value(s)
        self.track_note = QLabel("", self)  # how much of the track is drawn (its bound)
        self.track_note.setObjectName("trackNote")

        self.no_fix_list = QListWidget(self)
        self.no_fix_list.setVisible(False)
        self.no_fix_list.setMaximumWidth(220)
        self.no_fix_list.itemClicked.connect(
            lambda item: self.ctx.selection.select(item.text()))

        # The real view (a QML engine and QtLocation for the map) is built the first time the
        # panel is shown: behind another tab at start-up it would cost a second of start-up.
        self.view: QWidget = PendingMapView(self)

        bar = FlowLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(QLabel("Track:", self))
        bar.addWidget(self.range_box)
        bar.addWidget(self.follow)
        bar.addWidget(self.track_note)
        bar.addWidget(self.no_fix_button)
        bar.addWidget(self.tiles_button)
        bar.addWidget(self.status, 1)
        self.split = QSplitter(Qt.Orientation.Horizontal, self)
        self.split.addWidget(self.view)
        self.split.addWidget(self.no_fix_list)
        self.split.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self.split, 1)

        self._redraw_pending = False
        self._unseen: set[str] = set()  # devices that changed while the map was hidden
        self._offscreen = WhenOnScreen(self)
        self._offscreen.sig_on_screen.connect(self._catch_up)
        self._marker_timer = QTimer(self, interval=MARKER_REFRESH_MS, singleShot=True,
                                    timeout=self._flush_markers)
        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        ctx.selection.sig_device_selected.connect(self._on_selected)
        self._status_timer = QTimer(self, interval=STATUS_REFRESH_MS, timeout=self._refresh)
        self._status_timer.start()
        self.model.update()
        self.view.update_markers(None)
        self._update_no_fix()
        if ctx.selection.device_id:
            self._on_selected(ctx.selection.device_id)

    # -- views ------------------------------------------------------------------------------

    def _make_view(self) -> QWidget:
        s = self.ctx.settings
        backend = str(s.value(SETTINGS_BACKEND, "auto"))
        tiles = str(s.value(SETTINGS_TILES, DEFAULT_TILE_URL))
        why = "plain view chosen in settings"
        if backend != "plain":
            if qtlocation_available():
                try:
                    view = QuickMapView(self.model, tiles, tile_cache_dir(s, tiles), self)
                    if view.ok:
                        self.status.setText(f"map tiles from {tile_host(tiles)}…")
                        self._tile_check = TileCheck(tiles, self)
                        self._tile_check.sig_check_finished.connect(self._on_tile_check)
                        return view
                    why = "QtLocation map failed to load: " + "; ".join(view.errors)[:200]
                    log.warning(why)
                    view.deleteLater()
                except Exception as exc:  # pragma: no cover - depends on the install
                    log.exception("QtLocation map failed")
                    why = f"QtLocation map failed: {exc}"
            else:
                why = "plain background: QtLocation (PySide6-Addons) not installed"
        self.tiles_button.setEnabled(False)
        self.status.setText(why)
        return PlainMapView(self.model, self)

    def _on_tile_check(self, ok: bool, detail: str) -> None:
        host = tile_host(self._tile_check.url)
        if ok:
            self.status.setText(f"map tiles from {host}")
            self.status.setToolTip("")
        else:
            self.status.setText(f"⚠ no map tiles from {host}: plain background")
            self.status.setToolTip(f"{detail}\nPositions and tracks are drawn all the same; "
                                   "tiles appear when the server can be reached "
                                   "(Tiles… to use another server).")

    # -- live ---------------------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        if not change.changed_devices:
            return
        if self._offscreen.hidden():
            # A dock behind another tab: marker positions for thousands of devices a batch
            # (~14 ms under a flood) wait until the map is shown; only the track follows.
            self._unseen |= change.changed_devices
            self._offscreen.missed()
            if self.model.selected in change.changed_devices:
                self._extend_track(change)
            return
        self._catch_up()
        # The model follows every batch, but the markers are redrawn at most twice a second
        # and only while the map is on screen: a flood must not cost a redraw per tick.
        changed = self.model.update(change.changed_devices)
        if changed:
            self._redraw_pending = True
            if not self._marker_timer.isActive():
                self._marker_timer.start()
        self._update_no_fix()
        sel = self.model.selected
        if sel and sel in change.changed_devices:
            self._extend_track(change)
            if self.follow.isChecked():
                pos = self.model.selected_position()
                if pos:
                    self.view.centre_on(*pos)

    def _flush_markers(self) -> None:
        if not self._redraw_pending:
            return
        if not on_screen(self):  # behind another tab: look again in a second
            self._marker_timer.start(1000)
            return
        self._redraw_pending = False
        self.view.update_markers(None)

    def showEvent(self, event) -> None:  # Qt's name
        super().showEvent(event)
        if isinstance(self.view, PendingMapView):
            self._build_view()
        self._catch_up()
        if self._redraw_pending:
            self._marker_timer.start(0)

    def _catch_up(self) -> None:
        """Positions of the devices that moved while the map was behind another tab."""
        if self._unseen:
            unseen, self._unseen = self._unseen, set()
            self._offscreen.behind = False
            if self.model.update(unseen):
                self._redraw_pending = True
                if not self._marker_timer.isActive():
                    self._marker_timer.start(0)
            self._update_no_fix()

    def _build_view(self) -> None:
        view = self._make_view()
        view.sig_device_clicked.connect(self._on_clicked)
        old = self.split.replaceWidget(0, view)
        if old is not None:
            old.deleteLater()
        self.view = view
        view.update_markers(None)
        if self.model.track is not None:
            self._on_track(self._gen, self.model.track)

    def _extend_track(self, change: FleetChange) -> None:
        track = self.model.track
        if track is None or self.track_loading:
            return
        added = []
        for _pid, record in change.records:
            if record.device != track.device_id or record.kind not in ("location", "alarm"):
                continue
            d = record.data
            at = record.raw.received_at
            if record.kind == "location" and has_fix(d.get("latitude"), d.get("longitude"),
                                                     d.get("locType")):
                point = TrackPoint(at, float(d["latitude"]), float(d["longitude"]))
                track.add(point)  # thinned past its bound (Settings › Map)
                added.append(point)
            elif record.kind == "alarm":
                name = str(d.get("alarmName") or f"Unknown alarm {d.get('alarmType')}")
                if has_fix(d.get("latitude"), d.get("longitude")):
                    track.add_alarm(AlarmPoint(at, float(d["latitude"]),
                                               float(d["longitude"]), name))
                elif track.points:
                    last = track.points[-1]
                    track.add_alarm(AlarmPoint(at, last.lat, last.lon, name, True))
                added.append(None)
        if added:
            self.view.append_track([p for p in added if p is not None])
            self._show_track_note()

    def _refresh(self) -> None:
        changed = self.model.refresh_status()
        if changed:
            self.view.update_markers(changed)

    def _update_no_fix(self) -> None:
        ids = self.model.no_fix_ids()
        self.no_fix_button.setText(self.model.no_fix_text())
        current = [self.no_fix_list.item(i).text() for i in range(self.no_fix_list.count())]
        if current != ids:
            self.no_fix_list.clear()
            for d in ids:
                QListWidgetItem(d, self.no_fix_list)

    # -- selection ------------------------------------------------------------------------------

    def _on_clicked(self, device_id: str) -> None:
        self.ctx.selection.select(device_id)

    def _on_selected(self, device_id: str) -> None:
        changed = self.model.select(device_id)
        if changed:
            self.view.update_markers(changed)
        self.load_track()

    def load_track(self) -> None:
        self._gen += 1
        device = self.model.selected
        self.model.track = None
        self.view.set_track(None)
        if not device:
            self.track_loading = False
            return
        self.track_loading = True
        gen = self._gen
        since = time.time() - TRACK_RANGES[self.range_box.currentText()]
        ctx, loader, limit = self.ctx, self._loader, self.track_points

        def run() -> None:
            try:
                with ctx.open_journal() as journal:
                    track = load_track(journal.conn, device, since, limit)
            except Exception:
                log.exception("map: loading the track of %s failed", device)
                track = Track(device, since)
            loader.sig_track_loaded.emit(gen, track)

        threading.Thread(target=run, name=f"map-track-{device}", daemon=True).start()

    def _on_track(self, gen: int, track: Track) -> None:
        if gen != self._gen or track.device_id != self.model.selected:
            return
        self.track_loading = False
        self.model.track = track
        self.view.set_track(track)
        self._show_track_note()
        bounds = track.bounds()
        if self.follow.isChecked() and self.model.selected_position():
            self.view.centre_on(*self.model.selected_position())
        elif bounds:
            self.view.fit(*bounds)
        elif self.model.selected_position():
            self.view.centre_on(*self.model.selected_position())

    # -- the track's bound (issue 26) ------------------------------------------------------------

    def _show_track_note(self) -> None:
        """How much of the track is drawn: all its fixes, or a thinned window of them."""
        track = self.model.track
        self.track_note.setText(track.describe() if track is not None else "")
        self.track_note.setStyleSheet("color: #d97706;" if track and track.thinned else "")

    def set_track_points(self, n: int) -> None:
        """The bound on points per track (File › Settings › Map), applied at once."""
        self.track_points = max(2, int(n))
        track = self.model.track
        if track is not None:
            track.set_limit(self.track_points)
            self.view.set_track(track)
            self._show_track_note()

    def bounds(self) -> list[Held]:
        track = self.model.track
        return [Held("map: points of the selected device's track",
                     len(track.points) if track else 0, self.track_points)]

    def _on_range(self, name: str) -> None:
        self.ctx.settings.setValue(SETTINGS_RANGE, name)
        self.load_track()

    def _on_follow(self, on: bool) -> None:
        self.ctx.settings.setValue(SETTINGS_FOLLOW, "true" if on else "false")
        pos = self.model.selected_position()
        if on and pos:
            self.view.centre_on(*pos)

    def _ask_tiles(self) -> None:
        current = str(self.ctx.settings.value(SETTINGS_TILES, DEFAULT_TILE_URL))
        url, ok = QInputDialog.getText(
            self, "Tile server", "Tile URL (%z, %x, %y); used from the next start:",
            text=current)
        if ok and url.strip():
            self.ctx.settings.setValue(SETTINGS_TILES, url.strip())

    def settings_page(self) -> QWidget:
        """The tile server, as in Tiles…, and the bound on a track, for File › Settings."""
        page = QWidget()
        form = QFormLayout(page)
        edit = QLineEdit(str(self.ctx.settings.value(SETTINGS_TILES, DEFAULT_TILE_URL)))
        edit.setToolTip("Tile URL with %z, %x and %y; used from the next start")
        note = QLabel("Used from the next start. Without a reachable server the map says so "
                      "and draws on a plain background.")
        note.setWordWrap(True)

        def save() -> None:
            url = edit.text().strip()
            if url:
                self.ctx.settings.setValue(SETTINGS_TILES, url)

        edit.editingFinished.connect(save)
        default = QPushButton("Use OpenStreetMap")
        default.clicked.connect(lambda: (edit.setText(DEFAULT_TILE_URL), save()))
        form.addRow("Tile server", edit)
        form.addRow("", default)
        form.addRow("", note)
        limits = bounds_page(self.ctx.settings, [(TRACK_POINTS, self.set_track_points)],
                             embedded=True)
        form.addRow(limits)
        return page

    def shutdown(self) -> None:
        self._gen += 1
        self._status_timer.stop()


__all__ = ["MapPanel", "PlainMapView", "QuickMapView"]
