"""Pieces shared by the alarm and event tables: a bounded newest-first model, its filter proxy,
a time-range picker, a paged journal loader and a CSV writer that runs off the GUI thread.

Rows are plain objects with at least ``push_id`` (journal row id, the order), ``device``,
``at`` (received time, epoch seconds), ``code`` and ``name`` (the row's type, for the type
filter), ``device_time`` (the device's own time text, may be empty) and a ``cells`` tuple of
display strings precomputed when the row is made (in the loader thread for history), so
``data()`` is a tuple lookup.
"""

from __future__ import annotations

import csv
import heapq
import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from PySide6.QtCore import (
    QDateTime,
    QObject,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import QComboBox, QDateTimeEdit, QHBoxLayout, QLabel, QWidget

from app.journal.store import Journal, JournalRow
from app.ui.widgets.quiet import signals_blocked
from app.ui.widgets.runs import runs
from app.ui.widgets.table_model import AnyIndex

log = logging.getLogger(__name__)

# Column c's sort key (numbers stay numbers) is role SORT_ROLE_BASE + c of the row's first cell.
SORT_ROLE_BASE = int(Qt.ItemDataRole.UserRole.value) + 16


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


def clip(value: Any, limit: int = 300) -> str:
    """A value as text, cut to `limit` characters ("..." at the end when cut); None is ""."""
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def device_time_text(data: dict[str, Any]) -> str:
    """The device's own time of a push (``dateTime``), or "" when it sent none."""
    value = data.get("dateTime")
    return value if isinstance(value, str) else ""


def received_tooltip(row: Any) -> str:
    """Tooltip of a time cell: when the row was received, and the device's time if known."""
    text = f"received {iso_local(row.at)}"
    if row.device_time:
        text += f"\ndevice time {row.device_time} (UTC)"
    return text


_READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_DISPLAY = int(Qt.ItemDataRole.DisplayRole.value)
NO_STYLE: dict[int, Any] = {}  # returned, never changed


def role(name: Qt.ItemDataRole) -> int:
    """A role as the plain int Qt takes: ~1 µs less per call than the enum, on every cell."""
    return int(name.value)


TOOLTIP = role(Qt.ItemDataRole.ToolTipRole)


def sort_role(column: int) -> int:
    """Role of a column's sort key, on the row's first cell: see LiveFilterProxy.
    `sort_role(-1)` holds the row's place newest first (minus its push id)."""
    return SORT_ROLE_BASE + column


_ORDER = sort_role(-1)


class LiveTableModel(QStandardItemModel):
    """Newest first (by push id), bounded; one notification per call of `add_rows`.

    The cells are Qt's own (QStandardItem), filled once when a row arrives and again only
    when it changes (`rows_changed`): painting a table under a flood calls no Python.
    With a Python `data()` a full repaint of the alarm table cost ~20 ms, now ~5 ms
    (`python -m app.bench.paint`); in a 5 000/s flood those repaints were the larger part
    of the window's longest stalls.

    The model's rows are *slots*: a new row takes a slot at the end while the table has
    room, and once it is full, the slot of the row it pushes out (its cells overwritten in
    place). No row is ever removed or inserted in front of others. Why: Qt finds a removed
    item's row by searching outward from where the item was when it last looked, so with
    rows inserted at the top and dropped at the bottom each dropped cell cost a scan of
    the whole table: ~1.2 ms a row at 20 000 rows, stalls of 100-540 ms per batch once a
    long flood filled the table. The order shown is the proxy's: by the sorted column, or
    newest first (`sort_role(-1)`) when none is.

    The row objects stay in `rows`, newest first, for filtering, selection and export;
    `row_at(slot)` and `row_of(push id)` go between them and the model's rows. A subclass
    answers `display` and `sort_key` per cell, `row_style` (roles for every cell of a
    row) and `cell_style` (roles for one cell), with int roles (`role()`). Only the sorted
    column's key is kept (`use_sort_column`).
    """

    HEADERS: tuple[str, ...] = ()
    TOOLTIPS: tuple[str, ...] = ()

    sig_rows_dropped = Signal(int)  # total rows dropped off the bottom so far
    sig_types_changed = Signal()  # a new row type (code) appeared

    def __init__(self, max_rows: int = 20_000, parent: QObject | None = None) -> None:
        super().__init__(0, len(self.HEADERS), parent)
        for column, title in enumerate(self.HEADERS):
            header = QStandardItem(title)
            if column < len(self.TOOLTIPS) and self.TOOLTIPS[column]:
                header.setToolTip(self.TOOLTIPS[column])
            self.setHorizontalHeaderItem(column, header)
        self.max_rows = max(1, int(max_rows))
        self._rows: list[Any] = []  # newest first
        self._slots: list[Any] = []  # the row object in each of the model's rows
        self._slot_of: dict[int, int] = {}  # push id → model row
        self.dropped = 0
        self.types: dict[int | None, str] = {}  # code → name, of rows ever added
        self.sort_column = -1  # whose key the first cells hold (-1: none)

    # -- for subclasses -------------------------------------------------------------------

    def display(self, row: Any, column: int) -> str:
        return row.cells[column]

    def sort_key(self, row: Any, column: int) -> Any:
        return row.cells[column]

    def row_style(self, row: Any) -> dict[int, Any]:
        return NO_STYLE

    def cell_style(self, row: Any, column: int) -> dict[int, Any]:
        return NO_STYLE

    # -- cells ----------------------------------------------------------------------------

    def _fill(self, item: QStandardItem, row: Any, column: int, shared: dict[int, Any]) -> None:
        """Every role of one cell (the first also holds the order and the sort key)."""
        item.setFlags(_READ_ONLY)
        item.setData(self.display(row, column), _DISPLAY)
        for role_, value in shared.items():
            item.setData(value, role_)
        for role_, value in self.cell_style(row, column).items():
            item.setData(value, role_)
        if column == 0:
            item.setData(-row.push_id, _ORDER)
            if self.sort_column >= 0:
                item.setData(self.sort_key(row, self.sort_column), sort_role(self.sort_column))

    def _cells(self, row: Any) -> list[QStandardItem]:
        """A new row's cells, every role set."""
        shared = self.row_style(row)
        items = []
        for column in range(len(self.HEADERS)):
            # Made here, never by clone(): PySide is told when Qt deletes an item it made,
            # not one Qt made; a stale wrapper of a deleted item then answered for whatever
            # Qt put at its address next.
            item = QStandardItem()
            self._fill(item, row, column, shared)
            items.append(item)
        return items

    def _refill(self, slot: int, columns: Iterable[int]) -> None:
        """Write a model row's cells afresh from its row object, in place (quietly)."""
        row = self._slots[slot]
        shared = self.row_style(row)
        root = self.invisibleRootItem()
        for column in columns:
            item = root.child(slot, column)
            item.clearData()  # the roles the cell's last row set, and no others
            self._fill(item, row, column, shared)

    def use_sort_column(self, column: int) -> None:
        """Keep `column`'s sort key on every row's first cell (quietly: the proxy re-sorts)."""
        if column == self.sort_column:
            return
        self.sort_column = column
        if column < 0:
            return
        root, key, role_ = self.invisibleRootItem(), self.sort_key, sort_role(column)
        with signals_blocked(self):
            for slot, row in enumerate(self._slots):
                root.child(slot, 0).setData(key(row, column), role_)

    def _take_slots(self, added: list[Any], dropped: list[Any]) -> None:
        """Give the added rows model rows: the dropped rows' slots first (cells overwritten,
        one dataChanged per run), then new rows at the end (one rowsInserted). The first
        cells of new rows go in with the insert, carrying the order and the sort key, so a
        sorting proxy places them right; their other cells are set quietly straight after,
        before anything can paint."""
        slot_of, slots = self._slot_of, self._slots
        free = [slot_of.pop(r.push_id) for r in dropped if r.push_id in slot_of]
        reused = sorted(zip(free, added, strict=False))
        with signals_blocked(self):
            for slot, row in reused:
                slots[slot] = row
                slot_of[row.push_id] = slot
                self._refill(slot, range(len(self.HEADERS)))
        last = len(self.HEADERS) - 1
        for top, bottom in runs([slot for slot, _ in reused]):
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, last))
        if len(free) > len(added):  # fewer rows than before (only when the cap shrinks)
            self._rebuild()
            return
        appended = added[len(free):]
        if not appended:
            return
        first = len(slots)
        cells = [self._cells(r) for r in appended]
        for i, row in enumerate(appended, first):
            slots.append(row)
            slot_of[row.push_id] = i
        root = self.invisibleRootItem()
        root.insertRows(first, [row_cells[0] for row_cells in cells])
        with signals_blocked(self):
            for i, row_cells in enumerate(cells, start=first):
                for column in range(1, len(row_cells)):
                    root.setChild(i, column, row_cells[column])

    def _rebuild(self) -> None:
        """Every model row afresh from `rows` (a reset: only when the cap shrinks)."""
        self.beginResetModel()
        with signals_blocked(self):
            self.removeRows(0, self.rowCount())
            self._slots.clear()
            self._slot_of.clear()
            self._take_slots(list(self._rows), [])
        self.endResetModel()

    # -- rows ------------------------------------------------------------------------------

    @property
    def rows(self) -> Sequence[Any]:
        """The row objects, newest first."""
        return self._rows

    @property
    def slots(self) -> Sequence[Any]:
        """The row object in each of the model's rows (the same list object throughout)."""
        return self._slots

    def row_at(self, r: int) -> Any:
        """The row object in model row `r`."""
        return self._slots[r]

    def row_of(self, push_id: int) -> int:
        """Model row of a push id, or -1."""
        return self._slot_of.get(push_id, -1)

    def add_rows(self, rows: Iterable[Any]) -> int:
        """Add rows (any order); duplicates by push id are ignored. Returns how many were added.

        Live rows are newer than everything shown and go in front of `rows`; older rows
        (history pages) are merged into their places. Past the cap the oldest are dropped.
        A type not seen before emits `sig_types_changed`.
        """
        rows = list(rows)
        added = self._insert(rows)
        new_type = False
        for r in rows:
            if r.code not in self.types:
                self.types[r.code] = r.name
                new_type = True
        if new_type:
            self.sig_types_changed.emit()
        return added

    def _insert(self, rows: list[Any]) -> int:
        known = self._slot_of
        fresh: list[Any] = []
        seen: set[int] = set()
        for r in sorted(rows, key=lambda r: r.push_id, reverse=True):
            if r.push_id not in known and r.push_id not in seen:  # same id twice: the first
                seen.add(r.push_id)
                fresh.append(r)
        if not fresh:
            return 0
        rows_ = self._rows
        if not rows_ or fresh[-1].push_id > rows_[0].push_id:
            rows_[0:0] = fresh  # live rows: all newer than what is shown
        else:  # history: merged into place, newest first
            rows_[:] = heapq.merge(rows_, fresh, key=lambda row: -row.push_id)
        dropped = rows_[self.max_rows:]
        del rows_[self.max_rows:]
        gone = {r.push_id for r in dropped}
        added = [r for r in fresh if r.push_id not in gone]
        self._take_slots(added, dropped)
        if dropped:
            self.dropped += len(dropped)
            self._rows_dropped(dropped)
            self.sig_rows_dropped.emit(self.dropped)
        return len(added)

    def count_dropped(self, n: int) -> None:
        """`n` rows were dropped before they reached the table (too many at once)."""
        self.dropped += n
        self.sig_rows_dropped.emit(self.dropped)

    def _rows_dropped(self, rows: list[Any]) -> None:
        """These rows went off the bottom (for subclasses that keep rows elsewhere too)."""

    def rows_changed(self, push_ids: Iterable[int], first_col: int = 0,
                     last_col: int | None = None) -> None:
        """Refill the cells of these rows from their row objects (columns first_col…last_col
        and the sort keys), then dataChanged, one signal per contiguous range."""
        self.refresh_rows(sorted(r for r in (self.row_of(p) for p in push_ids) if r >= 0),
                          first_col, last_col)

    def refresh_rows(self, found: list[int], first_col: int = 0,
                     last_col: int | None = None) -> None:
        """`rows_changed` by model row numbers (ascending)."""
        if not found:
            return
        last_col = self.columnCount() - 1 if last_col is None else last_col
        role_ = sort_role(self.sort_column)
        root = self.invisibleRootItem()
        keys_changed = False
        columns = sorted({0, *range(first_col, last_col + 1)})
        with signals_blocked(self):
            for r in found:
                first = root.child(r, 0)
                before = first.data(role_)
                self._refill(r, columns)
                keys_changed |= first.data(role_) != before
        if keys_changed:
            first_col = 0  # the first cell holds the sort key: a sorting proxy looks there
        for top, bottom in runs(found):
            self.dataChanged.emit(self.index(top, first_col), self.index(bottom, last_col))


class LiveFilterProxy(QSortFilterProxyModel):
    """Filters by device text, type code and time range, reading row objects directly.

    Sorts by the model's first column whatever column is asked, with that column's key
    role (`sort_role`): a new row's first cell is in the model from its insert on, its
    other cells only just after, and Qt places the row by its sort key during the insert.
    """

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device_text = ""
        self.code: int | None = None  # None: every type
        self.since: float | None = None
        self.until: float | None = None
        self._rows: Sequence[Any] = []
        self.setSortRole(_ORDER)
        self.setDynamicSortFilter(True)
        self.sorted_by = -1  # the column asked for (Qt's sortColumn() is 0 or -1)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """By `column`'s key; with no column, newest first (the model's rows are slots in
        no particular order)."""
        self.sorted_by = column
        model = self.sourceModel()
        if isinstance(model, LiveTableModel):
            model.use_sort_column(column)
        self.setSortRole(sort_role(column))
        super().sort(0, order if column >= 0 else Qt.SortOrder.AscendingOrder)

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

    def setSourceModel(self, model) -> None:
        super().setSourceModel(model)
        # The model's list object never changes (slots are edited in place): read it directly.
        self._rows = model.slots if isinstance(model, LiveTableModel) else []
        if isinstance(model, LiveTableModel):
            model.use_sort_column(self.sorted_by)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        return self.accepts(self._rows[source_row])

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


_PAGE_SQL = (
    "SELECT id, received_at, source, profile, topic, kind, device, sublock, raw, data, errors"
    # "+kind": walk the primary key backwards instead of sorting every row of the kind
    # (push_kind_time is ordered by time, not id) — see the report on a (kind, id) index.
    " FROM push WHERE +kind = ? AND id < ? ORDER BY id DESC LIMIT ?"
)


def newest_page(journal: Journal, kind: str, before_id: int | None, limit: int
                ) -> list[JournalRow]:
    """The newest `limit` rows of `kind` with id < before_id, newest first."""
    before = before_id if before_id is not None else 1 << 62
    return [JournalRow.from_sql(r) for r in journal.conn.execute(_PAGE_SQL, (kind, before, limit))]


class HistoryLoader(QObject):
    """Loads the newest rows of one kind from the journal on a thread, page by page.

    `convert(journal, rows)` runs on the loader thread (it may query the journal) and returns
    row objects. `seed()`, if given, also runs there and returns items already known (e.g. the
    unacknowledged alarms restored at start, anything with a `push_id`), which
    `seed_convert(items)` makes into rows, a chunk at a time, and which are merged in.
    Pages are emitted strictly newest first and never overlap, so each lands at the bottom
    of the table in one insert.
    At most `limit` journal rows are read and at most `max_rows` rows emitted in all.
    """

    sig_page_loaded = Signal(object)  # list of row objects, newest first
    sig_finished = Signal(int)  # total rows emitted

    def __init__(
        self,
        journal_path: str,
        kind: str,
        limit: int,
        convert: Callable[[Journal, list[JournalRow]], list[Any]],
        *,
        seed: Callable[[], list[Any]] | None = None,
        seed_convert: Callable[[list[Any]], list[Any]] | None = None,
        max_rows: int | None = None,
        page_size: int = 100,
        emit_size: int = 1000,
        pause_s: float = 0.002,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.journal_path = journal_path
        self.kind = kind
        self.limit = max(0, limit)
        self.convert = convert
        self.seed = seed
        self.seed_convert = seed_convert
        self.emit_size = emit_size
        self.pause_s = pause_s
        self.max_rows = max_rows if max_rows is not None else max(self.limit, 1)
        self.page_size = page_size
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._busy_since = 0.0

    def start(self) -> None:
        self._busy_since = time.perf_counter()
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
        emitted = 0
        try:
            emitted = self._load()
        except Exception:
            log.exception("history: loading %s failed", self.kind)
        if not self._stop.is_set():
            self.sig_finished.emit(emitted)

    def _pause(self) -> None:
        # Let the GUI thread have the GIL: each Qt → Python call there (data(), paint) needs it,
        # and while this thread is busy every one of them waits for a switch interval (5 ms).
        # So work at most half the time: sleep as long as the last chunk took.
        now = time.perf_counter()
        busy = now - self._busy_since
        time.sleep(max(self.pause_s, min(busy, 0.05)))
        self._busy_since = time.perf_counter()

    def _load(self) -> int:
        items = sorted(self.seed() if self.seed else [], key=lambda r: r.push_id, reverse=True)
        items = items[: self.max_rows]
        ei = 0
        emitted = read = 0
        seen: set[int] = set()
        pending: list[Any] = []
        journal: Journal | None = None
        if self.limit > 0:
            try:
                journal = Journal(self.journal_path, readonly=True)
            except Exception:
                log.exception("history: cannot open the journal")
        before: int | None = None

        def flush() -> None:
            nonlocal emitted, pending
            out = pending[: self.max_rows - emitted]
            pending = []
            if out and not self._stop.is_set():
                self.sig_page_loaded.emit(out)
                emitted += len(out)

        try:
            last = False
            while not last and emitted + len(pending) < self.max_rows:
                if self._stop.is_set():
                    return emitted
                page: list[Any] = []
                last = journal is None or read >= self.limit
                if not last:
                    assert journal is not None
                    want = min(self.page_size, self.limit - read)
                    rows = newest_page(journal, self.kind, before, want)
                    read += len(rows)
                    if rows:
                        before = rows[-1].id
                        page = self.convert(journal, rows)
                    last = len(rows) < want or read >= self.limit
                floor = -1 if last or before is None else before
                # Known rows at least as new as this page's oldest belong with it; at the end,
                # all that are left (older than any history read), a chunk at a time.
                while ei < len(items) and items[ei].push_id >= floor:
                    chunk = []
                    while (ei < len(items) and items[ei].push_id >= floor
                           and len(chunk) < self.page_size):
                        chunk.append(items[ei])
                        ei += 1
                    page.extend(self.seed_convert(chunk) if self.seed_convert else chunk)
                    if len(page) >= self.page_size and ei < len(items) and last:
                        break  # emit what we have; the loop picks up the rest
                if last and ei < len(items):
                    last = False  # keep going: more known rows to convert
                    read = self.limit
                page.sort(key=lambda r: r.push_id, reverse=True)
                for r in page:
                    if r.push_id not in seen:
                        seen.add(r.push_id)
                        pending.append(r)
                if len(pending) >= self.emit_size or last:
                    flush()
                self._pause()
            flush()
        finally:
            if journal is not None:
                journal.close()
        return emitted


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
