"""Checking a journal before trusting it, and moving a damaged one aside.

`record` and the window check a journal on open with SQLite's `PRAGMA quick_check` (bounded in
time: a huge journal is checked as far as the limit allows), or `integrity_check` on request.
A damaged journal is refused — appending to it would acknowledge pushes that no export could
reach — and the user is offered to move it aside (kept, for `salvage`) and start a new one.
"""

from __future__ import annotations

import logging
import os
import sqlite3
import time
from pathlib import Path

log = logging.getLogger(__name__)

CHECK_TIME_LIMIT_S = 5.0
MAX_PROBLEMS = 10


class JournalDamaged(Exception):
    """The journal failed its check; `problems` are SQLite's own words."""

    def __init__(self, path: str | Path, problems: list[str]) -> None:
        self.path = str(path)
        self.problems = problems
        super().__init__(f"journal {self.path} is damaged ({problems[0] if problems else '?'})")


def check_journal(path: str | Path, *, full: bool = False,
                  time_limit: float = CHECK_TIME_LIMIT_S) -> None:
    """Raise JournalDamaged when SQLite finds the journal damaged; a missing file is fine
    (a new journal). With `full`, `PRAGMA integrity_check` (indexes against tables too) and
    no time limit; else `quick_check`, given up (and the journal accepted) after time_limit."""
    path = Path(path)
    if not path.exists() or path.stat().st_size == 0:
        return
    deadline = time.monotonic() + time_limit
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        if not full:
            conn.set_progress_handler(lambda: time.monotonic() > deadline, 10_000)
        pragma = "integrity_check" if full else "quick_check"
        rows = conn.execute(f"PRAGMA {pragma}({MAX_PROBLEMS})").fetchall()
    except sqlite3.OperationalError as exc:
        if "interrupted" in str(exc):
            log.warning("journal %s: quick_check unfinished after %.0f s; accepted",
                        path, time_limit)
            return
        if "locked" in str(exc) or "busy" in str(exc):
            return  # in use by another SealDesk: not a sign of damage
        raise JournalDamaged(path, [str(exc)]) from exc
    except sqlite3.DatabaseError as exc:  # "file is not a database", "malformed"…
        raise JournalDamaged(path, [str(exc)]) from exc
    finally:
        conn.close()
    # One row may hold several lines ("*** in database main ***\nPage 41: …").
    problems = [line.strip() for r in rows for line in str(r[0]).splitlines()
                if line.strip() and not line.startswith("***")]
    if problems != ["ok"]:
        raise JournalDamaged(path, problems)


def move_aside(path: str | Path) -> Path:
    """Rename the journal (and its -wal and -shm) to NAME.damaged-YYYYmmdd-HHMMSS.sqlite;
    returns the new path. The next open starts a new journal at `path`."""
    path = Path(path)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    target = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    n = 1
    while target.exists():
        n += 1
        target = path.with_name(f"{path.stem}.damaged-{stamp}-{n}{path.suffix}")
    for suffix in ("-wal", "-shm"):  # the WAL first: it belongs to the main file
        side = Path(str(path) + suffix)
        if side.exists():
            os.replace(side, str(target) + suffix)
    os.replace(path, target)
    log.warning("journal %s moved aside to %s", path, target)
    return target
