"""A live table that holds still under the hand.

Alarms arrive several times a second; each went in at the top and pushed every row down, so
a click aimed at one alarm landed on another and Space acknowledged an alarm nobody had
looked at. While the pointer is over the table, a row is selected, a context menu is open or
the view is scrolled away from the top, new rows wait unseen (the proxy's hold mark) and a
bar says how many: "12 new alarms — Show". They come in when asked (Show, or F for "follow
live") or, once the pointer has left and nothing is selected or scrolled, by themselves.
"""

from __future__ import annotations

import shiboken6
from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import QAbstractItemView, QFrame, QHBoxLayout, QLabel, QPushButton

from app.ui.widgets.live_format import thousands
from app.ui.widgets.live_model import LiveFilterProxy, LiveTableModel


class NewRowsBar(QFrame):
    """"12 new alarms — Show": above the table while rows wait."""

    def __init__(self, noun: str) -> None:
        super().__init__()
        self.setObjectName("newRowsBar")
        self.setStyleSheet("#newRowsBar { background: palette(highlight); border-radius: 3px; }"
                           " #newRowsBar QLabel { color: palette(highlighted-text); }")
        self.noun = noun
        self.label = QLabel()
        self.show_button = QPushButton("Show")
        self.show_button.setToolTip("Bring the new rows in and go to the top (F)")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(8, 2, 2, 2)
        lay.addWidget(self.label, 1)
        lay.addWidget(self.show_button)
        self.hide()

    def set_count(self, n: int) -> None:
        if n <= 0:
            self.hide()
            return
        self.label.setText(f"{thousands(n)} new {self.noun}{'s' if n != 1 else ''} — held "
                           "while you work on the table")
        self.show()


class HoldStill(QObject):
    sig_held_changed = Signal(int)
    """How many new rows wait behind the hold (0 when none)."""

    def __init__(self, view: QAbstractItemView, proxy: LiveFilterProxy, model: LiveTableModel,
                 bar: NewRowsBar) -> None:
        super().__init__(view)
        self.view, self.proxy, self.model, self.bar = view, proxy, model, bar
        self.pointer_over = False
        self.menu_open = False
        self._soon = QTimer(self, singleShot=True, interval=0, timeout=self._on_view_changed)
        view.viewport().installEventFilter(self)
        # Methods, not lambdas: Qt drops a connection whose receiver is gone, and a view
        # being torn down still moves its scroll bar.
        view.verticalScrollBar().valueChanged.connect(self._later)
        view.selectionModel().selectionChanged.connect(self._later)
        bar.show_button.clicked.connect(self.show_new)
        self.sig_held_changed.connect(bar.set_count)

    def _later(self, *_args: object) -> None:
        """Look again once the event at hand is over (never inside a view's teardown, whose
        scroll bar and viewport still send signals and events)."""
        self._soon.start()

    def _on_view_changed(self) -> None:
        if shiboken6.isValid(self.view) and shiboken6.isValid(self.proxy):
            self.update()

    # -- why to hold -------------------------------------------------------------------------

    def wanted(self) -> bool:
        return (self.pointer_over or self.menu_open
                or self.view.selectionModel().hasSelection()
                or self.view.verticalScrollBar().value() > 0)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        kind = event.type()
        if kind == QEvent.Type.Enter:
            self.pointer_over = True
            self._later()
        elif kind == QEvent.Type.Leave:
            self.pointer_over = False
            self._later()
        return False

    def set_menu_open(self, on: bool) -> None:
        self.menu_open = on
        self.update()

    # -- holding -----------------------------------------------------------------------------

    @property
    def held(self) -> bool:
        return self.proxy.hold_mark is not None

    def update(self) -> None:
        """Hold or let go as the operator's hand says; call after rows were added too.
        An empty table has nothing to keep still: what arrives comes in."""
        if self.wanted() and self.proxy.rowCount() > 0:  # held rows are not counted
            if not self.held:
                self.proxy.hold_at(self._newest_id())
        elif self.held:
            self.proxy.release()
        self.sig_held_changed.emit(self.proxy.held_count())

    def show_new(self) -> None:
        """Bring the waiting rows in (asked for), then hold again if the hand is still there."""
        self.proxy.release()
        self.view.scrollToTop()
        if self.wanted() and self.proxy.rowCount() > 0:
            self.proxy.hold_at(self._newest_id())
        self.sig_held_changed.emit(self.proxy.held_count())

    def follow_live(self) -> None:
        """F: let go of the selection and the scroll, show everything, newest at the top."""
        self.view.clearSelection()
        self.view.setCurrentIndex(QModelIndex())
        self.proxy.release()
        self.view.scrollToTop()
        self.update()

    def _newest_id(self) -> int | None:
        rows = self.model.rows
        return rows[0].push_id if rows else 0


def move_selection(view: QAbstractItemView, step: int) -> None:
    """J / K: select the next (+1) or previous (-1) row of the view, and show it."""
    model = view.model()
    if model.rowCount() == 0:
        return
    current = view.currentIndex()
    if not view.selectionModel().hasSelection() or not current.isValid():
        row = 0  # nothing chosen yet: start from the newest (the top), whichever key
    else:
        row = current.row() + step
    row = max(0, min(model.rowCount() - 1, row))
    index = model.index(row, 0)
    view.selectionModel().setCurrentIndex(
        index, view.selectionModel().SelectionFlag.ClearAndSelect
        | view.selectionModel().SelectionFlag.Rows)
    view.scrollTo(index)


TRIAGE_KEYS = {Qt.Key.Key_J: 1, Qt.Key.Key_K: -1}
