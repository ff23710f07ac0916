"""ProfileStore: fields in QSettings, the MD5 in the keyring, never a secret in the file."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from app.transport.settings import ConnectionSettings, default_client_id, md5_hex
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


@pytest.fixture
def store(ini):
    return ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))


def vendor_profile(name: str = "Depot north") -> Profile:
    return Profile(
        name=name, host="broker.example.net", port=1883, username="rule-account",
        access_key="AK1234567890", qos=1, clean_session=False,
        topics=["upload/{access_key}/#", "upload/{access_key}/+/alarm"],
        extra={"webhook_url": "http://x/receive"},
    )


def settings_text(ini) -> str:
    return ini.read_text(encoding="utf-8") if ini.exists() else ""


def test_round_trip_and_keyring_holds_only_the_md5(store, ini, fake_keyring):
    where = store.save(vendor_profile(), password_md5=MD5)
    assert where == "keyring"
    assert fake_keyring.items == {("SealDesk", "profile:Depot north"): MD5}
    text = settings_text(ini)
    assert "broker.example.net" in text  # the fields are there…
    assert MD5 not in text and MD5.upper() not in text  # …the secret is not
    assert WEB_PASSWORD not in text

    # a fresh store over the same file (as at the next start) reads the same profile
    again = ProfileStore(QSettings(str(ini), QSettings.Format.IniFormat))
    assert again.names() == ["Depot north"]
    p = again.get("Depot north")
    assert p == Profile(**{**vendor_profile().__dict__, "has_password": True})
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
    assert cs.access_key == "AK1234567890"
    assert cs.client_id == default_client_id("AK1234567890", "console")
    assert cs.topics == ("upload/AK1234567890/#", "upload/AK1234567890/+/alarm")
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
    assert fake_keyring.items == {("SealDesk", "profile:New"): MD5}
    assert store.connection_settings("New").password_md5 == MD5
    with pytest.raises(ValueError, match="already exists"):
        store.rename("New", "other")  # names differ by more than case
    assert MD5 not in settings_text(ini)


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
    assert not store.get("P").has_password and fake_keyring.items == {}
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
    text = settings_text(ini)
    assert "broker.example.net" in text and MD5 not in text
    # no other file was written next to the settings either
    assert sorted(p.name for p in ini.parent.iterdir()) == ["s.ini"]

    # the next session (process memory gone): the password must be asked again
    secrets.forget_session_secrets()
    with pytest.raises(MissingSecret, match="needs its password"):
        store.connection_settings("Depot north")


def test_names_are_checked(store, fake_keyring):
    for bad in ("", " x", "a/b", "a\\b"):
        with pytest.raises(ValueError):
            store.save(vendor_profile(bad))
    store.save(Profile(name="md5 pasted", password_kind=PASSWORD_MD5, access_key="K"))
    assert store.get("md5 pasted").password_kind == PASSWORD_MD5
