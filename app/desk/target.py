"""Which journal a desk watches, and how it is named on screen (never with a password)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from app.journal.url import JOURNAL_ERRORS, is_journal_url, open_journal

__all__ = ["JOURNAL_ERRORS", "describe", "is_journal_url", "open_journal"]


def describe(target: str | Path) -> str:
    """'host/db' for a PostgreSQL URL (no user, no password), the file name for SQLite."""
    text = str(target)
    if not is_journal_url(text):
        return Path(text).name
    parts = urlsplit(text)
    host = parts.hostname or "localhost"
    if parts.port:
        host += f":{parts.port}"
    db = parts.path.lstrip("/") or "postgres"
    return f"{host}/{db}"
