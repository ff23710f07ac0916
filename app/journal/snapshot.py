"""A consistent copy of a journal, taken without writing to it: what File › Open journal
read-only shows.

SQLite's online backup reads the source through a read-only connection (its WAL included),
so a journal another SealDesk is still recording into is copied as of one moment and is
never changed, locked for long, or migrated by the viewer.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path


def snapshot(source: str | Path, target: str | Path) -> Path:
    """Copy the journal at `source` to `target` (a new file); returns `target`."""
    source, target = Path(source), Path(target)
    if not source.is_file():
        raise FileNotFoundError(f"no journal at {source}")
    src = sqlite3.connect(source.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        dst = sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    return target
