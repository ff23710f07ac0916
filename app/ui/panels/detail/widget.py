"""Device detail pane: every decoded field of the selected device's latest pushes."""

from __future__ import annotations

import time

from PySide6.QtCore import QByteArray, QEvent, QSize, Qt, QTimer
from PySide6.QtGui import QAction, QBrush, QFont, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QStackedWidget,
    QToolButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import FleetChange
from app.ui.context import AppContext
from app.ui.panel import Panel
from app.ui.panels.detail.fields import Row, Section, ago, as_text, device_sections, local_time
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.flow import FlowLayout

KEY_ROLE = Qt.ItemDataRole.UserRole + 1
EMPTY_TEXT = "Select a device in the Devices panel"
HEADER_KEY = "detail/header"
COLLAPSED_KEY = "detail/collapsed"
FIELD_WIDTH = 210  # the field names' column on a roomy pane
CLOCK_MS = 5_000  # "seen 12 s ago" and the status move with the clock


class DetailPanel(Panel):
    KEY = "detail"
    TITLE = "Device detail"
    SHORTCUT = "Ctrl+3"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("DetailPanel")
        self.device_id = ""
        self._sections: list[Section] = []
        self.refreshes = 0  # how often the tree was rebuilt (tests, and a sanity check)
        saved = ctx.settings.value(COLLAPSED_KEY, [])
        self._collapsed: set[str] = set(saved if isinstance(saved, list) else [saved] if saved
                                        else [])

        self.title = QLabel(self)
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.title.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.copy_button = QToolButton(self)
        self.copy_action = QAction("Copy as text", self)
        self.copy_action.setToolTip("Copy every field of this device as plain text")
        self.copy_action.triggered.connect(self.copy_as_text)
        self.copy_button.setDefaultAction(self.copy_action)

        self.tree = QTreeWidget(self)
        self.tree.setColumnCount(2)
        self.tree.setHeaderLabels(["Field", "Value"])
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
        copy_value = QAction("Copy value", self.tree, shortcut=QKeySequence.StandardKey.Copy)
        copy_value.setShortcutContext(Qt.ShortcutContext.WidgetShortcut)
        copy_value.triggered.connect(self.copy_selected)
        self.tree.addAction(copy_value)
        self.tree.addAction(self.copy_action)
        header = self.tree.header()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.tree.setColumnWidth(0, 210)
        self._field_width_chosen = False  # by the user, dragging the header
        state = ctx.settings.value(HEADER_KEY)
        if isinstance(state, QByteArray) and not state.isEmpty():
            header.restoreState(state)
            self._field_width_chosen = True
        header.sectionResized.connect(self._on_section_resized)
        self.tree.viewport().installEventFilter(self)
        self.tree.itemExpanded.connect(lambda item: self._on_expanded(item, True))
        self.tree.itemCollapsed.connect(lambda item: self._on_expanded(item, False))

        self.empty = QLabel(EMPTY_TEXT, self)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setEnabled(False)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.empty)
        self.stack.addWidget(self.tree)

        top = FlowLayout()
        top.setContentsMargins(0, 0, 0, 0)
        top.addWidget(self.title, 1)
        top.addWidget(self.copy_button, 0, Qt.AlignmentFlag.AlignTop)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(top)
        layout.addWidget(self.stack, 1)

        self._bold = QFont(self.tree.font())
        self._bold.setBold(True)
        self._alert = QBrush(STATUS_COLOURS["critical"])

        ctx.selection.sig_device_selected.connect(self.show_device)
        ctx.reveal.sig_reveal_changed.connect(lambda _shown: self.refresh())
        self._batches = ctx.feed.view_batches()  # this view's turn
        self._batches.connect(self._on_batch)
        self._clock = QTimer(self, interval=CLOCK_MS, timeout=self.refresh)
        self._clock.start()
        self.show_device(ctx.selection.device_id)

    def sizeHint(self) -> QSize:
        return QSize(440, 600)

    def eventFilter(self, watched, event) -> bool:
        if watched is self.tree.viewport() and event.type() == QEvent.Type.Resize:
            self._fit_field_column()
        return super().eventFilter(watched, event)

    def _fit_field_column(self) -> None:
        """In a narrow pane the names give way, so every value keeps room (at most 42 %)."""
        if self._field_width_chosen:
            return
        width = self.tree.viewport().width()
        self._fitting = True
        try:
            self.tree.setColumnWidth(0, max(110, min(FIELD_WIDTH, int(width * 0.42))))
        finally:
            self._fitting = False

    def _on_section_resized(self, index: int, _old: int, _new: int) -> None:
        if index == 0 and not getattr(self, "_fitting", False) and self.tree.isVisible():
            self._field_width_chosen = True

    def minimumSizeHint(self) -> QSize:
        # Small enough to share a laptop's column with the commands panel; the tree scrolls.
        return QSize(240, 120)

    # -- what to show ------------------------------------------------------------------

    def show_device(self, device_id: str) -> None:
        changed = device_id != self.device_id
        self.device_id = device_id
        self.refresh()
        if changed:
            self.tree.scrollToTop()

    def _on_batch(self, change: FleetChange) -> None:
        if self.device_id and self.device_id in change.changed_devices:
            self.refresh()

    def refresh(self) -> None:
        dev = self.ctx.fleet.devices.get(self.device_id) if self.device_id else None
        self.copy_action.setEnabled(dev is not None)
        if dev is None:
            self._sections = []
            self.stack.setCurrentWidget(self.empty)
            self.empty.setText(
                EMPTY_TEXT if not self.device_id
                else f"No push from {self.device_id} since the console started"
            )
            self.title.setText("")  # the dock already says "Device detail"
            return
        now = time.time()
        self.refreshes += 1
        status = self.ctx.fleet.status(dev.device_id, now)
        colour = STATUS_COLOURS[status.value].name()
        subs = f" · {len(dev.sublocks)} sub-lock(s)" if dev.sublocks else ""
        profile = f" · profile <b>{dev.profile}</b>" if dev.profile else ""
        self.title.setText(
            f"<span style='font-size:large'><b>{dev.device_id}</b></span>&nbsp;&nbsp;"
            f"<span style='color:{colour}'>● {status.value}</span>{profile}{subs}<br>"
            f"first seen {local_time(dev.first_seen)} · last seen {local_time(dev.last_seen)}"
            f" ({ago(now - dev.last_seen)}) · {dev.pushes:,} pushes"
        )
        self._sections = device_sections(dev, self.ctx.fleet, now,
                                         self.ctx.detail_sections.providers(),
                                         secrets_shown=self.ctx.reveal.shown)
        bar = self.tree.verticalScrollBar()
        scroll = bar.value()
        self.tree.setUpdatesEnabled(False)
        try:
            self._sync(self.tree.invisibleRootItem(), [s.as_row() for s in self._sections], 0)
        finally:
            self.tree.setUpdatesEnabled(True)
        bar.setValue(min(scroll, bar.maximum()))
        self.stack.setCurrentWidget(self.tree)

    def _sync(self, parent: QTreeWidgetItem, rows: list[Row], depth: int) -> None:
        """Update the items in place (keeps expansion, selection and scroll position)."""
        for i, row in enumerate(rows):
            item = parent.child(i) if i < parent.childCount() else None
            if item is None or item.data(0, KEY_ROLE) != row.key:
                later = next(
                    (j for j in range(i + 1, parent.childCount())
                     if parent.child(j).data(0, KEY_ROLE) == row.key),
                    None,
                )
                if later is not None:
                    for _ in range(later - i):
                        parent.takeChild(i)  # rows that are gone now
                    item = parent.child(i)
                else:
                    item = QTreeWidgetItem()
                    item.setData(0, KEY_ROLE, row.key)
                    item.setFirstColumnSpanned(False)
                    parent.insertChild(i, item)
                    if depth == 0:
                        item.setFont(0, self._bold)
                        item.setFont(1, self._bold)
                    self._sync(item, row.children, depth + 1)
                    item.setExpanded(
                        row.key not in self._collapsed if depth == 0 else row.expanded
                    )
                    self._set_text(item, row)
                    continue
            self._set_text(item, row)
            self._sync(item, row.children, depth + 1)
        while parent.childCount() > len(rows):
            parent.takeChild(len(rows))

    def _set_text(self, item: QTreeWidgetItem, row: Row) -> None:
        if item.text(0) != row.label:
            item.setText(0, row.label)
        if item.text(1) != row.value:
            item.setText(1, row.value)
        tip = row.tooltip or row.value
        if item.toolTip(1) != tip:
            item.setToolTip(1, tip)
        if row.alert:
            item.setForeground(1, self._alert)
        elif item.data(1, Qt.ItemDataRole.ForegroundRole) is not None:
            item.setData(1, Qt.ItemDataRole.ForegroundRole, None)

    def _on_expanded(self, item: QTreeWidgetItem, expanded: bool) -> None:
        if item.parent() is not None:
            return
        key = item.data(0, KEY_ROLE)
        if expanded:
            self._collapsed.discard(key)
        else:
            self._collapsed.add(key)

    # -- reading it out ----------------------------------------------------------------------

    def text(self) -> str:
        dev = self.ctx.fleet.devices.get(self.device_id) if self.device_id else None
        if dev is None:
            return ""
        status = self.ctx.fleet.status(dev.device_id).value
        title = (
            f"Device {dev.device_id} — {status}, profile {dev.profile or '—'}, "
            f"first seen {local_time(dev.first_seen)}, last seen {local_time(dev.last_seen)}, "
            f"{dev.pushes:,} pushes"
        )
        return as_text(title, self._sections)

    def copy_as_text(self) -> None:
        text = self.text()
        if text:
            QGuiApplication.clipboard().setText(text)

    def copy_selected(self) -> None:
        items = self.tree.selectedItems()
        if items:
            QGuiApplication.clipboard().setText(
                "\n".join(f"{i.text(0)}: {i.text(1)}" if i.text(1) else i.text(0) for i in items)
            )

    def values(self) -> dict[str, str]:
        """Every row as 'Section/…/Label' → value (what a test reads)."""
        out: dict[str, str] = {}

        def walk(item: QTreeWidgetItem, path: str) -> None:
            for i in range(item.childCount()):
                child = item.child(i)
                here = f"{path}/{child.text(0)}" if path else child.text(0)
                out[here] = child.text(1)
                walk(child, here)

        walk(self.tree.invisibleRootItem(), "")
        return out

    def shutdown(self) -> None:
        self._clock.stop()
        s = self.ctx.settings
        if self._field_width_chosen:  # else the names' column keeps fitting the pane
            s.setValue(HEADER_KEY, self.tree.header().saveState())
        else:
            s.remove(HEADER_KEY)
        s.setValue(COLLAPSED_KEY, sorted(self._collapsed))
