"""A throw-away PostgreSQL for the benchmark: initdb + pg_ctl in a temporary folder.

The benchmark measures the shared journal's intake (issue 23) where PostgreSQL is installed
and says "not measured: …" where it is not; `$SEALDESK_BENCH_PG` (a postgresql:// URL of an
empty database) measures on a server of your own instead. Like the tests' server
(tests/pgserver.py, which the application cannot import) it runs as the `postgres` user when
started by root, on its own socket folder and a free loopback port, and is removed when it
stops. Unlike it, it keeps `fsync` on: the figure is for a journal as durable as SQLite's
(`synchronous_commit=off` is the counterpart of SQLite's `synchronous=NORMAL` in WAL: a
crash of the process loses nothing committed, an operating-system crash may lose the last
transactions, neither damages the journal).
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "sealdesk"
SETTINGS = ("-c listen_addresses=127.0.0.1 -c synchronous_commit=off -c shared_buffers=128MB"
            " -c max_connections=50")


class NotAvailable(RuntimeError):
    """PostgreSQL cannot be started here; the message says why."""


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl are: `pg_config --bindir`, /usr/lib/postgresql/N/bin, PATH."""
    candidates: list[Path] = []
    try:
        out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True,
                             timeout=10)
        if out.returncode == 0 and out.stdout.strip():
            candidates.append(Path(out.stdout.strip()))
    except (OSError, subprocess.SubprocessError):
        pass
    # The newest Debian-style /usr/lib/postgresql/N/bin first (by number: 9 < 15).
    versions = sorted(glob.glob("/usr/lib/postgresql/*/bin"),
                      key=lambda p: int(Path(p).parent.name) if Path(p).parent.name.isdigit()
                      else 0, reverse=True)
    candidates += [Path(p) for p in versions]
    if shutil.which("initdb"):
        candidates.append(Path(shutil.which("initdb") or "").parent)
    for folder in candidates:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    return None


def as_root() -> bool:
    """PostgreSQL will not run as root: then initdb/pg_ctl go through runuser."""
    return hasattr(os, "geteuid") and os.geteuid() == 0


class PgServer:
    """One cluster: `with PgServer() as pg: pg.url` — gone afterwards."""

    def __init__(self) -> None:
        bindir = find_bindir()
        if bindir is None:
            raise NotAvailable("PostgreSQL is not installed (no initdb/pg_ctl)")
        if as_root() and not shutil.which("runuser"):
            raise NotAvailable("PostgreSQL will not run as root and runuser is missing")
        self.bindir = bindir
        self.folder = Path(tempfile.mkdtemp(prefix="sealdesk-bench-pg-"))
        self.data = self.folder / "data"
        self.port = 0
        self._running = False

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / args[0]), *args[1:]]
        if as_root():
            command = ["runuser", "-u", "postgres", "--", *command]
        return subprocess.run(command, capture_output=True, text=True, timeout=timeout,
                              cwd=self.folder)

    def start(self) -> PgServer:
        from app.brokers import PortReservation

        sockets = self.folder / "socket"
        sockets.mkdir()
        if as_root():
            shutil.chown(self.folder, "postgres", "postgres")
            shutil.chown(sockets, "postgres", "postgres")
        done = self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "--auth=trust",
                         "--encoding=UTF8", "--locale=C.UTF-8")
        if done.returncode != 0:
            raise NotAvailable(f"initdb failed: {(done.stderr or done.stdout).strip()[-300:]}")
        hold = PortReservation()  # held until the server listens on it (SO_REUSEADDR)
        try:
            self.port = hold.port
            done = self._run("pg_ctl", "-D", str(self.data), "-l", str(self.folder / "log"),
                             "-w", "-t", "60", "-o",
                             f"-p {self.port} -c unix_socket_directories={sockets} {SETTINGS}",
                             "start")
            if done.returncode != 0:
                raise NotAvailable(f"pg_ctl start failed: {done.stderr.strip()[-300:]}")
            self._running = True
        finally:
            hold.close()
        return self

    @property
    def url(self) -> str:
        return f"postgresql://{SUPERUSER}@127.0.0.1:{self.port}/postgres"

    @property
    def pid(self) -> int | None:
        """The postmaster's process id (its children are the server's other processes)."""
        try:
            return int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self) -> None:
        try:
            if self._running:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop", timeout=60)
                self._running = False
        finally:
            shutil.rmtree(self.folder, ignore_errors=True)

    def __enter__(self) -> PgServer:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
