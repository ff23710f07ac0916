"""Compose: target, profile, template with a generated form (or free text), and the exact
text that will be published, updated on every keystroke."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from PySide6.QtCore import QStandardPaths, QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QCompleter,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from app.commands.builder import (
    LIBRARY,
    Command,
    CommandError,
    CommandTemplate,
    build,
    build_text,
    load_templates,
    parse_command_text,
    save_templates,
)
from app.ui.context import AppContext
from app.ui.panels.commands.confirm import mono_font
from app.ui.panels.commands.console import CommandConsole

log = logging.getLogger(__name__)

FREE_TEXT = "__free__"
ERROR_STYLE = "color: #d03b3b;"
MUTED_STYLE = "color: #8a8f98;"


def templates_path() -> Path:
    base = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.AppDataLocation)
    return Path(base or Path.home() / ".sealdesk") / "command-templates.json"


def slug(label: str) -> str:
    s = re.sub(r"[^0-9a-z]+", "_", label.strip().lower()).strip("_")
    return f"user_{s or 'template'}"


class ComposeWidget(QWidget):
    """Emits sig_preview_changed whenever the command (or its validity) changes."""

    sig_preview_changed = Signal()
    """The text that would be sent changed (or became invalid)."""
    sig_send_requested = Signal()
    """The operator asked to send (Ctrl+Return in the composer)."""

    def __init__(self, ctx: AppContext, console: CommandConsole,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.console = console
        self.templates_file = templates_path()
        self.user_templates: list[CommandTemplate] = []
        self._param_widgets: dict[str, QWidget] = {}
        self._param_errors: dict[str, QLabel] = {}
        self._secret_widgets: list[QLineEdit] = []
        self.command: Command | None = None
        self.error = ""

        lay = QVBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        top = QGridLayout()
        lay.addLayout(top)

        self.device_edit = QLineEdit()
        self.device_edit.setObjectName("compose_device")
        self.device_edit.setPlaceholderText("device id — pick in the tree or type")
        self.device_edit.setFont(mono_font())
        self._device_model = QStringListModel(self)
        completer = QCompleter(self._device_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.device_edit.setCompleter(completer)
        self.device_error = QLabel("")
        self.device_error.setStyleSheet(ERROR_STYLE)
        self.profile_combo = QComboBox()
        self.profile_combo.setObjectName("compose_profile")
        self.profile_combo.setMinimumContentsLength(10)
        self.profile_note = QLabel("")
        self.profile_note.setStyleSheet(MUTED_STYLE)
        top.addWidget(QLabel("Device"), 0, 0)
        top.addWidget(self.device_edit, 0, 1)
        top.addWidget(QLabel("Profile"), 0, 2)
        top.addWidget(self.profile_combo, 0, 3)
        top.addWidget(self.device_error, 1, 1)
        top.addWidget(self.profile_note, 1, 3)

        self.template_combo = QComboBox()
        self.template_combo.setObjectName("compose_template")
        # Some template names are long: the combo elides them rather than widen the panel.
        self.template_combo.setMinimumContentsLength(14)
        self.template_combo.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.save_button = QPushButton("Save as template…")
        self.save_button.setToolTip("Save the current command (with its values) as your own "
                                    "template")
        self.save_button.clicked.connect(self.save_as_template)
        top.addWidget(QLabel("Command"), 2, 0)
        top.addWidget(self.template_combo, 2, 1)
        top.addWidget(self.save_button, 2, 2, 1, 2)
        top.setColumnStretch(1, 3)
        top.setColumnStretch(3, 1)

        self.form_host = QWidget()
        self.form = QFormLayout(self.form_host)
        self.form.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.form_host)

        self.free_edit = QLineEdit()
        self.free_edit.setObjectName("compose_free_text")
        self.free_edit.setFont(mono_font())
        self.free_edit.setPlaceholderText('e.g. BASE,2   P01   (P04,1,60,30)   WLNET,1,0')

        preview = QHBoxLayout()
        lbl = QLabel("<b>Will send</b>")
        preview.addWidget(lbl)
        self.preview = QLineEdit()
        self.preview.setObjectName("compose_preview")
        self.preview.setReadOnly(True)
        self.preview.setFont(mono_font())
        self.preview.setToolTip("Exactly the text that will be published")
        preview.addWidget(self.preview, 1)
        lay.addLayout(preview)
        self.topic_label = QLabel("")
        self.topic_label.setStyleSheet(MUTED_STYLE)
        self.topic_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        lay.addWidget(self.topic_label)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        lay.addWidget(self.status)

        self.reload_templates()
        self.refresh_devices()
        self.refresh_profiles()
        self.template_combo.currentIndexChanged.connect(self._rebuild_form)
        self.device_edit.textChanged.connect(self._device_changed)
        self.profile_combo.currentIndexChanged.connect(lambda _i: self.update_preview())
        self.free_edit.textChanged.connect(lambda _t: self.update_preview())
        ctx.reveal.sig_reveal_changed.connect(self._on_reveal_changed)
        self._rebuild_form()

    # ---- sources ----------------------------------------------------------------------

    def all_templates(self) -> list[CommandTemplate]:
        return [*LIBRARY, *self.user_templates]

    def reload_templates(self) -> None:
        try:
            self.user_templates = load_templates(self.templates_file)
        except CommandError as exc:
            log.warning("user templates not loaded: %s", exc)
            self.user_templates = []
        current = self.template_combo.currentData()
        self.template_combo.blockSignals(True)
        self.template_combo.clear()
        for t in LIBRARY:
            self.template_combo.addItem(("⚠ " if t.dangerous else "") + t.label, t.name)
        for t in self.user_templates:
            self.template_combo.addItem(("⚠ " if t.dangerous else "") + f"{t.label} (mine)",
                                        t.name)
        self.template_combo.addItem("Free text…", FREE_TEXT)
        i = self.template_combo.findData(current) if current else 0
        self.template_combo.setCurrentIndex(max(0, i))
        self.template_combo.blockSignals(False)

    def refresh_devices(self) -> None:
        self._device_model.setStringList(sorted(self.ctx.fleet.devices))

    def refresh_profiles(self) -> None:
        profiles = self.console.connected_profiles()
        current = self.profile_combo.currentText()
        if profiles == [self.profile_combo.itemText(i)
                        for i in range(self.profile_combo.count())]:
            return
        self.profile_combo.blockSignals(True)
        self.profile_combo.clear()
        self.profile_combo.addItems(profiles)
        if current in profiles:
            self.profile_combo.setCurrentText(current)
        self.profile_combo.blockSignals(False)
        self._pick_profile()

    # ---- target -----------------------------------------------------------------------

    def device(self) -> str:
        return self.device_edit.text().strip()

    def set_device(self, device_id: str) -> None:
        if device_id and device_id != self.device():
            self.device_edit.setText(device_id)

    def _device_changed(self, _text: str) -> None:
        self._pick_profile()
        self._refresh_sublocks()
        self.update_preview()

    def _pick_profile(self) -> None:
        p = self.console.profile_for(self.device())
        if p:
            i = self.profile_combo.findText(p)
            if i >= 0 and i != self.profile_combo.currentIndex():
                self.profile_combo.setCurrentIndex(i)
        dev = self.ctx.fleet.devices.get(self.device())
        if self.profile_combo.count() == 0:
            self.profile_note.setText("no connection — connect a profile first")
        elif dev is not None and dev.profile and dev.profile == self.profile_combo.currentText():
            self.profile_note.setText("the device's profile")
        elif self.profile_combo.count() > 1:
            self.profile_note.setText("choose the profile the device reports on")
        else:
            self.profile_note.setText("")

    def profile(self) -> str:
        return self.profile_combo.currentText()

    def _refresh_sublocks(self) -> None:
        w = self._param_widgets.get("sublock")
        if not isinstance(w, QComboBox):
            return
        dev = self.ctx.fleet.devices.get(self.device())
        subs = sorted(dev.sublocks) if dev is not None else []
        text = w.currentText()
        w.blockSignals(True)
        w.clear()
        w.addItems(subs)
        w.setEditText(text if text else (subs[0] if subs else ""))
        w.blockSignals(False)

    # ---- the form ---------------------------------------------------------------------

    def template(self) -> CommandTemplate | None:
        name = self.template_combo.currentData()
        if name == FREE_TEXT:
            return None
        for t in self.all_templates():
            if t.name == name:
                return t
        return None

    def select_template(self, name: str) -> None:
        i = self.template_combo.findData(name)
        if i >= 0:
            self.template_combo.setCurrentIndex(i)

    def _rebuild_form(self, *_args: object) -> None:
        while self.form.rowCount():
            self.form.removeRow(0)
        self.free_edit.setParent(None)
        self._param_widgets.clear()
        self._secret_widgets.clear()
        self._param_errors.clear()
        tpl = self.template()
        if tpl is None:
            self.form.addRow("Text", self.free_edit)
            self._param_errors["text"] = self._error_row()
        else:
            for p in tpl.params:
                if p.name == "sublock":
                    w: QWidget = QComboBox()
                    w.setEditable(True)
                    w.setFont(mono_font())
                    w.editTextChanged.connect(lambda _t: self.update_preview())
                else:
                    w = QLineEdit("" if p.default is None else str(p.default))
                    if p.secret:  # an unlock password: dots, unless secrets are revealed
                        w.setEchoMode(self._echo())
                        self._secret_widgets.append(w)
                    if p.kind == "ids":
                        w.setPlaceholderText("E0171E0365, E0171E0366 …")
                        w.setFont(mono_font())
                    w.textChanged.connect(lambda _t: self.update_preview())
                w.setObjectName(f"param_{p.name}")
                rng = ""
                if p.kind == "int" and p.min is not None and p.max is not None:
                    rng = f" ({p.min}–{p.max})"
                w.setToolTip((p.help or p.label) + rng)
                self.form.addRow(p.label + rng, w)
                self._param_widgets[p.name] = w
                self._param_errors[p.name] = self._error_row()
            if tpl.dangerous:
                warn = QLabel(f"⚠ Dangerous: {tpl.reason}. You will be asked to type the device "
                              "id to confirm.")
                warn.setStyleSheet(ERROR_STYLE)
                warn.setWordWrap(True)
                self.form.addRow(warn)
        self._refresh_sublocks()
        self.update_preview()

    def _echo(self) -> QLineEdit.EchoMode:
        return QLineEdit.EchoMode.Normal if self.ctx.reveal.shown else \
            QLineEdit.EchoMode.Password

    def _on_reveal_changed(self, _shown: bool) -> None:
        for w in self._secret_widgets:
            w.setEchoMode(self._echo())
        self.update_preview()

    def _error_row(self) -> QLabel:
        e = QLabel("")
        e.setStyleSheet(ERROR_STYLE)
        e.setWordWrap(True)
        e.hide()
        self.form.addRow("", e)
        return e

    def param_values(self) -> dict[str, str]:
        out = {}
        for name, w in self._param_widgets.items():
            out[name] = w.currentText() if isinstance(w, QComboBox) else w.text()
        return out

    def set_param(self, name: str, value: str) -> None:
        w = self._param_widgets[name]
        if isinstance(w, QComboBox):
            w.setEditText(value)
        else:
            w.setText(value)

    def set_free_text(self, text: str) -> None:
        self.select_template(FREE_TEXT)
        self.free_edit.setText(text)

    # ---- the command ------------------------------------------------------------------

    def build_command(self, device: str, serial: str | None) -> Command:
        """The current form for `device` (bulk reuses this with each device)."""
        tpl = self.template()
        if tpl is None:
            return build_text(self.free_edit.text(), device, serial,
                              templates=self.all_templates())
        return build(tpl, device, None if tpl.short else serial, **self.param_values())

    def needs_serial(self) -> bool:
        tpl = self.template()
        if tpl is not None:
            return not tpl.short
        try:
            p = parse_command_text(self.free_edit.text())
        except CommandError:
            return False
        return p.index is not None and p.serial is None

    def update_preview(self) -> None:
        for e in self._param_errors.values():
            e.hide()
        self.device_error.setText("")
        self.command, self.error = None, ""
        device = self.device()
        try:
            if not device:
                raise CommandError("choose a device", "device")
            from app.commands.builder import check_device

            check_device(device)
            serial = self.console.peek_serial(device) if self.needs_serial() else None
            self.command = self.build_command(device, serial)
        except CommandError as exc:
            self.error = str(exc)
            target = self._param_errors.get(exc.param or "")
            if exc.param == "device":
                self.device_error.setText(self.error)
            elif target is not None:
                target.setText(self.error)
                target.show()
        if self.command is not None:
            # what will be published, its unlock password masked unless revealed
            self.preview.setText(self.ctx.reveal.command(self.command.text))
            self.preview.setStyleSheet("")
            key = ""
            try:
                key = self.console.access_key(self.profile()) if self.profile() else ""
            except Exception:
                key = ""
            topic = self.command.topic(key or "{access key}")
            note = f"to {topic} at QoS 1 · reply expected as {self.command.name}"
            if self.command.serial is None:
                note += " · short form, no serial"
            self.topic_label.setText(note)
            if self.command.dangerous:
                self.status.setText(f"⚠ {self.command.reason} — typed confirmation required")
                self.status.setStyleSheet(ERROR_STYLE)
            else:
                self.status.setText("")
                self.status.setStyleSheet("")
        else:
            self.preview.setText("")
            self.preview.setPlaceholderText(f"nothing to send: {self.error}")
            self.topic_label.setText("")
            shown = self.error if (
                self.device_error.text() == "" and not any(
                    e.isVisibleTo(self) for e in self._param_errors.values())) else ""
            self.status.setText(shown)
            self.status.setStyleSheet(ERROR_STYLE)
        self.sig_preview_changed.emit()

    # ---- user templates -----------------------------------------------------------------

    def save_as_template(self, label: str | None = None) -> CommandTemplate | None:
        """The current command's fields, fixed, under a name of the user's choice."""
        if self.command is None:
            QMessageBox.information(self, "Save as template",
                                    f"Nothing to save: {self.error or 'no command'}")
            return None
        if label is None and not self.command.secret_params:
            label, ok = QInputDialog.getText(self, "Save as template", "Template name:",
                                             text=self.command.text.strip("()"))
            if not ok or not label.strip():
                return None
        c = self.command
        if c.secret_params:
            QMessageBox.information(self, "Save as template",
                                    "A command with an unlock password is not saved as a "
                                    "template: the password would be written to disk.")
            return None
        name = slug(label)
        taken = {t.name for t in self.all_templates()}
        base, n = name, 2
        while name in taken:
            name, n = f"{base}_{n}", n + 1
        tpl = CommandTemplate(name=name, label=label.strip(), cmd=c.cmd, index=c.index,
                              fixed=tuple(c.params), dangerous=c.dangerous, reason=c.reason,
                              user=True)
        try:
            save_templates(self.templates_file, [*self.user_templates, tpl])
        except (OSError, CommandError) as exc:
            QMessageBox.warning(self, "Save as template", f"Could not save: {exc}")
            return None
        self.reload_templates()
        self.select_template(tpl.name)
        return tpl
