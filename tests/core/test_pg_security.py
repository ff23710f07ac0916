"""A shared journal across a network, as documented in app/journal/pg.py (issue 23): TLS with
the server's certificate checked against its name (`sslmode=verify-full`), and the password
from `PGPASSFILE`, never in the URL, a settings file or a command line. A server of its own
(tests/pgserver.py) with a certificate made here and passwords required over TCP."""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from app.journal.url import open_journal


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


def _ca(folder: Path, stem: str):
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(stem)).issuer_name(_name(stem))
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .sign(key, hashes.SHA256()))
    (folder / f"{stem}.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return cert, key


def _server_cert(folder: Path, ca, ca_key, host: str) -> tuple[Path, Path]:
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC)
    cert = (x509.CertificateBuilder().subject_name(_name(host)).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))
            .not_valid_after(now + datetime.timedelta(days=30))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    cert_file, key_file = folder / "server.pem", folder / "server.key"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_file, key_file


@pytest.fixture(scope="module")
def secured(tmp_path_factory) -> Iterator[tuple[object, Path]]:
    """A server offering TLS with a certificate for "localhost" only (signed by ca.pem;
    other.pem is another CA), asking a password over TCP; a desk role `ada` with one."""
    from pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl)")
    folder = tmp_path_factory.mktemp("pg-tls")
    ca, ca_key = _ca(folder, "ca")
    _ca(folder, "other")
    server = PgServer(bindir, tls=_server_cert(folder, ca, ca_key, "localhost"),
                      passwords=True)
    try:
        server.start()
        with server.admin() as conn:
            conn.execute("CREATE ROLE ada LOGIN PASSWORD 'correct horse'")
            conn.execute("CREATE DATABASE journal OWNER ada")
        yield server, folder
    finally:
        server.stop()


def _url(server, folder: Path, host: str, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in params.items())
    return f"postgresql://ada@{host}:{server.port}/journal?{query}"


@pytest.fixture
def pgpass(secured, tmp_path, monkeypatch) -> Path:
    server, _ = secured
    path = tmp_path / "pgpass"
    path.write_text(f"*:{server.port}:journal:ada:correct horse\n")
    path.chmod(0o600)  # libpq ignores a password file others can read
    monkeypatch.setenv("PGPASSFILE", str(path))
    return path


def test_verify_full_with_the_password_from_pgpassfile(secured, pgpass):
    server, folder = secured
    url = _url(server, folder, "localhost", sslmode="verify-full",
               sslrootcert=str(folder / "ca.pem"))
    assert "correct horse" not in url
    with open_journal(url) as j:
        j.write([])
        row = j.conn.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        assert row.fetchone()[0] is True
        assert j.count() == 0


def test_a_certificate_for_another_name_is_refused(secured, pgpass):
    """The certificate names "localhost": asked for 127.0.0.1, verify-full refuses."""
    server, folder = secured
    url = _url(server, folder, "127.0.0.1", sslmode="verify-full",
               sslrootcert=str(folder / "ca.pem"))
    with pytest.raises(psycopg.OperationalError, match="does not match host name"):
        open_journal(url)


def test_a_certificate_from_another_authority_is_refused(secured, pgpass):
    server, folder = secured
    url = _url(server, folder, "localhost", sslmode="verify-full",
               sslrootcert=str(folder / "other.pem"))
    with pytest.raises(psycopg.OperationalError, match="certificate verify failed"):
        open_journal(url)


def test_without_a_password_file_no_password_is_sent(secured, tmp_path, monkeypatch):
    server, folder = secured
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "none"))
    url = _url(server, folder, "localhost", sslmode="verify-full",
               sslrootcert=str(folder / "ca.pem"))
    with pytest.raises(psycopg.OperationalError, match="password"):
        open_journal(url)
