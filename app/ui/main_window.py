"""The main window: panels in movable docks, a status bar, shortcuts, saved layout."""

from __future__ import annotations

import importlib
import logging
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QProcess, QRect, Qt, QTimer, Signal
from PySide6.QtGui import (
    QAction,
    QActionGroup,
    QCloseEvent,
    QGuiApplication,
    QKeySequence,
    QShowEvent,
)
from PySide6.QtWidgets import (
    QDockWidget,
    QFileDialog,
    QMainWindow,
    QMessageBox,
    QToolBar,
    QToolButton,
    QWidget,
)

from app import APP_NAME, __version__
from app.journal.url import display
from app.transport.state import ConnectionState, Phase
from app.ui.context import AppContext
from app.ui.feed_banner import attach_feed_banner
from app.ui.operator import window_title
from app.ui.panel import Panel
from app.ui.panels import PANELS
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.elided_label import ElidedLabel
from app.ui.workspaces import (
    LAYOUT_VERSION,
    WORKSPACES,
    WorkspaceStates,
    arrange,
    present_columns,
)
from app.ui.workspaces import by_key as workspace_by_key
from app.ui.workspaces import resize as resize_docks

log = logging.getLogger(__name__)

ROOMY = (1600, 1000)  # below this the window takes the whole available screen
UNDO_OFFER_MS = 15_000


class MainWindow(QMainWindow):
    sig_window_closed = Signal()
    """The window closed; the session ends."""
    sig_workspace_changed = Signal(str)
    """Another workspace is in front (its key)."""

    def __init__(self, ctx: AppContext) -> None:
        super().__init__()
        self.ctx = ctx
        self.setObjectName("MainWindow")
        self._read_only_title = ""
        self.setDockNestingEnabled(True)
        self.panels: dict[str, Panel] = {}
        self.docks: dict[str, QDockWidget] = {}
        self._workspace_states = WorkspaceStates(ctx.settings)
        self.workspace = self._workspace_states.current
        self._undo_reset: tuple[str, QByteArray] | None = None
        self._arranged_on_show = False
        self._update_title()
        self._build_panels()
        self._build_workspace_bar()
        self._build_menus()
        self._build_status_bar()
        attach_feed_banner(ctx, self)  # a feed down: a banner and a status-bar mark
        ctx.navigator.sig_show_panel_requested.connect(self.show_panel)  # a device's next step
        self.fit_to_screen()
        self._restore_layout()
        ctx.connections.sig_state_changed.connect(self._on_connection_state)
        ctx.feed.sig_rate_changed.connect(self._on_rate)
        # a method: gone with the window
        ctx.feed.sig_batch_delivered.connect(self._update_alarm_count)
        ctx.acknowledgements.sig_alarms_acknowledged.connect(self._update_alarm_count)
        ctx.acknowledgements.sig_acknowledgement_refused.connect(self._on_acknowledgement_not_stored)
        self._alarm_timer = QTimer(self, interval=1000, timeout=self._update_alarm_count)
        self._alarm_timer.timeout.connect(self._update_webhook)
        self._alarm_timer.start()

    # -- panels ------------------------------------------------------------------

    def _build_panels(self) -> None:
        placeholder = QWidget()
        placeholder.setMaximumSize(0, 0)
        self.setCentralWidget(placeholder)
        for panel_cls in load_panel_classes():
            widget = panel_cls(self.ctx)
            dock = QDockWidget(panel_cls.TITLE, self)
            dock.setObjectName(f"dock_{panel_cls.KEY}")
            dock.setWidget(widget)
            dock.setFeatures(
                QDockWidget.DockWidgetFeature.DockWidgetMovable
                | QDockWidget.DockWidgetFeature.DockWidgetFloatable
                | QDockWidget.DockWidgetFeature.DockWidgetClosable
            )
            self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, dock)
            dock.hide()
            self.panels[panel_cls.KEY] = widget
            self.docks[panel_cls.KEY] = dock
        for key, panel in self.panels.items():
            for other_key, other in self.panels.items():
                if other is not panel:
                    try:
                        panel.on_panel_available(other_key, other)
                    except Exception:
                        log.exception("%s: on_panel_available(%s) failed", key, other_key)

    def show_panel(self, key: str) -> None:
        """Bring a panel to the front; one the workspace does not hold joins it as a tab."""
        dock = self.docks.get(key)
        if not dock:
            return
        if dock.isHidden() and not dock.isFloating():
            host = self._host_for(dock)
            if host is not None:
                self.tabifyDockWidget(host, dock)
        dock.show()
        dock.raise_()
        dock.widget().setFocus()

    def _host_for(self, guest: QDockWidget) -> QDockWidget | None:
        """The largest panel on screen whose tabs hold no panel called up before: a second
        panel called up goes beside the first, not over it."""
        shown = [d for d in self.docks.values()
                 if d is not guest and not d.isHidden() and not d.isFloating()]
        guests = {d for d in shown if d.property("guest")}
        free = [d for d in shown
                if d not in guests and not guests.intersection(self.tabifiedDockWidgets(d))]
        host = max(free or shown, key=lambda d: d.width() * d.height(), default=None)
        guest.setProperty("guest", True)
        return host

    # -- workspaces --------------------------------------------------------------------

    def _build_workspace_bar(self) -> None:
        bar = QToolBar("Workspaces", self)
        bar.setObjectName("toolbar_workspaces")
        bar.setMovable(False)
        bar.setFloatable(False)
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, bar)
        self.workspace_actions: dict[str, QAction] = {}
        group = QActionGroup(self)
        for w in WORKSPACES:
            action = QAction(w.title, self, checkable=True, checked=w.key == self.workspace,
                             shortcut=QKeySequence(w.shortcut))
            action.setToolTip(f"{w.purpose} ({w.shortcut})")
            action.triggered.connect(lambda _=False, k=w.key: self.switch_workspace(k))
            group.addAction(action)
            bar.addAction(action)
            self.workspace_actions[w.key] = action
        self.workspace_bar = bar

    def switch_workspace(self, key: str) -> None:
        """Put another workspace in front: its own saved arrangement, or the declared one."""
        target = workspace_by_key(key)
        if target.key == self.workspace:
            return
        self._workspace_states.save(self.workspace, self.saveState(LAYOUT_VERSION))
        self.workspace = target.key
        self._workspace_states.current = target.key
        saved = self._workspace_states.load(target.key)
        if saved is None or not self.restoreState(saved, LAYOUT_VERSION):
            arrange(self, target, self.docks)
        self.workspace_actions[target.key].setChecked(True)
        self._update_title()
        self._undo_reset = None
        self.undo_reset_action.setEnabled(False)
        self.sig_workspace_changed.emit(target.key)

    def _arrange_current(self) -> None:
        for dock in self.docks.values():
            dock.setProperty("guest", False)
        arrange(self, workspace_by_key(self.workspace), self.docks)

    # -- menus and shortcuts ---------------------------------------------------------

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        for panel in self.panels.values():
            for action in panel.file_actions():
                file_menu.addAction(action)
        file_menu.addSeparator()
        open_action = QAction("Open journal read-only…", self)
        open_action.setToolTip("Look at another journal (a copy taken now) in a window of its "
                               "own; this one keeps recording")
        open_action.triggered.connect(self.open_journal_read_only)
        file_menu.addAction(open_action)
        file_menu.addSeparator()
        settings_action = QAction("&Settings…", self, shortcut=QKeySequence("Ctrl+,"))
        settings_action.setMenuRole(QAction.MenuRole.PreferencesRole)
        settings_action.triggered.connect(self.open_settings)
        file_menu.addAction(settings_action)
        file_menu.addSeparator()
        quit_action = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit)
        quit_action.triggered.connect(self.request_quit)
        file_menu.addAction(quit_action)

        view = bar.addMenu("&View")
        for w in WORKSPACES:
            view.addAction(self.workspace_actions[w.key])
        view.addSeparator()
        for key, panel in self.panels.items():
            action = self.docks[key].toggleViewAction()
            action.setText(panel.TITLE)
            view.addAction(action)
            if panel.SHORTCUT:
                jump = QAction(f"Go to {panel.TITLE}", self,
                               shortcut=QKeySequence(panel.SHORTCUT))
                jump.triggered.connect(lambda _=False, k=key: self.show_panel(k))
                self.addAction(jump)
        view.addSeparator()
        theme_menu = view.addMenu("Theme")
        current = str(self.ctx.settings.value("ui/theme", "system"))
        group = QActionGroup(self)
        self.theme_actions: dict[str, QAction] = {}
        for mode, label in (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark")):
            action = QAction(label, self, checkable=True, checked=mode == current)
            action.triggered.connect(lambda _=False, m=mode: self._set_theme(m))
            group.addAction(action)
            theme_menu.addAction(action)
            self.theme_actions[mode] = action
        reset = QAction("Reset layout", self)
        reset.setToolTip("Put this workspace's panels back where they start")
        reset.triggered.connect(self.reset_layout)
        view.addAction(reset)
        self.undo_reset_action = QAction("Undo layout reset", self, enabled=False)
        self.undo_reset_action.triggered.connect(self.undo_reset_layout)
        view.addAction(self.undo_reset_action)

        help_menu = bar.addMenu("&Help")
        keys = QAction("Keyboard shortcuts", self, shortcut=QKeySequence("F1"))
        keys.triggered.connect(self._show_shortcuts)
        help_menu.addAction(keys)
        about = QAction(f"About {APP_NAME}", self)
        about.triggered.connect(self._show_about)
        help_menu.addAction(about)

    def open_journal_read_only(self, path: str | None = None) -> bool:
        """Another window, another process, on a copy of that journal taken now."""
        if path is None:
            start = str(self.ctx.settings.value("window/open_dir", "") or "")
            path, _ = QFileDialog.getOpenFileName(self, "Open journal read-only", start,
                                                  "Journals (*.sqlite *.db);;All files (*)")
        if not path:
            return False
        self.ctx.settings.setValue("window/open_dir", str(Path(path).parent))
        ok = QProcess.startDetached(*viewer_command(path))[0]
        if not ok:
            QMessageBox.warning(self, "Open journal", f"Could not start a window for {path}.")
        return bool(ok)

    def _update_title(self) -> None:
        """'SealDesk — Dispatch — alice': the workspace, and who is at the desk."""
        if self._read_only_title:
            self.setWindowTitle(self._read_only_title)
        else:
            self.setWindowTitle(window_title(workspace_by_key(self.workspace).title,
                                             self.ctx.operator))

    def set_operator(self, name: str) -> None:
        """Someone else is at the desk: their name goes on what is done from now on."""
        self.ctx.operator = name
        self._update_title()
        self.statusBar().showMessage(f"Operator: {name}", 5000)

    def show_read_only(self, source: Path, taken_at: float) -> None:
        """This window shows a copy of `source`: say so where it cannot be missed."""
        stamp = time.strftime("%H:%M", time.localtime(taken_at))
        self._read_only_title = f"{source.name} — read-only copy taken {stamp} — {APP_NAME}"
        self._update_title()
        self.conn_label.setText(f"read-only: a copy of {source} taken {stamp}; nothing done "
                                "here changes it")

    def open_settings(self) -> None:
        from app.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.ctx, self.panels.values(), self)
        dialog.sig_theme_changed.connect(self._on_theme_chosen)
        dialog.sig_operator_changed.connect(self.set_operator)
        dialog.exec()

    def _on_theme_chosen(self, mode: str) -> None:
        action = self.theme_actions.get(mode)
        if action:
            action.setChecked(True)

    def _set_theme(self, mode: str) -> None:
        from PySide6.QtWidgets import QApplication

        from app.ui.theme import apply_theme

        self.ctx.settings.setValue("ui/theme", mode)
        apply_theme(QApplication.instance(), mode)

    def shortcut_rows(self) -> list[tuple[str, str, str]]:
        """(group, keys, what) of every shortcut, for F1."""
        from app.ui.device_menu import COPY_KEYS, STEPS

        rows = [("Window", w.shortcut, f"{w.title} workspace") for w in WORKSPACES]
        rows += [("Window", p.SHORTCUT, f"Go to {p.TITLE}") for p in self.panels.values()
                 if p.SHORTCUT]
        rows += [("Window", "Ctrl+,", "Settings"), ("Window", "Ctrl+F", "Search devices"),
                 ("Window", "Ctrl+Q", "Quit"), ("Window", "F1", "This list")]
        rows += [("On a device (tree, tables, push log)", s.keys, s.text) for s in STEPS]
        rows += [("On a device (tree, tables, push log)", COPY_KEYS, "Copy device id")]
        rows += [("On the alarm and event tables", keys, what) for keys, what in (
            ("J / K", "Next / previous row"), ("Space", "Acknowledge the selected alarms"),
            ("N", "Acknowledge with a reason and a note"), ("Ctrl+Z", "Undo acknowledge"),
            ("F", "Follow live again (new rows in, selection cleared)"))]
        return rows

    def _show_shortcuts(self) -> None:
        html, group = [], ""
        for g, keys, what in self.shortcut_rows():
            if g != group:
                group = g
                html.append(f"<tr><td colspan=2><br><i>{g}</i></td></tr>")
            html.append(f"<tr><td><b>{keys}</b>&nbsp;&nbsp;</td><td>{what}</td></tr>")
        QMessageBox.information(self, "Keyboard shortcuts", "<table>" + "".join(html) + "</table>")

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
            f"<p>Journal: {display(self.ctx.journal_path)}</p>",
        )

    # -- status bar --------------------------------------------------------------------

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        # Which journal a desk shows, and whether it reaches it (app/ui/desk_status.py);
        # hidden in a recording window.
        self.journal_label = ElidedLabel("")
        self.journal_label.setContentsMargins(8, 0, 8, 0)
        bar.addPermanentWidget(self.journal_label, 2)
        self.journal_label.hide()
        # A desk's profiles only send commands: its pushes come from the journal.
        self._idle_connection = ("commands: no profile connected" if self.ctx.desk
                                 else "not connected")
        self.conn_label = ElidedLabel(self._idle_connection)
        self.rate_label = ElidedLabel("0 pushes/s")
        self.last_label = ElidedLabel("no push yet")
        self.alarm_label = ElidedLabel("no open alarms")
        self.drop_label = ElidedLabel("")
        self.webhook_label = ElidedLabel("")
        # Connection and alarms matter most: they get the room, the rest gives way first.
        for w, stretch in ((self.conn_label, 3), (self.webhook_label, 1), (self.rate_label, 0),
                           (self.last_label, 1), (self.alarm_label, 2)):
            w.setContentsMargins(8, 0, 8, 0)
            bar.addPermanentWidget(w, stretch)
        bar.addWidget(self.drop_label, 1)
        self._undo_button = QToolButton(bar, text="Undo")
        self._undo_button.setToolTip("Put the layout back as it was before the reset")
        self._undo_button.clicked.connect(self.undo_reset_layout)
        self._undo_button.hide()
        bar.addWidget(self._undo_button)
        self._states: dict[str, ConnectionState] = {}

    def _on_connection_state(self, name: str, state: ConnectionState) -> None:
        if state.phase is Phase.DISCONNECTED and state.reason == "by user":
            self._states.pop(name, None)
        else:
            self._states[name] = state
        if not self._states:
            self.conn_label.setText(self._idle_connection)
            self.conn_label.setStyleSheet("")
            return
        parts = [f"{n}: {s.describe()}{self._plain_mark(n)}" for n, s in self._states.items()]
        worst = max(self._states.values(), key=_severity)
        colour = STATUS_COLOURS["refused" if worst.refused else worst.phase.value].name()
        self.conn_label.setText("● " + " | ".join(parts))
        self.conn_label.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def _plain_mark(self, profile: str) -> str:
        """' · ⚠ not encrypted' for plain MQTT to another machine (the password's MD5 and every
        push cross the network readable), shown as long as the connection is."""
        settings = self.ctx.connections.settings.get(profile)
        return " · ⚠ not encrypted" if settings is not None and not settings.encrypted else ""

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

    # -- screen and layout --------------------------------------------------------------

    def fit_to_screen(self) -> None:
        """Open inside the screen the window is on: saved geometry when it still fits there,
        else most of the available area (all of it on a laptop), centred."""
        avail = self._available()
        saved = self.ctx.settings.value("window/geometry")
        self._maximize_on_show = False
        if (int(self.ctx.settings.value("workspaces/layout_version", 0) or 0) == LAYOUT_VERSION
                and isinstance(saved, QByteArray) and self.restoreGeometry(saved)
                and avail.contains(self.frameGeometry())):
            return
        self.setGeometry(fitted_geometry(avail))
        self._maximize_on_show = avail.width() < ROOMY[0] or avail.height() < ROOMY[1]

    def _available(self) -> QRect:
        screen = self.screen() or QGuiApplication.primaryScreen()
        return screen.availableGeometry()

    def show_fitted(self) -> None:
        """Show as fitted: maximised on a laptop-sized screen (the window manager then fits
        the frame too), else at the size chosen."""
        if self._maximize_on_show:
            self.showMaximized()
        else:
            self.show()

    def _keep_inside_screen(self) -> None:
        """Once the frame's size is known, pull the window inside the available area."""
        if self.isMaximized() or self.isFullScreen():
            return
        avail, frame, inner = self._available(), self.frameGeometry(), self.geometry()
        if avail.contains(frame):
            return
        left, top = inner.x() - frame.x(), inner.y() - frame.y()
        right, bottom = frame.right() - inner.right(), frame.bottom() - inner.bottom()
        width = min(inner.width(), avail.width() - left - right)
        height = min(inner.height(), avail.height() - top - bottom)
        x = min(max(frame.x(), avail.x()), avail.right() + 1 - (width + left + right))
        y = min(max(frame.y(), avail.y()), avail.bottom() + 1 - (height + top + bottom))
        self.setGeometry(QRect(x + left, y + top, width, height))

    def _restore_layout(self) -> None:
        saved = self._workspace_states.load(self.workspace)
        if saved is None or not self.restoreState(saved, LAYOUT_VERSION):
            self._arrange_current()
            self._arranged_on_show = True  # sizes again once the window has its real size

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        QTimer.singleShot(0, self._keep_inside_screen)
        if self._arranged_on_show:
            self._arranged_on_show = False
            # resizeDocks needs the docks shown and the window at its final size.
            QTimer.singleShot(0, lambda: resize_docks(
                self, present_columns(workspace_by_key(self.workspace), self.docks), self.docks))

    def save_layout(self) -> None:
        s = self.ctx.settings
        s.setValue("window/geometry", self.saveGeometry())
        self._workspace_states.save(self.workspace, self.saveState(LAYOUT_VERSION))
        s.sync()

    def reset_layout(self) -> None:
        """The current workspace's declared arrangement, now; View › Undo brings it back."""
        self._undo_reset = (self.workspace, self.saveState(LAYOUT_VERSION))
        self._workspace_states.forget(self.workspace)
        self._arrange_current()
        self.undo_reset_action.setEnabled(True)
        self._show_undo_offer()

    def undo_reset_layout(self) -> None:
        if self._undo_reset is None:
            return
        workspace, state = self._undo_reset
        self._undo_reset = None
        self.undo_reset_action.setEnabled(False)
        if workspace == self.workspace:
            self.restoreState(state, LAYOUT_VERSION)
        self._undo_button.hide()
        self.statusBar().showMessage("Layout restored", 4000)

    def _show_undo_offer(self) -> None:
        title = workspace_by_key(self.workspace).title
        self.statusBar().showMessage(f"{title}: layout reset", UNDO_OFFER_MS)
        self._undo_button.show()
        QTimer.singleShot(UNDO_OFFER_MS, self._undo_button.hide)

    def quit_warnings(self) -> list[str]:
        out = []
        for key, panel in self.panels.items():
            try:
                text = panel.quit_warning()
            except Exception:
                log.exception("%s: quit_warning failed", key)
                continue
            if text:
                out.append(text)
        return out

    def confirm_quit(self) -> bool:
        """Ask first when something would be left undone (e.g. critical alarms nobody
        acknowledged); True when nothing is, or the dispatcher says quit anyway."""
        warnings = self.quit_warnings()
        if not warnings:
            return True
        answer = QMessageBox.question(
            self, f"Quit {APP_NAME}?", "\n\n".join([*warnings, "Quit anyway?"]),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        return answer == QMessageBox.StandardButton.Yes

    def request_quit(self) -> bool:
        """File › Quit (Ctrl+Q). True when the window closed."""
        if not self.confirm_quit():
            return False
        self._quit_confirmed = True
        return self.close()

    def closeEvent(self, event: QCloseEvent) -> None:
        # The window's close button asks as Quit does; a close by the program does not.
        if (event.spontaneous() and not getattr(self, "_quit_confirmed", False)
                and not self.confirm_quit()):
            event.ignore()
            return
        self.save_layout()
        for key, panel in self.panels.items():
            try:
                panel.shutdown()
            except Exception:
                log.exception("%s: shutdown failed", key)
        super().closeEvent(event)
        self.sig_window_closed.emit()


def viewer_command(journal: str) -> tuple[str, list[str]]:
    """How to start a read-only window on `journal`: the packaged program, or main.py."""
    import sys

    if getattr(sys, "frozen", False):
        return sys.executable, ["--journal", journal, "--read-only"]
    main = Path(__file__).resolve().parents[2] / "main.py"
    return sys.executable, [str(main), "--journal", journal, "--read-only"]


def load_panel_classes() -> list[type[Panel]]:
    """The declared panels (app.ui.panels.PANELS), each imported from its own package."""
    classes = []
    for entry in PANELS:
        module_name, _, cls_name = entry.partition(":")
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name and module_name.startswith(exc.name):
                log.warning("panel %s is not installed", entry)
                continue
            raise
        classes.append(getattr(module, cls_name))
    return classes


def fitted_geometry(avail: QRect) -> QRect:
    """All of a small screen; 90 % of a large one (a control-room wall too), centred."""
    width = avail.width() if avail.width() < ROOMY[0] else int(avail.width() * 0.9)
    height = avail.height() if avail.height() < ROOMY[1] else int(avail.height() * 0.9)
    return QRect(avail.x() + (avail.width() - width) // 2,
                 avail.y() + (avail.height() - height) // 2, width, height)


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
