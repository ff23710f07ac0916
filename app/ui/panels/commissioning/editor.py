"""Template editor: thresholds and which checks apply, saved as JSON in the user data dir."""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from app.commissioning.templates import CHECKS, DESCRIPTIONS, LABELS, Template, TemplateError


class TemplateEditor(QDialog):
    """Edit one template; `result_template` holds the edited copy after accept()."""

    def __init__(self, template: Template, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"Checklist template — {template.name}")
        self.result_template: Template | None = None
        self._base = template
        lay = QVBoxLayout(self)
        form = QFormLayout()
        self.name = QLineEdit(template.name)
        self.model = QLineEdit(template.model)
        self.model.setPlaceholderText("device model, e.g. JT709A")
        self.description = QLineEdit(template.description)
        form.addRow("Name", self.name)
        form.addRow("Model", self.model)
        form.addRow("Description", self.description)

        def dspin(value: float, lo: float, hi: float, suffix: str, decimals: int = 0):
            w = QDoubleSpinBox()
            w.setRange(lo, hi)
            w.setDecimals(decimals)
            w.setSuffix(suffix)
            w.setValue(value)
            return w

        def ispin(value: int, lo: int, hi: int, suffix: str = ""):
            w = QSpinBox()
            w.setRange(lo, hi)
            w.setSuffix(suffix)
            w.setValue(value)
            return w

        self.online = dspin(template.online_within_s / 60, 1, 1440, " min")
        self.sats = ispin(template.min_satellites, 0, 60)
        self.cell = ispin(template.min_cell_signal, 0, 31)
        self.battery = ispin(template.min_battery, 0, 100, " %")
        self.vmin = dspin(template.voltage_min, 0, 60, " V", 2)
        self.vmax = dspin(template.voltage_max, 0, 60, " V", 2)
        self.clock = dspin(template.clock_tolerance_s, 1, 86400, " s")
        self.cmd_timeout = dspin(template.command_timeout_s, 5, 3600, " s")
        form.addRow("Online: a push within", self.online)
        form.addRow("Position: satellites at least", self.sats)
        form.addRow("Position: cell signal at least", self.cell)
        form.addRow("Power: battery at least", self.battery)
        form.addRow("Power: voltage from", self.vmin)
        form.addRow("Power: voltage to", self.vmax)
        form.addRow("Clock: tolerance", self.clock)
        form.addRow("Command reply timeout", self.cmd_timeout)
        lay.addLayout(form)
        box = QGroupBox("Checks that apply")
        bl = QVBoxLayout(box)
        self.items: dict[str, QCheckBox] = {}
        for key in CHECKS:
            cb = QCheckBox(f"{LABELS[key]} — {DESCRIPTIONS[key]}")
            cb.setChecked(template.applies(key))
            self.items[key] = cb
            bl.addWidget(cb)
        lay.addWidget(box)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b02a37;")
        self.error.setVisible(False)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self._save)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def edited(self) -> Template:
        t = replace(
            self._base,
            name=self.name.text().strip(),
            model=self.model.text().strip(),
            description=self.description.text().strip(),
            online_within_s=self.online.value() * 60,
            min_satellites=self.sats.value(),
            min_cell_signal=self.cell.value(),
            min_battery=self.battery.value(),
            voltage_min=self.vmin.value(),
            voltage_max=self.vmax.value(),
            clock_tolerance_s=self.clock.value(),
            command_timeout_s=self.cmd_timeout.value(),
            items={k: cb.isChecked() for k, cb in self.items.items()},
            builtin=False,
        )
        if not t.name:
            raise TemplateError("a template needs a name")
        t.validate()
        return t

    def _save(self) -> None:
        try:
            self.result_template = self.edited()
        except TemplateError as exc:
            self.error.setText(str(exc))
            self.error.setVisible(True)
            return
        self.accept()
