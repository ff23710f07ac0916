"""One recorder per client id (issue 23): the broker cannot be asked who holds an id.

Two recorders with one client id at one broker take the broker's session from each other at
every reconnect, each acknowledging the other's pushes by turns. With team mode's shared
subscriptions that is an easy mistake (every member needs its own id), so `record` holds its
id for as long as it runs and refuses to start when another recorder holds it: in a shared
PostgreSQL journal (which every recorder of a group writes to) with an advisory lock, else on
this machine with a lock file. Either is let go when the process ends, killed or not.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import tempfile
from pathlib import Path
from typing import Protocol

# The server asks a silent connection after 10 s, 3 times 5 s apart: the hold of a recorder
# whose machine died (no FIN ever comes) is let go within half a minute.
_KEEPALIVES = "-c tcp_keepalives_idle=10 -c tcp_keepalives_interval=5 -c tcp_keepalives_count=3"
# A recorder killed and started again at once: its old connection may take a moment to end.
_CLAIM_WAIT_S = 5.0


class ClientIdInUse(Exception):
    """Another recorder holds this client id (at this broker)."""


class Claim(Protocol):
    """A recorder's hold on its client id; `close` lets it go."""

    def close(self) -> None: ...


class _JournalClaim:
    """The hold in a shared journal: an advisory lock on a connection of its own, kept
    for as long as the recorder runs (the server lets it go when the connection ends)."""

    def __init__(self, conn) -> None:
        self.conn = conn

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.conn.close()


class _LocalClaim:
    """The hold on this machine (a SQLite journal has no server to ask): an exclusive lock
    on a file named after broker and id, let go when the process ends. The file is removed
    when the hold is let go (a killed recorder leaves it; the next one takes it over)."""

    def __init__(self, file, path: Path) -> None:
        self.file = file
        self.path = path

    def close(self) -> None:
        # Removed while still locked: whoever opens the path next makes a new file, and one
        # that opened this file meanwhile sees it gone once it holds it (`_lock_file`).
        with contextlib.suppress(OSError):
            self.path.unlink()
        with contextlib.suppress(OSError):
            self.file.close()


def _lock_file(path: Path):
    """`path` opened and locked (exclusive, not waiting) — the file still at `path` once it
    is held, not one another recorder removed meanwhile; None when another holds it."""
    while True:
        file = open(path, "a+b")  # noqa: SIM115 - held open for the recorder's life
        try:
            if os.name == "nt":
                import msvcrt

                msvcrt.locking(file.fileno(), msvcrt.LK_NBLCK, 1)
                return file  # Windows cannot remove an open file: the race cannot happen
            import fcntl

            fcntl.flock(file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            file.close()
            return None
        try:
            if os.stat(path).st_ino == os.fstat(file.fileno()).st_ino:
                return file
        except FileNotFoundError:
            pass
        file.close()  # removed by the recorder that held it: try the new one


def claim_client_id_here(client_id: str, broker: str = "") -> _LocalClaim:
    """Hold `client_id` (at `broker`) on this machine; raises ClientIdInUse when another
    recorder of this user holds it."""
    digest = hashlib.sha256(f"{broker}\0{client_id}".encode("utf-8", "surrogatepass")
                            ).hexdigest()[:16]
    user = os.getuid() if hasattr(os, "getuid") else os.environ.get("USERNAME", "user")
    # The user's runtime folder where there is one (emptied at logout), else the temporary.
    folder = Path(os.environ.get("XDG_RUNTIME_DIR") or tempfile.gettempdir())
    path = folder / f"sealdesk-recorder-{user}-{digest}.lock"
    file = _lock_file(path)
    if file is None:
        raise ClientIdInUse(
            f"another recorder on this machine is running with client id {client_id!r}; "
            "each recorder needs its own --client-id (two with one id take the broker's "
            "session from each other)")
    return _LocalClaim(file, path)


def claim_client_id(url: str, client_id: str, broker: str = "",
                    name: str | None = None) -> _JournalClaim:
    """Hold `client_id` (at `broker`) for this recorder in the journal at `url`, on a
    connection named `name` (a group's members see each other by it: `takeover.py`); raises
    ClientIdInUse when another recorder holds it. While another member takes over this id's
    session (it stopped a moment ago), waits for that to end."""
    import psycopg

    from app.cli.takeover import MAX_TAKEOVER_S, hold_key, taking_over_name
    from app.journal import pg_holds

    name = name or f"sealdesk record {client_id}"[:63]
    conn = psycopg.connect(url, autocommit=True, connect_timeout=15, application_name=name,
                           options=_KEEPALIVES)
    try:
        key = hold_key(broker, client_id)
        held = pg_holds.hold(conn, key, _CLAIM_WAIT_S)
        if not held and pg_holds.is_connected(conn, taking_over_name(client_id)):
            held = pg_holds.hold(conn, key, MAX_TAKEOVER_S)
        if not held:
            where = pg_holds.oldest_other(conn, name)
            since = (f" (from {where[0]}, since {where[1]:%Y-%m-%d %H:%M:%S %Z})"
                     if where else "")
            raise ClientIdInUse(
                f"another recorder is running with client id {client_id!r}{since}; each "
                "recorder of a group needs its own --client-id (two with one id take the "
                "broker's session from each other; the journal lets the id of a recorder "
                "whose machine died go within half a minute)")
    except BaseException:
        conn.close()
        raise
    return _JournalClaim(conn)
