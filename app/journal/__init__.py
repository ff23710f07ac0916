"""The local journal: every push that arrived, raw and decoded, in SQLite (WAL)."""

from app.journal.store import Journal, JournalRow

__all__ = ["Journal", "JournalRow"]
