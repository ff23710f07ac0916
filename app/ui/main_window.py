"""The main window: panels in movable docks, a status bar, shortcuts, saved layout."""

from __future__ import annotations

import importlib
import logging
import time
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QMainWindow,
    QMessageBox,
    QWidget,
)

from app import APP_NAME, __version__
from app.transport.state import ConnectionState, Phase
from app.ui.context import AppContext
from app.ui.theme import STATUS_COLOURS

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PanelSpec:
    key: str  # object name, used by saveState
    module: str
    cls: str
    title: str
    area: Qt.DockWidgetArea
    shortcut: str = ""


L, R, B = (
    Qt.DockWidgetArea.LeftDockWidgetArea,
    Qt.DockWidgetArea.RightDockWidgetArea,
    Qt.DockWidgetArea.BottomDockWidgetArea,
)

# Panels are looked up by name so each lives in its own package and none imports another.
PANELS: tuple[PanelSpec, ...] = (
    PanelSpec("connection", "app.ui.panels.connection.widget", "ConnectionPanel", "Connection", L,
              "Ctrl+1"),
    PanelSpec("devices", "app.ui.panels.devices.widget", "DevicesPanel", "Devices", L, "Ctrl+2"),
    PanelSpec("detail", "app.ui.panels.detail.widget", "DetailPanel", "Device detail", R,
              "Ctrl+3"),
    PanelSpec("alarms", "app.ui.panels.alarms.widget", "AlarmsPanel", "Alarms", B, "Ctrl+4"),
    PanelSpec("events", "app.ui.panels.events.widget", "EventsPanel", "Events", B, "Ctrl+5"),
    PanelSpec("pushlog", "app.ui.panels.pushlog.widget", "PushLogPanel", "Push log", B, "Ctrl+6"),
    PanelSpec("commands", "app.ui.panels.commands.widget", "CommandsPanel", "Commands", R,
              "Ctrl+7"),
    PanelSpec("charts", "app.ui.panels.charts.widget", "ChartsPanel", "Charts", R, "Ctrl+8"),
    PanelSpec("map", "app.ui.panels.map.widget", "MapPanel", "Map", R, "Ctrl+9"),
    PanelSpec("commissioning", "app.ui.panels.commissioning.widget", "CommissioningPanel",
              "Commissioning", R, "Ctrl+0"),
)

LAYOUT_VERSION = 1


class MainWindow(QMainWindow):
    sig_closed = Signal()

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setWindowTitle(f"{APP_NAME} — lock and tracker console")
        self.setObjectName("MainWindow")
        self.setDockNestingEnabled(True)
        self.setCorner(Qt.Corner.BottomLeftCorner, Qt.DockWidgetArea.LeftDockWidgetArea)
        self.setCorner(Qt.Corner.BottomRightCorner, Qt.DockWidgetArea.RightDockWidgetArea)
        self.panels: dict[str, QWidget] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._build_panels()
        self._build_menus()
        self._build_status_bar()
        self._restore_layout()
        ctx.connections.sig_state_changed.connect(self._on_connection_state)
        ctx.feed.sig_rate.connect(self._on_rate)
        ctx.feed.sig_batch.connect(self._update_alarm_count)  # a method: gone with the window
        ctx.acknowledgements.sig_acknowledged.connect(self._update_alarm_count)
        ctx.acknowledgements.sig_not_stored.connect(self._on_acknowledgement_not_stored)
        self._alarm_timer = QTimer(self, interval=1000, timeout=self._update_alarm_count)
        self._alarm_timer.timeout.connect(self._update_webhook)
        self._alarm_timer.start()

    # -- panels ------------------------------------------------------------------

    def _build_panels(self) -> None:
        placeholder = QWidget()
        placeholder.setMaximumSize(0, 0)
        self.setCentralWidget(placeholder)
        bottom: list[QDockWidget] = []
        right: list[QDockWidget] = []
        for spec in PANELS:
            try:
                module = importlib.import_module(spec.module)
            except ModuleNotFoundError as exc:
                if exc.name and spec.module.startswith(exc.name):
                    continue  # panel not built yet
                raise
            widget = getattr(module, spec.cls)(self.ctx)
            dock = QDockWidget(spec.title, self)
            dock.setObjectName(f"dock_{spec.key}")
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            self.addDockWidget(spec.area, dock)
            if spec.area == B:
                bottom.append(dock)
            elif spec.area == R:
                right.append(dock)
            self.panels[spec.key] = widget
            self.docks[spec.key] = dock
        for group in (bottom, right):
            for other in group[1:]:
                self.tabifyDockWidget(group[0], other)
            if group:
                group[0].raise_()
        if "detail" in self.panels and "commands" in self.panels:
            from app.ui.command_history import make_provider
            from app.ui.panels.detail.fields import register_section

            register_section("commands", make_provider(self.ctx.journal_path))
        if "connection" in self.docks and "devices" in self.docks:
            self.splitDockWidget(self.docks["connection"], self.docks["devices"],
                                 Qt.Orientation.Vertical)
        self.resize(1500, 920)
        if "devices" in self.docks:
            self.resizeDocks([self.docks["devices"]], [560], Qt.Orientation.Horizontal)
        if bottom:
            self.resizeDocks([bottom[0]], [330], Qt.Orientation.Vertical)

    def show_panel(self, key: str) -> None:
        dock = self.docks.get(key)
        if dock:
            dock.show()
            dock.raise_()
            dock.widget().setFocus()

    # -- menus and shortcuts ---------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.close)
        file_menu.addAction(quit_action)

        view = bar.addMenu("&View")
        for spec in PANELS:
            dock = self.docks.get(spec.key)
            if not dock:
                continue
            action = dock.toggleViewAction()
            action.setText(spec.title)
            view.addAction(action)
            jump = QAction(f"Go to {spec.title}", self, shortcut=QKeySequence(spec.shortcut))
            jump.triggered.connect(lambda _=False, k=spec.key: self.show_panel(k))
            self.addAction(jump)
        view.addSeparator()
        theme_menu = view.addMenu("Theme")
        current = str(self.ctx.settings.value("ui/theme", "system"))
        group = QActionGroup(self)
        for mode, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            action = QAction(label, self, checkable=True, checked=mode == current)
            action.triggered.connect(lambda _=False, m=mode: self._set_theme(m))
            group.addAction(action)
            theme_menu.addAction(action)
        reset = QAction("Reset layout", self)
        reset.triggered.connect(self.reset_layout)
        view.addAction(reset)

        help_menu = bar.addMenu("&Help")
        keys = QAction("Keyboard shortcuts", self, shortcut=QKeySequence("F1"))
        keys.triggered.connect(self._show_shortcuts)
        help_menu.addAction(keys)
        about = QAction(f"About {APP_NAME}", self)
        about.triggered.connect(self._show_about)
        help_menu.addAction(about)

    def _set_theme(self, mode: str) -> None:
        from PySide6.QtWidgets import QApplication

        from app.ui.theme import apply_theme

        self.ctx.settings.setValue("ui/theme", mode)
        apply_theme(QApplication.instance(), mode)

    def _show_shortcuts(self) -> None:
        lines = [f"<tr><td><b>{s.shortcut}</b></td><td>{s.title}</td></tr>"
                 for s in PANELS if s.key in self.docks]
        lines += [
            "<tr><td><b>Ctrl+F</b></td><td>Search devices</td></tr>",
            "<tr><td><b>Ctrl+Q</b></td><td>Quit</td></tr>",
            "<tr><td><b>F1</b></td><td>This list</td></tr>",
        ]
        QMessageBox.information(self, "Keyboard shortcuts", "<table>" + "".join(lines) + "</table>")

    def _show_about(self) -> None:
        import platform

        import paho.mqtt
        import PySide6
        from PySide6.QtCore import qVersion

        QMessageBox.about(
            self,
            f"About {APP_NAME}",
            f"<h3>{APP_NAME} {__version__}</h3>"
            "<p>Console for commissioning and watching electronic locks and GPS trackers.</p>"
            f"<p>Qt {qVersion()} · PySide6 {PySide6.__version__} · "
            f"paho-mqtt {paho.mqtt.__version__} · Python {platform.python_version()}</p>"
            f"<p>Journal: {self.ctx.journal_path}</p>",
        )

    # -- status bar --------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.conn_label = QLabel("not connected")
        self.rate_label = QLabel("0 pushes/s")
        self.last_label = QLabel("no push yet")
        self.alarm_label = QLabel("no open alarms")
        self.drop_label = QLabel("")
        self.webhook_label = QLabel("")
        for w in (self.conn_label, self.webhook_label, self.rate_label, self.last_label,
                  self.alarm_label):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w)
        bar.addWidget(self.drop_label)
        self._states: dict[str, ConnectionState] = {}

    def _on_connection_state(self, name: str, state: ConnectionState) -> None:
        if state.phase is Phase.DISCONNECTED and state.reason == "by user":
            self._states.pop(name, None)
        else:
            self._states[name] = state
        if not self._states:
            self.conn_label.setText("not connected")
            self.conn_label.setStyleSheet("")
            return
        parts = [f"{n}: {s.describe()}" for n, s in self._states.items()]
        worst = max(self._states.values(), key=_severity)
        colour = STATUS_COLOURS["refused" if worst.refused else worst.phase.value].name()
        self.conn_label.setText("● " + " | ".join(parts))
        self.conn_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _on_rate(self, rate: float, last_at: float) -> None:
        self.rate_label.setText(f"{rate:,.0f} pushes/s")
        if last_at:
            ago = max(0.0, time.time() - last_at)
            stamp = time.strftime("%H:%M:%S", time.localtime(last_at))
            self.last_label.setText(f"last push {stamp} ({ago:.0f} s ago)")
        dropped = self.ctx.feed.dropped
        self.drop_label.setText(
            f"view fell behind: {dropped:,} updates skipped (all are in the journal)"
            if dropped else ""
        )

    def _update_webhook(self) -> None:
        server = self.ctx.webhook
        if server is None:
            self.webhook_label.setText("")
            return
        stats = server.stats
        text = f"webhook {server.url} · {stats.accepted:,} received"
        if stats.rejected_total:
            text += f" · {stats.rejected_total:,} refused"
        if server.exposed:
            text = "⚠ " + text + " · open to the network"
            self.webhook_label.setStyleSheet(
                f"color: {STATUS_COLOURS['refused'].name()}; font-weight: bold;")
        self.webhook_label.setText(text)
        self.webhook_label.setToolTip(stats.describe())

    def _on_acknowledgement_not_stored(self, text: str) -> None:
        QMessageBox.warning(self, "Acknowledge", text)

    def _update_alarm_count(self, *_why: object) -> None:
        fleet = self.ctx.fleet
        n = len(fleet.unacknowledged)
        critical = sum(1 for e in fleet.unacknowledged.values() if e.critical)
        if n == 0:
            self.alarm_label.setText("no open alarms")
            self.alarm_label.setStyleSheet("")
        else:
            text = f"{n:,} unacknowledged alarm{'s' if n != 1 else ''}"
            if critical:
                text += f" ({critical} critical)"
            self.alarm_label.setText(text)
            colour = STATUS_COLOURS["critical" if critical else "waiting"].name()
            self.alarm_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    # -- layout ------------------------------------------------------------------------

    def _restore_layout(self) -> None:
        s = self.ctx.settings
        if int(s.value("window/layout_version", 0) or 0) != LAYOUT_VERSION:
            return
        geometry = s.value("window/geometry")
        state = s.value("window/state")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state, LAYOUT_VERSION)

    def save_layout(self) -> None:
        s = self.ctx.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("window/state", self.saveState(LAYOUT_VERSION))
        s.setValue("window/layout_version", LAYOUT_VERSION)
        s.sync()

    def reset_layout(self) -> None:
        s = self.ctx.settings
        s.remove("window/state")
        s.remove("window/geometry")
        QMessageBox.information(self, "Reset layout", "The default layout returns at next start.")

    def closeEvent(self, event: QCloseEvent) -> None:
        self.save_layout()
        for widget in self.panels.values():
            shutdown = getattr(widget, "shutdown", None)
            if callable(shutdown):
                try:
                    shutdown()
                except Exception:
                    log.exception("panel shutdown failed")
        super().closeEvent(event)
        self.sig_closed.emit()


def _severity(state: ConnectionState) -> int:
    if state.refused:
        return 5
    return {
        Phase.CONNECTED: 0,
        Phase.DISCONNECTED: 1,
        Phase.CONNECTING: 2,
        Phase.WAITING: 3,
        Phase.REFUSED: 4,
    }[state.phase]
