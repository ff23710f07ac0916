"""The round coloured status dot shown next to a device or a connection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPixmap


def status_dot(colour: QColor, size: int = 12, inset: int = 3) -> QIcon:
    """A `size`-pixel icon: a dot of `colour` with a darker rim, `size - inset` across."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    p.setPen(colour.darker(130))
    p.setBrush(colour)
    p.drawEllipse(1, 1, size - inset, size - inset)
    p.end()
    return QIcon(pix)
