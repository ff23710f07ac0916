"""Push log panel: every push, newest first, from the journal; raw and decoded side by side.

Keys (while the panel has focus): Ctrl+F search (what the Summary says: names, ids, cards —
and, ticked, the raw payloads), F5 run the query again,
Home jump to the newest push and follow live again, Esc stop a running search.
"""

from __future__ import annotations

import contextlib
import logging
import os
from pathlib import Path

from PySide6.QtCore import (
    QByteArray,
    QDateTime,
    QEvent,
    QModelIndex,
    QObject,
    QPoint,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeyEvent, QKeySequence, QPalette, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDateTimeEdit,
    QFileDialog,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QProgressBar,
    QPushButton,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.journal.store import Journal
from app.protocol.push import KINDS
from app.ui.bounds import PUSHLOG_ROWS, Held, bounds_page
from app.ui.context import AppContext
from app.ui.device_menu import DeviceSteps
from app.ui.panel import Panel
from app.ui.panels.pushlog.details import DetailsPane
from app.ui.panels.pushlog.exporter import ExportJob
from app.ui.panels.pushlog.model import PushIdRole, PushLogModel
from app.ui.panels.pushlog.query import (
    COL_DEVICE,
    COL_ERRORS,
    COL_KIND,
    COL_PROFILE,
    COL_SOURCE,
    COL_SUBLOCK,
    COL_SUMMARY,
    COL_TIME,
    PushFilter,
)
from app.ui.widgets.elide import elide_cells
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.row_table import RowTableView
from app.ui.widgets.visibility import WhenOnScreen

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250
_WIDTHS = {COL_TIME: 150, COL_SOURCE: 60, COL_PROFILE: 70, COL_KIND: 70, COL_DEVICE: 110,
           COL_SUBLOCK: 90, COL_SUMMARY: 360, COL_ERRORS: 220}
_ANY = QDateTime.fromSecsSinceEpoch(946684800)  # 2000-01-01: the "any time" sentinel


class PushLogPanel(Panel):
    KEY = "pushlog"
    TITLE = "Push log"
    SHORTCUT = "Ctrl+6"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self._menu_open = False  # a context menu holds the table still while it is open
        self.setObjectName("pushlog")
        self._journal: Journal | None = None  # primary-key lookups for the details pane
        self._seen_dropped = ctx.feed.dropped
        # Batches that came while the panel was behind another tab: fetched when shown.
        self._offscreen = WhenOnScreen(self)
        self._offscreen.sig_on_screen.connect(self._catch_up)
        self._export: ExportJob | None = None
        self.last_export_message = ""
        self._shut = False

        # Rows held in memory: a bound (Settings › Push log); the journal pages in the rest.
        self.model = PushLogModel(ctx.journal_path, max_rows=PUSHLOG_ROWS.value(ctx.settings),
                                  parent=self)
        self._build()
        self._update_theme()
        self._restore()

        self._debounce = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._debounce.timeout.connect(self.apply_filter)
        for edit in (self.device_edit, self.text_edit):
            edit.textChanged.connect(self._filter_edited)
        for combo in (self.kind_combo, self.source_combo):
            combo.currentIndexChanged.connect(self._filter_edited)
        for dt in (self.from_edit, self.to_edit):
            dt.dateTimeChanged.connect(self._filter_edited)
        self.errors_check.toggled.connect(self._filter_edited)
        self.raw_check.toggled.connect(self._filter_edited)
        self.follow_check.toggled.connect(self._follow_toggled)

        # Ctrl+F inside this panel is ours even though another panel holds a window-wide
        # Ctrl+F (two enabled shortcuts would be ambiguous and neither would fire).
        for child in self.findChildren(QWidget):
            child.installEventFilter(self)

        m = self.model
        m.sig_loading_changed.connect(self._on_loading)
        m.sig_new_count_changed.connect(self._on_new_count)
        m.sig_status_changed.connect(self._on_status)
        m.sig_top_trimmed.connect(self._on_top_trimmed)
        self.table.verticalScrollBar().valueChanged.connect(self._update_following)
        self.table.selectionModel().selectionChanged.connect(self._update_following)
        self.table.selectionModel().currentRowChanged.connect(self._on_current)
        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        ctx.selection.sig_device_selected.connect(self._on_device_selected)
        self._on_device_selected(ctx.selection.device_id)
        ctx.navigator.sig_show_device_requested.connect(self._on_show_device)
        self.steps = DeviceSteps(ctx, self.table, self._current_device)  # a row's device
        self.model.reload()

    # -- layout ------------------------------------------------------------------------

    def _build(self) -> None:
        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.setSpacing(4)

        # filters: what to show
        bar = FlowLayout()
        bar.setSpacing(4)
        self.device_edit = QLineEdit(placeholderText="Device id", clearButtonEnabled=True)
        self.device_edit.setToolTip("Only this device (exact id)")
        self.device_edit.setMinimumWidth(120)
        self.device_edit.setMaximumWidth(170)
        self.pick_device = QToolButton(text="Selected")
        self.pick_device.setToolTip("Only the device selected in the Devices panel")
        self.pick_device.clicked.connect(self._use_selected_device)
        self.kind_combo = QComboBox()
        self.kind_combo.setToolTip("Only pushes of this kind")
        self.kind_combo.addItem("All kinds", "")
        for kind in KINDS:
            self.kind_combo.addItem(kind, kind)
        self.source_combo = QComboBox()
        self.source_combo.setToolTip("Only pushes that came by MQTT, or by webhook")
        self.source_combo.addItem("All sources", "")
        self.source_combo.addItem("mqtt", "mqtt")
        self.source_combo.addItem("webhook", "webhook")
        self.from_edit = self._time_edit("From: any time", "Received at or after")
        self.to_edit = self._time_edit("To: any time", "Received before")
        self.errors_check = QCheckBox("Errors only")
        self.errors_check.setToolTip("Only pushes the decoder found something wrong with")
        self.clear_button = QToolButton(text="Clear filters")
        self.clear_button.clicked.connect(self.clear_filters)
        for w in (self.device_edit, self.pick_device, self.kind_combo, self.source_combo,
                  self.from_edit, self.to_edit, self.errors_check, self.clear_button):
            bar.addWidget(w)
        bar.addStretch(1)
        lay.addLayout(bar)

        # search, live, status, export
        line = FlowLayout()
        line.setSpacing(6)
        self.text_edit = QLineEdit(placeholderText="Search names, ids, cards…  (Ctrl+F)",
                                   clearButtonEnabled=True)
        self.text_edit.setToolTip(
            "What the Summary says and the decoded fields people read — alarm and event names "
            "(“SOS”), unlock types, card numbers, device and sub-lock ids, command types — "
            "anywhere in them, not case-sensitive. Indexed: fast on any journal.")
        self.text_edit.setMinimumWidth(180)
        self.text_edit.setMaximumWidth(320)
        self.raw_check = QCheckBox("raw payloads too")
        self.raw_check.setToolTip(
            "Also search the bytes of every raw payload (field names, numbers, garbage). Not "
            "indexed: on a big journal this takes seconds; it runs in the background, Esc "
            "stops it, and it keeps the first matches only.")
        self.follow_check = QCheckBox("Follow live")
        self.follow_check.setChecked(True)
        self.follow_check.setToolTip("Show new pushes at the top as they arrive (Home)")
        self.new_button = QPushButton("")
        self.new_button.setVisible(False)
        self.new_button.setStyleSheet("font-weight: bold;")
        self.new_button.setToolTip("Go to the newest push and follow live again (Home)")
        self.new_button.clicked.connect(self.jump_to_newest)
        self.status_label = QLabel("")
        self.status_label.setStyleSheet("color: palette(placeholder-text);")
        self.status_label.setMinimumWidth(40)
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)
        self.busy_bar.setMaximumWidth(80)
        self.busy_bar.setMaximumHeight(12)
        self.busy_bar.setTextVisible(False)
        self.busy_bar.setVisible(False)
        self.busy_label = QLabel("")
        self.busy_label.setVisible(False)
        self.cancel_button = QPushButton("Stop")
        self.cancel_button.setToolTip("Stop the search (Esc); what was found stays")
        self.cancel_button.setVisible(False)
        self.cancel_button.clicked.connect(self.model.cancel)
        self.export_progress = QProgressBar()
        self.export_progress.setMaximumWidth(160)
        self.export_progress.setVisible(False)
        self.export_cancel = QPushButton("Cancel export")
        self.export_cancel.setVisible(False)
        self.export_cancel.clicked.connect(self.cancel_export)
        self.export_button = QToolButton(text="Export…")
        self.export_button.setToolTip("Write every push of the current filter to a file")
        self.export_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.export_button)
        menu.addAction("CSV (spreadsheet)…", lambda: self._ask_export("csv"))
        menu.addAction("JSONL (everything, one push per line)…", lambda: self._ask_export("jsonl"))
        self.export_button.setMenu(menu)
        line.addWidget(self.text_edit, 1)
        line.addWidget(self.raw_check)
        line.addWidget(self.follow_check)
        line.addWidget(self.new_button)
        line.addWidget(self.status_label, 1)
        for w in (self.busy_label, self.busy_bar, self.cancel_button, self.export_progress,
                  self.export_cancel, self.export_button):
            line.addWidget(w)
        lay.addLayout(line)

        # table | details
        self.table = RowTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        elide_cells(self.table, (COL_DEVICE, COL_SUBLOCK))
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        vh = self.table.verticalHeader()
        vh.setVisible(False)
        vh.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        vh.setDefaultSectionSize(self.fontMetrics().height() + 6)
        hh = self.table.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        hh.setStretchLastSection(True)
        hh.setHighlightSections(False)
        for col, width in _WIDTHS.items():
            hh.resizeSection(col, width)
        self.details = DetailsPane(reveal=self.ctx.reveal)
        self.split = QSplitter(Qt.Orientation.Horizontal)
        self.split.setChildrenCollapsible(False)
        self.split.addWidget(self.table)
        self.split.addWidget(self.details)
        self.split.setStretchFactor(0, 3)
        self.split.setStretchFactor(1, 2)
        self.split.setSizes([600, 400])  # until the user's own split is restored
        lay.addWidget(self.split, 1)

        # Only while the panel (or a child) has focus: other panels have their own Ctrl+F.
        self.shortcuts: dict[str, QShortcut] = {}
        for name, key, slot in (
            ("find", QKeySequence(QKeySequence.StandardKey.Find), self.focus_search),
            ("requery", QKeySequence(Qt.Key.Key_F5), self.requery),
            ("newest", QKeySequence(Qt.Key.Key_Home), self.jump_to_newest),
            ("stop", QKeySequence(Qt.Key.Key_Escape), self.model.cancel),
        ):
            sc = QShortcut(key, self)
            sc.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            sc.activated.connect(slot)
            self.shortcuts[name] = sc

    def _time_edit(self, any_text: str, tip: str) -> QDateTimeEdit:
        edit = _TimeEdit()
        edit.setSpecialValueText(any_text)
        edit.setToolTip(f"{tip} (local time). The arrows start from now; "
                        "Delete or Clear filters goes back to any time.")
        return edit

    # -- filters -----------------------------------------------------------------------

    def current_filter(self) -> PushFilter:
        def stamp(edit: QDateTimeEdit) -> float | None:
            dt = edit.dateTime()
            return None if dt <= _ANY else float(dt.toSecsSinceEpoch())

        text = self.text_edit.text().strip()
        return PushFilter(
            device=self.device_edit.text().strip(),
            kind=self.kind_combo.currentData() or "",
            source=self.source_combo.currentData() or "",
            text=text,
            raw=self.raw_check.isChecked() if text else True,  # no text: it means nothing
            since=stamp(self.from_edit),
            until=stamp(self.to_edit),
            errors_only=self.errors_check.isChecked(),
        )

    def _filter_edited(self, *_args: object) -> None:
        self._debounce.start()

    def apply_filter(self) -> None:
        """Run the query for the filter on screen, unless it is the one shown already."""
        self._debounce.stop()
        flt = self.current_filter()
        if flt == self.model.filter and not self.model.loading:
            return
        self.model.set_filter(flt)
        self._reload()

    def requery(self) -> None:
        self._debounce.stop()
        self.model.set_filter(self.current_filter())
        self._reload()

    def _reload(self) -> None:
        self.details.show_row(None)
        self.table.scrollToTop()
        self.model.reload()
        self._update_following()

    def clear_filters(self) -> None:
        for w in (self.device_edit, self.text_edit, self.kind_combo, self.source_combo,
                  self.from_edit, self.to_edit, self.errors_check):
            w.blockSignals(True)
        self.device_edit.clear()
        self.text_edit.clear()
        self.kind_combo.setCurrentIndex(0)
        self.source_combo.setCurrentIndex(0)
        self.from_edit.setDateTime(_ANY)
        self.to_edit.setDateTime(_ANY)
        self.errors_check.setChecked(False)
        for w in (self.device_edit, self.text_edit, self.kind_combo, self.source_combo,
                  self.from_edit, self.to_edit, self.errors_check):
            w.blockSignals(False)
        self.apply_filter()

    def focus_search(self) -> None:
        self.text_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.text_edit.selectAll()

    def _on_device_selected(self, device: str) -> None:
        self.pick_device.setEnabled(bool(device))
        self.pick_device.setToolTip(f"Only {device}, the device selected in the Devices panel"
                                    if device else "Select a device in the Devices panel first")

    def _on_show_device(self, panel: str, device: str) -> None:
        """'Its push history' from anywhere: every push of that device, newest first."""
        if panel == self.KEY and device:
            self.show_device_history(device)

    def show_device_history(self, device: str) -> None:
        others = (self.text_edit, self.kind_combo, self.source_combo, self.from_edit,
                  self.to_edit, self.errors_check)
        for w in others:
            w.blockSignals(True)
        self.text_edit.clear()
        self.kind_combo.setCurrentIndex(0)
        self.source_combo.setCurrentIndex(0)
        self.from_edit.setDateTime(_ANY)
        self.to_edit.setDateTime(_ANY)
        self.errors_check.setChecked(False)
        for w in others:
            w.blockSignals(False)
        self._set_device(device)

    def _current_device(self) -> str:
        index = self.table.currentIndex()
        row = self.model.row_at(index.row()) if index.isValid() else None
        return row.cells[COL_DEVICE] if row is not None else ""

    def _use_selected_device(self) -> None:
        device = self.ctx.selection.device_id
        if device:
            self.device_edit.setText(device)
            self.apply_filter()

    # -- live --------------------------------------------------------------------------

    def _on_batch(self, change: object) -> None:
        records = getattr(change, "records", None)
        dropped = self.ctx.feed.dropped
        gap = dropped > self._seen_dropped
        self._seen_dropped = dropped
        if self._offscreen.hidden():
            # A dock behind another tab: rows nobody sees cost ~15 ms a batch under a flood.
            # The journal has every push; the newest come in when the tab is shown.
            if records or gap:
                self._offscreen.missed()
            return
        if self._offscreen.behind:
            self._catch_up()
            return
        if records or gap:
            self.model.add_records(list(records or []), gap=gap)

    def _catch_up(self) -> None:
        """What arrived while the panel was behind another tab, from the journal."""
        self._offscreen.behind = False
        self.model.catch_up(force=True)

    def _following(self) -> bool:
        """Live rows come in at the top only while no hand is on the table: not scrolled,
        no row selected, no menu open, the pointer elsewhere (as the live tables hold)."""
        table = self.table
        return (self.follow_check.isChecked() and table.verticalScrollBar().value() == 0
                and not table.selectionModel().hasSelection() and not self._menu_open
                and not table.viewport().underMouse())

    def _update_following(self, *_args: object) -> None:
        self.model.set_following(self._following())

    def _follow_toggled(self, on: bool) -> None:
        if on:
            self.table.scrollToTop()
        self._update_following()

    def jump_to_newest(self) -> None:
        """Home: the newest push, following live again."""
        self.table.clearSelection()
        self.follow_check.setChecked(True)
        self.table.scrollToTop()
        self._update_following()
        self.model.catch_up()

    def _on_new_count(self, n: int) -> None:
        self.new_button.setText(f"▲ {n:,} new push{'es' if n != 1 else ''} — click to show")
        self.new_button.setVisible(n > 0)

    def _on_status(self, text: str) -> None:
        self.status_label.setText(text)
        self.status_label.setToolTip(text)

    def _on_top_trimmed(self, n: int) -> None:
        sb = self.table.verticalScrollBar()
        if self.table.verticalScrollMode() == QAbstractItemView.ScrollMode.ScrollPerItem:
            sb.setValue(max(0, sb.value() - n))
        else:
            sb.setValue(max(0, sb.value() - n * self.table.verticalHeader().defaultSectionSize()))

    def _on_loading(self, busy: bool, text: str) -> None:
        slow = busy and self.model.filter.slow
        self.busy_bar.setVisible(busy)
        self.busy_label.setText(text if busy else "")
        self.busy_label.setVisible(busy)
        self.cancel_button.setVisible(slow)

    # -- details -----------------------------------------------------------------------

    def _on_current(self, current: QModelIndex, _previous: QModelIndex) -> None:
        push_id = current.data(PushIdRole) if current.isValid() else None
        if push_id is None:
            self.details.show_row(None)
            return
        if self.details.row is not None and self.details.row.id == push_id:
            return
        if self._journal is None:
            self._journal = self.ctx.open_journal()
        try:
            row = self._journal.get(int(push_id))  # primary key: one page read
        except Exception:
            log.exception("push %s could not be read", push_id)
            row = None
        self.details.show_row(row)

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.menu_for(self.table.indexAt(pos))
        if menu is None:
            return
        self._menu_open = True
        self._update_following()
        try:
            menu.exec(self.table.viewport().mapToGlobal(pos))
        finally:
            self._menu_open = False
            self._update_following()

    def menu_for(self, index: QModelIndex) -> QMenu | None:
        """A row's menu: its device's next steps (as everywhere), then this log's own."""
        if not index.isValid():
            return None
        row = self.model.row_at(index.row())
        if row is None:
            return None
        self.table.setCurrentIndex(index)
        device = row.cells[COL_DEVICE]
        kind = row.cells[COL_KIND]
        menu = QMenu(self)
        if device:
            self.steps.add_to(menu, device)
            menu.addSeparator()
            menu.addAction(f"Only device {device}", lambda: self._set_device(device))
            menu.addAction("Show this device in the other panels",
                           lambda: self.ctx.selection.select(device))
        menu.addAction(f"Only {kind} pushes", lambda: self._set_kind(kind))
        menu.addSeparator()
        menu.addAction("Copy raw", self.details.copy_raw)
        menu.addAction("Copy decoded", self.details.copy_decoded)
        menu.addAction("Copy row", lambda: QGuiApplication.clipboard().setText(
            "\t".join(row.cells)))
        return menu

    def _set_device(self, device: str) -> None:
        self.device_edit.setText(device)
        self.apply_filter()

    def _set_kind(self, kind: str) -> None:
        i = self.kind_combo.findData(kind)
        if i >= 0:
            self.kind_combo.setCurrentIndex(i)
        self.apply_filter()

    # -- export ------------------------------------------------------------------------

    def _ask_export(self, fmt: str) -> None:
        last = str(self.ctx.settings.value("pushlog/export_dir", str(Path.home())))
        name = "pushes." + fmt
        path, _ = QFileDialog.getSaveFileName(
            self, f"Export {self.model.filter.describe()} as {fmt.upper()}",
            os.path.join(last, name),
            "CSV files (*.csv)" if fmt == "csv" else "JSON lines (*.jsonl)",
        )
        if not path:
            return
        if not path.lower().endswith("." + fmt):
            path += "." + fmt
        self.ctx.settings.setValue("pushlog/export_dir", os.path.dirname(path))
        self.start_export(path, fmt)

    def start_export(self, path: str, fmt: str, *, start: bool = True) -> ExportJob:
        """Export the filter shown (not one still being typed) in the background.
        `start=False` lets a caller connect to the job before it runs."""
        if self._export is not None:
            raise RuntimeError("an export is already running")
        job = ExportJob(self.ctx.journal_path, self.model.filter, path, fmt, parent=self,
                        mask=not self.ctx.reveal.shown)  # passwords only when revealed
        job.sig_progress_changed.connect(self._on_export_progress)
        job.sig_export_finished.connect(self._on_export_finished)
        self._export = job
        self.export_button.setEnabled(False)
        self.export_progress.setRange(0, 0)
        self.export_progress.setFormat("exporting…")
        self.export_progress.setVisible(True)
        self.export_cancel.setVisible(True)
        if start:
            job.start()
        return job

    def cancel_export(self) -> None:
        if self._export is not None:
            self._export.cancel()

    def _on_export_progress(self, written: int, total: int) -> None:
        bar = self.export_progress
        if total:
            bar.setRange(0, total)
            bar.setValue(min(written, total))
            bar.setFormat(f"{written:,} / {total:,}")
        else:
            bar.setRange(0, 0)
        bar.setToolTip(f"{written:,} pushes written")

    def _on_export_finished(self, written: int, path: str, error: str) -> None:
        job, self._export = self._export, None
        if job is not None:
            job.wait()
            job.deleteLater()
        self.export_progress.setVisible(False)
        self.export_cancel.setVisible(False)
        self.export_button.setEnabled(True)
        if not error:
            msg = f"Exported {written:,} push{'es' if written != 1 else ''} to {path}"
        elif error == "cancelled":
            msg = "Export cancelled — no file written"
        else:
            msg = f"Export failed: {error}"
        self.status_label.setText(msg)
        self.status_label.setToolTip(msg)
        self.last_export_message = msg

    # -- theme, state, shutdown ----------------------------------------------------------

    def eventFilter(self, obj: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind in (QEvent.Type.Enter, QEvent.Type.Leave) and obj is self.table.viewport():
            QTimer.singleShot(0, self._update_following)  # underMouse() is set after this
        if kind in (QEvent.Type.ShortcutOverride, QEvent.Type.KeyPress) and isinstance(
                event, QKeyEvent) and event.matches(QKeySequence.StandardKey.Find):
            event.accept()  # an accepted override arrives as a key press, not a shortcut
            if kind == QEvent.Type.KeyPress:
                self.focus_search()
            return True
        return super().eventFilter(obj, event)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.PaletteChange:
            self._update_theme()
        super().changeEvent(event)

    def _update_theme(self) -> None:
        dark = self.palette().color(QPalette.ColorRole.Base).lightness() < 128
        if dark != self.model.dark:
            self.model.dark = dark
            self.table.viewport().update()

    def resizeEvent(self, event: object) -> None:  # details beside the table when wide
        super().resizeEvent(event)  # type: ignore[arg-type]
        wide = self.width() > 1.7 * max(1, self.height())
        want = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
        if self.split.orientation() != want:
            self.split.setOrientation(want)

    def _restore(self) -> None:
        s = self.ctx.settings
        header = s.value("pushlog/header")
        if isinstance(header, QByteArray) and not header.isEmpty():
            self.table.horizontalHeader().restoreState(header)
            # never let a restored state bring back ResizeToContents
            self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        for key, split in (("pushlog/split", self.split), ("pushlog/details_split",
                                                           self.details.split)):
            state = s.value(key)
            if isinstance(state, QByteArray) and not state.isEmpty():
                split.restoreState(state)

    def save_state(self) -> None:
        s = self.ctx.settings
        s.setValue("pushlog/header", self.table.horizontalHeader().saveState())
        s.setValue("pushlog/split", self.split.saveState())
        s.setValue("pushlog/details_split", self.details.split.saveState())

    def file_actions(self) -> list[QAction]:
        """File › Export pushes (the push log's current filter) as CSV or JSONL."""
        csv_action = QAction("Export pushes as CSV…", self)
        csv_action.triggered.connect(lambda: self._ask_export("csv"))
        jsonl_action = QAction("Export pushes as JSONL…", self)
        jsonl_action.triggered.connect(lambda: self._ask_export("jsonl"))
        return [csv_action, jsonl_action]

    def settings_page(self) -> QWidget:
        """File › Settings › Push log: the rows held in memory (issue 26)."""
        return bounds_page(self.ctx.settings, [(PUSHLOG_ROWS, self.model.set_max_rows)],
                           "The push log holds the newest pushes of its list in memory; "
                           "scrolling past them pages older ones in from the journal.")

    def bounds(self) -> list[Held]:
        return [Held("push log: rows held", self.model.rowCount(), self.model.max_rows)]

    def shutdown(self) -> None:
        if self._shut:
            return
        self._shut = True
        with contextlib.suppress(RuntimeError, TypeError):
            self._batches.disconnect(self._on_batch)
        with contextlib.suppress(RuntimeError, TypeError):
            self.ctx.selection.sig_device_selected.disconnect(self._on_device_selected)
        with contextlib.suppress(RuntimeError, TypeError):
            self.ctx.navigator.sig_show_device_requested.disconnect(self._on_show_device)
        self.save_state()
        self._debounce.stop()
        if self._export is not None:
            self._export.cancel()
            self._export.wait(10_000)
            self._export = None
        self.model.shutdown()
        if self._journal is not None:
            self._journal.close()
            self._journal = None


class _TimeEdit(QDateTimeEdit):
    """A time bound that shows "any time" until used; the first step starts from now
    (not from the year 2000), Delete/Backspace with everything selected clears it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setCalendarPopup(True)
        self.setDisplayFormat("yyyy-MM-dd HH:mm")
        self.setMinimumDateTime(_ANY)
        self.setDateTime(_ANY)

    def is_any(self) -> bool:
        return self.dateTime() <= _ANY

    def stepBy(self, steps: int) -> None:
        if self.is_any():
            now = QDateTime.currentDateTime()
            t = now.time()
            now.setTime(t.addSecs(-t.second()).addMSecs(-t.msec()))
            self.setDateTime(now)
            return
        super().stepBy(steps)

    def stepEnabled(self) -> QAbstractSpinBox.StepEnabledFlag:
        if self.is_any():
            return (QAbstractSpinBox.StepEnabledFlag.StepUpEnabled
                    | QAbstractSpinBox.StepEnabledFlag.StepDownEnabled)
        return super().stepEnabled()

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) and (
                self.is_any() or self.lineEdit().selectedText() == self.text()):
            self.setDateTime(_ANY)
            return
        super().keyPressEvent(event)
