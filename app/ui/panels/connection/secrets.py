"""Profile secrets in the OS keyring — only ever the MD5 the broker wants, never the password.

Service "SealDesk", account "profile:<name>". Where no keyring backend exists (a headless
Linux without Secret Service: keyring picks its `fail` backend) the MD5 is kept in this
process's memory for the session and asked again after a restart. There is deliberately
no fallback to a file: a plaintext secret on disk is what the keyring is there to avoid.
Nothing here logs a secret.
"""

from __future__ import annotations

import logging
import re

import keyring
import keyring.errors
from keyring.backend import KeyringBackend

log = logging.getLogger(__name__)

SERVICE = "SealDesk"
MD5_RE = re.compile(r"^[0-9a-fA-F]{32}$")

NO_KEYRING_NOTE = (
    "No system keyring on this computer: the password is not saved. It is kept in memory "
    "only while SealDesk runs and asked again at each connect after a restart."
)

# Secrets of this session when there is no keyring (or it failed): process memory only.
_SESSION: dict[str, str] = {}


def account(profile: str) -> str:
    return f"profile:{profile}"


def forget_session_secrets() -> None:
    """Drop every in-memory secret (tests; a new session starts empty anyway)."""
    _SESSION.clear()


def describe_failure(exc: BaseException) -> str:
    """Why the keyring did not take or give a secret, in the user's words."""
    if isinstance(exc, keyring.errors.KeyringLocked):
        return "the system keyring is locked"
    if isinstance(exc, keyring.errors.NoKeyringError):
        return "no system keyring backend is available"
    if isinstance(exc, PermissionError):
        return "the system keyring refused access"
    return f"the system keyring failed ({type(exc).__name__})"


def _usable(backend: KeyringBackend) -> bool:
    from keyring.backends import chainer, fail, null

    if isinstance(backend, fail.Keyring | null.Keyring):
        return False
    if isinstance(backend, chainer.ChainerBackend):
        return bool(backend.backends)
    return True


class SecretStore:
    """Where profile MD5s live: the keyring if there is one, else this session's memory."""

    def __init__(self, service: str = SERVICE) -> None:
        self.service = service
        self.last_failure: str | None = None  # describe_failure() of the last keyring error

    @property
    def keyring_available(self) -> bool:
        try:
            return _usable(keyring.get_keyring())
        except Exception:  # a broken backend config is "no keyring", not a crash
            return False

    @property
    def backend_name(self) -> str:
        try:
            backend = keyring.get_keyring()
        except Exception:
            return "none"
        return getattr(backend, "name", type(backend).__name__)

    def get(self, profile: str) -> str | None:
        if profile in _SESSION:
            return _SESSION[profile]
        if not self.keyring_available:
            return None
        try:
            secret = keyring.get_password(self.service, account(profile))
        except Exception as exc:  # a backend may raise anything (dbus, OS): not a crash
            self.last_failure = describe_failure(exc)
            log.warning("keyring read failed for profile %r: %s", profile, type(exc).__name__)
            return None
        self.last_failure = None
        return secret

    def set(self, profile: str, password_md5: str) -> str:
        """Store the MD5; returns where it went: "keyring" or "memory"."""
        if not MD5_RE.match(password_md5 or ""):
            raise ValueError("the stored secret must be an MD5: 32 hexadecimal characters")
        value = password_md5.lower()
        if self.keyring_available:
            try:
                keyring.set_password(self.service, account(profile), value)
                _SESSION.pop(profile, None)
                self.last_failure = None
                return "keyring"
            except Exception as exc:  # a backend may raise anything (dbus, OS): not a crash
                self.last_failure = describe_failure(exc)
                log.warning("keyring write failed for profile %r (%s); kept in memory only",
                            profile, type(exc).__name__)
        _SESSION[profile] = value
        return "memory"

    def delete(self, profile: str) -> None:
        _SESSION.pop(profile, None)
        if not self.keyring_available:
            return
        try:
            keyring.delete_password(self.service, account(profile))
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored
        except Exception as exc:  # a backend may raise anything (dbus, OS): not a crash
            log.warning("keyring delete failed for profile %r: %s", profile, type(exc).__name__)

    def move(self, old: str, new: str) -> None:
        secret = self.get(old)
        if secret is None:
            return
        # Delete first: some keyrings (Windows) match accounts ignoring case.
        self.delete(old)
        self.set(new, secret)

    def location(self, profile: str) -> str | None:
        """"memory", "keyring" or None (no secret) — for the editor's wording."""
        if profile in _SESSION:
            return "memory"
        return "keyring" if self.get(profile) is not None else None
