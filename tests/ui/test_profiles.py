"""ProfileStore: fields in QSettings, the MD5 and the access key in the keyring, never a secret
in the file."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.transport.settings import ConnectionSettings, hashed_client_id, md5_hex
from app.ui.panels.connection import secrets
from app.ui.panels.connection.profiles import (
    PASSWORD_MD5,
    MissingSecret,
    Profile,
    ProfileNotFound,
    ProfileStore,
)

WEB_PASSWORD = "Tr0ub4dor&3-web"
MD5 = md5_hex(WEB_PASSWORD)
KEY = "AK1234567890"


@pytest.fixture
def store(ini):
    return ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))


def vendor_profile(name: str = "Depot north") -> Profile:
    return Profile(
        name=name, host="broker.example.net", port=1883, username="rule-account",
        access_key=KEY, qos=1, clean_session=False,
        topics=["upload/{access_key}/#", "upload/{access_key}/+/alarm"],
        extra={"webhook_url": "http://x/receive"},
    )


def settings_text(ini) -> str:
    return ini.read_text(encoding="utf-8") if ini.exists() else ""


def settings_bytes(ini) -> bytes:
    return ini.read_bytes() if ini.exists() else b""


def in_keyring(name: str, md5: str | None = MD5, key: str | None = KEY) -> dict:
    items = {}
    if md5:
        items[("SealDesk", f"profile:{name}")] = md5
    if key:
        items[("SealDesk", f"access-key:{name}")] = key
    return items


def test_round_trip_and_keyring_holds_the_md5_and_the_access_key(store, ini, fake_keyring):
    where = store.save(vendor_profile(), password_md5=MD5)
    assert where == "keyring"
    assert fake_keyring.items == in_keyring("Depot north")
    text = settings_text(ini)
    assert "broker.example.net" in text  # the fields are there…
    assert MD5 not in text and MD5.upper() not in text  # …the secrets are not
    assert WEB_PASSWORD not in text
    assert KEY.encode() not in settings_bytes(ini) and b"\\access_key=" not in settings_bytes(ini)

    # a fresh store over the same file (as at the next start) reads the same profile
    again = ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert again.names() == ["Depot north"]
    p = again.get("Depot north")
    assert p == Profile(**{**vendor_profile().__dict__, "has_password": True,
                           "has_access_key": True})
    assert p.topics == ["upload/{access_key}/#", "upload/{access_key}/+/alarm"]
    assert p.extra == {"webhook_url": "http://x/receive"}
    assert again.secret("Depot north") == MD5


def test_connection_settings_is_what_profile_gives(store, fake_keyring):
    store.save(vendor_profile(), password_md5=MD5.upper())
    cs = store.connection_settings("Depot north")
    assert isinstance(cs, ConnectionSettings)
    assert cs.profile == "Depot north"
    assert (cs.host, cs.port, cs.tls) == ("broker.example.net", 1883, False)
    assert cs.username == "rule-account"
    assert cs.password_md5 == MD5  # lower-case MD5 from the keyring, what goes on the wire
    assert cs.access_key == KEY
    # derived from a hash of the access key, never its text (issue 21)
    assert cs.client_id == hashed_client_id(KEY, "console") and KEY[:4] not in cs.client_id
    assert cs.topics == (f"upload/{KEY}/#", f"upload/{KEY}/+/alarm")
    assert (cs.qos, cs.clean_session, cs.tls_insecure) == (1, False, False)
    assert MD5 not in repr(cs)


def test_unknown_profile_is_a_clear_key_error(store, fake_keyring):
    store.save(vendor_profile("A"))
    with pytest.raises(KeyError) as info:
        store.connection_settings("Nope")
    assert isinstance(info.value, ProfileNotFound)
    assert str(info.value) == "no connection profile named 'Nope' (saved profiles: A)"


def test_tls_profile_and_bad_file_is_a_value_error(store, fake_keyring, tmp_path):
    ca = tmp_path / "ca.pem"
    ca.write_text("-----BEGIN CERTIFICATE-----\n")
    p = Profile(name="TLS", host="h", port=8883, tls=True, cafile=str(ca), access_key="K",
                client_id="me", qos=0, clean_session=True, tls_insecure=True)
    store.save(p)
    cs = store.connection_settings("TLS")
    assert (cs.tls, cs.cafile, cs.port, cs.tls_insecure, cs.qos) == (True, str(ca), 8883, True, 0)
    assert cs.password_md5 is None and cs.client_id == "me"
    ca.unlink()
    with pytest.raises(ValueError, match="file not found"):
        store.connection_settings("TLS")


def test_rename_moves_the_secret(store, ini, fake_keyring):
    store.save(vendor_profile("Old"), password_md5=MD5)
    store.save(vendor_profile("Other"))
    store.rename("Old", "New")
    assert store.names() == ["New", "Other"]
    assert fake_keyring.items == {**in_keyring("New"), **in_keyring("Other", md5=None)}
    assert store.connection_settings("New").password_md5 == MD5
    assert store.connection_settings("New").access_key == KEY
    with pytest.raises(ValueError, match="already exists"):
        store.rename("New", "other")  # names differ by more than case
    assert MD5 not in settings_text(ini) and KEY.encode() not in settings_bytes(ini)


def test_delete_removes_the_secret(store, ini, fake_keyring):
    store.save(vendor_profile("Gone"), password_md5=MD5)
    store.delete("Gone")
    assert store.names() == []
    assert fake_keyring.items == {}
    assert "Gone" not in settings_text(ini)


def test_save_keeps_or_forgets_the_secret(store, fake_keyring):
    store.save(vendor_profile("P"), password_md5=MD5)
    store.save(vendor_profile("P"))  # edited without typing the password again: kept
    assert store.get("P").has_password and store.secret("P") == MD5
    store.save(vendor_profile("P"), password_md5=None)  # forgotten
    assert not store.get("P").has_password
    assert fake_keyring.items == in_keyring("P", md5=None)  # the access key stays
    assert store.connection_settings("P").password_md5 is None
    with pytest.raises(ValueError, match="32 hexadecimal"):
        store.save(vendor_profile("P"), password_md5="not-an-md5")


def test_duplicate_copies_secret_with_own_client_id(store, fake_keyring):
    store.save(vendor_profile("P"), password_md5=MD5)
    copy = store.duplicate("P")
    assert copy.name == "P (copy)"
    assert store.secret("P (copy)") == MD5
    assert copy.effective_client_id != store.get("P").effective_client_id
    assert store.duplicate("P").name == "P (copy) 2"


def test_without_keyring_the_secret_stays_in_memory(store, ini, no_keyring):
    assert not store.secrets.keyring_available
    where = store.save(vendor_profile(), password_md5=MD5)
    assert where == "memory"
    assert store.secret_location("Depot north") == "memory"
    assert store.connection_settings("Depot north").password_md5 == MD5
    assert store.connection_settings("Depot north").access_key == KEY
    assert store.secrets.access_key_location("Depot north") == "memory"
    text = settings_text(ini)
    assert "broker.example.net" in text and MD5 not in text
    assert KEY.encode() not in settings_bytes(ini)
    # no other file was written next to the settings either
    assert sorted(p.name for p in ini.parent.iterdir()) == ["s.ini"]

    # the next session (process memory gone): the password and the key must be asked again
    secrets.forget_session_secrets()
    with pytest.raises(MissingSecret, match="needs its password and access key") as info:
        store.connection_settings("Depot north")
    assert info.value.missing == (secrets.PASSWORD, secrets.ACCESS_KEY)
    p = store.get("Depot north")
    assert p.access_key == "" and p.access_key_missing
    store.save(p)  # saved again without it: still "to be asked", not "none"
    assert store.get("Depot north").access_key_missing


def test_names_are_checked(store, fake_keyring):
    for bad in ("", " x", "a/b", "a\\b"):
        with pytest.raises(ValueError):
            store.save(vendor_profile(bad))
    store.save(Profile(name="md5 pasted", password_kind=PASSWORD_MD5, access_key="K"))
    assert store.get("md5 pasted").password_kind == PASSWORD_MD5


def _old_settings_file(ini, name: str = "Old depot", client_id: str = "") -> None:
    """A profile as an older SealDesk wrote it: the access key in clear in the file."""
    old = QSettings(str(ini), QSettings.Format.IniFormat)
    for key, value in (("host", "broker.example.net"), ("port", 1883), ("access_key", KEY),
                       ("client_id", client_id), ("topics", '["upload/{access_key}/#"]'),
                       ("has_password", "false")):
        old.setValue(f"profiles/{name}/{key}", value)
    old.sync()
    assert KEY.encode() in ini.read_bytes()


def test_an_access_key_in_an_old_settings_file_moves_to_the_keyring(ini, fake_keyring):
    _old_settings_file(ini)
    store = ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert KEY.encode() not in ini.read_bytes()  # gone from the file on the first load…
    assert fake_keyring.items == in_keyring("Old depot", md5=None)  # …into the keyring
    assert store.migrated == {"Old depot": "keyring"}
    cs = store.connection_settings("Old depot")
    assert cs.access_key == KEY and cs.topics == (f"upload/{KEY}/#",)
    assert cs.client_id == hashed_client_id(KEY, "console")  # no explicit one: the hashed form
    # the next start finds nothing more to move, and the profile whole
    again = ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert again.migrated == {} and again.get("Old depot").access_key == KEY


def test_an_old_profile_keeps_its_explicit_client_id(ini, fake_keyring):
    old_id = f"{KEY}_sealdesk_console_myhost"  # stored explicitly by an older version: kept
    _old_settings_file(ini, client_id=old_id)
    store = ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert store.connection_settings("Old depot").client_id == old_id


def test_an_old_access_key_without_keyring_moves_to_memory_not_the_file(ini, no_keyring):
    _old_settings_file(ini)
    store = ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert store.migrated == {"Old depot": "memory"}
    assert KEY.encode() not in ini.read_bytes()
    assert store.connection_settings("Old depot").access_key == KEY  # this session has it
    secrets.forget_session_secrets()  # a restart: asked again, never read back from a file
    with pytest.raises(MissingSecret, match="needs its access key"):
        store.connection_settings("Old depot")
    assert sorted(p.name for p in ini.parent.iterdir()) == ["s.ini"]
