"""The alarm and event tables' model and filter proxy: bounded, newest first, Qt's own cells.

Rows are plain objects with at least ``push_id`` (journal row id, the order), ``device``,
``at`` (received time, epoch seconds), ``code`` and ``name`` (the row's type, for the type
filter), ``device_time`` (the device's own time text, may be empty) and a ``cells`` tuple of
display strings precomputed when the row is made (in the loader thread for history), so
filling a cell is a tuple lookup. Their text comes from `live_format`, history pages from
`history_loader`, the time filter from `time_range`.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import shiboken6
from PySide6.QtCore import QObject, QSortFilterProxyModel, Qt, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel

from app.ui.widgets.quiet import signals_blocked
from app.ui.widgets.runs import runs
from app.ui.widgets.table_model import AnyIndex

# Column c's sort key (numbers stay numbers) is role SORT_ROLE_BASE + c of the row's first cell.
SORT_ROLE_BASE = int(Qt.ItemDataRole.UserRole.value) + 16


_READ_ONLY = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_READ_ONLY_FLAGS = int(_READ_ONLY.value)
_FLAGS = int(Qt.ItemDataRole.UserRole.value) - 1  # where a QStandardItem keeps its flags
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

    def _roles(self, row: Any, column: int, shared: dict[int, Any]) -> dict[int, Any]:
        """Every role of one cell (the first also holds the order and the sort key)."""
        roles = {_FLAGS: _READ_ONLY_FLAGS, _DISPLAY: self.display(row, column)}
        roles.update(shared)
        roles.update(self.cell_style(row, column))
        if column == 0:
            roles[_ORDER] = -row.push_id
            if self.sort_column >= 0:
                roles[sort_role(self.sort_column)] = self.sort_key(row, self.sort_column)
        return roles

    def _first_cell(self, row: Any) -> QStandardItem:
        """A new row's first cell, every role set: it goes in with the insert."""
        # Made here, never by clone(): PySide is told when Qt deletes an item it made,
        # not one Qt made; a stale wrapper of a deleted item then answered for whatever
        # Qt put at its address next.
        item = QStandardItem()
        for role_, value in self._roles(row, 0, self.row_style(row)).items():
            item.setData(value, role_)
        return item

    def _refill(self, slot: int, columns: Iterable[int]) -> None:
        """Write a model row's cells afresh from its row object, in place (quietly).

        Cells other than the first are Qt's own, made by `setItemData` on their index: an
        item made in Python keeps a PySide wrapper for as long as it lives (~440 bytes), and
        with 8 cells a row the wrappers were more than half of a full table's memory
        (6.3 → 3.3 KB a row; filling is ~3x faster too)."""
        row = self._slots[slot]
        shared = self.row_style(row)
        index, clear, put = self.index, self.clearItemData, self.setItemData
        for column in columns:
            at = index(slot, column)
            clear(at)  # the roles the cell's last row set, and no others
            put(at, self._roles(row, column, shared))

    def use_sort_column(self, column: int) -> None:
        """Keep `column`'s sort key on every row's first cell (quietly: the proxy re-sorts)."""
        if column == self.sort_column:
            return
        self.sort_column = column
        if column < 0:
            return
        index, key, role_ = self.index, self.sort_key, sort_role(column)
        with signals_blocked(self):
            for slot, row in enumerate(self._slots):
                self.setData(index(slot, 0), key(row, column), role_)

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
        heads = [self._first_cell(r) for r in appended]
        for i, row in enumerate(appended, first):
            slots.append(row)
            slot_of[row.push_id] = i
        self.invisibleRootItem().insertRows(first, heads)
        with signals_blocked(self):
            others = range(1, len(self.HEADERS))
            for i in range(first, len(slots)):
                self._refill(i, others)

    def _rebuild(self) -> None:
        """Every model row afresh from `rows` (a reset: only when the cap shrinks)."""
        self.beginResetModel()
        with signals_blocked(self):
            # Taken out and deleted through PySide, never by removeRows(): most cells are Qt's
            # own (see _refill), and a wrapper someone kept of a cell Qt deleted would stay
            # "alive" and answer for whatever Qt put at its address next.
            for r in range(self.rowCount() - 1, -1, -1):
                for item in self.takeRow(r):
                    if item is not None:
                        shiboken6.delete(item)
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

    def set_max_rows(self, n: int) -> int:
        """A new bound (File › Settings): past it the oldest rows go at once (one reset).
        Returns how many went."""
        n = max(1, int(n))
        self.max_rows = n
        dropped = list(self._rows[n:])
        if not dropped:
            return 0
        del self._rows[n:]
        self.dropped += len(dropped)
        self._rows_dropped(dropped)
        self._rebuild()
        self.sig_rows_dropped.emit(self.dropped)
        return len(dropped)

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
        index = self.index
        keys_changed = False
        columns = sorted({0, *range(first_col, last_col + 1)})
        with signals_blocked(self):
            for r in found:
                first = index(r, 0)
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
        self.codes: frozenset[int | None] | None = None  # several types at once (None: all)
        # Rows newer than this push id wait, unseen, while the operator has a hand on the
        # table (app/ui/widgets/hold.py): nothing moves under the pointer.
        self.hold_mark: int | None = None
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

    def set_codes(self, codes: frozenset[int | None] | None) -> None:
        """Several types at once (None: every type)."""
        if codes != self.codes:
            self.refilter(lambda: setattr(self, "codes", codes))

    def hold_at(self, push_id: int | None) -> None:
        """Show no row newer than `push_id` until `release()`; rows already shown stay."""
        if self.hold_mark is None:
            self.hold_mark = push_id  # nothing shown is newer: no re-filter needed

    def release(self) -> None:
        """Let the rows that waited in (one re-filter)."""
        if self.hold_mark is not None:
            self.refilter(lambda: setattr(self, "hold_mark", None))

    def held_count(self) -> int:
        """Rows the filters would show that wait behind the hold."""
        mark = self.hold_mark
        if mark is None:
            return 0
        model = self.sourceModel()
        n = 0
        for row in model.rows if isinstance(model, LiveTableModel) else ():
            if row.push_id <= mark:
                break  # newest first: the rest are older than the hold
            n += self.accepts(row)
        return n

    def accepts(self, row: Any) -> bool:
        if self.device_text and self.device_text not in row.device.lower():
            return False
        if self.code is not None and row.code != self.code:
            return False
        if self.codes is not None and row.code not in self.codes:
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
        row = self._rows[source_row]
        if self.hold_mark is not None and row.push_id > self.hold_mark:
            return False
        return self.accepts(row)

    def visible_rows(self) -> list[Any]:
        model = self.sourceModel()
        assert isinstance(model, LiveTableModel)
        out = []
        for r in range(self.rowCount()):
            src = self.mapToSource(self.index(r, 0))
            out.append(model.row_at(src.row()))
        return out
