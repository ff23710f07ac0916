"""Named connection profiles: fields in QSettings; the password's MD5 and the access key in
the OS keyring.

No widgets here. `ProfileStore(settings).connection_settings(name)` is what the window's
`--profile NAME` and the panel's Connect both use. QSettings holds, under
"profiles/<name>/…", everything except the secrets: never a password, its MD5 nor the
access key. A profile saved by an older SealDesk with its access key in the settings file has
it moved to the keyring (or this session's memory, without one) when the store first loads.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field, fields, replace
from typing import Any

from PySide6.QtCore import QSettings

from app.transport.settings import ConnectionSettings, hashed_client_id
from app.ui.panels.connection.secrets import ACCESS_KEY, MD5_RE, PASSWORD, SecretStore

log = logging.getLogger(__name__)

GROUP = "profiles"
VENDOR_HOST = "mqtt.assetscontrols.com"
DEFAULT_TOPIC = "upload/{access_key}/#"

PASSWORD_WEB = "web password"  # the user typed the web password; we keep and send its MD5
PASSWORD_MD5 = "MD5 given"  # the user pasted the MD5 itself
PASSWORD_KINDS = (PASSWORD_WEB, PASSWORD_MD5)

_BAD_NAME = re.compile(r"[/\\]")


class ProfileNotFound(KeyError):
    """No saved profile of that name (a KeyError whose text reads well in a status bar)."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "no such profile"


class MissingSecret(LookupError):
    """The profile needs a password or its access key but it is not saved (no keyring, and
    not asked yet). `missing`: secrets.PASSWORD and/or secrets.ACCESS_KEY."""

    def __init__(self, name: str, missing: tuple[str, ...] = (PASSWORD,)) -> None:
        super().__init__(
            f"profile {name!r} needs its {' and '.join(missing)}: none is saved on this "
            "computer (no system keyring, or it was removed)"
        )
        self.profile = name
        self.missing = missing


def expand_topic(template: str, access_key: str) -> str:
    return template.replace("{access_key}", access_key).replace("{accessKey}", access_key)


@dataclass
class Profile:
    name: str
    host: str = VENDOR_HOST
    port: int = 1883
    tls: bool = False
    cafile: str = ""
    certfile: str = ""
    keyfile: str = ""
    tls_insecure: bool = False  # only ever set explicitly, with a red warning
    username: str = ""
    access_key: str = ""  # kept in the keyring, never in QSettings
    client_id: str = ""  # empty: hashed_client_id(access_key, "console")
    qos: int = 1
    clean_session: bool = False
    topics: list[str] = field(default_factory=lambda: [DEFAULT_TOPIC])
    password_kind: str = PASSWORD_WEB  # how it was entered; the keyring holds the MD5 either way
    has_password: bool = False  # a secret belongs to this profile (kept in the keyring)
    # An access key belongs to this profile (kept in the keyring). True with an empty
    # access_key: it is not available on this computer (no keyring, after a restart).
    has_access_key: bool = False
    # Seconds with no push at all after which this feed counts as down and its devices as
    # unknown (0: the quiet threshold of Settings › General). A fleet reporting every 10 min
    # and one reporting every 10 s want different values.
    feed_quiet_after: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # e.g. webhook fields, later

    @property
    def effective_client_id(self) -> str:
        return self.client_id or hashed_client_id(self.access_key, "console")

    @property
    def access_key_missing(self) -> bool:
        return self.has_access_key and not self.access_key

    @property
    def expanded_topics(self) -> list[str]:
        return [expand_topic(t, self.access_key) for t in self.topics if t.strip()]

    @property
    def address(self) -> str:
        return f"{self.host}:{self.port}"


_BOOL_FIELDS = {f.name for f in fields(Profile) if f.type in ("bool", bool)}
_INT_FIELDS = {"port", "qos", "feed_quiet_after"}
_JSON_FIELDS = {"topics", "extra"}
_STORED = [f.name for f in fields(Profile) if f.name not in ("name", "access_key")]


def _to_bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes", "on")


def check_name(name: str) -> str | None:
    """Why a profile name is unusable, or None."""
    if not name.strip():
        return "Give the profile a name."
    if name != name.strip():
        return "The name must not start or end with a space."
    if _BAD_NAME.search(name):
        return "The name must not contain / or \\."
    if len(name) > 80:
        return "The name is too long (80 characters at most)."
    return None


class ProfileStore:
    def __init__(self, settings: QSettings, secrets: SecretStore | None = None) -> None:
        self.settings = settings
        self.secrets = secrets or SecretStore()
        # Profiles whose access key this store moved out of the settings file, and where it
        # went ("keyring" or "memory"): the panel says so.
        self.migrated: dict[str, str] = {}
        for name in self.names():
            self._migrate_access_key(name)

    def _migrate_access_key(self, name: str) -> None:
        """An older SealDesk kept the access key in the settings file: move it to the keyring
        (this session's memory without one) and remove it from the file."""
        stored = f"{GROUP}/{name}/access_key"
        raw = self.settings.value(stored)
        if raw is None:
            return
        key = str(raw).strip()
        if key:
            where = self.secrets.set_access_key(name, key)
            self.settings.setValue(f"{GROUP}/{name}/has_access_key", "true")
            self.migrated[name] = where
            log.info("profile %r: access key moved from the settings file to the %s",
                     name, "system keyring" if where == "keyring" else "session's memory")
        self.settings.remove(stored)
        self.settings.sync()

    # -- reading ---------------------------------------------------------------------

    def names(self) -> list[str]:
        self.settings.beginGroup(GROUP)
        try:
            names = list(self.settings.childGroups())
        finally:
            self.settings.endGroup()
        return sorted(names, key=str.casefold)

    def exists(self, name: str) -> bool:
        return name in self.names()

    def find(self, name: str) -> str | None:
        """The stored name equal to `name` ignoring case (names must differ by more)."""
        folded = name.casefold()
        return next((n for n in self.names() if n.casefold() == folded), None)

    def get(self, name: str) -> Profile:
        if not self.exists(name):
            raise ProfileNotFound(self._not_found(name))
        self._migrate_access_key(name)  # a settings file written by an older SealDesk
        s = self.settings
        values: dict[str, Any] = {}
        defaults = Profile(name=name)
        for key in _STORED:
            raw = s.value(f"{GROUP}/{name}/{key}")
            if raw is None:
                continue
            if key in _BOOL_FIELDS:
                values[key] = _to_bool(raw)
            elif key in _INT_FIELDS:
                try:
                    values[key] = int(raw)
                except (TypeError, ValueError):
                    values[key] = getattr(defaults, key)
            elif key in _JSON_FIELDS:
                try:
                    values[key] = json.loads(raw)
                except (TypeError, ValueError):
                    values[key] = getattr(defaults, key)
            else:
                values[key] = str(raw)
        if values.get("has_access_key"):
            values["access_key"] = self.secrets.get_access_key(name) or ""
        return Profile(name=name, **values)

    def all(self) -> list[Profile]:
        return [self.get(n) for n in self.names()]

    def secret(self, name: str) -> str | None:
        return self.secrets.get(name)

    def secret_location(self, name: str) -> str | None:
        return self.secrets.location(name)

    def _not_found(self, name: str) -> str:
        saved = ", ".join(self.names()) or "none"
        return f"no connection profile named {name!r} (saved profiles: {saved})"

    # -- writing ---------------------------------------------------------------------

    _KEEP: Any = object()

    def save(self, profile: Profile, *, password_md5: Any = _KEEP) -> str | None:
        """Write the profile's fields; the secrets (the password's MD5, the access key) go to
        the keyring, never to QSettings. An empty access_key with has_access_key set (a key
        not available on this computer) stays "to be asked"; empty otherwise: none.

        password_md5: leave out to keep the saved secret, None to forget it, or the MD5.
        Returns where the secret is ("keyring", "memory") or None if there is none.
        """
        problem = check_name(profile.name)
        if problem:
            raise ValueError(problem)
        if password_md5 is not self._KEEP and password_md5 is not None and not MD5_RE.match(
            password_md5
        ):
            raise ValueError("the password MD5 must be 32 hexadecimal characters")
        s = self.settings
        s.remove(f"{GROUP}/{profile.name}")
        if password_md5 is None:
            self.secrets.delete(profile.name)
        elif password_md5 is not self._KEEP:
            self.secrets.set(profile.name, password_md5)
        where = self.secrets.location(profile.name)
        profile.has_password = where is not None
        key = profile.access_key.strip()
        if key:
            self.secrets.set_access_key(profile.name, key)
        elif not profile.has_access_key:
            self.secrets.delete_access_key(profile.name)
        profile.has_access_key = bool(key) or profile.has_access_key
        for key in _STORED:
            value = getattr(profile, key)
            if key in _JSON_FIELDS:
                value = json.dumps(value)
            elif key in _BOOL_FIELDS:
                value = "true" if value else "false"
            s.setValue(f"{GROUP}/{profile.name}/{key}", value)
        s.sync()
        return where

    def rename(self, old: str, new: str) -> Profile:
        if old == new:
            return self.get(old)
        problem = check_name(new)
        if problem:
            raise ValueError(problem)
        clash = self.find(new)
        if clash is not None and clash != old:
            raise ValueError(f"a profile named {clash!r} already exists")
        profile = replace(self.get(old), name=new)
        self.secrets.move(old, new)
        self.settings.remove(f"{GROUP}/{old}")
        self.save(profile)
        return profile

    def duplicate(self, name: str, new: str | None = None) -> Profile:
        """A copy with the secret and a client id of its own (two sessions with one client id
        keep throwing each other off the broker)."""
        original = self.get(name)
        new = new or self.unique_name(f"{name} (copy)")
        if self.find(new) is not None:
            raise ValueError(f"a profile named {new!r} already exists")
        copy = replace(original, name=new,
                       client_id=self.unique_client_id(original.effective_client_id),
                       topics=list(original.topics), extra=dict(original.extra))
        secret = self.secrets.get(name)
        self.save(copy, password_md5=secret if secret else None)
        return copy

    def unique_client_id(self, base: str, also_taken: set[str] | None = None) -> str:
        used = {p.effective_client_id for p in self.all()} | (also_taken or set())
        n = 2
        while f"{base}_{n}" in used:
            n += 1
        return f"{base}_{n}"

    def delete(self, name: str) -> None:
        self.settings.remove(f"{GROUP}/{name}")
        self.settings.sync()
        self.secrets.delete_all(name)

    def unique_name(self, wanted: str) -> str:
        name, n = wanted, 2
        while self.find(name) is not None:
            name = f"{wanted} {n}"
            n += 1
        return name

    # -- connecting --------------------------------------------------------------------

    def connection_settings(self, name: str) -> ConnectionSettings:
        """What the transport needs for profile `name`, with the MD5 and the access key from
        the keyring.

        Raises ProfileNotFound (a KeyError) for an unknown name, MissingSecret when the
        profile has a password or an access key that is not available here, ValueError for
        bad fields.
        """
        profile = self.get(name)
        md5 = self.secrets.get(name) if profile.has_password else None
        missing = tuple(what for what, lost in ((PASSWORD, profile.has_password and md5 is None),
                                               (ACCESS_KEY, profile.access_key_missing)) if lost)
        if missing:
            raise MissingSecret(name, missing)
        return settings_for(profile, md5)


def settings_for(profile: Profile, password_md5: str | None) -> ConnectionSettings:
    settings = ConnectionSettings.from_options(
        host=profile.host.strip(),
        port=profile.port,
        access_key=profile.access_key.strip(),
        username=profile.username or None,
        password_md5=password_md5,
        tls=profile.tls,
        cafile=profile.cafile or None,
        certfile=profile.certfile or None,
        keyfile=profile.keyfile or None,
        qos=profile.qos,
        client_id=profile.effective_client_id,
        clean_session=profile.clean_session,
        topics=profile.expanded_topics,
        profile=profile.name,
    )
    if profile.tls and profile.tls_insecure:
        settings = replace(settings, tls_insecure=True)
    return settings


def profile_from_settings(name: str, settings: ConnectionSettings) -> Profile:
    """A profile that reproduces live settings (to save a command-line connection)."""
    key = settings.access_key
    default = expand_topic(DEFAULT_TOPIC, key)
    topics = [DEFAULT_TOPIC if t == default else t for t in settings.topics] or [DEFAULT_TOPIC]
    return Profile(
        name=name, host=settings.host, port=settings.port, tls=settings.tls,
        cafile=settings.cafile or "", certfile=settings.certfile or "",
        keyfile=settings.keyfile or "", tls_insecure=settings.tls_insecure,
        username=settings.username or "", access_key=key,
        client_id=settings.client_id, qos=settings.qos,
        clean_session=settings.clean_session, topics=topics,
        password_kind=PASSWORD_MD5,
    )
