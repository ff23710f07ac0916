"""Profile secrets in the OS keyring: the MD5 the broker wants (never the password) and the
push rule's access key.

Service "SealDesk", account "profile:<name>" for the MD5 and "access-key:<name>" for the
access key. Where no keyring backend exists (a headless Linux without Secret Service: keyring
picks its `fail` backend) they are kept in this process's memory for the session and asked
again after a restart. There is deliberately no fallback to a file: a plaintext secret on
disk is what the keyring is there to avoid. Nothing here logs a secret.
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
    "No system keyring on this computer: the password and the access key are not saved. "
    "They are kept in memory only while SealDesk runs and asked again at each connect after "
    "a restart."
)

PASSWORD = "password"  # the MD5 of the web password
ACCESS_KEY = "access key"  # the push rule's access key
KINDS = (PASSWORD, ACCESS_KEY)

# Secrets of this session when there is no keyring (or it failed): process memory only,
# keyed by keyring account.
_SESSION: dict[str, str] = {}


def account(profile: str, kind: str = PASSWORD) -> str:
    if kind == ACCESS_KEY:
        return f"access-key:{profile}"
    return f"profile:{profile}"


def mask_access_key(key: str) -> str:
    """An access key as it may be shown (tables, tooltips, messages): its first 4 characters
    and "…" — or only "…" for a key too short for 4 characters to leave most of it hidden."""
    key = (key or "").strip()
    if not key:
        return ""
    return f"{key[:4]}…" if len(key) >= 10 else "…"


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

    # -- any secret, by keyring account --------------------------------------------------

    def _get(self, acct: str, what: str) -> str | None:
        if acct in _SESSION:
            return _SESSION[acct]
        if not self.keyring_available:
            return None
        try:
            secret = keyring.get_password(self.service, acct)
        except Exception as exc:  # a backend may raise anything (dbus, OS): not a crash
            self.last_failure = describe_failure(exc)
            log.warning("keyring read failed (%s of a profile): %s", what, type(exc).__name__)
            return None
        self.last_failure = None
        return secret

    def _set(self, acct: str, value: str, what: str) -> str:
        if self.keyring_available:
            try:
                keyring.set_password(self.service, acct, value)
                _SESSION.pop(acct, None)
                self.last_failure = None
                return "keyring"
            except Exception as exc:  # a backend may raise anything (dbus, OS): not a crash
                self.last_failure = describe_failure(exc)
                log.warning("keyring write failed (%s of a profile: %s); kept in memory only",
                            what, type(exc).__name__)
        _SESSION[acct] = value
        return "memory"

    def _delete(self, acct: str, what: str) -> None:
        _SESSION.pop(acct, None)
        if not self.keyring_available:
            return
        try:
            keyring.delete_password(self.service, acct)
        except keyring.errors.PasswordDeleteError:
            pass  # nothing stored
        except Exception as exc:  # a backend may raise anything (dbus, OS): not a crash
            log.warning("keyring delete failed (%s of a profile): %s", what, type(exc).__name__)

    def _location(self, acct: str, what: str) -> str | None:
        if acct in _SESSION:
            return "memory"
        return "keyring" if self._get(acct, what) is not None else None

    # -- the password's MD5 --------------------------------------------------------------

    def get(self, profile: str) -> str | None:
        return self._get(account(profile), PASSWORD)

    def set(self, profile: str, password_md5: str) -> str:
        """Store the MD5; returns where it went: "keyring" or "memory"."""
        if not MD5_RE.match(password_md5 or ""):
            raise ValueError("the stored secret must be an MD5: 32 hexadecimal characters")
        return self._set(account(profile), password_md5.lower(), PASSWORD)

    def delete(self, profile: str) -> None:
        """Forget the profile's MD5 (the access key stays: see delete_all)."""
        self._delete(account(profile), PASSWORD)

    def location(self, profile: str) -> str | None:
        """"memory", "keyring" or None (no secret) — for the editor's wording."""
        return self._location(account(profile), PASSWORD)

    # -- the access key ------------------------------------------------------------------

    def get_access_key(self, profile: str) -> str | None:
        return self._get(account(profile, ACCESS_KEY), ACCESS_KEY)

    def set_access_key(self, profile: str, key: str) -> str:
        """Store the access key; returns where it went: "keyring" or "memory"."""
        if not key:
            raise ValueError("an empty access key is not stored: delete it instead")
        return self._set(account(profile, ACCESS_KEY), key, ACCESS_KEY)

    def delete_access_key(self, profile: str) -> None:
        self._delete(account(profile, ACCESS_KEY), ACCESS_KEY)

    def access_key_location(self, profile: str) -> str | None:
        return self._location(account(profile, ACCESS_KEY), ACCESS_KEY)

    # -- both --------------------------------------------------------------------------------

    def delete_all(self, profile: str) -> None:
        self.delete(profile)
        self.delete_access_key(profile)

    def move(self, old: str, new: str) -> None:
        """Both secrets of `old` to `new` (a rename)."""
        for kind in KINDS:
            what = kind
            secret = self._get(account(old, kind), what)
            if secret is None:
                continue
            # Delete first: some keyrings (Windows) match accounts ignoring case.
            self._delete(account(old, kind), what)
            self._set(account(new, kind), secret, what)
