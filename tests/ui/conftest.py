"""Shared UI rigs: an in-memory keyring, a QSettings ini and a Session on a tmp journal."""

from __future__ import annotations

import keyring
import keyring.backends.fail
import keyring.errors
import pytest
from keyring.backend import KeyringBackend
from PySide6.QtCore import QSettings

from app.ui.panels.connection import secrets
from app.ui.session import Session


class MemoryKeyring(KeyringBackend):
    """A fake OS keyring: we test our use of the keyring API, not the OS store."""

    priority = 10

    def __init__(self) -> None:
        super().__init__()
        self.items: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.items.get((service, username))

    def set_password(self, service, username, password):
        self.items[(service, username)] = password

    def delete_password(self, service, username):
        if self.items.pop((service, username), None) is None:
            raise keyring.errors.PasswordDeleteError("not found")


def _use_keyring(backend):
    previous = keyring.get_keyring()
    keyring.set_keyring(backend)
    secrets.forget_session_secrets()
    return previous


@pytest.fixture
def fake_keyring():
    backend = MemoryKeyring()
    previous = _use_keyring(backend)
    yield backend
    _use_keyring(previous)


@pytest.fixture
def no_keyring():
    previous = _use_keyring(keyring.backends.fail.Keyring())
    yield
    _use_keyring(previous)


@pytest.fixture
def ini(tmp_path):
    return tmp_path / "s.ini"


@pytest.fixture
def session(tmp_path, ini, qtbot):
    """A Session as the console wires it, on a tmp journal and a tmp QSettings ini."""
    s = Session(tmp_path / "j.sqlite", QSettings(str(ini), QSettings.Format.IniFormat))
    yield s
    s.feed.stop()
    s.recording.stop()


@pytest.fixture
def alarm_rig(tmp_path, qtbot):
    from live_rig import AlarmRig

    with AlarmRig(tmp_path) as rig:
        yield rig


@pytest.fixture
def alarms_panel(alarm_rig, qtbot):
    """The real alarm panel on the rig, shown, with the pointer off its table."""
    from live_rig import opened
    from PySide6.QtCore import QPoint

    from app.ui.panels.alarms.widget import AlarmsPanel

    with opened(qtbot, AlarmsPanel(alarm_rig.ctx), (1000, 420), show=True, history=True) as p:
        qtbot.waitExposed(p)
        # over the table first, so that Qt's enter/leave tracking knows this window rather
        # than the last test's, then onto the filters
        qtbot.mouseMove(p.view.viewport(), QPoint(20, 20))
        qtbot.mouseMove(p.device_edit)
        qtbot.waitUntil(lambda: not p.hold.pointer_over)
        yield p
