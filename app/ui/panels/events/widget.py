"""The event panel: live device events (unlocks with type, card and password, waybill
milestones) with filters by device, type and time."""

from __future__ import annotations

from PySide6.QtCore import QPoint
from PySide6.QtWidgets import QApplication, QCheckBox, QMenu, QWidget

from app.fleet.state import FleetChange
from app.protocol.codes import EVENT_TYPES
from app.ui.bounds import EVENT_ROWS
from app.ui.context import AppContext
from app.ui.device_menu import DeviceSteps
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
from app.ui.widgets.history_loader import HistoryLoader
from app.ui.widgets.live_format import thousands
from app.ui.widgets.live_model import LiveFilterProxy
from app.ui.widgets.live_panel import LiveTablePanel

SETTINGS_HEADER = "events/header"
SETTINGS_MAX_ROWS = EVENT_ROWS.key  # rows kept: File › Settings › Events (app/ui/bounds.py)
SETTINGS_HISTORY = "events/history_rows"
DEFAULT_WIDTHS = {TIME: 120, DEVICE: 110, EVENT: 260, UNLOCK: 140, CARD: 100, PASSWORD: 80,
                  WAYBILL: 340, POSITION: 160}


class EventsPanel(LiveTablePanel):
    KEY = "events"
    TITLE = "Events"
    SHORTCUT = "Ctrl+5"
    NOUN = "event"
    CSV_HEADER = CSV_HEADER
    DEFAULT_WIDTHS = DEFAULT_WIDTHS
    ID_COLUMNS = (DEVICE,)
    NAME_COLUMN = EVENT
    NAMES = tuple(EVENT_TYPES.values())
    SETTINGS_HEADER = SETTINGS_HEADER
    SETTINGS_MAX_ROWS = SETTINGS_MAX_ROWS
    SETTINGS_HISTORY = SETTINGS_HISTORY
    ROWS_BOUND = EVENT_ROWS

    model: EventTableModel

    def __init__(self, ctx: AppContext, parent: QWidget | None = None, *,
                 max_rows: int | None = None, history: int | None = None) -> None:
        super().__init__(ctx, parent, max_rows=max_rows, history=history)
        self.model = EventTableModel(self.max_rows, self)
        self.proxy = LiveFilterProxy(self)
        self.proxy.setSourceModel(self.model)
        self._build()
        self._restore_header()
        self._start_history(HistoryLoader(ctx.journal_path, "event", self.history_limit,
                                          rows_from_journal, max_rows=self.max_rows,
                                          parent=self))
        self._go_live()

    # -- building -------------------------------------------------------------------------

    def _build(self) -> None:
        layout = self._new_layout()
        self.password_box = QCheckBox("Show passwords")
        self.password_box.setToolTip("Passwords used to unlock are hidden unless this is on "
                                     "(in every panel, for a while; recorded in the journal)")
        self.password_box.toggled.connect(self._on_password_box)
        self.ctx.reveal.sig_reveal_changed.connect(self._on_reveal_changed)
        self._on_reveal_changed(self.ctx.reveal.shown)
        layout.addLayout(self._filter_bar(extra=[self.password_box]))
        layout.addWidget(self._table_view(), 1)
        layout.addLayout(self._footer())
        self.steps = DeviceSteps(self.ctx, self.view, self._current_device)  # keys and menu

    def _on_password_box(self, on: bool) -> None:
        """The one reveal of the window (audited), asked for from here."""
        if on and not self.ctx.reveal.reveal("events", self):
            self._on_reveal_changed(False)  # declined, or not recorded: stays masked
        elif not on:
            self.ctx.reveal.hide()

    def _on_reveal_changed(self, shown: bool) -> None:
        self.password_box.blockSignals(True)
        self.password_box.setChecked(shown)
        self.password_box.blockSignals(False)
        self.model.set_show_passwords(shown)

    # -- live data ----------------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        if not change.events:
            return
        self._add_live([row_from_record(pid, rec) for pid, rec in change.events])

    def _type_items(self) -> list[tuple[int, str]]:
        return sorted((kv for kv in self.model.types.items() if kv[0] is not None),
                      key=lambda kv: kv[0])

    def _update_status(self) -> None:
        shown, total = self.proxy.rowCount(), self.model.rowCount()
        text = (f"{thousands(shown)} of {thousands(total)} events shown" if shown != total
                else f"{thousands(total)} events")
        if not self.history_done:
            text += " · loading history…"
        self.status_label.setText(text)

    # -- selection ------------------------------------------------------------------------------

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.menu_for(self.view.indexAt(pos))
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(pos))

    def _current_device(self) -> str:
        index = self.view.currentIndex()
        if not index.isValid():
            return ""
        return self.model.row_at(self.proxy.mapToSource(index).row()).device

    def menu_for(self, index) -> QMenu | None:
        """A row's menu: its device's next steps (as everywhere), then this table's own."""
        if not index.isValid():
            return None
        row = self.model.row_at(self.proxy.mapToSource(index).row())
        menu = QMenu(self)
        if row.device:
            self.steps.add_to(menu, row.device)
            menu.addSeparator()
        only = menu.addAction(f"Show only {row.device}")
        only.triggered.connect(lambda: self.device_edit.setText(row.device))
        if row.waybill_guid:
            copy_wb = menu.addAction("Copy waybill GUID")
            copy_wb.triggered.connect(
                lambda: QApplication.clipboard().setText(row.waybill_guid))
        copy = menu.addAction("Copy row")
        copy.triggered.connect(lambda: QApplication.clipboard().setText(
            "\t".join(self.model.display(row, c) for c in range(self.model.columnCount()))))
        return menu

    # -- export ----------------------------------------------------------------------------------

    def csv_rows(self, rows: list[EventRow]) -> list[tuple]:
        show = self.model.show_passwords
        return [r.csv(with_password=show) for r in rows]
