"""The event panel: live device events (unlocks with type, card and password, waybill
milestones) with filters by device, type and time."""

from __future__ import annotations

import contextlib
import time
from pathlib import Path

from PySide6.QtCore import QByteArray, QItemSelection, QPoint, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import FleetChange
from app.ui.context import AppContext
from app.ui.panels.events.model import (
    CARD,
    CSV_HEADER,
    DEVICE,
    EVENT,
    PASSWORD,
    POSITION,
    TIME,
    UNLOCK,
    WAYBILL,
    EventRow,
    EventTableModel,
    row_from_record,
    rows_from_journal,
)
from app.ui.widgets.live_table import (
    CsvExporter,
    HistoryLoader,
    LiveFilterProxy,
    TimeRangePicker,
    thousands,
)

SETTINGS_HEADER = "events/header"
SETTINGS_MAX_ROWS = "events/max_rows"
SETTINGS_HISTORY = "events/history_rows"
# Reading history costs Python time that competes with the GUI thread for the GIL: the
# newest 5 000 come back at start; older ones are in the push log.
DEFAULT_HISTORY = 5_000


def settings_value(ctx: AppContext, key: str, default: int) -> int:
    try:
        return int(ctx.settings.value(key, default) or default)
    except (TypeError, ValueError):
        return default
DEFAULT_WIDTHS = {TIME: 120, DEVICE: 110, EVENT: 260, UNLOCK: 140, CARD: 100, PASSWORD: 80,
                  WAYBILL: 340, POSITION: 160}


class EventsPanel(QWidget):
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
        self.model = EventTableModel(max_rows, self)
        self.proxy = LiveFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self.exporter = CsvExporter(self)
        self.exporter.sig_done.connect(self._on_export_done)
        self.history_done = False
        self._build()
        self._restore_header()

        self.loader = HistoryLoader(ctx.journal_path, "event", self.history_limit,
                                    rows_from_journal, max_rows=max_rows, parent=self)
        self.loader.sig_page_loaded.connect(self._on_history_page)
        self.loader.sig_finished.connect(self._on_history_done)
        if self.history_limit > 0:
            self.loader.start()
        else:
            self.history_done = True
        ctx.feed.sig_batch.connect(self._on_batch)
        self._tick = QTimer(self, interval=1000, timeout=self._on_tick)
        self._tick.start()
        self._update_status()

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        bar = QHBoxLayout()
        self.device_edit = QLineEdit(placeholderText="Device id…")
        self.device_edit.setClearButtonEnabled(True)
        self.device_edit.setToolTip("Show only events of devices whose id contains this")
        self.device_edit.setMinimumWidth(110)
        self.device_edit.setMaximumWidth(170)
        # Re-filtering 20 000 rows costs tens of ms: wait until typing pauses.
        self._device_timer = QTimer(self, singleShot=True, interval=250)
        self._device_timer.timeout.connect(
            lambda: self.proxy.set_device_text(self.device_edit.text()))
        self.device_edit.textChanged.connect(self._device_timer.start)
        self.type_combo = QComboBox()
        self.type_combo.setToolTip("Show only this event type")
        self.type_combo.setMinimumContentsLength(14)
        self.type_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_combo.addItem("All event types", None)
        self.type_combo.currentIndexChanged.connect(
            lambda: self.proxy.set_code(self.type_combo.currentData()))
        self.model.sig_types_changed.connect(self._refresh_types)
        self.range_picker = TimeRangePicker()
        self.range_picker.sig_range_changed.connect(self._apply_range)
        self.password_box = QCheckBox("Show passwords")
        self.password_box.setToolTip("Passwords used to unlock are hidden unless this is on")
        self.password_box.toggled.connect(self.model.set_show_passwords)
        for w in (self.device_edit, self.type_combo, self.range_picker, self.password_box):
            bar.addWidget(w)
        bar.addStretch(1)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip("Save the events shown (after filters) to a CSV file")
        self.export_button.clicked.connect(self._ask_export)
        bar.addWidget(self.export_button)
        layout.addLayout(bar)

        self.view = QTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
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

        foot = QHBoxLayout()
        self.status_label = QLabel()
        self.drop_label = QLabel()
        self.drop_label.setStyleSheet("color: #d97706;")
        foot.addWidget(self.status_label)
        foot.addWidget(self.drop_label)
        foot.addStretch(1)
        layout.addLayout(foot)
        self.model.sig_rows_dropped.connect(self._on_dropped)

    def _restore_header(self) -> None:
        state = self.ctx.settings.value(SETTINGS_HEADER)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.view.horizontalHeader().restoreState(state)

    # -- live data ----------------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        if not change.events:
            return
        self.model.add_rows(row_from_record(pid, rec) for pid, rec in change.events)
        self._update_status()

    def _on_history_page(self, rows: list[EventRow]) -> None:
        self.model.add_rows(rows)
        self._update_status()

    def _on_history_done(self, _total: int) -> None:
        self.history_done = True
        self._update_status()

    def _on_dropped(self, _dropped: int) -> None:
        self.drop_label.setText(
            f"showing newest {thousands(self.max_rows)} — older events are in the push log"
        )

    def _on_tick(self) -> None:
        if self.range_picker.is_relative:
            self._apply_range()

    def _apply_range(self) -> None:
        since, until = self.range_picker.value()
        if self.range_picker.is_relative and self.proxy.since is not None and since is not None \
                and abs(since - self.proxy.since) < 30:
            return
        self.proxy.set_range(since, until)
        self._update_status()

    def _refresh_types(self) -> None:
        current = self.type_combo.currentData()
        self.type_combo.blockSignals(True)
        self.type_combo.clear()
        self.type_combo.addItem("All event types", None)
        for code, name in sorted((kv for kv in self.model.types.items() if kv[0] is not None),
                                 key=lambda kv: kv[0]):
            self.type_combo.addItem(f"{name} ({code})", code)
        index = self.type_combo.findData(current) if current is not None else 0
        self.type_combo.setCurrentIndex(max(0, index))
        self.type_combo.blockSignals(False)

    def _update_status(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        text = (f"{thousands(shown)} of {thousands(total)} events shown" if shown != total
                else f"{thousands(total)} events")
        if not self.history_done:
            text += " · loading history…"
        self.status_label.setText(text)

    # -- selection ------------------------------------------------------------------------------

    def selected_rows(self) -> list[EventRow]:
        out = []
        for index in self.view.selectionModel().selectedRows():
            src = self.proxy.mapToSource(index)
            if src.isValid():
                out.append(self.model.row_at(src.row()))
        return out

    def _on_selection(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        devices = list(dict.fromkeys(r.device for r in self.selected_rows() if r.device))
        if devices:
            self.ctx.selection.select_many(devices)

    def _context_menu(self, pos: QPoint) -> None:
        index = self.view.indexAt(pos)
        if not index.isValid():
            return
        row = self.model.row_at(self.proxy.mapToSource(index).row())
        menu = QMenu(self)
        only = menu.addAction(f"Show only {row.device}")
        only.triggered.connect(lambda: self.device_edit.setText(row.device))
        if row.waybill_guid:
            copy_wb = menu.addAction("Copy waybill GUID")
            copy_wb.triggered.connect(
                lambda: QApplication.clipboard().setText(row.waybill_guid))
        copy = menu.addAction("Copy row")
        copy.triggered.connect(lambda: QApplication.clipboard().setText(
            "\t".join(self.model.display(row, c) for c in range(self.model.columnCount()))))
        menu.exec(self.view.viewport().mapToGlobal(pos))

    # -- export ----------------------------------------------------------------------------------

    def _ask_export(self) -> None:
        default = str(Path.home() / time.strftime("events-%Y%m%d-%H%M%S.csv"))
        path, _ = QFileDialog.getSaveFileName(self, "Export events", default, "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> int:
        show = self.model.show_passwords
        rows = [r.csv(with_password=show) for r in self.proxy.visible_rows()]
        self.export_button.setEnabled(False)
        self.export_button.setText("Exporting…")
        self.exporter.export(path, CSV_HEADER, rows)
        return len(rows)

    def _on_export_done(self, path: str, count: int, error: str) -> None:
        self.export_button.setEnabled(True)
        self.export_button.setText("Export CSV…")
        if error:
            QMessageBox.warning(self, "Export events", f"Could not write {path}:\n{error}")
        else:
            self.status_label.setText(f"exported {thousands(count)} events to {path}")

    # -- end --------------------------------------------------------------------------------------

    def shutdown(self) -> None:
        self._tick.stop()
        self.loader.stop()
        with contextlib.suppress(RuntimeError, TypeError):
            self.ctx.feed.sig_batch.disconnect(self._on_batch)
        self.ctx.settings.setValue(SETTINGS_HEADER, self.view.horizontalHeader().saveState())
