"""File › Settings: everything a dispatcher may want to change, in one place, saved at once.

The General page belongs to the window (who is at the desk, theme, when a device counts as
quiet or offline);
every other page is offered by a panel (the alarm panel's severities, escalation and sound)
(`Panel.settings_page`), so this dialog names no panel.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QApplication,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from app.fleet.state import Thresholds
from app.ui.context import AppContext
from app.ui.operator import SETTINGS_OPERATOR, os_user

SETTINGS_QUIET = "devices/quiet_after_s"
SETTINGS_OFFLINE = "devices/offline_after_s"
THEMES = (("system", "Follow the system"), ("light", "Light"), ("dark", "Dark"))


class GeneralPage(QWidget):
    sig_theme_changed = Signal(str)
    """The user picked another theme (its key: system, light, dark)."""
    sig_operator_changed = Signal(str)
    """Someone else is at the desk from now on (the name, saved)."""

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        s = ctx.settings
        form = QFormLayout(self)
        self.operator = QLineEdit(ctx.operator)
        self.operator.setPlaceholderText(os_user())
        self.operator.setToolTip("Your name on the acknowledgements, notes, commands and "
                                 "commissioning sessions of this desk (the other desks on a "
                                 "shared journal see it)")
        self.operator.editingFinished.connect(self._save_operator)
        form.addRow("Operator", self.operator)
        self.theme = QComboBox()
        for key, label in THEMES:
            self.theme.addItem(label, key)
        self.theme.setCurrentIndex(max(0, self.theme.findData(str(s.value("ui/theme", "system")))))
        self.theme.currentIndexChanged.connect(self._save_theme)
        form.addRow("Theme", self.theme)

        thresholds = ctx.fleet.thresholds
        self.quiet = _seconds_box(thresholds.quiet_after)
        self.offline = _seconds_box(thresholds.offline_after)
        self.quiet.setToolTip("A device with no push for this long shows as quiet")
        self.offline.setToolTip("A device with no push for this long shows as offline")
        self.quiet.valueChanged.connect(self._save_thresholds)
        self.offline.valueChanged.connect(self._save_thresholds)
        form.addRow("Quiet after", self.quiet)
        form.addRow("Offline after", self.offline)
        self.threshold_note = QLabel("")
        self.threshold_note.setWordWrap(True)
        form.addRow("", self.threshold_note)

    def _save_theme(self) -> None:
        from app.ui.theme import apply_theme

        mode = str(self.theme.currentData())
        self.ctx.settings.setValue("ui/theme", mode)
        apply_theme(QApplication.instance(), mode)
        self.sig_theme_changed.emit(mode)

    def _save_operator(self) -> None:
        name = self.operator.text().strip() or os_user()
        self.ctx.settings.setValue(SETTINGS_OPERATOR, self.operator.text().strip())
        if name != self.ctx.operator:
            self.sig_operator_changed.emit(name)

    def _save_thresholds(self) -> None:
        quiet, offline = self.quiet.value(), self.offline.value()
        if offline <= quiet:
            self.threshold_note.setText("Offline must come after quiet: not saved.")
            return
        self.threshold_note.setText("")
        self.ctx.settings.setValue(SETTINGS_QUIET, quiet)
        self.ctx.settings.setValue(SETTINGS_OFFLINE, offline)
        self.ctx.fleet.thresholds = Thresholds(quiet_after=float(quiet),
                                               offline_after=float(offline))


def _seconds_box(value: float) -> QSpinBox:
    box = QSpinBox()
    box.setRange(10, 7 * 24 * 3600)
    box.setSingleStep(30)
    box.setSuffix(" s")
    box.setValue(int(value))
    return box


class SettingsDialog(QDialog):
    """Pages on the left, the page on the right; every change is saved as it is made."""

    sig_theme_changed = Signal(str)
    """Forwarded from the General page, so the View › Theme menu follows."""
    sig_operator_changed = Signal(str)
    """Forwarded from the General page: the window takes the new name."""

    def __init__(self, ctx: AppContext, panels, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.pages = QListWidget()
        self.pages.setMaximumWidth(160)
        self.stack = QStackedWidget()
        general = GeneralPage(ctx)
        general.sig_theme_changed.connect(self.sig_theme_changed)
        general.sig_operator_changed.connect(self.sig_operator_changed)
        self._add("General", general)
        for panel in panels:
            page = panel.settings_page()
            if page is not None:
                self._add(panel.TITLE, page)
        self.pages.currentRowChanged.connect(self.stack.setCurrentIndex)
        self.pages.setCurrentRow(0)
        row = QHBoxLayout()
        row.addWidget(self.pages)
        row.addWidget(self.stack, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        note = QLabel("Changes are saved as you make them.")
        note.setEnabled(False)
        lay = QVBoxLayout(self)
        lay.addLayout(row, 1)
        foot = QHBoxLayout()
        foot.addWidget(note, 1)
        foot.addWidget(buttons)
        lay.addLayout(foot)
        self.resize(640, 420)

    def _add(self, title: str, page: QWidget) -> None:
        self.pages.addItem(title)
        self.stack.addWidget(page)

    def show_page(self, title: str) -> None:
        for i in range(self.pages.count()):
            if self.pages.item(i).text() == title:
                self.pages.setCurrentRow(i)
