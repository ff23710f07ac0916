"""Connection panel against real brokers: state in words for connected, down, back, refused."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QMessageBox

from app.brokers import BrokerProcess, PortReservation, find_mosquitto, wait_for_port
from app.transport.settings import ConnectionSettings, hashed_client_id, md5_hex
from app.transport.state import ConnectionState, Phase
from app.ui.panels.connection import secrets
from app.ui.panels.connection.editor import ProfileEditor
from app.ui.panels.connection.profiles import PASSWORD_MD5, Profile, ProfileStore
from app.ui.panels.connection.widget import ConnectionPanel, ConnectionsModel, Row

WAIT_MS = 30_000
WEB_PASSWORD = "right-web-password"


@pytest.fixture
def panel(qtbot, session, fake_keyring):
    p = ConnectionPanel(session.ctx)
    qtbot.addWidget(p)
    p.resize(700, 300)
    yield p
    p.shutdown()


def state_text(panel: ConnectionPanel, name: str) -> str:
    r = panel.model.row_of(name)
    assert r >= 0, f"no row for {name!r}"
    return panel.model.data(panel.model.index(r, 2))


def save(panel: ConnectionPanel, name: str, host: str, port: int, **kw) -> None:
    md5 = kw.pop("password_md5", None)
    panel.store.save(Profile(name=name, host=host, port=port, access_key="AK0001",
                             client_id=f"test-{name}", **kw), password_md5=md5)
    panel.refresh(select=name)


# -- model -------------------------------------------------------------------------------


def test_model_passes_qtmodeltester(qtmodeltester):
    model = ConnectionsModel()
    model.set_rows([Row("A", True, "h:1883"), Row("Demo", False, "127.0.0.1:1", detail="x")])
    model.set_state("A", ConnectionState(Phase.WAITING, "down", retry_in=4, attempt=2))
    model.set_state("Demo", ConnectionState(Phase.CONNECTED))
    qtmodeltester.check(model)
    assert model.data(model.index(1, 0)) == "Demo (built-in)"


def test_countdown_ticks_down_from_when_the_state_arrived():
    now = [100.0]
    model = ConnectionsModel(clock=lambda: now[0])
    model.set_rows([Row("P", True, "h:1")])
    reason = "nothing listening at h:1 (connection refused)"
    model.set_state("P", ConnectionState(Phase.WAITING, reason, retry_in=4, attempt=3))
    assert model.describe("P") == (f"{reason}; retrying in 4 s", "waiting")
    changed = []
    model.dataChanged.connect(lambda a, b, *_: changed.append((a.row(), a.column())))
    now[0] += 1.2
    model.tick()
    assert changed == [(0, 2)]
    assert model.describe("P")[0] == f"{reason}; retrying in 3 s"
    now[0] += 2.0
    assert model.describe("P")[0] == f"{reason}; retrying in 1 s"
    now[0] += 5
    assert model.describe("P")[0] == f"{reason}; retrying now…"
    # a refusal keeps its colour and word while the transport waits to try again
    model.set_state("P", ConnectionState(Phase.REFUSED, "bad username or password"))
    model.set_state("P", ConnectionState(Phase.WAITING, "bad username or password", retry_in=2))
    assert model.describe("P") == ("refused: bad username or password; retrying in 2 s",
                                   "refused")
    model.set_state("P", ConnectionState(Phase.DISCONNECTED, "by user"))
    assert model.describe("P") == ("disconnected", "disconnected")


# -- real brokers ------------------------------------------------------------------------------


def test_connect_and_disconnect_a_real_broker(qtbot, panel, broker, ini, fake_keyring):
    save(panel, "Yard", broker.host, broker.port, password_md5=md5_hex("pw"))
    assert state_text(panel, "Yard") == "not connected"
    panel.show()
    qtbot.waitExposed(panel)
    panel.view.setFocus()
    centre = panel.view.visualRect(panel.model.index(0, 0)).center()
    # an item view acts on a double-click only on the item the press was on
    qtbot.mouseClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.mouseDClick(panel.view.viewport(), Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: state_text(panel, "Yard") == "connected", timeout=WAIT_MS)
    assert not panel.connect_button.isEnabled() and panel.disconnect_button.isEnabled()
    assert "Yard" in panel.ctx.connections.settings
    panel.view.setFocus()
    qtbot.keyClick(panel.view, Qt.Key.Key_D,
                   Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
    qtbot.waitUntil(lambda: state_text(panel, "Yard") == "disconnected", timeout=WAIT_MS)
    # …and Ctrl+Return connects the selected profile again
    qtbot.keyClick(panel.view, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: state_text(panel, "Yard") == "connected", timeout=WAIT_MS)
    assert md5_hex("pw") not in ini.read_text()
    assert QSettings(str(ini), QSettings.Format.IniFormat).value(
        "connection/last_selected") == "Yard"


def test_broker_down_then_back(qtbot, panel):
    back = BrokerProcess()  # its port is bound (and refuses) until it starts: no one takes it
    port = back.port
    save(panel, "Depot", "127.0.0.1", port)
    panel.connect_selected()
    qtbot.waitUntil(lambda: "retrying in" in state_text(panel, "Depot"), timeout=WAIT_MS)
    text = state_text(panel, "Depot")
    assert f"nothing listening at 127.0.0.1:{port} (connection refused)" in text
    assert panel.connect_button.text() == "Retry now"
    icon_colour = panel.model.describe("Depot")[1]
    assert icon_colour == "waiting"
    try:
        back.start()
        # no click: the transport's own retry finds the broker
        qtbot.waitUntil(lambda: state_text(panel, "Depot") == "connected", timeout=WAIT_MS)
    finally:
        back.release()
    qtbot.waitUntil(lambda: "retrying in" in state_text(panel, "Depot") or
                    "connecting" in state_text(panel, "Depot"), timeout=WAIT_MS)


@pytest.fixture
def auth_broker(tmp_path):
    """mosquitto that wants a username and the MD5 of WEB_PASSWORD, as the vendor's does."""
    mosquitto = find_mosquitto()
    passwd = shutil.which("mosquitto_passwd") or (
        "/usr/bin/mosquitto_passwd" if Path("/usr/bin/mosquitto_passwd").exists() else None)
    if not mosquitto or not passwd:
        pytest.skip("mosquitto and mosquitto_passwd are needed for the refused-credentials test")
    pwfile = tmp_path / "passwords"
    subprocess.run([passwd, "-b", "-c", str(pwfile), "rule-account", md5_hex(WEB_PASSWORD)],
                   check=True, capture_output=True)
    pwfile.chmod(0o600)
    hold = PortReservation()  # held while mosquitto serves it (both bind with SO_REUSEADDR)
    port = hold.port
    conf = tmp_path / "mosquitto.conf"
    # As root, mosquitto drops to user "mosquitto", who cannot read pytest's private tmp dir.
    as_root = "user root\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
    conf.write_text(f"listener {port} 127.0.0.1\nallow_anonymous false\n"
                    f"password_file {pwfile}\npersistence false\n{as_root}")
    log = tmp_path / "mosquitto.log"
    with log.open("wb") as out:
        proc = subprocess.Popen([mosquitto, "-c", str(conf)], stdout=out,
                                stderr=subprocess.STDOUT)
    try:
        if not wait_for_port("127.0.0.1", port, 15):
            pytest.fail(f"mosquitto with a password file did not start:\n{log.read_text()}")
        yield port
    finally:
        proc.terminate()
        proc.wait(10)
        hold.close()


def test_refused_credentials_and_several_connections(qtbot, panel, auth_broker, broker):
    save(panel, "Wrong", "127.0.0.1", auth_broker, username="rule-account",
         password_md5=md5_hex("not-the-password"))
    save(panel, "Right", "127.0.0.1", auth_broker, username="rule-account",
         password_md5=md5_hex(WEB_PASSWORD))
    save(panel, "Open", broker.host, broker.port)
    for name in ("Wrong", "Right", "Open"):
        assert panel.connect_profile(name)

    def refused() -> bool:
        text = state_text(panel, "Wrong")
        return "bad username or password" in text or "not authorised" in text

    qtbot.waitUntil(refused, timeout=WAIT_MS)
    assert state_text(panel, "Wrong").startswith("refused: ")
    assert panel.model.describe("Wrong")[1] == "refused"
    # the right MD5 gets in, and several profiles are connected at the same time
    qtbot.waitUntil(lambda: state_text(panel, "Right") == "connected", timeout=WAIT_MS)
    qtbot.waitUntil(lambda: state_text(panel, "Open") == "connected", timeout=WAIT_MS)
    assert {"Wrong", "Right", "Open"} <= set(panel.ctx.connections.settings)


def test_no_keyring_asks_the_password_and_keeps_it_in_memory(
        qtbot, session, auth_broker, no_keyring, ini, monkeypatch):
    panel = ConnectionPanel(session.ctx)
    qtbot.addWidget(panel)
    assert "No system keyring" in panel.keyring_label.text()
    save(panel, "Rule", "127.0.0.1", auth_broker, username="rule-account",
         password_md5=md5_hex(WEB_PASSWORD))
    secrets.forget_session_secrets()  # as after a restart: the MD5 was never on disk
    assert not panel.connect_profile("Rule", ask=False)
    assert "needs its password and access key" in panel.info_label.text()
    panel.refresh()  # as the next start lists it
    assert "access key not saved on this computer" in panel.model.rows[0].detail
    asked = []
    monkeypatch.setattr(panel, "_ask_access_key",
                        lambda name: asked.append(("key", name)) or "AK0001")
    monkeypatch.setattr(panel, "_ask_password",
                        lambda name: asked.append(("password", name)) or md5_hex(WEB_PASSWORD))
    assert panel.connect_profile("Rule")
    qtbot.waitUntil(lambda: state_text(panel, "Rule") == "connected", timeout=WAIT_MS)
    assert asked == [("key", "Rule"), ("password", "Rule")]
    assert panel.store.secret_location("Rule") == "memory"
    assert panel.store.secrets.access_key_location("Rule") == "memory"
    assert panel.ctx.connections.settings["Rule"].topics == ("upload/AK0001/#",)
    assert md5_hex(WEB_PASSWORD) not in ini.read_text()
    assert b"AK0001" not in ini.read_bytes()
    panel.shutdown()


def test_live_connection_without_profile_is_shown_read_only(qtbot, panel, broker):
    demo = ConnectionSettings.from_options(host=broker.host, port=broker.port,
                                           access_key="DEMO", client_id="demo-console",
                                           profile="Demo")
    panel.ctx.connections.connect_profile(demo)
    qtbot.waitUntil(lambda: panel.model.row_of("Demo") >= 0
                    and state_text(panel, "Demo") == "connected", timeout=WAIT_MS)
    r = panel.model.row_of("Demo")
    assert panel.model.data(panel.model.index(r, 0)) == "Demo (built-in)"
    panel.select("Demo")
    assert not panel.edit_button.isEnabled() and not panel.delete_button.isEnabled()
    assert panel.disconnect_button.isEnabled()
    assert panel.store.names() == []
    # Duplicate saves it as a real profile
    panel.duplicate_selected()
    copy = panel.store.get("Demo (copy)")
    assert (copy.host, copy.port, copy.access_key) == (broker.host, broker.port, "DEMO")
    assert copy.client_id != "demo-console"  # never two sessions with one client id


def test_window_profile_option_uses_the_store(qtbot, panel, session, broker):
    """What `python main.py --profile NAME` does: Session.connect_saved_profile(NAME)."""
    save(panel, "Shortcut", broker.host, broker.port, username="u",
         password_md5=md5_hex("secret"))
    settings = ProfileStore(session.settings).connection_settings("Shortcut")
    assert (settings.profile, settings.host, settings.port) == ("Shortcut", broker.host,
                                                                broker.port)
    assert settings.password_md5 == md5_hex("secret") and settings.username == "u"
    assert settings.topics == ("upload/AK0001/#",)
    session.connect_saved_profile("Shortcut")
    qtbot.waitUntil(lambda: state_text(panel, "Shortcut") == "connected", timeout=WAIT_MS)
    with pytest.raises(KeyError, match="no connection profile named 'Missing'"):
        session.connect_saved_profile("Missing")


# -- editor ------------------------------------------------------------------------------------


def test_editor_validation_messages(qtbot, panel, tmp_path):
    save(panel, "Existing", "h", 1883)
    dlg = ProfileEditor(panel.store, parent=panel)
    qtbot.addWidget(dlg)
    dlg.name_edit.setText("existing")
    dlg.host_edit.setText("mqtt://broker:1883")
    dlg.port_edit.setText("70000")
    dlg.tls_check.setChecked(True)
    dlg.ca_row.edit.setText(str(tmp_path / "missing-ca.pem"))
    dlg.key_row.edit.setText(str(tmp_path / "missing.key"))
    dlg.set_password("abc123", PASSWORD_MD5)
    dlg.key_edit.setText("")
    dlg.client_edit.setText("test-Existing")
    dlg.topics_edit.setPlainText("upload/K/#/x\nupload/K+/alarm")
    errors = "\n".join(dlg.validate())
    for expected in ("A profile named “Existing” already exists",
                     "Host: only the name or address",
                     "Port must be a number from 1 to 65535 (not “70000”)",
                     "CA file not found", "Client key not found",
                     "A client key needs its client certificate",
                     "The MD5 must be exactly 32 hexadecimal characters", "this has 6",
                     "Enter the access key",
                     "Client id already used by profile “Existing”",
                     "“#” must be a whole level and the last one",
                     "“+” must be a whole level"):
        assert expected in errors
    assert dlg.error_label.text().startswith("• ")
    dlg.accept()  # refuses while invalid
    assert dlg.profile is None and dlg.result() == 0


def test_editor_saves_md5_to_keyring_not_settings(qtbot, panel, ini, fake_keyring, tmp_path):
    dlg = ProfileEditor(panel.store, parent=panel)
    qtbot.addWidget(dlg)
    assert dlg.keyring_note.isHidden()  # a keyring exists: no warning
    dlg.name_edit.setText("North")
    dlg.host_edit.setText("broker.example.net")
    assert dlg.port_edit.text() == "1883"
    dlg.tls_check.setChecked(True)
    assert dlg.port_edit.text() == "8883"  # the TLS port follows the checkbox
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    dlg.ca_row.edit.setText(str(ca))
    dlg.user_edit.setText("rule-account")
    dlg.set_password(WEB_PASSWORD)
    dlg.key_edit.setText("AK777")
    assert dlg.topics_edit.toPlainText() == "upload/AK777/#"
    # Issue 21 changed this: the default client id comes from a hash of the access key, never
    # its text (it was "AK777_sealdesk_console_<host>").
    assert dlg.client_edit.text() == hashed_client_id("AK777", "console")
    assert "AK777" not in dlg.client_edit.text()
    dlg.auto_check.setChecked(True)
    assert dlg.validate() == []
    dlg.accept()
    assert dlg.password_edit.text() == ""  # the plain password is gone with the dialog
    panel.apply_editor(dlg, None)
    assert fake_keyring.items == {("SealDesk", "profile:North"): md5_hex(WEB_PASSWORD),
                                  ("SealDesk", "access-key:North"): "AK777"}
    text = ini.read_text()
    assert WEB_PASSWORD not in text and md5_hex(WEB_PASSWORD) not in text
    assert b"AK777" not in ini.read_bytes()
    assert "Password kept in the system keyring" in panel.info_label.text()
    assert panel.autoconnect_names() == ["North"]
    p = panel.store.get("North")
    assert (p.port, p.tls, p.cafile, p.topics) == (8883, True, str(ca), ["upload/{access_key}/#"])

    # edit: rename moves the secret and the auto-connect choice; empty password keeps it
    dlg = ProfileEditor(panel.store, p, autoconnect=True, parent=panel)
    qtbot.addWidget(dlg)
    assert "saved in the system keyring" in dlg.password_note.text()
    dlg.name_edit.setText("North gate")
    dlg.accept()
    panel.apply_editor(dlg, "North")
    assert panel.store.names() == ["North gate"]
    assert fake_keyring.items == {("SealDesk", "profile:North gate"): md5_hex(WEB_PASSWORD),
                                  ("SealDesk", "access-key:North gate"): "AK777"}
    assert panel.autoconnect_names() == ["North gate"]
    assert panel.store.get("North gate").client_id == ""  # the default: follows the key
    assert b"AK777" not in ini.read_bytes()


def test_editor_warns_without_keyring(qtbot, session, no_keyring):
    store = ProfileStore(session.settings)
    dlg = ProfileEditor(store)
    qtbot.addWidget(dlg)
    assert not dlg.keyring_note.isHidden()
    assert "No system keyring" in dlg.keyring_note.text()
    assert "not saved" in dlg.keyring_note.text()


def test_delete_asks_and_removes_the_secret(qtbot, panel, fake_keyring, monkeypatch):
    save(panel, "Old", "h", 1883, password_md5=md5_hex("x"))
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.No)
    panel.delete_selected()
    assert panel.store.names() == ["Old"] and fake_keyring.items
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: QMessageBox.StandardButton.Yes)
    panel.delete_selected()
    assert panel.store.names() == [] and fake_keyring.items == {}
    assert panel.model.row_of("Old") == -1


# -- secrets on screen, plain connections (issue 21) -------------------------------------------

SECRET_KEY = "AKsecret0123456789"


def every_text(panel: ConnectionPanel) -> str:
    """What the table shows and its tooltips say, every row and column, and the info line."""
    m = panel.model
    texts = [panel.info_label.text(), panel.keyring_label.text()]
    for r in range(m.rowCount()):
        for c in range(m.columnCount()):
            for role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
                texts.append(str(m.data(m.index(r, c), role) or ""))
    return "\n".join(texts)


def test_the_panel_never_shows_an_access_key_in_clear(qtbot, panel, ini, broker):
    panel.store.save(Profile(name="Hashed", host="h", access_key=SECRET_KEY))
    # an explicit client id an older SealDesk derived from the key's first 12 characters
    panel.store.save(Profile(name="Old id", host="h", access_key=SECRET_KEY,
                             client_id=f"{SECRET_KEY[:12]}_sealdesk_console_pc"))
    live = ConnectionSettings.from_options(host=broker.host, port=broker.port,
                                           access_key=SECRET_KEY, profile="Live")
    panel.ctx.connections.connect_profile(live)
    qtbot.waitUntil(lambda: panel.model.row_of("Live") >= 0, timeout=WAIT_MS)
    panel.refresh(select="Old id")
    panel.duplicate_selected()  # its message names the copy's client id
    assert "client id" in panel.info_label.text()
    shown = every_text(panel)
    assert "access key AKse…" in shown  # recognisable, not readable
    assert SECRET_KEY not in shown and SECRET_KEY[:12] not in shown and SECRET_KEY[4:] not in shown
    hashed = panel.model.rows[panel.model.row_of("Hashed")].detail
    assert hashed == f"access key AKse… · client id {hashed_client_id(SECRET_KEY, 'console')}"
    assert SECRET_KEY.encode() not in ini.read_bytes()
    panel.ctx.connections.disconnect_profile("Live")


def test_plain_mqtt_to_another_machine_is_marked_on_the_profile(qtbot, panel, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("x")
    save(panel, "Remote", "broker.example.net", 1883)
    save(panel, "Secure", "broker.example.net", 8883, tls=True, cafile=str(ca))
    save(panel, "Here", "127.0.0.1", 1883)
    save(panel, "Named here", "localhost", 1883)
    m = panel.model

    def broker_cell(name: str, role=Qt.ItemDataRole.DisplayRole):
        return m.data(m.index(m.row_of(name), 1), role)

    assert broker_cell("Remote") == "broker.example.net:1883 ⚠ not encrypted"
    assert broker_cell("Remote", Qt.ItemDataRole.ForegroundRole) is not None
    assert "Not encrypted" in m.data(m.index(m.row_of("Remote"), 0), Qt.ItemDataRole.ToolTipRole)
    for name in ("Secure", "Here", "Named here"):
        assert "not encrypted" not in broker_cell(name)
        assert "Not encrypted" not in m.data(m.index(m.row_of(name), 2),
                                             Qt.ItemDataRole.ToolTipRole)
    # persistent: whatever the state, for as long as the profile is plain
    for state in (ConnectionState(Phase.CONNECTING), ConnectionState(Phase.CONNECTED),
                  ConnectionState(Phase.DISCONNECTED, "by user")):
        m.set_state("Remote", state)
        assert broker_cell("Remote").endswith("⚠ not encrypted")
    # edited to TLS: the mark goes
    p = panel.store.get("Remote")
    panel.store.save(Profile(**{**p.__dict__, "tls": True, "port": 8883}))
    panel.refresh()
    assert broker_cell("Remote") == "broker.example.net:8883 TLS"


def test_an_old_settings_file_without_keyring_says_where_the_key_went(qtbot, session, ini,
                                                                      no_keyring):
    session.settings.setValue("profiles/Old/host", "broker.example.net")
    session.settings.setValue("profiles/Old/access_key", SECRET_KEY)
    session.settings.sync()
    panel = ConnectionPanel(session.ctx)
    qtbot.addWidget(panel)
    assert SECRET_KEY.encode() not in ini.read_bytes()
    said = panel.info_label.text()
    assert "Access key of “Old” removed from the settings file" in said
    assert "memory only" in said and SECRET_KEY not in said
    assert panel.store.connection_settings("Old").access_key == SECRET_KEY
    panel.shutdown()
