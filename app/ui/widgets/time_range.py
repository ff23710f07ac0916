"""The tables' time filter: a preset (last hour / 24 h / 7 days / all) or an explicit from–to."""

from __future__ import annotations

import time

from PySide6.QtCore import QDateTime, Signal
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QHBoxLayout, QLabel, QWidget

RANGES: tuple[tuple[str, float | None], ...] = (
    ("All time", None),
    ("Last hour", 3600.0),
    ("Last 24 hours", 86400.0),
    ("Last 7 days", 7 * 86400.0),
    ("From – to…", -1.0),
)


class TimeRangePicker(QWidget):
    """A preset (last hour / 24 h / 7 days / all) or an explicit from–to, as (since, until)."""

    sig_range_changed = Signal()
    """Another preset, or another from or to time: read `value()`."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        for label, span in RANGES:
            self.combo.addItem(label, span)
        self.combo.setToolTip("Show only rows received in this time range")
        now = QDateTime.currentDateTime()
        self.from_edit = QDateTimeEdit(now.addSecs(-3600))
        self.to_edit = QDateTimeEdit(now.addSecs(3600))
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setVisible(False)
            edit.dateTimeChanged.connect(lambda *_: self.sig_range_changed.emit())
        self.dash = QLabel("–")
        self.dash.setVisible(False)
        layout.addWidget(self.combo)
        layout.addWidget(self.from_edit)
        layout.addWidget(self.dash)
        layout.addWidget(self.to_edit)
        self.combo.currentIndexChanged.connect(self._on_preset)

    def _on_preset(self) -> None:
        custom = self.combo.currentData() == -1.0
        for w in (self.from_edit, self.dash, self.to_edit):
            w.setVisible(custom)
        self.sig_range_changed.emit()

    @property
    def is_relative(self) -> bool:
        span = self.combo.currentData()
        return isinstance(span, float) and span > 0

    def set_span(self, seconds: float | None) -> None:
        for i, (_label, span) in enumerate(RANGES):
            if span == seconds:
                self.combo.setCurrentIndex(i)
                return

    def set_custom(self, since: float, until: float) -> None:
        self.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(since)))
        self.to_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(until)))
        self.combo.setCurrentIndex(len(RANGES) - 1)

    def value(self, now: float | None = None) -> tuple[float | None, float | None]:
        span = self.combo.currentData()
        if span is None:
            return None, None
        if span == -1.0:
            return (float(self.from_edit.dateTime().toSecsSinceEpoch()),
                    float(self.to_edit.dateTime().toSecsSinceEpoch()))
        return (time.time() if now is None else now) - float(span), None
