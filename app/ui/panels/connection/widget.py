"""Connection panel: saved profiles and live connections, each with its state in words and colour.

Profiles come from `ProfileStore` (QSettings + keyring); live connections that are not saved
(the demo's "Demo", a command-line connection) are shown read-only. Several may be connected
at once. The "retrying in N s" countdown is recomputed each second from when the waiting
state arrived, so it ticks down without the transport saying anything new.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
)
from PySide6.QtGui import QFont, QIcon, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHeaderView,
    QInputDialog,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.transport.settings import ConnectionSettings, md5_hex
from app.transport.state import ConnectionState, Phase
from app.ui.context import AppContext
from app.ui.panel import Panel
from app.ui.panels.connection.editor import ProfileEditor
from app.ui.panels.connection.profiles import (
    PASSWORD_MD5,
    MissingSecret,
    Profile,
    ProfileStore,
    profile_from_settings,
)
from app.ui.panels.connection.secrets import ACCESS_KEY, MD5_RE, mask_access_key
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.flow import FlowLayout
from app.ui.widgets.status_dot import status_dot
from app.ui.widgets.table_model import RowsTableModel

log = logging.getLogger(__name__)

AUTOCONNECT_KEY = "connection/autoconnect"
LAST_SELECTED_KEY = "connection/last_selected"
DEMO_NAME = "Demo"

_Index = QModelIndex | QPersistentModelIndex

NOT_ENCRYPTED = "⚠ not encrypted"
NOT_ENCRYPTED_TIP = ("Not encrypted: plain MQTT to another machine. The password's MD5 and "
                     "every push cross the network readable. Edit the profile and tick TLS.")


def hide_access_key(text: str, key: str) -> str:
    """`text` (a client id an older SealDesk derived from the key, say) with the access key
    masked — also the 12 first characters the old default client id embedded."""
    key = (key or "").strip()
    if not key:
        return text
    for part in (key, key[:12]):
        if len(part) >= 4:
            text = text.replace(part, mask_access_key(key) or "…")
    return text


def profile_detail(p: Profile) -> str:
    """The info line of a saved profile: never its access key in clear."""
    if p.access_key_missing:
        key = "not saved on this computer"
        client = p.client_id or "from the access key"
    else:
        key = mask_access_key(p.access_key) or "—"
        client = p.effective_client_id
    return f"access key {key} · client id {hide_access_key(client, p.access_key)}"


def settings_detail(s: ConnectionSettings) -> str:
    """The info line of a live connection that is not saved: never its access key in clear."""
    key = mask_access_key(s.access_key) or "—"
    return f"access key {key} · client id {hide_access_key(s.client_id, s.access_key)}"


@dataclass
class Row:
    name: str
    stored: bool
    address: str = ""
    tls: bool = False
    detail: str = ""
    # False for plain MQTT to another machine: the password's MD5 and every push cross the
    # network readable. Marked on the row for as long as the profile says so.
    encrypted: bool = True

    @property
    def label(self) -> str:
        if self.stored:
            return self.name
        return f"{self.name} (built-in)" if self.name == DEMO_NAME else f"{self.name} (not saved)"


@dataclass
class _Live:
    state: ConnectionState
    arrived: float  # monotonic time the state arrived
    refused: str = ""  # the broker's refusal reason, kept while it keeps retrying


class ConnectionsModel(RowsTableModel):
    """One row per profile or live connection: name, broker, state (dot + words)."""

    COLUMNS = HEADERS = ("Profile", "Broker", "State")
    NAME_ROLE = Qt.ItemDataRole.UserRole + 1

    def __init__(self, parent=None, clock: Callable[[], float] = time.monotonic) -> None:
        super().__init__(parent)
        self._rows: list[Row] = []
        self.live: dict[str, _Live] = {}
        self.clock = clock
        self._icons: dict[str, QIcon] = {}

    @property
    def rows(self) -> list[Row]:
        return self._rows

    # -- data in --------------------------------------------------------------------------

    def set_rows(self, rows: list[Row]) -> None:
        self.beginResetModel()
        self._rows = rows
        self.endResetModel()

    def row_of(self, name: str) -> int:
        return next((i for i, r in enumerate(self.rows) if r.name == name), -1)

    def set_state(self, name: str, state: ConnectionState) -> None:
        prev = self.live.get(name)
        refused = ""
        if state.phase is Phase.REFUSED:
            refused = state.reason
        elif state.phase in (Phase.WAITING, Phase.CONNECTING) and prev is not None:
            refused = prev.refused
        self.live[name] = _Live(state, self.clock(), refused)
        self._changed(name)

    def tick(self) -> None:
        """Once a second: refresh the rows that count down."""
        for name, live in self.live.items():
            if live.state.phase is Phase.WAITING:
                self._changed(name, 2)

    def _changed(self, name: str, column: int | None = None) -> None:
        r = self.row_of(name)
        if r >= 0:
            first = self.index(r, column if column is not None else 0)
            last = self.index(r, column if column is not None else len(self.COLUMNS) - 1)
            self.dataChanged.emit(first, last)

    # -- state in words -------------------------------------------------------------------------

    def phase(self, name: str) -> Phase | None:
        live = self.live.get(name)
        return live.state.phase if live else None

    def describe(self, name: str) -> tuple[str, str]:
        """(words, colour key of STATUS_COLOURS) for the state of `name`."""
        live = self.live.get(name)
        if live is None:
            return "not connected", "disconnected"
        state = live.state
        if state.phase is Phase.WAITING and state.retry_in is not None:
            left = max(0, math.ceil(state.retry_in - (self.clock() - live.arrived)))
            if left == 0:
                why = f"{state.reason}; " if state.reason else ""
                text = f"{why}retrying now…"
            else:
                text = replace(state, retry_in=left).describe()
            if live.refused and state.reason == live.refused:
                return f"refused: {text}", "refused"
            return text, "waiting"
        if state.phase is Phase.DISCONNECTED and state.reason == "by user":
            return "disconnected", "disconnected"
        return state.describe(), state.phase.value

    # -- Qt model -------------------------------------------------------------------------------

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self.rows):
            return None
        row, col = self.rows[index.row()], index.column()
        if role == self.NAME_ROLE:
            return row.name
        if role == Qt.ItemDataRole.DisplayRole:
            if col == 0:
                return row.label
            if col == 1:
                mark = "" if row.encrypted else f" {NOT_ENCRYPTED}"
                return f"{row.address}{' TLS' if row.tls else ''}{mark}"
            if col == 2:
                return self.describe(row.name)[0]
        elif role == Qt.ItemDataRole.DecorationRole and col == 2:
            key = self.describe(row.name)[1]
            if key not in self._icons:
                self._icons[key] = status_dot(STATUS_COLOURS[key], inset=2)
            return self._icons[key]
        elif role == Qt.ItemDataRole.ForegroundRole and col == 2:
            key = self.describe(row.name)[1]
            if key in ("waiting", "refused", "connected"):
                return STATUS_COLOURS[key]
        elif role == Qt.ItemDataRole.ForegroundRole and col == 1 and not row.encrypted:
            return STATUS_COLOURS["waiting"]
        elif role == Qt.ItemDataRole.FontRole and col == 0 and not row.stored:
            font = QFont()
            font.setItalic(True)
            return font
        elif role == Qt.ItemDataRole.ToolTipRole:
            text = self.describe(row.name)[0]
            parts = [f"<b>{_esc(row.label)}</b>", _esc(row.address), _esc(row.detail),
                     _esc(text)]
            if not row.encrypted:
                parts.append(f"<b>{_esc(NOT_ENCRYPTED_TIP)}</b>")
            if not row.stored:
                parts.append("Not a saved profile: Duplicate saves it as one.")
            return "<br>".join(p for p in parts if p)
        return None


def _esc(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class ConnectionPanel(Panel):
    KEY = "connection"
    TITLE = "Connection"
    SHORTCUT = "Ctrl+1"

    def __init__(self, ctx: AppContext, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.settings = ctx.settings
        self.store = ProfileStore(ctx.settings)
        self._unsaved: dict[str, ConnectionSettings] = {}
        self.model = ConnectionsModel(self)
        self._build()
        for name, state in list(ctx.connections.states.items()):
            self.model.set_state(name, state)
        for name, settings in list(ctx.connections.settings.items()):
            if not self.store.exists(name):
                self._unsaved[name] = settings
        ctx.connections.sig_state_changed.connect(self._on_state)
        self.refresh(select=str(self.settings.value(LAST_SELECTED_KEY, "") or ""))
        self._say_migrated()
        self._timer = QTimer(self)
        self._timer.setInterval(1000)
        self._timer.timeout.connect(self.model.tick)
        self._timer.start()
        QTimer.singleShot(0, self._autoconnect)

    # -- layout -------------------------------------------------------------------------

    def _build(self) -> None:
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        # Long states ("…; retrying in 4 s") wrap rather than lose their end. A handful of
        # profiles, so rows may size to their contents.
        self.view.setWordWrap(True)
        self.view.setTextElideMode(Qt.TextElideMode.ElideMiddle)  # keep the port in sight
        self.view.verticalHeader().hide()
        self.view.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.view.setShowGrid(False)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.view.setColumnWidth(0, 110)
        self.view.setColumnWidth(1, 185)
        self.view.doubleClicked.connect(lambda _i: self.connect_selected())
        self.view.selectionModel().currentRowChanged.connect(lambda *_: self._selection_changed())
        self.model.dataChanged.connect(lambda *_: self._update_buttons())
        self.model.modelReset.connect(self._update_buttons)

        self.connect_button = QPushButton("Connect")
        self.connect_button.setToolTip("Connect the selected profile (Ctrl+Enter, double-click)")
        self.disconnect_button = QPushButton("Disconnect")
        self.disconnect_button.setToolTip("Disconnect the selected profile (Ctrl+Shift+D)")
        self.new_button = QPushButton("New…")
        self.edit_button = QPushButton("Edit…")
        self.edit_button.setToolTip("Edit the selected profile (F2)")
        self.duplicate_button = QPushButton("Duplicate")
        self.duplicate_button.setToolTip("Copy the selected profile, password included, "
                                         "or save a live connection as a profile")
        self.delete_button = QPushButton("Delete…")
        self.delete_button.setToolTip("Delete the selected profile and its saved password (Del)")
        self.connect_button.clicked.connect(self.connect_selected)
        self.disconnect_button.clicked.connect(self.disconnect_selected)
        self.new_button.clicked.connect(self.new_profile)
        self.edit_button.clicked.connect(self.edit_selected)
        self.duplicate_button.clicked.connect(self.duplicate_selected)
        self.delete_button.clicked.connect(self.delete_selected)

        buttons = FlowLayout()
        buttons.setSpacing(4)
        for b in (self.connect_button, self.disconnect_button):
            buttons.addWidget(b)
        buttons.addSpacing(10)
        for b in (self.new_button, self.edit_button, self.duplicate_button, self.delete_button):
            buttons.addWidget(b)
        buttons.addStretch(1)

        self.info_label = QLabel()
        self.info_label.setWordWrap(True)
        self.info_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.keyring_label = QLabel()
        self.keyring_label.setWordWrap(True)
        small = self.keyring_label.font()
        small.setPointSizeF(max(7.0, small.pointSizeF() * 0.9))
        self.keyring_label.setFont(small)

        lay = QVBoxLayout(self)
        lay.setContentsMargins(4, 4, 4, 4)
        lay.addLayout(buttons)
        lay.addWidget(self.view, 1)
        lay.addWidget(self.info_label)
        lay.addWidget(self.keyring_label)

        ctx_ = Qt.ShortcutContext.WidgetWithChildrenShortcut
        for keys, slot in (("Ctrl+Return", self.connect_selected),
                           ("Ctrl+Enter", self.connect_selected),
                           ("Ctrl+Shift+D", self.disconnect_selected),
                           ("F2", self.edit_selected),
                           ("Del", self.delete_selected)):
            sc = QShortcut(QKeySequence(keys), self, context=ctx_)
            sc.activated.connect(slot)
        self._update_keyring_label()

    def _say_migrated(self) -> None:
        """Access keys an older SealDesk left in the settings file were moved out of it: where
        there is no keyring they live in memory only, and the user must know it now."""
        in_memory = sorted(n for n, where in self.store.migrated.items() if where == "memory")
        if in_memory:
            names = ", ".join(f"“{n}”" for n in in_memory)
            self._say(f"Access key of {names} removed from the settings file: with no system "
                      "keyring it is kept in memory only and asked again after a restart "
                      "(keep a copy of it).", error=True)

    def _update_keyring_label(self) -> None:
        if self.store.secrets.keyring_available:
            self.keyring_label.setText(
                "Passwords and access keys are kept in the system keyring "
                f"({self.store.secrets.backend_name}), never in the settings file.")
            self.keyring_label.setStyleSheet("color: palette(placeholder-text);")
        else:
            self.keyring_label.setText(
                "No system keyring on this computer: passwords and access keys are kept in "
                "memory only and asked again after a restart (never written to disk).")
            self.keyring_label.setStyleSheet(f"color: {STATUS_COLOURS['waiting'].name()};")

    # -- rows and selection -------------------------------------------------------------------

    def refresh(self, select: str | None = None) -> None:
        keep = select if select is not None else self.selected_name()
        rows: list[Row] = []
        for name, s in self._unsaved.items():
            if self.store.exists(name):
                continue
            rows.append(Row(name, False, f"{s.host}:{s.port}", s.tls, settings_detail(s),
                            s.encrypted))
        for p in self.store.all():
            # Each profile's own "feed quiet after" (feed down ⇒ its devices unknown).
            self.ctx.feed_health.set_quiet_after(p.name, p.feed_quiet_after or None)
            plain = ConnectionSettings(host=p.host.strip(), tls=p.tls or bool(p.cafile))
            rows.append(Row(p.name, True, p.address, p.tls, profile_detail(p), plain.encrypted))
        self.model.set_rows(rows)
        r = self.model.row_of(keep) if keep else -1
        if r < 0 and rows:
            r = 0
        if r >= 0:
            self.view.selectRow(r)
        self._update_buttons()
        hint = ("No saved profiles yet. Press New… and enter the broker, account and access "
                "key of your push rule.")
        if not any(r.stored for r in rows):
            if not self.info_label.text():
                self._say(hint)
        elif self.info_label.text() == hint:
            self._say("")

    def selected_name(self) -> str:
        index = self.view.selectionModel().currentIndex()
        if not index.isValid() or not self.view.selectionModel().isRowSelected(index.row()):
            return ""
        return str(self.model.data(index, ConnectionsModel.NAME_ROLE) or "")

    def select(self, name: str) -> None:
        r = self.model.row_of(name)
        if r >= 0:
            self.view.selectRow(r)

    def _selection_changed(self) -> None:
        name = self.selected_name()
        if name:
            self.settings.setValue(LAST_SELECTED_KEY, name)
        self._update_buttons()

    def _is_live(self, name: str) -> bool:
        phase = self.model.phase(name)
        return name in self.ctx.connections.settings or (
            phase is not None and phase is not Phase.DISCONNECTED)

    def _update_buttons(self) -> None:
        name = self.selected_name()
        stored = bool(name) and self.store.exists(name)
        live = bool(name) and self._is_live(name)
        self.connect_button.setEnabled(bool(name) and self.model.phase(name)
                                       is not Phase.CONNECTED)
        self.connect_button.setText(
            "Retry now" if live and self.model.phase(name) in (Phase.WAITING, Phase.REFUSED)
            else "Connect")
        self.disconnect_button.setEnabled(live)
        self.edit_button.setEnabled(stored)
        self.duplicate_button.setEnabled(bool(name))
        self.delete_button.setEnabled(stored)

    def _say(self, text: str, *, error: bool = False) -> None:
        self.info_label.setText(text)
        self.info_label.setVisible(bool(text))
        self.info_label.setStyleSheet(
            f"color: {STATUS_COLOURS['error'].name()};" if error else "")

    # -- live state ---------------------------------------------------------------------------

    def _on_state(self, name: str, state: ConnectionState) -> None:
        self.model.set_state(name, state)
        if self.model.row_of(name) < 0 and not self.store.exists(name):
            settings = self.ctx.connections.settings.get(name)
            if settings is not None:
                self._unsaved[name] = settings
                self.refresh()
        self._update_buttons()

    # -- actions ------------------------------------------------------------------------------

    def connect_selected(self) -> None:
        name = self.selected_name()
        if name:
            self.connect_profile(name)

    def connect_profile(self, name: str, *, ask: bool = True) -> bool:
        """Start (or restart) the connection of `name`; False with a message if it cannot."""
        if not self.store.exists(name):
            settings = self._unsaved.get(name)
            if settings is None:
                self._say(f"Cannot connect “{name}”: no such profile.", error=True)
                return False
        else:
            try:
                settings = self.store.connection_settings(name)
            except MissingSecret as missing:
                if not self._supply_secrets(name, missing.missing, ask):
                    why = self.store.secrets.last_failure or "none is saved on this computer"
                    self._say(f"“{name}” not connected: it needs its "
                              f"{' and '.join(missing.missing)} ({why}).", error=True)
                    return False
                try:
                    settings = self.store.connection_settings(name)
                except (KeyError, ValueError) as exc:
                    self._say(f"Cannot connect “{name}”: {exc}. Edit the profile to fix it.",
                              error=True)
                    return False
            except (KeyError, ValueError) as exc:
                self._say(f"Cannot connect “{name}”: {exc}. Edit the profile to fix it.",
                          error=True)
                return False
        self._say("")
        self.ctx.connections.connect_profile(settings)
        self.settings.setValue(LAST_SELECTED_KEY, name)
        return True

    def _supply_secrets(self, name: str, missing: tuple[str, ...], ask: bool) -> bool:
        """Ask the user for what `name` is missing (the access key first, then the password)
        and keep it (keyring, or memory without one). False if not asked or not given."""
        if not ask:
            return False
        given: dict[str, str] = {}
        for what in sorted(missing, key=lambda w: w != ACCESS_KEY):
            value = self._ask_access_key(name) if what == ACCESS_KEY else self._ask_password(name)
            if not value:
                return False
            given[what] = value
        for what, value in given.items():
            if what == ACCESS_KEY:
                self.store.secrets.set_access_key(name, value)
            else:
                self.store.secrets.set(name, value)
        self.refresh(select=self.selected_name() or name)
        return True

    def _ask_access_key(self, name: str) -> str | None:
        """The access key for `name`, asked of the user (no keyring, or it lost the key)."""
        text, ok = QInputDialog.getText(
            self, f"Access key for {name}",
            f"“{name}” has no saved access key on this computer.\n"
            "Enter the access key of its push rule.\nIt is kept until SealDesk closes.",
            QLineEdit.EchoMode.Password)
        key = text.strip() if ok and text else ""
        if not key:
            return None
        if any(c in key for c in "/+# "):
            self._say("The access key must not contain /, +, # or spaces.", error=True)
            return None
        return key

    def _ask_password(self, name: str) -> str | None:
        """The MD5 for `name`, asked of the user (no keyring, or it lost the secret)."""
        kind = self.store.get(name).password_kind
        md5_given = kind == PASSWORD_MD5
        what = "the MD5 of the web password (32 hex characters)" if md5_given else \
            "the web password (SealDesk sends its MD5)"
        text, ok = QInputDialog.getText(
            self, f"Password for {name}",
            f"“{name}” has no saved password on this computer.\nEnter {what}.\n"
            "It is kept until SealDesk closes.",
            QLineEdit.EchoMode.Password)
        if not ok or not text:
            return None
        if md5_given:
            if not MD5_RE.match(text.strip()):
                self._say("That is not an MD5 (32 hexadecimal characters).", error=True)
                return None
            return text.strip().lower()
        return md5_hex(text)

    def disconnect_selected(self) -> None:
        name = self.selected_name()
        if name and self._is_live(name):
            self.ctx.connections.disconnect_profile(name)
            self._update_buttons()

    def new_profile(self) -> None:
        dlg = ProfileEditor(self.store, parent=self)
        if self._exec_dialog(dlg):
            self.apply_editor(dlg, None)

    def edit_selected(self) -> None:
        name = self.selected_name()
        if not name or not self.store.exists(name):
            return
        dlg = ProfileEditor(self.store, self.store.get(name),
                            autoconnect=name in self.autoconnect_names(),
                            name_locked=self._is_live(name), parent=self)
        if self._exec_dialog(dlg):
            self.apply_editor(dlg, name)

    def _exec_dialog(self, dlg: QDialog) -> bool:
        return dlg.exec() == QDialog.DialogCode.Accepted

    def apply_editor(self, dlg: ProfileEditor, old_name: str | None) -> None:
        """Save what an accepted editor holds (rename moves the secret)."""
        profile = dlg.profile
        assert profile is not None
        if old_name and old_name != profile.name:
            self.store.rename(old_name, profile.name)
            self._rename_autoconnect(old_name, profile.name)
        where = self.store.save(profile, password_md5=dlg.secret)
        self.set_autoconnect(profile.name, dlg.autoconnect)
        self.refresh(select=profile.name)
        failure = self.store.secrets.last_failure if where == "memory" else None
        note = {"keyring": " Password kept in the system keyring.",
                "memory": f" Password kept in memory only ({failure or 'no system keyring'}): "
                          "it will be asked again after a restart.",
                None: " No password."}[where]
        live = " It is still connected with the previous settings: Disconnect and Connect " \
               "to use the new ones." if old_name and self._is_live(profile.name) else ""
        self._say(f"Saved “{profile.name}”.{note}{live}")

    def duplicate_selected(self) -> None:
        name = self.selected_name()
        if not name:
            return
        if self.store.exists(name):
            copy = self.store.duplicate(name)
        else:  # a live connection that is not saved: save it as a profile
            settings = self._unsaved[name]
            copy = profile_from_settings(self.store.unique_name(f"{name} (copy)"), settings)
            copy.client_id = self.store.unique_client_id(settings.client_id,
                                                         {settings.client_id})
            self.store.save(copy, password_md5=settings.password_md5)
        self.refresh(select=copy.name)
        client = hide_access_key(copy.effective_client_id, copy.access_key)
        self._say(f"Saved “{copy.name}” (client id {client}). Edit… to change it.")

    def delete_selected(self) -> None:
        name = self.selected_name()
        if not name or not self.store.exists(name):
            return
        live = self._is_live(name)
        question = (f"Delete the connection profile “{name}” and its saved password?"
                    + ("\n\nIt is connected now and will be disconnected first." if live else ""))
        answer = QMessageBox.question(
            self, "Delete profile", question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No)
        if answer != QMessageBox.StandardButton.Yes:
            return
        if live:
            self.ctx.connections.disconnect_profile(name)
        self.store.delete(name)
        self.set_autoconnect(name, False)
        self.model.live.pop(name, None)
        self.refresh(select="")
        self._say(f"Deleted “{name}”.")

    # -- auto-connect at start ----------------------------------------------------------------

    def autoconnect_names(self) -> list[str]:
        raw = self.settings.value(AUTOCONNECT_KEY, "[]")
        try:
            names = json.loads(raw) if isinstance(raw, str) else list(raw or [])
        except ValueError:
            return []
        return [str(n) for n in names]

    def set_autoconnect(self, name: str, on: bool) -> None:
        names = [n for n in self.autoconnect_names() if n != name]
        if on:
            names.append(name)
        self.settings.setValue(AUTOCONNECT_KEY, json.dumps(names))

    def _rename_autoconnect(self, old: str, new: str) -> None:
        if old in self.autoconnect_names():
            self.set_autoconnect(old, False)
            self.set_autoconnect(new, True)

    def _autoconnect(self) -> None:
        skipped = []
        for name in self.autoconnect_names():
            if not self.store.exists(name) or name in self.ctx.connections.settings:
                continue
            if not self.connect_profile(name, ask=False):
                skipped.append(name)
        if skipped:
            self._say("Not connected at start (password not saved on this computer): "
                      + ", ".join(f"“{n}”" for n in skipped) + ". Select and press Connect.",
                      error=True)

    def shutdown(self) -> None:
        self._timer.stop()
