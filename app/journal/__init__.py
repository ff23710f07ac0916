"""The journal: every push that arrived, raw and decoded — in a SQLite file (WAL), or shared
by several recorders and desks in PostgreSQL (`postgresql://…`, team mode). `open_journal`
takes either and gives the implementation (`Journal`, `pg.PgJournal`), one interface."""

from app.journal.store import Journal, JournalRow
from app.journal.url import is_journal_url, open_journal

__all__ = ["Journal", "JournalRow", "is_journal_url", "open_journal"]
