"""The alarm panel: live alarms, filters, acknowledgement that survives a restart, and critical
alarms that sound, notify and stay red until someone acknowledges them."""

from __future__ import annotations

import contextlib
import logging
import time
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QEvent,
    QItemSelection,
    QObject,
    QPoint,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QKeyEvent, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QStyle,
    QSystemTrayIcon,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import DEFAULT_CRITICAL_ALARMS, FleetChange
from app.journal.store import Journal
from app.protocol.codes import ALARM_TYPES
from app.ui.context import AppContext
from app.ui.panels.alarms.model import (
    ACK,
    ALARM,
    CODE,
    CSV_HEADER,
    DESCRIPTION,
    DEVICE,
    POSITION,
    SPEED,
    TIME,
    AlarmFilterProxy,
    AlarmRow,
    AlarmTableModel,
    row_from_entry,
    rows_from_journal,
)
from app.ui.panels.alarms.notify import CriticalNotifier
from app.ui.widgets.live_table import (
    CsvExporter,
    HistoryLoader,
    TimeRangePicker,
    thousands,
)

log = logging.getLogger(__name__)

SETTINGS_CRITICAL = "alarms/critical"
SETTINGS_HEADER = "alarms/header_v2"  # v2: Acknowledged moved after Code
SETTINGS_MAX_ROWS = "alarms/max_rows"
SETTINGS_HISTORY = "alarms/history_rows"
# Reading history costs Python time that competes with the GUI thread for the GIL: the
# newest 5 000 come back at start; older ones are in the push log.
DEFAULT_HISTORY = 5_000


def settings_value(ctx: AppContext, key: str, default: int) -> int:
    try:
        return int(ctx.settings.value(key, default) or default)
    except (TypeError, ValueError):
        return default
ACK_KEYS = {
    Qt.Key.Key_Space.value,
    QKeySequence("Ctrl+Shift+A")[0].toCombined(),
}
DEFAULT_WIDTHS = {TIME: 120, DEVICE: 110, ALARM: 240, CODE: 50, ACK: 150, POSITION: 150,
                  SPEED: 70, DESCRIPTION: 160}


def load_critical(settings) -> set[int] | None:
    """The saved critical alarm codes, or None when the user never chose."""
    value = settings.value(SETTINGS_CRITICAL)
    if value is None:
        return None
    items = value if isinstance(value, list) else str(value).split(",")
    out = set()
    for item in items:
        try:
            out.add(int(str(item).strip()))
        except ValueError:
            continue
    return out


def save_critical(settings, codes: set[int]) -> None:
    settings.setValue(SETTINGS_CRITICAL, ",".join(str(c) for c in sorted(codes)))


class CriticalTypesDialog(QDialog):
    """Which alarm types are critical: the seed's alarm table as a checkable list."""

    def __init__(self, current: set[int], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Critical alarm types")
        self.resize(420, 520)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(
            "Critical alarms beep, raise a notification and stay red until acknowledged."
        ))
        self.search = QLineEdit(placeholderText="Find an alarm type…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._filter)
        layout.addWidget(self.search)
        self.list = QListWidget()
        codes = sorted(set(ALARM_TYPES) | set(current))
        for code in codes:
            item = QListWidgetItem(f"{code:>5}  {ALARM_TYPES.get(code, f'Unknown alarm {code}')}")
            item.setData(Qt.ItemDataRole.UserRole, code)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(Qt.CheckState.Checked if code in current
                               else Qt.CheckState.Unchecked)
            self.list.addItem(item)
        layout.addWidget(self.list)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
            | QDialogButtonBox.StandardButton.RestoreDefaults
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.StandardButton.RestoreDefaults).clicked.connect(
            lambda: self.set_codes(set(DEFAULT_CRITICAL_ALARMS))
        )
        layout.addWidget(buttons)

    def _filter(self, text: str) -> None:
        text = text.strip().lower()
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setHidden(bool(text) and text not in item.text().lower())

    def set_codes(self, codes: set[int]) -> None:
        for i in range(self.list.count()):
            item = self.list.item(i)
            item.setCheckState(Qt.CheckState.Checked if item.data(Qt.ItemDataRole.UserRole)
                               in codes else Qt.CheckState.Unchecked)

    def codes(self) -> set[int]:
        out = set()
        for i in range(self.list.count()):
            item = self.list.item(i)
            if item.checkState() == Qt.CheckState.Checked:
                out.add(int(item.data(Qt.ItemDataRole.UserRole)))
        return out


class AlarmsPanel(QWidget):
    sig_alarms_acknowledged = Signal(list)  # push ids just acknowledged

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 max_rows: int | None = None, history: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        if max_rows is None:
            max_rows = settings_value(ctx, SETTINGS_MAX_ROWS, 20_000)
        self.max_rows = max_rows
        if history is None:  # journal rows read at start (besides restored alarms)
            history = int(settings_value(ctx, SETTINGS_HISTORY, DEFAULT_HISTORY))
        self.history_limit = min(history, max_rows)
        self._apply_saved_critical()
        self._journal: Journal | None = None  # our own connection, for acknowledgements

        self.model = AlarmTableModel(lambda: self.ctx.fleet.critical_alarms, max_rows, self)
        self.proxy = AlarmFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.notifier = CriticalNotifier(self._show_notification, parent=self)
        self.exporter = CsvExporter(self)
        self.exporter.sig_done.connect(self._on_export_done)
        self._tray: QSystemTrayIcon | None = None
        self._latest_critical: AlarmRow | None = None
        self.history_done = False

        self._build()
        self._restore_header()

        # The unacknowledged alarms restored from the journal, merged with the newest history,
        # made into rows on the loader thread and shown page by page, newest first.
        entries = list(ctx.fleet.unacknowledged.values())
        self.loader = HistoryLoader(
            ctx.journal_path, "alarm", self.history_limit, rows_from_journal,
            seed=lambda: entries, seed_convert=lambda chunk: [row_from_entry(e) for e in chunk],
            max_rows=max_rows, parent=self,
        )
        self.loader.sig_page_loaded.connect(self.model.add_rows)
        self.loader.sig_finished.connect(self._on_history_done)
        self.loader.start()

        ctx.feed.sig_batch.connect(self._on_batch)
        self._tick = QTimer(self, interval=1000, timeout=self._on_tick)
        self._tick.start()
        self._update_status()

    # -- building -----------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)

        bar = QHBoxLayout()
        self.device_edit = QLineEdit(placeholderText="Device id…")
        self.device_edit.setClearButtonEnabled(True)
        self.device_edit.setToolTip("Show only alarms of devices whose id contains this")
        self.device_edit.setMinimumWidth(110)
        self.device_edit.setMaximumWidth(170)
        # Re-filtering 20 000 rows costs tens of ms: wait until typing pauses.
        self._device_timer = QTimer(self, singleShot=True, interval=250)
        self._device_timer.timeout.connect(
            lambda: self.proxy.set_device_text(self.device_edit.text()))
        self.device_edit.textChanged.connect(self._device_timer.start)
        self.type_combo = QComboBox()
        self.type_combo.setToolTip("Show only this alarm type")
        self.type_combo.setMinimumContentsLength(14)
        self.type_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_combo.addItem("All alarm types", None)
        self.type_combo.currentIndexChanged.connect(
            lambda: self.proxy.set_code(self.type_combo.currentData()))
        self.model.sig_types_changed.connect(self._refresh_types)
        self.range_picker = TimeRangePicker()
        self.range_picker.sig_range_changed.connect(self._apply_range)
        self.unacked_box = QCheckBox("Unacknowledged only")
        self.unacked_box.toggled.connect(self.proxy.set_unacked_only)
        for w in (self.device_edit, self.type_combo, self.range_picker, self.unacked_box):
            bar.addWidget(w)
        bar.addStretch(1)
        self.critical_button = QPushButton("Critical types…")
        self.critical_button.setToolTip("Choose which alarm types are critical")
        self.critical_button.clicked.connect(self.edit_critical_types)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the alarms shown (after filters) to a CSV file")
        self.export_button.clicked.connect(self._ask_export)
        bar.addWidget(self.critical_button)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)

        self.banner = QFrame()
        self.banner.setObjectName("criticalBanner")
        self.banner.setStyleSheet(
            "#criticalBanner { background: #b3261e; border-radius: 3px; }"
            " #criticalBanner QLabel { color: white; font-weight: bold; }"
        )
        banner_layout = QHBoxLayout(self.banner)
        banner_layout.setContentsMargins(8, 4, 4, 4)
        self.banner_label = QLabel()
        self.banner_label.setWordWrap(True)
        self.banner_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        show_button = QPushButton("Show unacknowledged")
        show_button.clicked.connect(lambda: self.unacked_box.setChecked(True))
        dismiss = QPushButton("Dismiss")
        dismiss.clicked.connect(self.banner.hide)
        banner_layout.addWidget(self.banner_label, 1)
        banner_layout.addWidget(show_button)
        banner_layout.addWidget(dismiss)
        self.banner.hide()
        layout.addWidget(self.banner)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(
            self.view.fontMetrics().height() + 6)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for col, width in DEFAULT_WIDTHS.items():
            header.resizeSection(col, width)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # -1 + descending = reversed
        self.view.setSortingEnabled(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        layout.addWidget(self.view, 1)

        self.ack_action = QAction("Acknowledge selected", self)
        self.ack_action.setShortcuts([QKeySequence(Qt.Key.Key_Space),
                                      QKeySequence("Ctrl+Shift+A")])
        self.ack_action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.ack_action.triggered.connect(self.acknowledge_selected)
        self.view.addAction(self.ack_action)
        self.view.installEventFilter(self)  # the same keys when no shortcut map applies

        foot = QHBoxLayout()
        self.status_label = QLabel()
        self.drop_label = QLabel()
        self.drop_label.setStyleSheet("color: #d97706;")
        self.ack_button = QPushButton("Acknowledge selected")
        self.ack_button.setToolTip("Space or Ctrl+Shift+A")
        self.ack_button.clicked.connect(self.acknowledge_selected)
        self.ack_all_button = QPushButton("Acknowledge all shown…")
        self.ack_all_button.setToolTip("Acknowledge every unacknowledged alarm the filters show")
        self.ack_all_button.clicked.connect(self.acknowledge_visible)
        foot.addWidget(self.status_label)
        foot.addWidget(self.drop_label)
        foot.addStretch(1)
        foot.addWidget(self.ack_button)
        foot.addWidget(self.ack_all_button)
        layout.addLayout(foot)
        self.model.sig_rows_dropped.connect(self._on_dropped)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            watched is self.view and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.keyCombination().toCombined() in ACK_KEYS
        ):
            self.acknowledge_selected()
            return True
        return super().eventFilter(watched, event)

    def _restore_header(self) -> None:
        state = self.ctx.settings.value(SETTINGS_HEADER)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.view.horizontalHeader().restoreState(state)

    # -- live data ------------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        if not change.alarms:
            return
        rows = [row_from_entry(e) for e in change.alarms]
        self.model.add_rows(rows)
        crit = self.ctx.fleet.critical_alarms
        hot = [r for r in rows if r.code in crit and r.push_id in self.model.unacked]
        if hot:
            self._latest_critical = hot[-1]
            self.notifier.add(hot)
        self._update_status()

    def _on_history_done(self, _total: int) -> None:
        self.history_done = True
        self._update_status()

    def _on_dropped(self, dropped: int) -> None:
        self.drop_label.setText(
            f"showing newest {thousands(self.max_rows)} — older alarms are in the push log"
        )

    def _on_tick(self) -> None:
        if self.range_picker.is_relative:
            self._apply_range()
        self._update_status()

    def _apply_range(self) -> None:
        since, until = self.range_picker.value()
        if self.range_picker.is_relative and self.proxy.since is not None and since is not None \
                and abs(since - self.proxy.since) < 30:
            return  # "last hour" moves on every 30 s, not on every tick
        self.proxy.set_range(since, until)
        self._update_status()

    def _refresh_types(self) -> None:
        current = self.type_combo.currentData()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem("All alarm types", None)
        for code, name in sorted(self.model.types.items(),
                                 key=lambda kv: (kv[1].lower(), kv[0] or 0)):
            if code is None:
                continue
            self.type_combo.addItem(f"{name} ({code})", code)
        index = self.type_combo.findData(current) if current is not None else 0
        self.type_combo.setCurrentIndex(max(0, index))
        self.type_combo.blockSignals(False)

    def _update_status(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        unacked = len(self.model.unacked)
        critical = len(self.model.critical_unacked()) if unacked else 0
        parts = [f"{thousands(shown)} of {thousands(total)} alarms shown"
                 if shown != total else f"{thousands(total)} alarms"]
        parts.append(f"{thousands(unacked)} unacknowledged" if unacked else "all acknowledged")
        if critical:
            parts.append(f"{thousands(critical)} critical")
        if not self.history_done:
            parts.append("loading history…")
        self.status_label.setText(" · ".join(parts))
        if not critical:
            if not self.banner.isHidden():
                self.banner.hide()
        elif not self.banner.isHidden():
            text = (f"⚠ {thousands(critical)} critical alarm{'s' if critical != 1 else ''} "
                    "waiting for acknowledgement")
            latest = self._latest_critical
            if latest is not None and latest.acked_at is None:
                text += f" — latest: {latest.name} on {latest.device} at " \
                        f"{time.strftime('%H:%M:%S', time.localtime(latest.at))}"
            self.banner_label.setText(text)

    # -- selection --------------------------------------------------------------------------

    def selected_rows(self) -> list[AlarmRow]:
        rows = []
        for index in self.view.selectionModel().selectedRows():
            src = self.proxy.mapToSource(index)
            if src.isValid():
                rows.append(self.model.row_at(src.row()))
        return rows

    def _on_selection(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        devices = list(dict.fromkeys(r.device for r in self.selected_rows() if r.device))
        if devices:
            self.ctx.selection.select_many(devices)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        menu = QMenu(self)
        menu.addAction(self.ack_action)
        if index.isValid():
            row = self.model.row_at(self.proxy.mapToSource(index).row())
            n = len(self._device_unacked(row.device))
            act = menu.addAction(f"Acknowledge all alarms of {row.device} ({n})")
            act.setEnabled(n > 0)
            act.triggered.connect(lambda: self.acknowledge_device(row.device))
            menu.addSeparator()
            only = menu.addAction(f"Show only {row.device}")
            only.triggered.connect(lambda: self.device_edit.setText(row.device))
            copy = menu.addAction("Copy row")
            copy.triggered.connect(lambda: QApplication.clipboard().setText(
                "\t".join(self.model.display(row, c) for c in range(self.model.columnCount()))))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- acknowledging ---------------------------------------------------------------------

    def _device_unacked(self, device: str) -> list[int]:
        ids = {r.push_id for r in self.model.unacked.values() if r.device == device}
        ids.update(self.ctx.fleet.unacknowledged_of(device))
        return sorted(ids)

    def acknowledge(self, push_ids: list[int]) -> list[int]:
        """Acknowledge these alarms: fleet state, journal (survives a restart), table."""
        ids = [i for i in dict.fromkeys(push_ids)
               if i in self.model.unacked or i in self.ctx.fleet.unacknowledged]
        if not ids:
            return []
        at = time.time()
        operator = self.ctx.operator
        try:
            if self._journal is None:
                self._journal = Journal(self.ctx.journal_path)
            self._journal.acknowledge(ids, at=at, operator=operator)
        except Exception as exc:
            log.exception("could not store acknowledgements")
            QMessageBox.warning(self, "Acknowledge",
                                f"Could not store the acknowledgement in the journal:\n{exc}")
            return []
        self.ctx.fleet.acknowledge(ids)
        self.model.mark_acknowledged(ids, at, operator)
        self.sig_alarms_acknowledged.emit(ids)
        self._update_status()
        return ids

    def acknowledge_selected(self) -> list[int]:
        return self.acknowledge([r.push_id for r in self.selected_rows()
                                 if r.acked_at is None])

    def acknowledge_device(self, device: str) -> list[int]:
        return self.acknowledge(self._device_unacked(device))

    def acknowledge_visible(self) -> list[int]:
        ids = [r.push_id for r in self.proxy.visible_rows() if r.acked_at is None]
        if not ids:
            QMessageBox.information(self, "Acknowledge", "No unacknowledged alarm is shown.")
            return []
        n = len(ids)
        if not self._confirm("Acknowledge alarms",
                             f"Acknowledge {thousands(n)} alarm{'s' if n != 1 else ''} "
                             "shown in the table?"):
            return []
        return self.acknowledge(ids)

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(self, title, text)
        return answer == QMessageBox.StandardButton.Yes

    # -- critical alarms -------------------------------------------------------------------

    def _apply_saved_critical(self) -> None:
        saved = load_critical(self.ctx.settings)
        if saved is not None:
            self.set_critical_codes(saved, save=False)

    def set_critical_codes(self, codes: set[int], *, save: bool = True) -> None:
        fleet = self.ctx.fleet
        fleet.critical_alarms.clear()
        fleet.critical_alarms.update(codes)
        for entry in fleet.unacknowledged.values():
            entry.critical = entry.alarm_type in fleet.critical_alarms
        if save:
            save_critical(self.ctx.settings, set(codes))
        if hasattr(self, "model"):
            self.model.all_changed()
            self._update_status()

    def edit_critical_types(self) -> None:
        dialog = CriticalTypesDialog(set(self.ctx.fleet.critical_alarms), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_critical_codes(dialog.codes())

    def _show_notification(self, title: str, message: str) -> None:
        QApplication.beep()
        if QSystemTrayIcon.isSystemTrayAvailable():
            if self._tray is None:
                icon = self.window().windowIcon()
                if icon.isNull():
                    icon = self.style().standardIcon(QStyle.StandardPixmap.SP_MessageBoxWarning)
                self._tray = QSystemTrayIcon(icon, self)
                self._tray.setToolTip("SealDesk")
                self._tray.show()
            self._tray.showMessage(title, message, QSystemTrayIcon.MessageIcon.Critical, 10_000)
        # The banner also shows in the panel: a tray balloon is easy to miss.
        self.banner_label.setToolTip(f"{title}\n{message}")
        self.banner.show()
        self._update_status()

    # -- export ------------------------------------------------------------------------------

    def _ask_export(self) -> None:
        default = str(Path.home() / time.strftime("alarms-%Y%m%d-%H%M%S.csv"))
        path, _ = QFileDialog.getSaveFileName(self, "Export alarms", default, "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> int:
        rows = [r.csv() for r in self.proxy.visible_rows()]
        self.export_button.setEnabled(False)
        self.export_button.setText("Exporting…")
        self.exporter.export(path, CSV_HEADER, rows)
        return len(rows)

    def _on_export_done(self, path: str, count: int, error: str) -> None:
        self.export_button.setEnabled(True)
        self.export_button.setText("Export CSV…")
        if error:
            QMessageBox.warning(self, "Export alarms", f"Could not write {path}:\n{error}")
        else:
            self.status_label.setText(f"exported {thousands(count)} alarms to {path}")

    # -- end -----------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._tick.stop()
        self.notifier.stop()
        self.loader.stop()
        with contextlib.suppress(RuntimeError, TypeError):
            self.ctx.feed.sig_batch.disconnect(self._on_batch)
        self.ctx.settings.setValue(SETTINGS_HEADER, self.view.horizontalHeader().saveState())
        if self._tray is not None:
            self._tray.hide()
        if self._journal is not None:
            self._journal.close()
            self._journal = None
