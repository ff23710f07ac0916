"""The shell the alarm and event panels share around a `LiveTableModel`.

A filter bar (device id with a debounced re-filter, type, time range), the sortable table
with its saved header, a status/drop footer, history loading, selection → device selection
and CSV export. A panel subclass makes its model and proxy, composes `_build` from the pieces
here and keeps only what is its own (context menu, status line, extra filters and buttons).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, ClassVar

from PySide6.QtCore import QByteArray, QEvent, QItemSelection, QObject, QPoint, Qt, QTimer
from PySide6.QtGui import QAction, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import FleetChange
from app.ui.bounds import ALARM_ROWS, Bound, Held, bounds_page
from app.ui.context import AppContext
from app.ui.feed import InPieces
from app.ui.panel import Panel
from app.ui.widgets.csv_export import CsvExporter
from app.ui.widgets.elide import elide_cells
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.history_loader import HistoryLoader
from app.ui.widgets.hold import TRIAGE_KEYS, HoldStill, NewRowsBar, move_selection
from app.ui.widgets.live_format import thousands
from app.ui.widgets.live_model import LiveFilterProxy, LiveTableModel
from app.ui.widgets.row_table import RowTableView
from app.ui.widgets.time_range import TimeRangePicker
from app.ui.widgets.types_dialog import TypesDialog

SEVERAL = "several"  # the type filter's entry that opens a list of types

# Reading history costs Python time that competes with the GUI thread for the GIL: the
# newest 5 000 come back at start; older ones are in the push log.
DEFAULT_HISTORY = 5_000
DEFAULT_MAX_ROWS = ALARM_ROWS.default  # a panel's ROWS_BOUND says its own (app/ui/bounds.py)
# Live rows put into a table in one piece of GUI work (~90 µs each, then a repaint); the
# rest a breath later. Under a flood a batch brings hundreds of alarms and events.
LIVE_ROWS_AT_ONCE = 200


def settings_value(ctx: AppContext, key: str, default: int) -> int:
    try:
        return int(ctx.settings.value(key, default) or default)
    except (TypeError, ValueError):
        return default


class LiveTablePanel(Panel):
    """Base of a live table panel. Subclasses set the class attributes and, in `__init__`
    after this one, make `self.model` / `self.proxy`, call `_build()`, `_restore_header()`,
    `_start_history(loader)` and `_go_live()`."""

    NOUN = ""  # "alarm", "event": used in texts ("alarms", "All alarm types", …)
    CSV_HEADER: Sequence[str] = ()
    DEFAULT_WIDTHS: ClassVar[dict[int, int]] = {}
    ID_COLUMNS: ClassVar[tuple[int, ...]] = ()  # ids elide in the middle, text at the end
    NAME_COLUMN: ClassVar[int | None] = None  # sized to fit the longest of NAMES
    NAMES: ClassVar[Sequence[str]] = ()
    SETTINGS_HEADER = ""
    SETTINGS_MAX_ROWS = ""
    ROWS_BOUND: ClassVar[Bound | None] = None  # rows kept, set in File › Settings (issue 26)
    SETTINGS_HISTORY = ""

    model: LiveTableModel
    proxy: LiveFilterProxy
    loader: HistoryLoader

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 max_rows: int | None = None, history: int | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        if max_rows is None and self.ROWS_BOUND is not None:
            max_rows = self.ROWS_BOUND.value(ctx.settings)
        if max_rows is None:
            max_rows = settings_value(ctx, self.SETTINGS_MAX_ROWS, DEFAULT_MAX_ROWS)
        self.max_rows = max_rows
        if history is None:  # journal rows read at start (besides restored alarms)
            history = int(settings_value(ctx, self.SETTINGS_HISTORY, DEFAULT_HISTORY))
        self.history_limit = min(history, max_rows)
        self.exporter = CsvExporter(self)
        self.exporter.sig_export_finished.connect(self._on_export_done)
        self.history_done = False
        self._waiting_rows: list[Any] = []  # live rows not in the table yet, oldest first
        self._selected_ids: set[int] = set()  # journal ids of the rows the operator selected
        self._adding = InPieces(self, self._add_next)

    # -- for subclasses ---------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        raise NotImplementedError

    def _update_status(self) -> None:
        raise NotImplementedError

    def _rows_added(self, rows: list[Any]) -> None:
        """Live rows just put into the table (for subclasses: notifications)."""

    # -- live rows ---------------------------------------------------------------------------

    def _add_live(self, rows: list[Any]) -> None:
        """Live rows (oldest first) into the table, LIVE_ROWS_AT_ONCE per piece of work."""
        waiting = self._waiting_rows
        waiting.extend(rows)
        if len(waiting) > self.max_rows:  # only the newest could stay in the table anyway
            extra = len(waiting) - self.max_rows
            del waiting[:extra]
            self.model.count_dropped(extra)
        self._adding.go()

    def _add_next(self) -> bool:
        waiting = self._waiting_rows
        rows = waiting[:LIVE_ROWS_AT_ONCE]
        del waiting[:LIVE_ROWS_AT_ONCE]
        self.model.add_rows(rows)
        self._rows_added(rows)
        self.hold.update()
        if not waiting:
            self._update_status()
        return bool(waiting)

    def _context_menu(self, pos: QPoint) -> None:
        raise NotImplementedError

    def _type_items(self) -> list[tuple[int, str]]:
        """(code, name) of the types in the type filter, in the order shown."""
        raise NotImplementedError

    def csv_rows(self, rows: list[Any]) -> list[Sequence[Any]]:
        return [r.csv() for r in rows]

    # -- building ---------------------------------------------------------------------------

    def _new_layout(self) -> QVBoxLayout:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        return layout

    def _filter_bar(self, extra: Sequence[QWidget] = (),
                    buttons: Sequence[QWidget] = ()) -> QHBoxLayout:
        """Device / type / time range, then `extra`; at the right `buttons` and Export CSV."""
        noun = self.NOUN
        bar = FlowLayout()
        self.device_edit = QLineEdit(placeholderText="Device id…")
        self.device_edit.setClearButtonEnabled(True)
        self.device_edit.setToolTip(f"Show only {noun}s of devices whose id contains this")
        self.device_edit.setMinimumWidth(110)
        self.device_edit.setMaximumWidth(170)
        # Re-filtering 20 000 rows costs tens of ms: wait until typing pauses.
        self._device_timer = QTimer(self, singleShot=True, interval=250)
        self._device_timer.timeout.connect(
            lambda: self.proxy.set_device_text(self.device_edit.text()))
        self.device_edit.textChanged.connect(self._device_timer.start)
        self.type_combo = QComboBox()
        self.type_combo.setToolTip(f"Show only this {noun} type")
        self.type_combo.setMinimumContentsLength(14)
        self.type_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.type_combo.addItem(f"All {noun} types", None)
        self.type_combo.currentIndexChanged.connect(self._on_type_chosen)
        self._several: set[int] = set()
        self.model.sig_types_changed.connect(self._refresh_types)
        self.range_picker = TimeRangePicker()
        self.range_picker.sig_range_changed.connect(self._apply_range)
        for w in (self.device_edit, self.type_combo, self.range_picker, *extra):
            bar.addWidget(w)
        bar.addStretch(1)
        self.export_button = QPushButton("Export CSV…")
        self.export_button.setToolTip(f"Save the {noun}s shown (after filters) to a CSV file")
        self.export_button.clicked.connect(self._ask_export)
        for w in (*buttons, self.export_button):
            bar.addWidget(w)
        return bar

    def _table_view(self) -> QWidget:
        """The sortable table over `self.proxy` (header widths from DEFAULT_WIDTHS) under the
        bar that counts the rows held back while the operator works on it."""
        self.view = RowTableView()
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        self.view.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.view.verticalHeader().setVisible(False)
        self.view.verticalHeader().setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setHighlightSections(False)
        for col, width in self.DEFAULT_WIDTHS.items():
            header.resizeSection(col, width)
        elide_cells(self.view, self.ID_COLUMNS)
        if self.NAME_COLUMN is not None and self.NAMES:
            # As wide as the seed's longest name (with its code) at the font in use.
            longest = max(self.NAMES, key=len) + " (000)"
            header.resizeSection(self.NAME_COLUMN,
                                 self.view.fontMetrics().horizontalAdvance(longest) + 16)
        header.setSortIndicator(-1, Qt.SortOrder.AscendingOrder)  # -1 + descending = reversed
        self.view.setSortingEnabled(True)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu_held)
        self.view.selectionModel().selectionChanged.connect(self._on_selection)
        self.view.installEventFilter(self)
        self.new_rows_bar = NewRowsBar(self.NOUN)
        self.hold = HoldStill(self.view, self.proxy, self.model, self.new_rows_bar)
        box = QWidget()
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(2)
        lay.addWidget(self.new_rows_bar)
        lay.addWidget(self.view, 1)
        return box

    def _context_menu_held(self, pos: QPoint) -> None:
        """The subclass's menu, with the table held still while it is open."""
        self.hold.set_menu_open(True)
        try:
            self._context_menu(pos)
        finally:
            self.hold.set_menu_open(False)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        """Keyboard triage on the table: J / K next / previous, F follow live again."""
        if (watched is getattr(self, "view", None) and event.type() == QEvent.Type.KeyPress
                and isinstance(event, QKeyEvent)
                and event.modifiers() in (Qt.KeyboardModifier.NoModifier,
                                          Qt.KeyboardModifier.KeypadModifier)):
            key = Qt.Key(event.key())
            if key in TRIAGE_KEYS:
                move_selection(self.view, TRIAGE_KEYS[key])
                self.hold.update()  # held before anything else can move the row
                return True
            if key == Qt.Key.Key_F:
                self.hold.follow_live()
                return True
        return super().eventFilter(watched, event)

    def _footer(self, buttons: Sequence[QWidget] = ()) -> QHBoxLayout:
        """Status and 'showing newest N' at the left, `buttons` at the right."""
        foot = FlowLayout()
        self.status_label = QLabel()
        self.drop_label = QLabel()
        self.drop_label.setStyleSheet("color: #d97706;")
        foot.addWidget(self.status_label)
        foot.addWidget(self.drop_label)
        foot.addStretch(1)
        for w in buttons:
            foot.addWidget(w)
        self.model.sig_rows_dropped.connect(self._on_dropped)
        return foot

    def _restore_header(self) -> None:
        state = self.ctx.settings.value(self.SETTINGS_HEADER)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.view.horizontalHeader().restoreState(state)

    # -- data -------------------------------------------------------------------------------

    def _start_history(self, loader: HistoryLoader, *, always: bool = False) -> None:
        """Show the loader's pages; start it when there is history to read (or `always`)."""
        self.loader = loader
        loader.sig_page_loaded.connect(self._on_history_page)
        loader.sig_loading_finished.connect(self._on_history_done)
        if always or self.history_limit > 0:
            loader.start()
        else:
            self.history_done = True

    def _go_live(self) -> None:
        """Follow the live feed, tick once a second (relative time ranges move on)."""
        self._batches = self.ctx.feed.view_batches()
        self._batches.connect(self._on_batch)
        self._tick = QTimer(self, interval=1000, timeout=self._on_tick)
        self._tick.start()
        self._update_status()

    def _on_history_page(self, rows: list[Any]) -> None:
        self.model.add_rows(rows)
        self.hold.update()
        self._update_status()

    def _on_history_done(self, _total: int) -> None:
        self.history_done = True
        self._update_status()

    # -- bounds (issue 26) -------------------------------------------------------------------

    def set_max_rows(self, n: int) -> None:
        """Rows kept in the table (File › Settings), applied at once: the oldest go."""
        self.max_rows = max(1, int(n))
        self.model.set_max_rows(self.max_rows)
        if self.model.dropped:
            self._on_dropped(self.model.dropped)
        self._update_status()

    def bound_settings(self) -> list[tuple[Bound, Any]]:
        """(bound, apply a new value) for this panel's settings page."""
        return [(self.ROWS_BOUND, self.set_max_rows)] if self.ROWS_BOUND is not None else []

    def settings_page(self) -> QWidget | None:
        rows = self.bound_settings()
        if not rows:
            return None
        return bounds_page(self.ctx.settings, rows,
                           f"The {self.NOUN} table keeps the newest {self.NOUN}s in memory; "
                           "the journal keeps every one.")

    def bounds(self) -> list[Held]:
        return [Held(f"{self.NOUN}s: rows in the table", self.model.rowCount(), self.max_rows),
                Held(f"{self.NOUN}s: rows waiting to go in", len(self._waiting_rows),
                     self.max_rows)]

    def _on_dropped(self, _dropped: int) -> None:
        self.drop_label.setText(
            f"showing newest {thousands(self.max_rows)} — older {self.NOUN}s are in the push log"
        )

    def _on_tick(self) -> None:
        if self.range_picker.is_relative:
            self._apply_range()

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
        self.type_combo.addItem(f"All {self.NOUN} types", None)
        for code, name in self._type_items():
            self.type_combo.addItem(f"{name} ({code})", code)
        self.type_combo.addItem(self._several_text(), SEVERAL)
        index = self.type_combo.findData(current) if current is not None else 0
        self.type_combo.setCurrentIndex(max(0, index))
        self.type_combo.blockSignals(False)

    def _several_text(self) -> str:
        n = len(self._several)
        return f"{n} {self.NOUN} types…" if self.proxy.codes and n else "Several types…"

    def _on_type_chosen(self) -> None:
        """One type, every type, or "Several types…" (a checkable list)."""
        data = self.type_combo.currentData()
        if data != SEVERAL:
            self.proxy.set_codes(None)
            self.proxy.set_code(data)
            return
        dialog = TypesDialog(self.NOUN, self._type_items(), self._several, self)
        if dialog.exec() == TypesDialog.DialogCode.Accepted and dialog.codes():
            self._several = dialog.codes()
            self.proxy.set_code(None)
            self.proxy.set_codes(frozenset(self._several))
        self.type_combo.setItemText(self.type_combo.currentIndex(), self._several_text())
        if not self.proxy.codes:
            self.type_combo.setCurrentIndex(0)

    # -- selection --------------------------------------------------------------------------

    def _rows_under_selection(self) -> list[Any]:
        rows = []
        for index in self.view.selectionModel().selectedRows():
            src = self.proxy.mapToSource(index)
            if src.isValid():
                rows.append(self.model.row_at(src.row()))
        return rows

    def selected_rows(self) -> list[Any]:
        """The rows the operator selected, by journal id: a table slot that was given to a
        newer row since (the oldest rows make room) is not what they selected."""
        chosen = self._selected_ids
        return [r for r in self._rows_under_selection() if r.push_id in chosen]

    def _on_selection(self, _sel: QItemSelection, _desel: QItemSelection) -> None:
        rows = self._rows_under_selection()
        self._selected_ids = {r.push_id for r in rows}
        devices = list(dict.fromkeys(r.device for r in rows if r.device))
        if devices:
            self.ctx.selection.select_many(devices)

    # -- export -----------------------------------------------------------------------------

    def _ask_export(self) -> None:
        default = str(Path.home() / time.strftime(f"{self.NOUN}s-%Y%m%d-%H%M%S.csv"))
        path, _ = QFileDialog.getSaveFileName(self, f"Export {self.NOUN}s", default,
                                              "CSV (*.csv)")
        if path:
            self.export_csv(path)

    def export_csv(self, path: str) -> int:
        """Write the rows shown (after filters) to `path` on a thread; how many."""
        rows = self.csv_rows(self.proxy.visible_rows())
        self.export_button.setEnabled(False)
        self.export_button.setText("Exporting…")
        self.exporter.export(path, self.CSV_HEADER, rows)
        return len(rows)

    def _on_export_done(self, path: str, count: int, error: str) -> None:
        self.export_button.setEnabled(True)
        self.export_button.setText("Export CSV…")
        if error:
            QMessageBox.warning(self, f"Export {self.NOUN}s", f"Could not write {path}:\n{error}")
        else:
            self.status_label.setText(f"exported {thousands(count)} {self.NOUN}s to {path}")

    # -- end --------------------------------------------------------------------------------

    def file_actions(self) -> list[QAction]:
        """File › Export the rows shown (after filters) to CSV."""
        action = QAction(f"Export {self.NOUN}s as CSV…", self)
        action.triggered.connect(self._ask_export)
        return [action]

    def shutdown(self) -> None:
        if getattr(self, "_shut_down", False):  # the window and a test may both call it
            return
        self._shut_down = True
        self._tick.stop()
        self.loader.stop()
        with contextlib.suppress(RuntimeError, TypeError, AttributeError):  # never went live
            self._batches.disconnect(self._on_batch)
        self.ctx.settings.setValue(self.SETTINGS_HEADER, self.view.horizontalHeader().saveState())
