"""A private PostgreSQL for the tests: initdb + pg_ctl in a temporary folder, on a free port.

The journal's PostgreSQL implementation is tested against a real server, never a mock: the
same server for the whole session (initdb takes seconds), a fresh database per test
(`PgServer.new_database`, milliseconds). Nothing outside the folder is touched (its own
socket directory, no system service), and `stop` removes it all.

PostgreSQL refuses to run as root: as root (CI) the folder is given to the `postgres` user
and initdb/pg_ctl run through `runuser -u postgres --`; as any other user they run directly.
Speed over durability (fsync off): a test server's data dies with the test session anyway.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path

from app.bench.pg_server import as_root, find_bindir  # one way to find and run them

__all__ = ["PgServer", "find_bindir"]

SUPERUSER = "sealdesk"


class PgServer:
    """One PostgreSQL cluster, started by `start`, gone after `stop`."""

    def __init__(self, bindir: Path, *, tls: tuple[Path, Path] | None = None,
                 passwords: bool = False) -> None:
        """`tls`: (certificate, key) files the server offers TLS with; `passwords`: TCP
        connections must give a password (SCRAM; the socket stays trusted, for `admin`)."""
        self.bindir = bindir
        self.tls = tls
        self.passwords = passwords
        # As root the server runs as `postgres`, who must reach the folder: /tmp, not a
        # TMPDIR that may sit in root's own home.
        where = "/tmp" if as_root() and Path("/tmp").is_dir() else None
        self.folder = Path(tempfile.mkdtemp(prefix="sealdesk-pg-", dir=where))
        self.data = self.folder / "data"
        self.socket_dir = self.folder / "socket"
        self.log = self.folder / "server.log"
        self.port = 0
        self._running = False

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.folder)

    def _check(self, done: subprocess.CompletedProcess[str], what: str) -> None:
        if done.returncode != 0:
            log = self.log.read_text(errors="replace") if self.log.exists() else ""
            raise RuntimeError(f"{what} failed ({done.returncode}):\n{done.stdout}\n"
                               f"{done.stderr}\n{log[-4000:]}")

    def start(self) -> None:
        from app.brokers import PortReservation

        self.socket_dir.mkdir()
        if as_root():
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(self.socket_dir, "postgres", "postgres")
        host_auth = "scram-sha-256" if self.passwords else "trust"
        self._check(self._run("initdb", "-D", str(self.data), "-U", SUPERUSER,
                              "--auth-local=trust", f"--auth-host={host_auth}",
                              "--encoding=UTF8", "--no-locale", "--no-sync"), "initdb")
        settings = (f"-c listen_addresses=127.0.0.1 -c unix_socket_directories={self.socket_dir}"
                    " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
                    " -c max_connections=200 -c shared_buffers=64MB")
        if self.tls is not None:
            settings += self._tls_settings(*self.tls)
        # The port is held (SO_REUSEADDR, as PostgreSQL binds) until the server listens on it.
        hold = PortReservation()
        try:
            self.port = hold.port
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-w",
                             "-t", "60", "-o", f"-p {self.port} {settings}", "start")
            self._check(done, "pg_ctl start")
            self._running = True
        finally:
            hold.close()

    def _tls_settings(self, cert: Path, key: Path) -> str:
        """The key where the server's user alone reads it (PostgreSQL insists)."""
        own_cert, own_key = self.folder / "server.crt", self.folder / "server.key"
        shutil.copyfile(cert, own_cert)
        shutil.copyfile(key, own_key)
        own_key.chmod(0o600)
        if as_root():
            for path in (own_cert, own_key):
                shutil.chown(path, "postgres", "postgres")
        return f" -c ssl=on -c ssl_cert_file={own_cert} -c ssl_key_file={own_key}"

    def stop(self) -> None:
        try:
            if self._running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop",
                          timeout=60)
                self._running = False
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        """A superuser's connection (autocommit) through the server's own socket."""
        import psycopg

        return psycopg.connect(dbname=database, user=SUPERUSER, host=str(self.socket_dir),
                               port=self.port, autocommit=True)

    _admin = admin

    def new_database(self) -> str:
        """A new empty database; returns its URL."""
        name = "t_" + uuid.uuid4().hex[:16]
        with self._admin() as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def drop_database(self, url: str) -> None:
        """Gone, with any connection a test left open to it."""
        name = url.rsplit("/", 1)[1]
        with self._admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
