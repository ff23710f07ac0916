"""The round coloured status dot shown next to a device or a connection."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPainter, QPen, QPixmap


def status_dot(colour: QColor, size: int = 12, inset: int = 3, *, hollow: bool = False) -> QIcon:
    """A `size`-pixel icon: a dot of `colour` with a darker rim, `size - inset` across;
    `hollow`: a ring (a status that is not known, so colour is not the only cue)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    p = QPainter(pix)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    if hollow:
        pen = QPen(colour.darker(115))
        pen.setWidthF(2.0)
        p.setPen(pen)
        p.setBrush(Qt.BrushStyle.NoBrush)
    else:
        p.setPen(colour.darker(130))
        p.setBrush(colour)
    p.drawEllipse(1, 1, size - inset, size - inset)
    p.end()
    return QIcon(pix)
