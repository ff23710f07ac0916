"""A keyring that raises — locked, no backend, access denied — never loses the secrets nor
writes them to disk: the window says what happened and keeps the MD5 and the access key in
memory."""

from __future__ import annotations

import keyring
import keyring.errors
import pytest
from keyring.backend import KeyringBackend

from app.transport.settings import md5_hex
from app.ui.panels.connection import secrets
from app.ui.panels.connection.editor import ProfileEditor
from app.ui.panels.connection.widget import ConnectionPanel

WEB_PASSWORD = "keyring-fails-web-password"
KEY = "AK42-keyring-fails"


class RaisingKeyring(KeyringBackend):
    """A present keyring whose every call raises `error` (as a locked Secret Service does)."""

    priority = 10

    def __init__(self, error: BaseException) -> None:
        super().__init__()
        self.error = error
        self.calls: list[str] = []

    def get_password(self, service, username):
        self.calls.append("get")
        raise self.error

    def set_password(self, service, username, password):
        self.calls.append("set")
        raise self.error

    def delete_password(self, service, username):
        self.calls.append("delete")
        raise self.error


CASES = {
    "locked": (keyring.errors.KeyringLocked("Failed to unlock the keyring!"),
               "the system keyring is locked"),
    "no backend": (keyring.errors.NoKeyringError("No recommended backend was available"),
                   "no system keyring backend is available"),
    "denied": (PermissionError(13, "Permission denied"), "the system keyring refused access"),
}


@pytest.fixture(params=sorted(CASES))
def raising(request):
    error, words = CASES[request.param]
    backend = RaisingKeyring(error)
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    secrets.forget_session_secrets()
    yield backend, words
    keyring.set_keyring(previous)
    secrets.forget_session_secrets()


def test_saving_says_why_keeps_the_secret_in_memory_and_off_disk(qtbot, session, ini,
                                                                 raising):
    backend, words = raising
    panel = ConnectionPanel(session.ctx)
    qtbot.addWidget(panel)
    dlg = ProfileEditor(panel.store, parent=panel)
    qtbot.addWidget(dlg)
    dlg.name_edit.setText("Locked out")
    dlg.host_edit.setText("broker.example.net")
    dlg.user_edit.setText("rule-account")
    dlg.set_password(WEB_PASSWORD)
    dlg.key_edit.setText(KEY)
    assert dlg.validate() == []
    dlg.accept()
    panel.apply_editor(dlg, None)  # the keyring raises inside: no exception reaches here

    assert "set" in backend.calls
    said = panel.info_label.text()
    assert said == (f"Saved “Locked out”. Password kept in memory only ({words}): "
                    "it will be asked again after a restart.")
    assert panel.store.secret_location("Locked out") == "memory"
    settings = panel.store.connection_settings("Locked out")
    assert settings.password_md5 == md5_hex(WEB_PASSWORD)  # the connection still has it
    assert settings.access_key == KEY
    assert panel.store.secrets.access_key_location("Locked out") == "memory"
    session.settings.sync()
    text = ini.read_text(encoding="utf-8")
    assert "broker.example.net" in text  # the profile is saved…
    assert md5_hex(WEB_PASSWORD) not in text.lower()  # …never its secrets
    assert WEB_PASSWORD not in text
    assert KEY.encode() not in ini.read_bytes()
    panel.shutdown()


def test_after_a_restart_the_window_says_why_it_needs_the_password(qtbot, session, ini,
                                                                   raising):
    backend, words = raising
    panel = ConnectionPanel(session.ctx)
    qtbot.addWidget(panel)
    from app.ui.panels.connection.profiles import Profile

    panel.store.save(Profile(name="P", host="127.0.0.1", port=1883, access_key=KEY,
                             username="u"), password_md5=md5_hex(WEB_PASSWORD))
    secrets.forget_session_secrets()  # a restart: the memory is gone, the keyring still raises
    assert not panel.connect_profile("P", ask=False)
    assert panel.info_label.text() == ("“P” not connected: it needs its password and access "
                                       f"key ({words}).")
    assert "get" in backend.calls
    assert md5_hex(WEB_PASSWORD) not in ini.read_text(encoding="utf-8").lower()
    assert KEY.encode() not in ini.read_bytes()
    panel.store.delete("P")
    assert panel.store.names() == []
    panel.shutdown()
