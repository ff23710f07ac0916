"""The dialog that creates or edits one connection profile; it validates, the panel saves."""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.transport.settings import hashed_client_id, md5_hex
from app.ui.panels.connection.profiles import (
    DEFAULT_TOPIC,
    PASSWORD_MD5,
    PASSWORD_WEB,
    VENDOR_HOST,
    Profile,
    ProfileStore,
    check_name,
    expand_topic,
)
from app.ui.panels.connection.secrets import MD5_RE, NO_KEYRING_NOTE
from app.ui.theme import STATUS_COLOURS

KEEP: Any = ProfileStore._KEEP  # "leave the saved secret as it is"

_RED = STATUS_COLOURS["error"].name()
_AMBER = STATUS_COLOURS["waiting"].name()
_INVALID = f"border: 1px solid {_RED};"


def topic_problem(topic: str) -> str | None:
    """Why an MQTT subscription filter is malformed, or None."""
    if len(topic.encode("utf-8")) > 65535:
        return "is too long"
    levels = topic.split("/")
    for i, level in enumerate(levels):
        if "#" in level and (level != "#" or i != len(levels) - 1):
            return "“#” must be a whole level and the last one (e.g. upload/KEY/#)"
        if "+" in level and level != "+":
            return "“+” must be a whole level (e.g. upload/KEY/+/alarm)"
    return None


class _FileRow(QWidget):
    def __init__(self, title: str, filters: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.edit = QLineEdit()
        self.edit.setPlaceholderText("none")
        self.edit.setClearButtonEnabled(True)
        browse = QPushButton("Browse…")
        browse.setAutoDefault(False)
        browse.clicked.connect(self._browse)
        lay = QHBoxLayout(self)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.addWidget(self.edit, 1)
        lay.addWidget(browse)
        self._title, self._filters = title, filters

    def _browse(self) -> None:
        start = os.path.dirname(self.edit.text()) if self.edit.text() else ""
        path, _ = QFileDialog.getOpenFileName(self, self._title, start, self._filters)
        if path:
            self.edit.setText(path)

    def text(self) -> str:
        return self.edit.text().strip()


class ProfileEditor(QDialog):
    """New/edit dialog. After accept(): `profile`, `secret` (KEEP, None or an MD5) and
    `autoconnect`."""

    def __init__(
        self,
        store: ProfileStore,
        profile: Profile | None = None,
        *,
        autoconnect: bool = False,
        name_locked: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.original = profile if profile is not None and store.exists(profile.name) else None
        start = profile or Profile(name=store.unique_name("New profile"), host=VENDOR_HOST)
        self.setWindowTitle(
            f"Edit connection profile — {start.name}" if self.original else "New connection profile"
        )
        self.profile: Profile | None = None
        self.secret: Any = KEEP
        self.autoconnect = autoconnect
        self._saved_secret = store.secret_location(start.name) if self.original else None
        self._extra = dict(start.extra)
        self._build(start, autoconnect, name_locked)
        self.setMinimumWidth(620)

    # -- layout --------------------------------------------------------------------------

    def _build(self, p: Profile, autoconnect: bool, name_locked: bool) -> None:
        outer = QVBoxLayout(self)

        top = QFormLayout()
        self.name_edit = QLineEdit(p.name)
        if name_locked:
            self.name_edit.setEnabled(False)
            self.name_edit.setToolTip("Disconnect the profile to rename it.")
        top.addRow("Profile &name:", self.name_edit)
        outer.addLayout(top)

        # Broker
        broker = QGroupBox("Broker")
        broker_lay = QVBoxLayout(broker)
        form = QFormLayout()
        broker_lay.addLayout(form)
        self.host_edit = QLineEdit(p.host)
        self.host_edit.setPlaceholderText(VENDOR_HOST)
        self.port_edit = QLineEdit(str(p.port))
        self.port_edit.setMaximumWidth(80)
        self.tls_check = QCheckBox("TLS (encrypted; the broker's certificate is verified)")
        self.tls_check.setChecked(p.tls)
        self.tls_check.toggled.connect(self._on_tls)
        host_row = QHBoxLayout()
        host_row.addWidget(self.host_edit, 1)
        host_row.addWidget(QLabel("Port:"))
        host_row.addWidget(self.port_edit)
        form.addRow(_label("&Host:", self.host_edit), host_row)
        form.addRow("", self.tls_check)
        self.tls_box = QWidget()
        tls_lay = QVBoxLayout(self.tls_box)
        tls_lay.setContentsMargins(0, 0, 0, 0)
        tls_form = QFormLayout()
        tls_lay.addLayout(tls_form)
        pem = "Certificates (*.pem *.crt *.cer *.key);;All files (*)"
        self.ca_row = _FileRow("CA certificate", pem)
        self.ca_row.edit.setPlaceholderText("none: the system's trusted CAs")
        self.cert_row = _FileRow("Client certificate", pem)
        self.key_row = _FileRow("Client key", pem)
        self.ca_row.edit.setText(p.cafile)
        self.cert_row.edit.setText(p.certfile)
        self.key_row.edit.setText(p.keyfile)
        tls_form.addRow("CA file:", self.ca_row)
        tls_form.addRow("Client certificate:", self.cert_row)
        tls_form.addRow("Client key:", self.key_row)
        self.insecure_check = QCheckBox("Allow an untrusted certificate (not recommended)")
        self.insecure_check.setChecked(p.tls_insecure)
        self.insecure_warning = QLabel(
            "Insecure: the broker's identity is not checked. Anyone on the network path "
            "could pose as the broker and receive the password's MD5."
        )
        self.insecure_warning.setWordWrap(True)
        self.insecure_warning.setStyleSheet(f"color: {_RED}; font-weight: bold;")
        self.insecure_check.toggled.connect(self.insecure_warning.setVisible)
        tls_lay.addWidget(self.insecure_check)
        tls_lay.addWidget(self.insecure_warning)
        broker_lay.addWidget(self.tls_box)
        outer.addWidget(broker)

        # Account
        account = QGroupBox("Account (from the push rule)")
        account_lay = QVBoxLayout(account)
        form = QFormLayout()
        account_lay.addLayout(form)
        self.user_edit = QLineEdit(p.username)
        self.user_edit.setPlaceholderText("the rule's account")
        form.addRow("&Username:", self.user_edit)
        self.password_edit = QLineEdit()
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        self.show_button = QToolButton(text="Show", checkable=True)
        self.show_button.setToolTip("Show or hide what is typed")
        self.show_button.toggled.connect(self._on_show)
        pw_row = QHBoxLayout()
        pw_row.addWidget(self.password_edit, 1)
        pw_row.addWidget(self.show_button)
        form.addRow(_label("&Password:", self.password_edit), pw_row)
        self.web_radio = QRadioButton("the web password (SealDesk sends its MD5)")
        self.md5_radio = QRadioButton("its MD5 already (32 hex characters)")
        self.kind_group = QButtonGroup(self)
        self.kind_group.addButton(self.web_radio)
        self.kind_group.addButton(self.md5_radio)
        (self.md5_radio if p.password_kind == PASSWORD_MD5 else self.web_radio).setChecked(True)
        form.addRow("It is:", self.web_radio)
        form.addRow("", self.md5_radio)
        self.forget_check = QCheckBox("Forget the saved password")
        self.password_note = QLabel()
        self.password_note.setWordWrap(True)
        self.keyring_note = QLabel(NO_KEYRING_NOTE)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setStyleSheet(f"color: {_AMBER}; font-weight: bold;")
        self.keyring_note.setVisible(not store_has_keyring(self.store))
        account_lay.addWidget(self.password_note)
        account_lay.addWidget(self.forget_check)
        account_lay.addWidget(self.keyring_note)
        form = QFormLayout()
        account_lay.addLayout(form)
        self.password_edit.textChanged.connect(self._update_password_note)
        self.web_radio.toggled.connect(self._update_password_note)
        self.forget_check.toggled.connect(self._update_password_note)
        self.key_edit = QLineEdit(p.access_key)
        self.key_edit.setPlaceholderText(
            "not saved on this computer: enter it again" if p.access_key_missing
            else "assigned per push rule")
        self.key_edit.setToolTip("Kept with the password in the system keyring (in memory "
                                 "only without one), never in the settings file.")
        form.addRow("&Access key:", self.key_edit)
        self.client_edit = QLineEdit("" if p.access_key_missing and not p.client_id
                                     else p.effective_client_id)
        self._client_auto = not p.client_id
        self.client_edit.textEdited.connect(self._on_client_edited)
        self.client_edit.setToolTip(
            "Keep it stable: with a persistent session the broker keeps pushes for this id "
            "while you are away. Two connections must never share one."
        )
        form.addRow("&Client id:", self.client_edit)
        outer.addWidget(account)

        # Subscription
        sub = QGroupBox("Subscription")
        form = QFormLayout(sub)
        self.qos_combo = QComboBox()
        self.qos_combo.addItem("1 — at least once (no push lost; recommended)", 1)
        self.qos_combo.addItem("0 — at most once (pushes can be lost)", 0)
        self.qos_combo.setCurrentIndex(0 if p.qos == 1 else 1)
        form.addRow("&QoS:", self.qos_combo)
        self.clean_check = QCheckBox(
            "Clean session (pushes sent while SealDesk is away are not kept)")
        self.clean_check.setChecked(p.clean_session)
        form.addRow("", self.clean_check)
        self.topics_edit = QPlainTextEdit("\n".join(expand_topic(t, p.access_key)
                                                    for t in p.topics))
        self.topics_edit.setPlaceholderText("one filter per line, e.g. upload/KEY/#")
        self.topics_edit.setFixedHeight(64)
        self.topics_edit.setTabChangesFocus(True)
        form.addRow("&Topic filters:", self.topics_edit)
        self._last_key = p.access_key
        self.key_edit.textChanged.connect(self._on_key_changed)
        self.feed_quiet = QSpinBox()
        self.feed_quiet.setObjectName("feed_quiet_after")
        self.feed_quiet.setRange(0, 7 * 24 * 3600)
        self.feed_quiet.setSingleStep(30)
        self.feed_quiet.setSuffix(" s")
        self.feed_quiet.setSpecialValueText("as Settings › Quiet after")
        self.feed_quiet.setValue(max(0, p.feed_quiet_after))
        self.feed_quiet.setToolTip(
            "With no push at all on this connection for this long, the feed counts as down and "
            "its devices show as unknown (not online). A fleet reporting every 10 minutes wants "
            "more than one reporting every 10 seconds.")
        form.addRow("&Feed quiet after:", self.feed_quiet)
        outer.addWidget(sub)

        self.auto_check = QCheckBox("Connect this profile when SealDesk starts")
        self.auto_check.setChecked(autoconnect)
        outer.addWidget(self.auto_check)

        self.error_label = QLabel()
        self.error_label.setWordWrap(True)
        self.error_label.setStyleSheet(f"color: {_RED};")
        self.error_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.error_label.hide()
        outer.addWidget(self.error_label)

        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        outer.addWidget(buttons)

        self._on_tls(p.tls, adjust_port=False)
        self.insecure_warning.setVisible(p.tls_insecure)
        self._update_password_note()

    # -- reactions -------------------------------------------------------------------------

    def _on_tls(self, on: bool, adjust_port: bool = True) -> None:
        self.tls_box.setVisible(on)
        if adjust_port:
            port = self.port_edit.text().strip()
            if on and port in ("", "1883"):
                self.port_edit.setText("8883")
            elif not on and port in ("", "8883"):
                self.port_edit.setText("1883")
        if self.isVisible():
            self.adjustSize()

    def _on_show(self, shown: bool) -> None:
        self.password_edit.setEchoMode(
            QLineEdit.EchoMode.Normal if shown else QLineEdit.EchoMode.Password)
        self.show_button.setText("Hide" if shown else "Show")

    def _on_client_edited(self, text: str) -> None:
        self._client_auto = not text.strip()

    def _on_key_changed(self, key: str) -> None:
        key = key.strip()
        if self._client_auto:
            self.client_edit.setText(hashed_client_id(key, "console"))
        old_default = expand_topic(DEFAULT_TOPIC, self._last_key)
        lines = [t.strip() for t in self.topics_edit.toPlainText().splitlines() if t.strip()]
        if not lines or lines == [old_default]:
            self.topics_edit.setPlainText(expand_topic(DEFAULT_TOPIC, key))
        self._last_key = key

    def _update_password_note(self, *_: object) -> None:
        typed = self.password_edit.text()
        saved = self._saved_secret
        self.forget_check.setVisible(bool(saved) and not typed)
        if typed and self.web_radio.isChecked() and MD5_RE.match(typed):
            text, colour = ("This looks like an MD5 already: choose “its MD5 already” if it is, "
                            "or SealDesk will send the MD5 of the MD5."), _AMBER
        elif typed:
            text, colour = "", ""
        elif saved == "keyring":
            text, colour = ("A password is saved in the system keyring. "
                            "Leave this empty to keep it."), ""
        elif saved == "memory":
            text, colour = ("A password is kept in memory for this session. "
                            "Leave this empty to keep it."), ""
        else:
            text, colour = "No password saved (leave empty if the broker needs none).", ""
        if not self.forget_check.isHidden() and self.forget_check.isChecked():
            text, colour = "The saved password will be removed.", _AMBER
        self.password_note.setText(text)
        self.password_note.setStyleSheet(f"color: {colour};" if colour else "")
        self.password_note.setVisible(bool(text))

    # -- validation --------------------------------------------------------------------------

    def set_password(self, text: str, kind: str = PASSWORD_WEB) -> None:
        (self.md5_radio if kind == PASSWORD_MD5 else self.web_radio).setChecked(True)
        self.password_edit.setText(text)

    def validate(self) -> list[str]:
        """Every problem, in words; also marks the fields. Empty list: ready to save."""
        errors: list[tuple[QWidget, str]] = []
        name = self.name_edit.text()
        problem = check_name(name)
        if problem:
            errors.append((self.name_edit, problem))
        else:
            clash = self.store.find(name)
            if clash is not None and (self.original is None or clash != self.original.name):
                errors.append((self.name_edit, f"A profile named “{clash}” already exists."))

        host = self.host_edit.text().strip()
        if not host:
            errors.append((self.host_edit, "Enter the broker's host name or address."))
        elif "://" in host or "/" in host or " " in host or (":" in host and not _is_ip(host)):
            errors.append((self.host_edit,
                           "Host: only the name or address (e.g. mqtt.assetscontrols.com), "
                           "without mqtt://, a port or a path."))

        port_text = self.port_edit.text().strip()
        if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
            errors.append((self.port_edit,
                           f"Port must be a number from 1 to 65535 (not “{port_text}”)."))

        if self.tls_check.isChecked():
            for row, what in ((self.ca_row, "CA file"), (self.cert_row, "Client certificate"),
                              (self.key_row, "Client key")):
                path = row.text()
                if path and not os.path.isfile(path):
                    errors.append((row.edit, f"{what} not found: {path}"))
            if self.key_row.text() and not self.cert_row.text():
                errors.append((self.cert_row.edit,
                               "A client key needs its client certificate."))

        typed = self.password_edit.text()
        if typed and self.md5_radio.isChecked() and not MD5_RE.match(typed.strip()):
            errors.append((self.password_edit,
                           "The MD5 must be exactly 32 hexadecimal characters (0-9, a-f); "
                           f"this has {len(typed.strip())}."))

        key = self.key_edit.text().strip()
        if not key:
            errors.append((self.key_edit, "Enter the access key of the push rule."))
        elif "/" in key or "+" in key or "#" in key or " " in key:
            errors.append((self.key_edit,
                           "The access key must not contain /, +, # or spaces."))

        client = self.client_edit.text().strip()
        if not client:
            errors.append((self.client_edit, "Enter a client id."))
        else:
            for other in self.store.all():
                if (self.original is None or other.name != self.original.name) and \
                        other.effective_client_id == client:
                    errors.append((self.client_edit,
                                   f"Client id already used by profile “{other.name}”: two "
                                   "connections with one client id keep disconnecting each "
                                   "other."))
                    break

        lines = [t.strip() for t in self.topics_edit.toPlainText().splitlines() if t.strip()]
        if not lines:
            errors.append((self.topics_edit, "Give at least one topic filter, e.g. "
                           f"{expand_topic(DEFAULT_TOPIC, key or 'KEY')}."))
        for t in lines:
            why = topic_problem(t)
            if why:
                errors.append((self.topics_edit, f"Topic filter “{t}”: {why}."))

        for w in (self.name_edit, self.host_edit, self.port_edit, self.ca_row.edit,
                  self.cert_row.edit, self.key_row.edit, self.password_edit, self.key_edit,
                  self.client_edit, self.topics_edit):
            w.setStyleSheet("")
        for w, _ in errors:
            w.setStyleSheet(_INVALID)
        messages = [m for _, m in errors]
        self.error_label.setText("\n".join(f"• {m}" for m in messages))
        self.error_label.setVisible(bool(messages))
        return messages

    def build_profile(self) -> Profile:
        key = self.key_edit.text().strip()
        prefix = f"upload/{key}/"
        topics = []
        for t in self.topics_edit.toPlainText().splitlines():
            t = t.strip()
            if not t:
                continue
            if key and t.startswith(prefix):  # keep following the access key
                t = "upload/{access_key}/" + t[len(prefix):]
            topics.append(t)
        client = self.client_edit.text().strip()
        if self._client_auto or client == hashed_client_id(key, "console"):
            client = ""
        tls = self.tls_check.isChecked()
        base = self.original or Profile(name="")
        return replace(
            base,
            name=self.name_edit.text(),
            host=self.host_edit.text().strip(),
            port=int(self.port_edit.text().strip()),
            tls=tls,
            cafile=self.ca_row.text() if tls else "",
            certfile=self.cert_row.text() if tls else "",
            keyfile=self.key_row.text() if tls else "",
            tls_insecure=tls and self.insecure_check.isChecked(),
            username=self.user_edit.text().strip(),
            access_key=key,
            client_id=client,
            qos=int(self.qos_combo.currentData()),
            clean_session=self.clean_check.isChecked(),
            topics=topics,
            password_kind=PASSWORD_MD5 if self.md5_radio.isChecked() else PASSWORD_WEB,
            feed_quiet_after=self.feed_quiet.value(),
            extra=dict(self._extra),
        )

    def build_secret(self) -> Any:
        """KEEP, None (forget) or the MD5 to store. The plain password goes no further."""
        typed = self.password_edit.text()
        if typed:
            return typed.strip().lower() if self.md5_radio.isChecked() else md5_hex(typed)
        if not self.forget_check.isHidden() and self.forget_check.isChecked():
            return None
        return KEEP

    def accept(self) -> None:
        if self.validate():
            return
        self.profile = self.build_profile()
        self.secret = self.build_secret()
        self.autoconnect = self.auto_check.isChecked()
        self.password_edit.clear()  # the plain password does not outlive the dialog
        super().accept()


def _label(text: str, buddy: QWidget) -> QLabel:
    label = QLabel(text)
    label.setBuddy(buddy)
    return label


def _is_ip(host: str) -> bool:
    import ipaddress

    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def store_has_keyring(store: ProfileStore) -> bool:
    return store.secrets.keyring_available
