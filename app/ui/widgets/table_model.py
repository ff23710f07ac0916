"""The part of a flat table model that is the same everywhere: row and column counts, the
horizontal header (with optional tooltips) and selectable, read-only cells.

A subclass sets ``HEADERS`` (and ``TOOLTIPS`` if it has any), keeps its rows in the list
``self._rows`` (in any order: only its length is read here) and writes ``data()``.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QObject, QPersistentModelIndex, Qt

from app.ui.widgets.roles import BatchedRoles

AnyIndex = QModelIndex | QPersistentModelIndex


class RowsTableModel(BatchedRoles, QAbstractTableModel):
    HEADERS: tuple[str, ...] = ()
    TOOLTIPS: tuple[str, ...] = ()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._rows: list[Any] = []

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.TOOLTIPS):
            return self.TOOLTIPS[section] or None
        return None

    # flags(): Qt's own (enabled, selectable, never has children) — not overridden, so a
    # repaint does not call into Python once more per cell.
