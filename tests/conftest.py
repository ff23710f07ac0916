"""Shared fixtures: a real private broker per test, and a way to run the CLI as a user does."""

from __future__ import annotations

import gc
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Tests never touch the user's own settings, logs, journals or map tiles: every folder Qt and
# SealDesk would use (QSettings, QStandardPaths, the log file) points into one throw-away home,
# set before anything imports Qt and inherited by every child process the tests start.
_THROWAWAY_HOME = Path(tempfile.mkdtemp(prefix="sealdesk-tests-home-"))
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                   ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache"),
                   ("XDG_RUNTIME_DIR", "runtime")):
    (_THROWAWAY_HOME / _sub).mkdir(mode=0o700)
    os.environ[_var] = str(_THROWAWAY_HOME / _sub)


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(_THROWAWAY_HOME, ignore_errors=True)


@pytest.fixture(autouse=True)
def _collect_on_the_main_thread():
    """What a test leaves in reference cycles (contexts, panels, their QObjects and timers) is
    collected here, on the main thread. Left to chance, the collector can run on a journal
    writer's thread and destroy a QObject there while the main thread's event loop still
    holds its timers: a crash in the next test."""
    yield
    gc.collect()

from app.brokers import BrokerProcess  # noqa: E402 (after the home is set)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker() -> Iterator[BrokerProcess]:
    """mosquitto on a free port, or the embedded amqtt broker where mosquitto is absent.

    SEALDESK_TEST_BROKER=amqtt forces the fallback so it is exercised too.
    """
    kind = os.environ.get("SEALDESK_TEST_BROKER", "auto")
    with BrokerProcess(kind) as b:
        yield b


class Cli:
    """Runs `python main.py ARGS…` in a child process, exactly as a user would."""

    @staticmethod
    def _env() -> dict[str, str]:
        return dict(os.environ, PYTHONUNBUFFERED="1")

    def run(self, *args: str, timeout: float = 120,
            env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *args],
            capture_output=True, text=True, timeout=timeout,
            env=dict(self._env(), **(env or {})), cwd=ROOT,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """In the background (e.g. `record` while a test publishes)."""
        return subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self._env(), cwd=ROOT,
        )


@pytest.fixture
def cli() -> Cli:
    return Cli()


# -- TLS ------------------------------------------------------------------------------------


@dataclass
class TlsBroker:
    """One mosquitto with a TLS listener per case, certificates made for this test session.

    `ca` signed every certificate except the self-signed one. Listeners (port by name):
    good (a valid certificate for 127.0.0.1 and localhost), client_cert (the same, and it wants
    a client certificate signed by `ca`), self_signed, wrong_host (valid, for another name),
    expired (valid for 127.0.0.1, expired yesterday).
    """

    host: str
    ports: dict[str, int]
    ca: str
    client_cert: str
    client_key: str


def _make_certificates(folder: Path) -> dict[str, tuple[str, str]]:
    """{name: (certificate file, key file)}, PEM, with `cryptography`."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    now = datetime.datetime.now(datetime.UTC)
    day = datetime.timedelta(days=1)

    def key():
        return ec.generate_private_key(ec.SECP256R1())

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "SealDesk tests"),
                          x509.NameAttribute(NameOID.COMMON_NAME, cn)])

    def write(stem: str, cert: x509.Certificate, k) -> tuple[str, str]:
        c, kf = folder / f"{stem}.pem", folder / f"{stem}.key"
        c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        kf.write_bytes(k.private_bytes(serialization.Encoding.PEM,
                                       serialization.PrivateFormat.PKCS8,
                                       serialization.NoEncryption()))
        return str(c), str(kf)

    ca_key = key()
    ca_name = name("SealDesk test CA")
    ca = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name)
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - day).not_valid_after(now + 30 * day)
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True,
                                       crl_sign=True, content_commitment=False,
                                       key_encipherment=False, data_encipherment=False,
                                       key_agreement=False, encipher_only=False,
                                       decipher_only=False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()),
                         critical=False)
          .sign(ca_key, hashes.SHA256()))
    files = {"ca": write("ca", ca, ca_key)}

    def leaf(stem: str, cn: str, sans: list[x509.GeneralName], *, client: bool = False,
             not_before=now - day, not_after=now + 30 * day, self_signed: bool = False):
        k = key()
        issuer_key, issuer = (k, name(cn)) if self_signed else (ca_key, ca.subject)
        usage = ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH
        b = (x509.CertificateBuilder().subject_name(name(cn)).issuer_name(issuer)
             .public_key(k.public_key()).serial_number(x509.random_serial_number())
             .not_valid_before(not_before).not_valid_after(not_after)
             .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
             .add_extension(x509.ExtendedKeyUsage([usage]), critical=False))
        if sans:
            b = b.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        if not self_signed:
            b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                ca_key.public_key()), critical=False)
        files[stem] = write(stem, b.sign(issuer_key, hashes.SHA256()), k)

    here = [x509.IPAddress(ipaddress.ip_address("127.0.0.1")), x509.DNSName("localhost")]
    leaf("server", "127.0.0.1", here)
    leaf("client", "sealdesk-console", [], client=True)
    leaf("self_signed", "127.0.0.1", here, self_signed=True)
    leaf("wrong_host", "broker.elsewhere.example",
         [x509.DNSName("broker.elsewhere.example")])
    leaf("expired", "127.0.0.1", here, not_before=now - 30 * day, not_after=now - day)
    return files


@pytest.fixture(scope="session")
def tls_broker() -> Iterator[TlsBroker]:
    """mosquitto with TLS listeners (see TlsBroker), for the whole session."""
    from app.brokers import PortReservation, find_mosquitto, wait_for_port

    mosquitto = find_mosquitto()
    if not mosquitto:
        pytest.skip("the TLS tests need mosquitto")
    folder = Path(tempfile.mkdtemp(prefix="sealdesk-tls-"))
    files = _make_certificates(folder)
    listeners = {"good": "server", "client_cert": "server", "self_signed": "self_signed",
                 "wrong_host": "wrong_host", "expired": "expired"}
    holds = {name: PortReservation() for name in listeners}
    conf = ["per_listener_settings false", "allow_anonymous true", "persistence false",
            "log_dest stderr", "log_type error", "log_type warning"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        conf.append("user root")  # else mosquitto drops to a user who cannot read the keys
    for name, stem in listeners.items():
        cert, key = files[stem]
        conf += [f"listener {holds[name].port} 127.0.0.1", f"cafile {files['ca'][0]}",
                 f"certfile {cert}", f"keyfile {key}",
                 f"require_certificate {'true' if name == 'client_cert' else 'false'}"]
    (folder / "mosquitto.conf").write_text("\n".join(conf) + "\n")
    log = (folder / "mosquitto.log").open("wb")
    proc = subprocess.Popen([mosquitto, "-c", str(folder / "mosquitto.conf")],
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        for name, hold in holds.items():
            if not wait_for_port("127.0.0.1", hold.port, 15):
                pytest.fail(f"mosquitto's TLS listener {name} did not start:\n"
                            + (folder / "mosquitto.log").read_text())
        yield TlsBroker("127.0.0.1", {n: h.port for n, h in holds.items()}, files["ca"][0],
                        *files["client"])
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        for hold in holds.values():
            hold.close()
        shutil.rmtree(folder, ignore_errors=True)


# -- map tiles ------------------------------------------------------------------------------

_loopback_tiles = None


@pytest.fixture(autouse=True)
def _map_tiles_from_loopback(monkeypatch):
    """Wherever a test shows the map (a panel, a whole window), its default tile server is the
    loopback one: no test reaches the internet. Tests that set a server keep theirs."""
    global _loopback_tiles
    widget = sys.modules.get("app.ui.panels.map.widget")
    if widget is None:  # the map was not imported by this test module: nothing to point
        yield None
        return
    if _loopback_tiles is None:
        from loopback_tiles import TileServer

        _loopback_tiles = TileServer()
    monkeypatch.setattr(widget, "DEFAULT_TILE_URL", _loopback_tiles.url)
    yield _loopback_tiles


# -- PostgreSQL -----------------------------------------------------------------------------


@pytest.fixture(scope="session")
def pg_server():
    """A private PostgreSQL for the session (tests/pgserver.py), stopped and removed at the
    end. Skipped only where PostgreSQL is not installed (`.ci/run` installs it)."""
    from pgserver import PgServer, find_bindir

    bindir = find_bindir()
    if bindir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl: pg_config --bindir, "
                    "/usr/lib/postgresql/*/bin, PATH); .ci/run installs it with apt")
    server = PgServer(bindir)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server) -> Iterator[str]:
    """postgresql://… of a fresh empty database, dropped after the test."""
    url = pg_server.new_database()
    try:
        yield url
    finally:
        pg_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgresql"])
def journal_target(request, tmp_path) -> str:
    """Where a journal test opens its journal, once per implementation: a SQLite file, then
    a PostgreSQL URL (`app.journal.url.open_journal` takes either)."""
    if request.param == "sqlite":
        return str(tmp_path / "journal.sqlite")
    return request.getfixturevalue("pg_url")
