"""Devices panel: the live device tree, a search box, per-status counts, selection sync."""

from __future__ import annotations

import logging
import re

from PySide6.QtCore import (
    QAbstractItemModel,
    QByteArray,
    QItemSelection,
    QItemSelectionModel,
    QModelIndex,
    QSize,
    Qt,
    QTimer,
)
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.fleet.filters import ConditionCounts, DeviceFilter, condition_counts, matcher
from app.fleet.state import FleetChange, Status
from app.ui.context import AppContext
from app.ui.device_menu import DeviceSteps
from app.ui.feed import InPieces
from app.ui.panel import Panel
from app.ui.panels.devices.model import (
    COL_DEVICE,
    DEFAULT_WIDTHS,
    ID_ROLE,
    SUBLOCK_ROLE,
    DevicesModel,
    DevicesProxy,
)
from app.ui.panels.devices.view import DeviceTreeView
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.elide import elide_cells
from app.ui.widgets.flow import FlowLayout

log = logging.getLogger(__name__)

HEADER_KEY = "devices/header"
STATUS_REFRESH_MS = 5_000  # online → quiet → offline happens with no push at all
COUNTS_REFRESH_MS = 1_000
# A sorted tree is re-sorted at most this often while data moves: rows that jump under the
# pointer are hard to click, and each re-sort is a C++ sort plus a relayout of every row (a
# few ms per 1 000 rows), so big fleets re-sort less often.
RESORT_MS = 2_000
RESORT_MS_PER_ROW = 0.5
REFILTER_MS = 1_000  # the chips re-asked after a batch, at most this often
CHIP_STYLE = "QToolButton { padding: 1px 5px; }"  # seven of them share a narrow column
_SAVE_GROUP, _DELETE_GROUP = "\x00save", "\x00delete"  # the group box's two actions
# The chips above the tree: key (a Status value, or a condition), text, tooltip.
CHIPS: tuple[tuple[str, str, str], ...] = (
    ("online", "online", "Devices that pushed within the quiet threshold"),
    ("quiet", "quiet", "Devices silent for longer than the quiet threshold"),
    ("offline", "offline", "Devices silent for longer than the offline threshold"),
    ("unknown", "unknown", "Devices whose feed is down: their status cannot be known"),
    ("alarms", "open alarms", "Devices with an alarm nobody acknowledged yet"),
    ("battery", "low battery", "Devices (or a sub-lock of theirs) below 20 % and not charging"),
    ("unlocked", "unlocked", "Locks (or a sub-lock of theirs) that report themselves open"),
)


class DevicesPanel(Panel):
    KEY = "devices"
    TITLE = "Devices"
    SHORTCUT = "Ctrl+2"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("DevicesPanel")
        self.model = DevicesModel(ctx.fleet, self)
        self.proxy = DevicesProxy(self)
        self.proxy.setSourceModel(self.model)
        self._syncing = False  # True while we select rows because another panel asked

        self.search = QLineEdit(self)
        self.search.setPlaceholderText("Search device, sub-lock or card  (Ctrl+F)")
        self.search.setToolTip("Part of a device id, a sub-lock id or a card number used on a "
                               "lock")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._on_search)
        self.counts = QLabel("no devices yet", self)
        self.counts.setObjectName("devicesCounts")
        self.counts.setTextFormat(Qt.TextFormat.RichText)
        self.counts.setWordWrap(True)  # the counts wrap in a narrow column, never widen it
        self.counts.linkActivated.connect(self._on_count_clicked)  # a count filters by it
        self.counts.setToolTip("Click a count to show only those devices")
        self._build_chips()

        self.view = DeviceTreeView(self._fill_drawn, self)
        elide_cells(self.view, (COL_DEVICE,))
        # The view shows the model itself, and the filtering proxy only while a search is
        # typed: between a 5 000-row tree and its view the proxy tripled the Python calls of
        # every relayout (index, hasChildren, flags) during a flood.
        self.view.setModel(self.model)
        self.model.children_shown = self._children_shown
        self.model.rows_on_screen = self._rows_on_screen
        self.view.setUniformRowHeights(True)
        self.view.setAlternatingRowColors(True)
        self.view.setAllColumnsShowFocus(True)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.view.customContextMenuRequested.connect(self._context_menu)
        self.steps = DeviceSteps(ctx, self.view, self._current_device)  # its keys, its menu
        header = self.view.header()
        header.setStretchLastSection(True)
        header.setSectionsMovable(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setMinimumSectionSize(40)
        for col, width in enumerate(DEFAULT_WIDTHS):
            self.view.setColumnWidth(col, width)
        header.setSortIndicator(COL_DEVICE, Qt.SortOrder.AscendingOrder)
        self._restore_header()
        self.view.setSortingEnabled(True)  # sorts once by the restored indicator
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        # A last alarm's red cell is decided as the row is drawn: redraw, wherever it was
        # acknowledged.
        ctx.acknowledgements.sig_alarms_acknowledged.connect(self._on_acknowledged)

        top = FlowLayout()
        top.setContentsMargins(0, 0, 0, 0)
        self.search.setMinimumWidth(190)  # the chips wrap below rather than squeeze it
        top.addWidget(self.search, 1)
        for chip in self.chips.values():
            top.addWidget(chip)
        top.addWidget(self.group_box)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.counts)

        find = QAction("Search devices", self, shortcut=QKeySequence.StandardKey.Find)
        find.setShortcutContext(Qt.ShortcutContext.WindowShortcut)
        find.triggered.connect(self.focus_search)
        self.addAction(find)
        clear = QAction("Clear search", self.search, shortcut=QKeySequence(Qt.Key.Key_Escape))
        clear.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        clear.triggered.connect(self.search.clear)
        self.search.addAction(clear)

        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        ctx.selection.sig_device_selected.connect(self._on_device_selected)
        # A feed down or back changes its devices' statuses with no push at all: at once.
        ctx.feed_health.sig_feeds_changed.connect(self.refresh_status)
        self._status_timer = QTimer(self, interval=STATUS_REFRESH_MS, timeout=self.refresh_status)
        self._status_timer.start()
        self._counts_timer = QTimer(self, interval=COUNTS_REFRESH_MS, timeout=self.update_counts)
        self._counts_timer.start()
        self._resort_timer = QTimer(self, interval=RESORT_MS, timeout=self._resort)
        self._resort_timer.start()
        self.model.sig_rows_filled.connect(self._on_rows_filled)
        self._counts_soon = QTimer(self, interval=500, singleShot=True,
                                   timeout=self.update_counts)
        # What the chips show moves with every batch (a lock opens, a battery runs low):
        # re-filtered at most this often, never under a press.
        self._refilter_soon = QTimer(self, interval=REFILTER_MS, singleShot=True,
                                     timeout=self._refilter)
        # New devices beyond what one insert takes go in a few at a time, paints in between.
        self._inserts = InPieces(self, self._insert_waiting)
        self.update_counts()

    def sizeHint(self) -> QSize:
        return QSize(560, 500)

    # -- live data ---------------------------------------------------------------------

    def _on_batch(self, change: FleetChange) -> None:
        self.model.apply(change)
        if not self.device_filter.empty and not self._refilter_soon.isActive():
            self._refilter_soon.start()
        if self.model.waiting:
            self._inserts.go(now=False)
        if change.new_devices and not self._counts_soon.isActive():
            # counting statuses walks every device: at most twice a second
            self._counts_soon.start()

    def _insert_waiting(self) -> bool:
        self.model.insert_waiting()
        return bool(self.model.waiting)

    def _on_rows_filled(self) -> None:
        if self.filtering:  # the proxy saw the rows before their ids were in them
            self.proxy.refilter()
        # A device selected elsewhere before it had a row gets selected once it appears.
        if self.ctx.selection.device_id and not self._selected_ids():
            self._on_device_selected(self.ctx.selection.device_id)

    def _resort(self) -> None:
        if QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton:
            return  # never move rows under a press or a drag
        self.model.resort()
        rows = self.model.rowCount()
        self._resort_timer.setInterval(max(RESORT_MS, int(rows * RESORT_MS_PER_ROW)))

    def refresh_status(self) -> None:
        self.model.refresh_status()
        self._conditions = condition_counts(self.ctx.fleet)  # walks every device: not per second
        self._label_chips()
        if not self.device_filter.empty:
            self._refilter()
        self.update_counts()

    def update_counts(self) -> None:
        fleet = self.ctx.fleet
        total = len(fleet.devices)
        if not total:
            self.counts.setText("no devices yet — waiting for the first push")
            return
        counts = fleet.status_counts()
        link = "color: palette(window-text); text-decoration: none"
        parts = [f"<a href='all' style='{link}'><b>{total:,}</b>"
                 f" device{'s' if total != 1 else ''}</a>"]
        for status in Status:
            if status is Status.UNKNOWN and not counts[status]:
                continue  # said only when a feed is down
            colour = STATUS_COLOURS[status.value].name()
            parts.append(
                f"<a href='{status.value}' style='{link}'><span style='color:{colour}'>●</span>"
                f" {counts[status]:,} {status.value}</a>"
            )
        text = " · ".join(parts)
        if self.filtering:
            text += f" — showing {self.proxy.rowCount():,} of {total:,}"
        self.counts.setText(text)

    def counts_text(self) -> str:
        """The counts line as plain text (what a test or a screen reader reads)."""
        return re.sub(r"<[^>]+>", "", self.counts.text()).replace("● ", "")

    # -- chips: find by what matters ---------------------------------------------------------

    def _build_chips(self) -> None:
        self.chips: dict[str, QToolButton] = {}
        self._conditions = ConditionCounts()
        for key, text, tip in CHIPS:
            chip = QToolButton(self, text=text, checkable=True, autoRaise=False)
            chip.setObjectName(f"chip_{key}")
            chip.setStyleSheet(CHIP_STYLE)
            chip.setToolTip(tip)
            chip.toggled.connect(self._on_chips)
            self.chips[key] = chip
        self._label_chips()
        self.group = ""  # the saved group shown ("": every device)
        self.group_box = QComboBox(self)
        self.group_box.setObjectName("devicesGroup")
        self.group_box.setToolTip("Only the devices of a saved group (a named list of ids, "
                                  "e.g. a customer's locks); save the selected devices as one")
        self.group_box.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.group_box.setMinimumContentsLength(10)
        self.group_box.activated.connect(self._on_group_chosen)
        self.ctx.groups.sig_groups_changed.connect(self._fill_groups)
        self._fill_groups()

    def _label_chips(self) -> None:
        c = self._conditions
        for key, n in (("alarms", c.open_alarms), ("battery", c.low_battery),
                       ("unlocked", c.unlocked)):
            base = next(text for k, text, _ in CHIPS if k == key)
            self.chips[key].setText(f"{base} ({n:,})")

    @property
    def device_filter(self) -> DeviceFilter:
        chips = self.chips
        return DeviceFilter(
            statuses=frozenset(s for s in Status if chips[s.value].isChecked()),
            open_alarms=chips["alarms"].isChecked(),
            low_battery=chips["battery"].isChecked(),
            unlocked=chips["unlocked"].isChecked(),
            group=self.ctx.groups.ids(self.group) if self.group else None,
        )

    # -- saved groups ---------------------------------------------------------------------

    def _fill_groups(self) -> None:
        box = self.group_box
        box.blockSignals(True)
        box.clear()
        box.addItem("All devices", "")
        for name in self.ctx.groups.names():
            box.addItem(f"Group: {name}", name)
        box.insertSeparator(box.count())
        box.addItem("Save selection as group…", _SAVE_GROUP)
        if self.group:
            box.addItem(f"Delete group {self.group}", _DELETE_GROUP)
        if self.group and self.group not in self.ctx.groups.names():
            self.group = ""  # deleted
        box.setCurrentIndex(max(0, box.findData(self.group)))
        box.blockSignals(False)

    def _on_group_chosen(self, index: int) -> None:
        what = self.group_box.itemData(index)
        if what == _SAVE_GROUP:
            self.save_selection_as_group()
        elif what == _DELETE_GROUP:
            answer = QMessageBox.question(self, "Delete group",
                                          f"Delete the group “{self.group}”? Its devices stay.")
            if answer == QMessageBox.StandardButton.Yes:
                self.ctx.groups.delete(self.group)
                self.set_group("")
        else:
            self.set_group(str(what or ""))
        self._fill_groups()

    def set_group(self, name: str) -> None:
        """Show only this saved group's devices ("": every device)."""
        self.group = name
        self._fill_groups()
        self._on_chips()

    def save_selection_as_group(self, name: str | None = None) -> str:
        ids = self._selected_ids()
        if not ids:
            QMessageBox.information(self, "Save group", "Select the devices of the group "
                                    "first (Ctrl or Shift and click).")
            return ""
        if name is None:
            name, ok = QInputDialog.getText(self, "Save group",
                                            f"Name of the group of {len(ids)} device(s):",
                                            text=self.group)
            if not ok or not name.strip():
                return ""
        self.ctx.groups.save(name, ids)
        self.set_group(name.strip())
        return name.strip()

    def set_chips(self, *keys: str) -> None:
        """Exactly these chips on (none: every device)."""
        for key, chip in self.chips.items():
            chip.blockSignals(True)
            chip.setChecked(key in keys)
            chip.blockSignals(False)
        self._on_chips()

    def _on_count_clicked(self, key: str) -> None:
        """A status count: only that status (again: everyone); the total: everyone."""
        if key == "all" or (self.chips[key].isChecked()
                            and self.device_filter == DeviceFilter(frozenset({Status(key)}))):
            self.set_chips()
        else:
            self.set_chips(key)

    def _on_chips(self, *_args: object) -> None:
        self._refilter(asked=True)
        self._show_wanted_model()
        self.update_counts()

    def _refilter(self, asked: bool = False) -> None:
        """The chips' question asked again of every device (statuses move with the clock,
        locks and batteries with every batch). `asked`: the dispatcher changed the chips,
        now; otherwise (a batch, the clock) it waits while a mouse button is down."""
        if not asked and QGuiApplication.mouseButtons() != Qt.MouseButton.NoButton:
            self._refilter_soon.start()  # never take rows away under a press
            return
        flt = self.device_filter
        self.proxy.set_predicate(None if flt.empty else matcher(self.ctx.fleet, flt))

    # -- search --------------------------------------------------------------------------

    def focus_search(self) -> None:
        self.search.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search.selectAll()

    @property
    def filtering(self) -> bool:
        return self.view.model() is self.proxy

    def _show_wanted_model(self) -> None:
        wanted = bool(self.search.text().strip()) or not self.device_filter.empty
        want = self.proxy if wanted else self.model
        if self.view.model() is not want:
            self._show_model(want)

    def _on_search(self, text: str) -> None:
        self.proxy.set_search(text)
        self._show_wanted_model()
        if text.strip() and self.proxy.rowCount() <= 50:
            self.view.expandAll()  # show which sub-lock matched
        self.update_counts()
        current = self.ctx.selection.device_id
        if current:
            index = self._view_index(current)
            if index.isValid():
                self.view.scrollTo(index)

    def _children_shown(self, device_id: str) -> bool:
        return self.view.isExpanded(self._view_index(device_id))

    def _to_model(self, indexes: list[QModelIndex]) -> list[QModelIndex]:
        if not self.filtering:
            return indexes
        return [self.proxy.mapToSource(i) for i in indexes]

    def _fill_drawn(self, indexes: list[QModelIndex]) -> None:
        self.model.fill(self._to_model(indexes))

    def _rows_on_screen(self) -> list[int]:
        """The model's device rows the view draws now (what the model must announce)."""
        viewport = self.view.viewport()
        if not viewport.isVisible() or viewport.visibleRegion().isEmpty():
            return ()  # nothing drawn: it paints afresh when it comes on screen
        rows: dict[int, None] = {}  # top to bottom, once each
        for index in self._to_model(self.view.rows_drawn()):
            while index.parent().isValid():
                index = index.parent()
            rows[index.row()] = None
        return list(rows) if not self.filtering else sorted(rows)

    def _show_model(self, model: QAbstractItemModel) -> None:
        """Swap what the view shows, keeping the sort indicator and the selected device."""
        header = self.view.header()
        column, order = header.sortIndicatorSection(), header.sortIndicatorOrder()
        self.view.setModel(model)
        header.setSortIndicator(column, order)
        self.view.selectionModel().selectionChanged.connect(self._on_selection_changed)
        if self.ctx.selection.device_id:
            self._on_device_selected(self.ctx.selection.device_id)

    # -- selection -----------------------------------------------------------------------

    def _view_index(self, device_id: str) -> QModelIndex:
        index = self.model.index_of(device_id)
        return self.proxy.mapFromSource(index) if self.filtering else index

    def _selected_ids(self) -> list[str]:
        sel = self.view.selectionModel()
        ids: dict[str, None] = {}
        current = sel.currentIndex()
        if current.isValid() and sel.isSelected(current):
            ids[current.siblingAtColumn(0).data(ID_ROLE)] = None  # ids are in column 0
        for index in sel.selectedRows(0):
            ids[index.data(ID_ROLE)] = None
        return [i for i in ids if i]

    def _on_selection_changed(self, *_args) -> None:
        if self._syncing:
            return
        self.ctx.selection.select_many(self._selected_ids())

    def _on_device_selected(self, device_id: str) -> None:
        if not device_id:
            if self._selected_ids():
                self._syncing = True
                try:
                    self.view.selectionModel().clearSelection()
                finally:
                    self._syncing = False
            return
        if device_id in self._selected_ids():
            return
        index = self._view_index(device_id)
        if not index.isValid():
            return  # not seen yet, or hidden by the search
        sel = self.view.selectionModel()
        self._syncing = True
        try:
            flags = (
                QItemSelectionModel.SelectionFlag.ClearAndSelect
                | QItemSelectionModel.SelectionFlag.Rows
            )
            sel.setCurrentIndex(index, flags)
            sel.select(QItemSelection(index, index), flags)
        finally:
            self._syncing = False
        self.view.scrollTo(index)

    # -- context menu --------------------------------------------------------------------

    def _context_menu(self, pos) -> None:
        menu = self.menu_for(self.view.indexAt(pos))
        if menu is not None:
            menu.exec(self.view.viewport().mapToGlobal(pos))

    def menu_for(self, index: QModelIndex) -> QMenu | None:
        """The device's next steps (the same everywhere: app/ui/device_menu.py), then what
        only this list offers."""
        index = index.siblingAtColumn(0)  # ids are in column 0
        if not index.isValid():
            return None
        device_id = index.data(ID_ROLE)
        sub_id = index.data(SUBLOCK_ROLE)
        menu = QMenu(self)
        self.steps.add_to(menu, device_id)
        if sub_id:
            menu.addAction(f"Copy sub-lock id {sub_id}", lambda: self.copy_text(sub_id))
        menu.addSeparator()
        n = len(self.ctx.fleet.unacknowledged_of(device_id))
        ack = menu.addAction(
            f"Acknowledge all alarms of this device ({n})",
            lambda: self.acknowledge_device(device_id),
        )
        ack.setEnabled(n > 0)
        return menu

    def _current_device(self) -> str:
        index = self.view.currentIndex()
        return index.siblingAtColumn(0).data(ID_ROLE) or "" if index.isValid() else ""

    @staticmethod
    def copy_text(text: str) -> None:
        QGuiApplication.clipboard().setText(text)

    def acknowledge_device(self, device_id: str) -> list[int]:
        """Every alarm of this device still waiting; returns their push ids."""
        return self.ctx.acknowledgements.acknowledge(self.ctx.fleet.unacknowledged_of(device_id))

    def _on_acknowledged(self, _push_ids: list[int], _at: float, _by: str) -> None:
        self.view.viewport().update()
        if self.chips["alarms"].isChecked():
            self._refilter()

    # -- settings ------------------------------------------------------------------------

    def _restore_header(self) -> None:
        state = self.ctx.settings.value(HEADER_KEY)
        if isinstance(state, QByteArray) and not state.isEmpty():
            self.view.header().restoreState(state)
            self.view.header().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)

    def save_header(self) -> None:
        self.ctx.settings.setValue(HEADER_KEY, self.view.header().saveState())

    def shutdown(self) -> None:
        for timer in (self._status_timer, self._counts_timer, self._counts_soon,
                      self._resort_timer, self._refilter_soon):
            timer.stop()
        self.save_header()
