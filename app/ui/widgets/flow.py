"""A row of controls that wraps onto further lines instead of asking for more width.

Filter rows and button rows were QHBoxLayouts: each asked for the sum of its controls'
widths as the panel's minimum (the alarm panel 767 px, the push log 872 px), so three
panels side by side needed a screen wider than most desks have. This layout asks only for
its widest control and wraps the rest; on a wide dock it looks exactly like the row it
replaced, including `addStretch()` pushing what follows to the right.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QPoint, QRect, QSize, Qt, QTimer
from PySide6.QtWidgets import QLayout, QLayoutItem, QSizePolicy, QSpacerItem, QWidget, QWidgetItem


class FlowLayout(QLayout):
    def __init__(self, parent: QWidget | None = None, spacing: int = 6) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self._laid_width = 0  # the width last laid out at: what the minimum height is for
        self._laid_height = 0
        self.setContentsMargins(0, 0, 0, 0)

    # -- what QHBoxLayout users call ----------------------------------------------------------

    def addWidget(self, widget: QWidget, stretch: int = 0, alignment: object = None) -> None:
        """QHBoxLayout's call; stretch and alignment mean nothing in a wrapping row."""
        super().addWidget(widget)

    def addStretch(self, _stretch: int = 1) -> None:
        """What follows goes to the right end of its line (as in a QHBoxLayout)."""
        self.addItem(QSpacerItem(0, 0, QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum))

    def addSpacing(self, size: int) -> None:
        self.addItem(QSpacerItem(size, 0, QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Minimum))

    def addLayout(self, layout: QLayout) -> None:
        holder = QWidget()
        holder.setLayout(layout)
        layout.setContentsMargins(0, 0, 0, 0)
        self.addItem(QWidgetItem(holder))
        self.addChildWidget(holder)

    # -- QLayout ----------------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)
        self.invalidate()

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        if 0 <= index < len(self._items):
            item = self._items.pop(index)
            self.invalidate()
            return item
        return None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation(0)

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._place(QRect(0, 0, width, 0), apply=False)

    def setSpacing(self, spacing: int) -> None:
        self._spacing = spacing
        self.invalidate()

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        height = self._place(rect, apply=True)
        self._laid_width = rect.width()
        if height != self._laid_height:
            # Docks and the main window size by minimumSize, not by height-for-width: tell
            # them (after this layout pass) that the rows now need more, or less, height.
            self._laid_height = height
            QTimer.singleShot(0, self._relayout)

    def _relayout(self) -> None:
        with contextlib.suppress(RuntimeError):  # the panel closed before the timer fired
            self.invalidate()

    def sizeHint(self) -> QSize:
        """One line with everything on it: what the row would like."""
        shown = self._shown()
        width = sum(i.sizeHint().width() for i in shown) + self._spacing * max(0, len(shown) - 1)
        height = max((i.sizeHint().height() for i in shown), default=0)
        m = self.contentsMargins()
        return QSize(width + m.left() + m.right(), height + m.top() + m.bottom())

    def minimumSize(self) -> QSize:
        """The widest single control (everything else can go on another line), as tall as
        the lines need at the width last laid out."""
        size = QSize()
        for item in self._shown():
            size = size.expandedTo(item.minimumSize())
        m = self.contentsMargins()
        size += QSize(m.left() + m.right(), m.top() + m.bottom())
        owner = self.parentWidget()
        if self._laid_width > 0 and owner is not None and owner.isVisible():
            size.setHeight(max(size.height(), self.heightForWidth(self._laid_width)))
        return size

    # -- placing ----------------------------------------------------------------------------

    def _shown(self) -> list[QLayoutItem]:
        return [i for i in self._items if not (i.widget() and i.widget().isHidden())]

    def _lines(self, width: int) -> list[list[QLayoutItem]]:
        lines: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._shown():
            w = self._width(item, width)
            if lines[-1] and used + self._spacing + w > width:
                lines.append([])
                used = 0
            used += (self._spacing if lines[-1] else 0) + w
            lines[-1].append(item)
        return lines

    @staticmethod
    def _width(item: QLayoutItem, room: int) -> int:
        if isinstance(item, QSpacerItem):
            return item.sizeHint().width()
        return max(min(item.sizeHint().width(), room), item.minimumSize().width())

    def _place(self, rect: QRect, *, apply: bool) -> int:
        m = self.contentsMargins()
        area = rect.adjusted(m.left(), m.top(), -m.right(), -m.bottom())
        y = area.y()
        for line in self._lines(area.width()):
            line = _trim_spacers(line)
            widths = [self._width(i, area.width()) for i in line]
            height = max((i.sizeHint().height() for i in line), default=0)
            spare = area.width() - sum(widths) - self._spacing * max(0, len(line) - 1)
            stretches = [n for n, i in enumerate(line) if isinstance(i, QSpacerItem)
                         and i.expandingDirections() & Qt.Orientation.Horizontal]
            if spare > 0 and stretches:
                for n in stretches:
                    widths[n] += spare // len(stretches)
            if apply:
                x = area.x()
                for item, w in zip(line, widths, strict=True):
                    h = min(height, max(item.sizeHint().height(), item.minimumSize().height()))
                    item.setGeometry(QRect(QPoint(x, y + (height - h) // 2), QSize(w, h)))
                    x += w + self._spacing
            y += height + self._spacing
        return y - self._spacing - area.y() + m.top() + m.bottom()


def _trim_spacers(line: list[QLayoutItem]) -> list[QLayoutItem]:
    """A stretch at the start or end of a wrapped line only wastes room."""
    while line and isinstance(line[0], QSpacerItem) and len(line) > 1:
        line = line[1:]
    return line
