"""Pieces shared by the alarm and event tables: a bounded newest-first model, its filter proxy,
a time-range picker, a paged journal loader and a CSV writer that runs off the GUI thread.

Rows are plain objects with at least ``push_id`` (journal row id, the order), ``device`` and
``at`` (received time, epoch seconds) and a ``cells`` tuple of display strings precomputed when
the row is made (in the loader thread for history), so ``data()`` is a tuple lookup.
"""

from __future__ import annotations

import bisect
import csv
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QDateTime,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QHBoxLayout, QLabel, QWidget

from app.journal.store import Journal, JournalRow

log = logging.getLogger(__name__)

SORT_ROLE = Qt.ItemDataRole.UserRole + 1  # raw value used for sorting (numbers stay numbers)
ROW_ROLE = Qt.ItemDataRole.UserRole + 2  # the row object itself

AnyIndex = QModelIndex | QPersistentModelIndex


def local_time(ts: float) -> str:
    """Display form of a time: '07 Feb 15:26:30' (local)."""
    return time.strftime("%d %b %H:%M:%S", time.localtime(ts))


def iso_local(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def position_text(data: dict[str, Any]) -> tuple[str, tuple[float, float] | None]:
    lat, lon = data.get("latitude"), data.get("longitude")
    if (
        not isinstance(lat, int | float) or not isinstance(lon, int | float)
        or isinstance(lat, bool) or (abs(lat) < 1e-9 and abs(lon) < 1e-9)
        or data.get("locType") == 0
    ):
        return "no fix", None
    return f"{lat:.5f}, {lon:.5f}", (float(lat), float(lon))


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


class LiveTableModel(QAbstractTableModel):
    """Newest first (by push id), bounded; one insert notification per call of `add_rows`."""

    sig_rows_dropped = Signal(int)  # total rows dropped off the bottom so far

    HEADERS: tuple[str, ...] = ()
    TOOLTIPS: tuple[str, ...] = ()

    def __init__(self, max_rows: int = 20_000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_rows = max(1, int(max_rows))
        self._rows: list[Any] = []  # newest first
        self._ids: set[int] = set()
        self.dropped = 0

    # -- Qt interface -------------------------------------------------------------------

    def rowCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: AnyIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.HEADERS)

    def headerData(self, section: int, orientation: Qt.Orientation,
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self.HEADERS[section]
        if role == Qt.ItemDataRole.ToolTipRole and section < len(self.TOOLTIPS):
            return self.TOOLTIPS[section] or None
        return None

    def flags(self, index: AnyIndex) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        r, c = index.row(), index.column()
        if not 0 <= r < len(self._rows) or not 0 <= c < len(self.HEADERS):
            return None
        row = self._rows[r]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.display(row, c)
        if role == SORT_ROLE:
            return self.sort_key(row, c)
        if role == ROW_ROLE:
            return row
        return self.other_role(row, c, role)

    # -- for subclasses -------------------------------------------------------------------

    def display(self, row: Any, column: int) -> str:
        return row.cells[column]

    def sort_key(self, row: Any, column: int) -> Any:
        return row.cells[column]

    def other_role(self, row: Any, column: int, role: int) -> Any:
        return None

    # -- rows ------------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[Any]:
        return self._rows

    def row_at(self, r: int) -> Any:
        return self._rows[r]

    def row_of(self, push_id: int) -> int:
        """Row number of a push id, or -1."""
        if push_id not in self._ids:
            return -1
        i = bisect.bisect_left(self._rows, -push_id, key=lambda row: -row.push_id)
        return i if i < len(self._rows) and self._rows[i].push_id == push_id else -1

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Add rows (any order); duplicates by push id are ignored. Returns how many were added.

        Live rows are newer than everything shown, so they go in with a single
        beginInsertRows(0, n-1); older rows (history pages) are merged in place, one
        notification per contiguous run.
        """
        fresh = sorted(
            (r for r in rows if r.push_id not in self._ids), key=lambda r: r.push_id, reverse=True
        )
        if not fresh:
            return 0
        dropped_before = self.dropped
        # Same id twice within one call: keep the first.
        unique: list[Any] = []
        seen: set[int] = set()
        for r in fresh:
            if r.push_id not in seen:
                seen.add(r.push_id)
                unique.append(r)
        fresh = unique
        if len(fresh) > self.max_rows:  # only the newest can stay anyway
            self.dropped += len(fresh) - self.max_rows
            fresh = fresh[: self.max_rows]
        rows_ = self._rows
        if not rows_ or fresh[-1].push_id > rows_[0].push_id:
            self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
            rows_[0:0] = fresh
            self._ids.update(seen)
            self.endInsertRows()
        elif fresh[0].push_id < rows_[-1].push_id:
            n = len(rows_)
            take = fresh[: max(0, self.max_rows - n)]
            self.dropped += len(fresh) - len(take)
            if take:
                self.beginInsertRows(QModelIndex(), n, n + len(take) - 1)
                rows_.extend(take)
                self._ids.update(r.push_id for r in take)
                self.endInsertRows()
            fresh = take
        else:
            self._merge(fresh)
        self._trim()
        if self.dropped != dropped_before:
            self.sig_rows_dropped.emit(self.dropped)
        return len(fresh)

    def _merge(self, fresh: list[Any]) -> None:
        """Insert rows (newest first) into their places, one notification per contiguous run."""
        rows_ = self._rows
        i = 0
        while i < len(fresh):
            pos = bisect.bisect_left(rows_, -fresh[i].push_id, key=lambda row: -row.push_id)
            j = i + 1
            # Extend the run while the next row belongs at the same place.
            limit_id = rows_[pos].push_id if pos < len(rows_) else None
            while j < len(fresh) and (limit_id is None or fresh[j].push_id > limit_id):
                j += 1
            run = fresh[i:j]
            self.beginInsertRows(QModelIndex(), pos, pos + len(run) - 1)
            rows_[pos:pos] = run
            self._ids.update(r.push_id for r in run)
            self.endInsertRows()
            i = j

    def _trim(self) -> None:
        extra = len(self._rows) - self.max_rows
        if extra <= 0:
            return
        n = len(self._rows)
        self.beginRemoveRows(QModelIndex(), n - extra, n - 1)
        for r in self._rows[n - extra:]:
            self._ids.discard(r.push_id)
        del self._rows[n - extra:]
        self.endRemoveRows()
        self.dropped += extra

    def rows_changed(self, push_ids: Iterable[int], first_col: int = 0,
                     last_col: int | None = None) -> None:
        """dataChanged over the rows of these push ids, one signal per contiguous range."""
        found = sorted(r for r in (self.row_of(p) for p in push_ids) if r >= 0)
        if not found:
            return
        last_col = self.columnCount() - 1 if last_col is None else last_col
        start = prev = found[0]
        for r in [*found[1:], None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            self.dataChanged.emit(self.index(start, first_col), self.index(prev, last_col))
            if r is not None:
                start = prev = r

    def all_changed(self) -> None:
        if self._rows:
            self.dataChanged.emit(
                self.index(0, 0), self.index(len(self._rows) - 1, self.columnCount() - 1)
            )


class LiveFilterProxy(QSortFilterProxyModel):
    """Filters by device text, type code and time range, reading row objects directly."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device_text = ""
        self.code: int | None = None  # None: every type
        self.since: float | None = None
        self.until: float | None = None
        self.setSortRole(SORT_ROLE)
        self.setDynamicSortFilter(True)

    def refilter(self, change: Callable[[], None]) -> None:
        """Apply `change` to the filter settings and re-filter the rows once."""
        self.beginFilterChange()
        change()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def set_device_text(self, text: str) -> None:
        text = text.strip().lower()
        if text != self.device_text:
            self.refilter(lambda: setattr(self, "device_text", text))

    def set_code(self, code: int | None) -> None:
        if code != self.code:
            self.refilter(lambda: setattr(self, "code", code))

    def set_range(self, since: float | None, until: float | None) -> None:
        if (since, until) != (self.since, self.until):
            self.refilter(lambda: (setattr(self, "since", since), setattr(self, "until", until)))

    def accepts(self, row: Any) -> bool:
        if self.device_text and self.device_text not in row.device.lower():
            return False
        if self.code is not None and row.code != self.code:
            return False
        if self.since is not None and row.at < self.since:
            return False
        return not (self.until is not None and row.at >= self.until)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        model = self.sourceModel()
        if source_parent.isValid() or not isinstance(model, LiveTableModel):
            return False
        return self.accepts(model.row_at(source_row))

    def visible_rows(self) -> list[Any]:
        model = self.sourceModel()
        assert isinstance(model, LiveTableModel)
        out = []
        for r in range(self.rowCount()):
            src = self.mapToSource(self.index(r, 0))
            out.append(model.row_at(src.row()))
        return out


RANGES: tuple[tuple[str, float | None], ...] = (
    ("All time", None),
    ("Last hour", 3600.0),
    ("Last 24 hours", 86400.0),
    ("Last 7 days", 7 * 86400.0),
    ("From – to…", -1.0),
)


class TimeRangePicker(QWidget):
    """A preset (last hour / 24 h / 7 days / all) or an explicit from–to, as (since, until)."""

    sig_range_changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.combo = QComboBox()
        for label, span in RANGES:
            self.combo.addItem(label, span)
        self.combo.setToolTip("Show only rows received in this time range")
        now = QDateTime.currentDateTime()
        self.from_edit = QDateTimeEdit(now.addSecs(-3600))
        self.to_edit = QDateTimeEdit(now.addSecs(3600))
        for edit in (self.from_edit, self.to_edit):
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd HH:mm")
            edit.setVisible(False)
            edit.dateTimeChanged.connect(lambda *_: self.sig_range_changed.emit())
        self.dash = QLabel("–")
        self.dash.setVisible(False)
        layout.addWidget(self.combo)
        layout.addWidget(self.from_edit)
        layout.addWidget(self.dash)
        layout.addWidget(self.to_edit)
        self.combo.currentIndexChanged.connect(self._on_preset)

    def _on_preset(self) -> None:
        custom = self.combo.currentData() == -1.0
        for w in (self.from_edit, self.dash, self.to_edit):
            w.setVisible(custom)
        self.sig_range_changed.emit()

    @property
    def is_relative(self) -> bool:
        span = self.combo.currentData()
        return isinstance(span, float) and span > 0

    def set_span(self, seconds: float | None) -> None:
        for i, (_label, span) in enumerate(RANGES):
            if span == seconds:
                self.combo.setCurrentIndex(i)
                return

    def set_custom(self, since: float, until: float) -> None:
        self.from_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(since)))
        self.to_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(until)))
        self.combo.setCurrentIndex(len(RANGES) - 1)

    def value(self, now: float | None = None) -> tuple[float | None, float | None]:
        span = self.combo.currentData()
        if span is None:
            return None, None
        if span == -1.0:
            return (float(self.from_edit.dateTime().toSecsSinceEpoch()),
                    float(self.to_edit.dateTime().toSecsSinceEpoch()))
        return (time.time() if now is None else now) - float(span), None


class HistoryLoader(QObject):
    """Reads the newest rows of one kind from the journal on a thread, page by page.

    `convert(journal, rows)` runs on the loader thread (it may query the journal) and returns
    row objects; each page arrives on the GUI thread through `sig_page_loaded(list)`.
    """

    sig_page_loaded = Signal(object)  # list of row objects
    sig_finished = Signal(int)  # total rows loaded

    def __init__(
        self,
        journal_path: str,
        kind: str,
        limit: int,
        convert: Callable[[Journal, list[JournalRow]], list[Any]],
        page_size: int = 2000,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.journal_path = journal_path
        self.kind = kind
        self.limit = limit
        self.convert = convert
        self.page_size = page_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=f"history-{self.kind}",
                                        daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 2.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def wait(self, timeout: float = 10.0) -> bool:
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _run(self) -> None:
        total = 0
        try:
            journal = Journal(self.journal_path, readonly=True)
        except Exception:
            log.exception("history: cannot open the journal")
            self.sig_finished.emit(0)
            return
        try:
            before: int | None = None
            while total < self.limit and not self._stop.is_set():
                want = min(self.page_size, self.limit - total)
                rows = list(journal.rows(kind=self.kind, newest_first=True, limit=want,
                                         before_id=before))
                if not rows:
                    break
                before = rows[-1].id
                page = self.convert(journal, rows)
                total += len(rows)
                if self._stop.is_set():
                    break
                self.sig_page_loaded.emit(page)
                if len(rows) < want:
                    break
        except Exception:
            log.exception("history: loading %s failed", self.kind)
        finally:
            journal.close()
        if not self._stop.is_set():
            self.sig_finished.emit(total)


class CsvExporter(QObject):
    """Writes rows to a CSV file on a thread; `sig_done(path, count, error)` on the GUI thread."""

    sig_done = Signal(str, int, str)

    def export(self, path: str, header: Sequence[str], rows: list[Sequence[Any]]) -> None:
        def run() -> None:
            try:
                with open(path, "w", newline="", encoding="utf-8") as fh:
                    writer = csv.writer(fh)
                    writer.writerow(header)
                    writer.writerows(rows)
            except OSError as exc:
                self.sig_done.emit(path, 0, str(exc))
                return
            self.sig_done.emit(path, len(rows), "")

        threading.Thread(target=run, name="csv-export", daemon=True).start()
