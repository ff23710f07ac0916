"""The push log model: a bounded window over the journal, newest first, paged lazily.

- The journal is the truth. The model holds at most `max_rows` one-line rows (`LogRow`);
  older ones come in pages of `page_size` by id keyset when the view asks (`fetchMore`),
  rows trimmed off either end are still in the journal and come back the same way.
- Queries run on a worker thread with its own journal connection (`QueryWorker`); every
  request carries the filter's generation so results of a superseded filter are dropped
  and a running scan is aborted (SQLite progress handler).
- Live pushes arrive in batches (`add_records`): one `beginInsertRows(0, n-1)` per batch
  when the view follows the top, otherwise they are only counted (`sig_new_count_changed`)
  and fetched from the journal when the user comes back (`catch_up`).
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QThread,
    Signal,
    Slot,
)
from PySide6.QtGui import QColor, QFont

from app.journal.push_query import Cancelled, PushFilter
from app.journal.store import Journal
from app.journal.url import open_journal
from app.protocol.push import PushRecord
from app.ui.bounds import PUSHLOG_ROWS
from app.ui.panels.pushlog.query import (
    COL_ERRORS,
    COL_SUMMARY,
    COL_TIME,
    COLUMNS,
    PAGE_SIZE,
    LogRow,
    fetch_newer,
    fetch_page,
    full_local_time,
    row_from_record,
)
from app.ui.widgets.roles import BatchedRoles

log = logging.getLogger(__name__)

MAX_ROWS = PUSHLOG_ROWS.default  # rows held in memory (Settings › Push log); the journal
# keeps the rest, paged back in as the list is scrolled
LIVE_ROWS = 200  # a live batch bigger than this replaces the rows with its newest ones
TEXT_CAP = 5_000  # a raw-text search stops loading after this many matches

PushIdRole = Qt.ItemDataRole.UserRole + 1
HasErrorsRole = Qt.ItemDataRole.UserRole + 2

_Index = QModelIndex | QPersistentModelIndex

# Error rows: red text on a faint red ground, a pair for each theme.
ERROR_COLOURS = {
    False: (QColor("#a3121f"), QColor("#fde4e4")),  # light: (text, background)
    True: (QColor("#ff9d96"), QColor("#4a2327")),  # dark
}


# -- worker --------------------------------------------------------------------------------


@dataclass(slots=True)
class Request:
    gen: int
    op: str  # "reload" | "older" | "newer"
    flt: PushFilter
    before_id: int | None = None
    after_id: int | None = None
    limit: int = PAGE_SIZE


@dataclass(slots=True)
class Result:
    request: Request
    rows: list[LogRow] = field(default_factory=list)
    error: str = ""
    cancelled: bool = False


class QueryWorker(QObject):
    """Runs requests one after the other on its own thread and journal connection."""

    sig_result_ready = Signal(object)  # Result

    def __init__(self, journal_path: str) -> None:
        super().__init__()
        self.journal_path = journal_path
        self.current_gen = 0  # written by the GUI thread; an int store is atomic
        self._journal: Journal | None = None
        self._lock = threading.Lock()

    def execute(self, req: Request) -> Result:
        """Run one request on the calling thread (also used directly in synchronous mode)."""
        if req.gen != self.current_gen:
            return Result(req, cancelled=True)
        with self._lock:
            if self._journal is None:
                self._journal = open_journal(self.journal_path)
            conn = self._journal.conn

            def cancelled() -> bool:
                return req.gen != self.current_gen

            try:
                if req.op == "newer":
                    rows = fetch_newer(conn, req.flt, req.after_id or 0, req.limit,
                                       cancelled=cancelled)
                else:
                    rows = fetch_page(conn, req.flt, req.before_id, req.limit,
                                      cancelled=cancelled)
            except Cancelled:
                return Result(req, cancelled=True)
            except Exception as exc:  # shown in the panel, never a crash
                log.exception("push log query failed")
                return Result(req, error=str(exc))
        return Result(req, rows)

    @Slot(object)
    def run(self, req: Request) -> None:
        self.sig_result_ready.emit(self.execute(req))

    def close(self) -> None:
        with self._lock:
            if self._journal is not None:
                self._journal.close()
                self._journal = None


def _stop_thread(thread: QThread, *_args: object) -> None:
    try:
        thread.quit()
        thread.wait(5000)
    except RuntimeError:  # already gone
        pass


# -- model ---------------------------------------------------------------------------------


class PushLogModel(BatchedRoles, QAbstractTableModel):
    sig_loading_changed = Signal(bool, str)  # busy, what it is doing ("searching…")
    sig_new_count_changed = Signal(int)  # pushes that arrived while not following
    sig_top_trimmed = Signal(int)  # rows removed above the view (to keep its position)
    sig_status_changed = Signal(str)  # a line for the panel: rows loaded, end reached, errors
    _sig_request = Signal(object)
    """A query for the worker thread (a Request): queued, so it runs there, not here."""

    def __init__(
        self,
        journal_path: str,
        *,
        page_size: int = PAGE_SIZE,
        max_rows: int = MAX_ROWS,
        text_cap: int = TEXT_CAP,
        async_queries: bool = True,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.page_size = page_size
        self.max_rows = max(max_rows, page_size)
        self.live_rows = min(page_size, LIVE_ROWS)
        self.text_cap = text_cap
        self.dark = False
        self._rows: list[LogRow] = []
        self._filter = PushFilter()
        self._gen = 0
        self._loaded = False  # the first page of the current filter has arrived
        self._exhausted = False  # nothing older in the journal
        self._older_pending = False
        self._top_pending = False  # reload or catch-up in flight: stash live rows
        self._detached = False  # rows above the first one were trimmed off
        self._stash: list[LogRow] = []
        self._mutating = False  # inside begin/end Insert/Remove: no fetchMore from views
        self._capped = False
        self._cancelled = False
        self._error = ""
        self.following = True
        self.new_count = 0
        self._bold = QFont()
        self._bold.setBold(True)

        self._worker = QueryWorker(journal_path)
        self._thread: QThread | None = None
        if async_queries:
            self._thread = QThread(self)
            self._thread.setObjectName("pushlog-query")
            self._worker.moveToThread(self._thread)
            self._sig_request.connect(self._worker.run)
            self._worker.sig_result_ready.connect(self._on_result)
            self._thread.start()
            # Deleted without shutdown() (its panel destroyed): the running thread must stop
            # before Qt deletes it, or Qt aborts the process.
            self.destroyed.connect(functools.partial(_stop_thread, self._thread))

    # -- Qt model API ---------------------------------------------------------------------

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(COLUMNS):
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.ToolTipRole and section == COL_TIME:
                return "Received, local time"
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r = index.row()
        if r >= len(self._rows):
            return None
        row = self._rows[r]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return row.cells[col]
        if row.errors:
            if role == Qt.ItemDataRole.ForegroundRole:
                return ERROR_COLOURS[self.dark][0]
            if role == Qt.ItemDataRole.BackgroundRole:
                return ERROR_COLOURS[self.dark][1]
            if role == Qt.ItemDataRole.FontRole and col == COL_ERRORS:
                return self._bold
        if role == Qt.ItemDataRole.ToolTipRole:
            if col == COL_TIME:
                return f"{full_local_time(row.received_at)} · push #{row.id}"
            if col == COL_ERRORS and row.errors:
                return row.cells[COL_ERRORS]
            if col == COL_SUMMARY:
                return row.cells[COL_SUMMARY]
            return None
        if role == PushIdRole:
            return row.id
        if role == HasErrorsRole:
            return bool(row.errors)
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | \
            Qt.ItemFlag.ItemNeverHasChildren

    def canFetchMore(self, parent: _Index = QModelIndex()) -> bool:  # noqa: B008
        if parent.isValid():
            return False
        return (self._loaded and not self._exhausted and not self._older_pending
                and not self._mutating and not self._capped and not self._cancelled
                and not self._error)

    def fetchMore(self, parent: _Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        before = self._rows[-1].id if self._rows else None
        limit = self.page_size
        if self._filter.text:
            limit = min(limit, self.text_cap - len(self._rows))
        self._older_pending = True
        self._busy(self._busy_text())
        self._send(Request(self._gen, "older", self._filter, before_id=before, limit=limit))

    # -- public ---------------------------------------------------------------------------

    @property
    def filter(self) -> PushFilter:
        return self._filter

    @property
    def loading(self) -> bool:
        return self._top_pending or self._older_pending

    @property
    def exhausted(self) -> bool:
        return self._exhausted

    @property
    def capped(self) -> bool:
        return self._capped

    def row_at(self, row: int) -> LogRow | None:
        return self._rows[row] if 0 <= row < len(self._rows) else None

    def row_of(self, push_id: int) -> int:
        """Row of a push id, or -1 (rows are sorted by id, descending)."""
        lo, hi = 0, len(self._rows)
        while lo < hi:
            mid = (lo + hi) // 2
            if self._rows[mid].id > push_id:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self._rows) and self._rows[lo].id == push_id else -1

    def set_max_rows(self, n: int) -> None:
        """Rows held in memory (File › Settings › Push log), applied at once: past it the
        oldest go (scrolling pages them in again from the journal)."""
        self.max_rows = max(int(n), self.page_size)
        extra = len(self._rows) - self.max_rows
        if extra > 0:
            self._mutating = True
            try:
                self.beginRemoveRows(QModelIndex(), self.max_rows, len(self._rows) - 1)
                del self._rows[self.max_rows:]
                self.endRemoveRows()
                self._exhausted = False
            finally:
                self._mutating = False
        self._emit_status()

    def set_filter(self, flt: PushFilter) -> None:
        """Remember the filter; `reload()` applies it."""
        self._filter = flt

    def reload(self) -> None:
        """Drop the window and query the newest page of the current filter."""
        self._gen += 1
        self._worker.current_gen = self._gen  # aborts whatever the worker is running
        self.beginResetModel()
        self._rows = []
        self.endResetModel()
        self._loaded = False
        self._exhausted = False
        self._older_pending = False
        self._top_pending = True
        self._detached = False
        self._stash = []
        self._capped = False
        self._cancelled = False
        self._error = ""
        self._set_new_count(0)
        limit = min(self.page_size, self.text_cap) if self._filter.text else self.page_size
        self._busy(self._busy_text())
        self._send(Request(self._gen, "reload", self._filter, limit=limit))

    def cancel(self) -> None:
        """Stop the running query (a slow text search); what is loaded stays."""
        if not self.loading:
            return
        self._gen += 1
        self._worker.current_gen = self._gen
        self._older_pending = False
        self._cancelled = True
        if self._top_pending:
            self._top_pending = False
            self._loaded = True
            self._apply_stash()
        self._busy("")
        self._emit_status()

    def catch_up(self, *, force: bool = False) -> None:
        """Bring in what arrived while the view was not following (from the journal)."""
        if self._top_pending or not self._loaded:
            return
        if not self._rows:
            self.reload()
            return
        if not (force or self.new_count or self._detached):
            return
        self._top_pending = True
        self._send(Request(self._gen, "newer", self._filter, after_id=self._rows[0].id,
                           limit=self.max_rows))

    def add_records(self, records: list[tuple[int, PushRecord]], *, gap: bool = False) -> None:
        """A live batch from the feed (ids ascending). `gap`: the feed dropped updates."""
        flt = self._filter
        top = self._rows[0].id if self._rows else 0
        fresh = [(i, r) for i, r in records if i > top and flt.matches(r)]
        if gap and self._loaded and not self._top_pending and self.following \
                and not self._detached:
            # Some pushes never reached us: the journal has them, fetch instead of guessing.
            self.catch_up(force=True)
            return
        if not fresh:
            return
        if self._top_pending or not self._loaded:
            self._stash.extend(row_from_record(i, r) for i, r in fresh[-self.max_rows:])
            del self._stash[: max(0, len(self._stash) - self.max_rows)]
            return
        if not self.following or self._detached:
            self._set_new_count(self.new_count + len(fresh))
            return
        if len(fresh) >= self.live_rows:
            # A flood: building a row per push costs the GUI thread ~60 µs each, for rows
            # nobody will see scroll by. Keep the newest page only; the rest are in the
            # journal and page in (fetchMore) if the user scrolls down.
            newest = fresh[-self.live_rows:]
            self._replace_all([row_from_record(i, r) for i, r in reversed(newest)])
            return
        self._insert_top([row_from_record(i, r) for i, r in reversed(fresh)])

    def set_following(self, following: bool) -> None:
        was = self.following
        self.following = following
        if following and not was and (self.new_count or self._detached):
            self.catch_up()

    def shutdown(self) -> None:
        self._gen += 1
        self._worker.current_gen = self._gen
        if self._thread is not None:
            self._thread.quit()
            self._thread.wait(5000)
            self._thread = None
        self._worker.close()

    # -- internals ------------------------------------------------------------------------

    def _send(self, req: Request) -> None:
        if self._thread is not None:
            self._sig_request.emit(req)
        else:
            self._on_result(self._worker.execute(req))

    def _busy_text(self) -> str:
        if self._filter.text:
            where = "names, ids and raw payloads" if self._filter.raw else "names and ids"
            return f"searching {where} for “{self._filter.text}”…"
        return "searching…" if self._filter.slow else "loading…"

    def _busy(self, text: str) -> None:
        self.sig_loading_changed.emit(bool(text), text)

    def _set_new_count(self, n: int) -> None:
        if n != self.new_count:
            self.new_count = n
            self.sig_new_count_changed.emit(n)

    @Slot(object)
    def _on_result(self, res: Result) -> None:
        req = res.request
        if req.gen != self._gen:
            return  # a superseded filter
        op = req.op
        # Flags are cleared only once the rows are in: a view asking canFetchMore from
        # inside begin/endInsertRows must not send a request with a stale keyset.
        if res.cancelled or res.error:
            if op == "older":
                self._older_pending = False
            else:
                self._top_pending = False
            if res.error:
                self._error = res.error
                self._loaded = True
                self._busy("")
                self._emit_status()
            return
        rows = res.rows
        if op == "reload":
            self._exhausted = len(rows) < req.limit
            if rows:
                self._append(rows)
            self._loaded = True
            self._top_pending = False
            self._apply_stash()
        elif op == "older":
            last = self._rows[-1].id if self._rows else None
            if last is not None and req.before_id != last:  # the window moved meanwhile
                rows = [r for r in rows if r.id < last]
            if rows:
                self._append(rows)
            self._exhausted = len(res.rows) < req.limit
            self._older_pending = False
        else:  # newer
            self._top_pending = False
            if len(rows) >= req.limit:  # too much happened: start again from the top
                self.reload()
                return
            top = self._rows[0].id if self._rows else 0
            rows = [r for r in rows if r.id > top]
            self._detached = False
            self._set_new_count(0)
            if rows:
                self._insert_top(rows)
            self._apply_stash()
        if self._filter.text and len(self._rows) >= self.text_cap:
            self._capped = True
        if not self.loading:
            self._busy("")
        self._emit_status()

    def _apply_stash(self) -> None:
        stash, self._stash = self._stash, []
        top = self._rows[0].id if self._rows else 0
        fresh = [r for r in stash if r.id > top]
        if not fresh:
            return
        if not self.following or self._detached:
            self._set_new_count(self.new_count + len(fresh))
            return
        fresh.reverse()
        self._insert_top(fresh)

    def _insert_top(self, rows: list[LogRow]) -> None:
        """rows: newest first, all newer than the current first row."""
        self._mutating = True
        try:
            self.beginInsertRows(QModelIndex(), 0, len(rows) - 1)
            self._rows[0:0] = rows
            self.endInsertRows()
            extra = len(self._rows) - self.max_rows
            if extra > 0:  # trim the oldest in one go; fetchMore brings them back
                self.beginRemoveRows(QModelIndex(), self.max_rows, len(self._rows) - 1)
                del self._rows[self.max_rows:]
                self.endRemoveRows()
                self._exhausted = False
        finally:
            self._mutating = False
        self._emit_status()

    def _replace_all(self, rows: list[LogRow]) -> None:
        """rows: the newest page, newest first; everything older is left to paging."""
        self._mutating = True
        try:
            self.beginResetModel()
            self._rows = rows
            self._exhausted = False
            self.endResetModel()
        finally:
            self._mutating = False
        self._emit_status()

    def _append(self, rows: list[LogRow]) -> None:
        first = len(self._rows)
        extra = first + len(rows) - self.max_rows
        self._mutating = True
        try:
            self.beginInsertRows(QModelIndex(), first, first + len(rows) - 1)
            self._rows.extend(rows)
            self.endInsertRows()
            if extra > 0:  # scrolled deep: drop the newest, the view keeps its place
                self.beginRemoveRows(QModelIndex(), 0, extra - 1)
                del self._rows[:extra]
                self.endRemoveRows()
                self._detached = True
        finally:
            self._mutating = False
        if extra > 0:
            self.sig_top_trimmed.emit(extra)

    def _emit_status(self) -> None:
        n = len(self._rows)
        flt = self._filter
        if self._error:
            text = f"query failed: {self._error}"
        elif not self._loaded:
            text = ""
        elif n == 0:
            text = ("no pushes yet — they appear here as they arrive" if flt.empty
                    else f"no pushes match ({flt.describe()})")
        else:
            text = f"{n:,} shown · {flt.describe()}"
            if self._capped:
                text += f" · first {self.text_cap:,} matches — refine the search to see more"
            elif self._cancelled:
                text += " · search stopped (F5 to run it again)"
            elif self._exhausted:
                text += " · end of journal"
            else:
                text += " · scroll for older"
            if n >= self.max_rows:  # the bound on rows held: older ones are paged in
                text += f" · the newest {self.max_rows:,} held in memory"
            if self._detached:
                text += f" · newest not shown (window of {self.max_rows:,} rows)"
        self.sig_status_changed.emit(text)
