"""Cells that do not fit: ids elide in the middle (both ends of an id matter, "8020…9851"),
text at the end; hovering an elided cell shows the whole value."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt
from PySide6.QtGui import QHelpEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QToolTip,
)


class ElideDelegate(QStyledItemDelegate):
    def __init__(self, mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = mode

    def initStyleOption(self, option: QStyleOptionViewItem, index: QModelIndex) -> None:
        super().initStyleOption(option, index)
        option.textElideMode = self.mode

    def helpEvent(self, event: QHelpEvent, view: QAbstractItemView,
                  option: QStyleOptionViewItem, index: QModelIndex) -> bool:
        if event.type() == QEvent.Type.ToolTip and index.isValid():
            own = index.data(Qt.ItemDataRole.ToolTipRole)
            if not own:
                text = str(index.data(Qt.ItemDataRole.DisplayRole) or "")
                room = option.rect.width() - 2 * view.style().pixelMetric(
                    view.style().PixelMetric.PM_FocusFrameHMargin, None, view) - 8
                if text and option.fontMetrics.horizontalAdvance(text) > room:
                    QToolTip.showText(event.globalPos(), text, view)
                    return True
                QToolTip.hideText()
                event.ignore()
                return True
        return super().helpEvent(event, view, option, index)


def elide_cells(view: QAbstractItemView, id_columns: Iterable[int] = ()) -> None:
    """Text elides at the end, `id_columns` in the middle; elided cells tooltip their value."""
    view.setItemDelegate(ElideDelegate(Qt.TextElideMode.ElideRight, view))
    for col in id_columns:
        view.setItemDelegateForColumn(col, ElideDelegate(Qt.TextElideMode.ElideMiddle, view))
