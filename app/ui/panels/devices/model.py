"""The device tree: devices at the top, their sub-locks as children, one notification per batch.

Everything lives in Qt's C++ `QStandardItemModel`: one row of items per device (and per
sub-lock). Every row holds its ids (which the search filter reads) and the value of the
column the tree is sorted by; the rows a view draws also hold what their cells show,
written just before they are drawn (`fill`). So a repaint, a relayout and a sort call no
Python at all.

Why: QTreeView lays out *every* row whenever rows are inserted or re-sorted, and repaints
everything it shows. With cells computed in Python on demand, each repaint entered Python
once per visible cell (~20-50 ms at a screenful, the longest stalls of a flood); with the
values in Qt's items it is C++ throughout. Writing every change of every device into items
would cost more than that under a flood (most devices change every few seconds, few are on
screen), so only the rows drawn are kept current: `apply` marks what changed, `fill` brings
the drawn rows up to date.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Collection, Iterable
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QIcon, QStandardItem, QStandardItemModel

from app.fleet.feeds import Doubt
from app.fleet.state import DeviceState, FleetChange, FleetState, Status, SubLockState
from app.protocol.normalize import parse_time
from app.ui.format import DASH, ago
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.quiet import signals_blocked
from app.ui.widgets.runs import runs
from app.ui.widgets.status_dot import status_dot

_USER = int(Qt.ItemDataRole.UserRole)
SORT_ROLE = _USER + 1  # raw value of the cell, for sorting
ID_ROLE = _USER + 2  # device id (the host's id on a sub-lock row)
FILTER_ROLE = _USER + 3  # device id and the cards used on it, or a sub-lock's id
SUBLOCK_ROLE = _USER + 4  # sub-lock id, "" on a device row
# Plain ints: data() runs thousands of times per repaint, enum attribute lookups add up.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)

# Above this many rows, new devices wait for the periodic re-sort instead of a sort per
# batch (a C++ sort of 5 000 rows is ~30 ms here: not on every batch of a flood).
IMMEDIATE_SORT_MAX_ROWS = 2000
PLACE_AT_MOST = 64  # new devices in one batch put straight into their sorted places (~6 ms)
# New devices put into the tree at once; the rest wait for `insert_waiting` (a few ms later,
# after a paint). At the start of a flood a batch brings hundreds (~45 µs each, then a
# relayout and a repaint): one lump of them was the longest piece of work in the GUI thread.
INSERT_AT_MOST = 128

COLUMNS: tuple[str, ...] = (
    "Device",
    "Status",
    "Lock",
    "Rope",
    "Battery",
    "Signal",
    "Last position",
    "Last alarm",
    "Profile",
)
(COL_DEVICE, COL_STATUS, COL_LOCK, COL_ROPE, COL_BATTERY, COL_SIGNAL, COL_POSITION, COL_ALARM,
 COL_PROFILE) = range(len(COLUMNS))
_NCOL = len(COLUMNS)
_COLOURED = frozenset({COL_STATUS, COL_BATTERY, COL_ALARM})
# The status column has room for "unknown — feed…" (the whole text on hover).
DEFAULT_WIDTHS: tuple[int, ...] = (165, 118, 74, 80, 82, 86, 96, 210, 80)

STATUS_RANK = {Status.ONLINE: 0, Status.QUIET: 1, Status.OFFLINE: 2, Status.UNKNOWN: 3}
LOCK_TEXT = {0: "Locked", 1: "Unlocked"}
ROPE_TEXT = {0: "Inserted", 1: "Pulled out"}
VEHICLE_TEXT = {0: "off", 1: "on"}
# Sub-lock events that are warnings (the rest are heartbeats and routine reports).
SUBLOCK_WARNINGS = frozenset({2, 4, 10, 14, 17, 18, 19, 23, 25, 28, 29})
LOW_BATTERY = 20
_ROOT = QModelIndex()
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_ASCENDING = Qt.SortOrder.AscendingOrder


@functools.lru_cache(maxsize=32_768)
def epoch_of(text: object) -> float | None:
    """Epoch seconds of a protocol time string (cached: the same gpsTime is read many times)."""
    return parse_time(text) if isinstance(text, str) else None


def local_time(epoch: float | None, now: float | None = None) -> str:
    """HH:MM:SS today, else 'YYYY-MM-DD HH:MM' — local time, short enough for a column."""
    if epoch is None:
        return DASH
    t = time.localtime(epoch)
    today = time.localtime(time.time() if now is None else now)
    if t[:3] == today[:3]:
        return time.strftime("%H:%M:%S", t)
    return time.strftime("%Y-%m-%d %H:%M", t)


def clock(epoch: float, now: float | None = None) -> str:
    """HH:MM today, else 'DD Mon HH:MM': when a feed went down, in a cell."""
    t = time.localtime(epoch)
    today = time.localtime(time.time() if now is None else now)
    return time.strftime("%H:%M" if t[:3] == today[:3] else "%d %b %H:%M", t)


def doubt_text(doubt: Doubt, quiet_after: float) -> str:
    """A tooltip's account of why a status is unknown."""
    if doubt.back_at is not None:
        return (f"Its feed ({doubt.profile}) came back at {full_time(doubt.back_at)}; nothing "
                "from this device since, so its status is not known yet.")
    why = f" ({doubt.reason})" if doubt.reason else ""
    return (f"Its feed ({doubt.profile}) is down since {full_time(doubt.since)}{why}: no push "
            f"can arrive, so silence says nothing (a feed with no push for {quiet_after:.0f} s "
            "counts as down).")


def full_time(epoch: float | None) -> str:
    if epoch is None:
        return DASH
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def _as_int(value: object) -> int | None:
    return value if type(value) is int else None


class _Row:
    """One row's items: the first always, the others made when the row is first drawn or
    its column sorted by (an empty cell of a QStandardItemModel is still a valid index)."""

    __slots__ = ("_others", "first")

    def __init__(self, first: QStandardItem) -> None:
        self.first = first
        self._others: dict[int, QStandardItem] = {}

    def item(self, column: int) -> QStandardItem:
        if column == 0:
            return self.first
        item = self._others.get(column)
        if item is None:
            item = self._others[column] = QStandardItem()
            parent = self.first.parent()  # None for a device (top-level) row
            owner = parent if parent is not None else self.first.model().invisibleRootItem()
            owner.setChild(self.first.row(), column, item)
        return item


class DevicesModel(QStandardItemModel):
    """Rows of `QStandardItem`s in C++; the cells of drawn rows written just before a paint."""

    sig_rows_filled = Signal()
    """New rows were filled in (after their rowsInserted): a filtering proxy re-filters."""

    def __init__(
        self,
        fleet: FleetState,
        parent: Any = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(0, _NCOL, parent)
        self.setHorizontalHeaderLabels(list(COLUMNS))
        self.setSortRole(SORT_ROLE)
        self.fleet = fleet
        self.now = now
        self._cells: dict[str, _Row] = {}  # device id → its row's items
        self._sub_cells: dict[str, dict[str, _Row]] = {}  # device id → sub-lock id → row
        self._sort_column = -1
        self._sort_order = _ASCENDING
        self.sort_dirty = False  # data under the sort column moved since the last sort
        self._subs_moved: set[str] = set()  # devices whose sub-locks reported since then
        # Set by the view: whether a device's sub-lock rows are on screen (expanded). None:
        # announce every change (any other consumer of the model).
        self.children_shown: Callable[[str], bool] | None = None
        # Set by the view: the device rows it draws now. None: announce every change.
        self.rows_on_screen: Callable[[], Collection[int]] | None = None
        self._icons: dict[Status, QIcon] = {}
        # Devices whose row holds current values → the state of their last alarm then (an
        # acknowledgement or an edit of the critical types changes no device).
        self._fresh: dict[str, tuple[bool, bool] | None] = {}
        self._fresh_subs: set[str] = set()  # devices whose sub-lock rows hold current values
        self.waiting: list[str] = []  # new devices not in the tree yet (see INSERT_AT_MOST)
        self._critical = QColor(STATUS_COLOURS["critical"])
        self._muted = QColor(STATUS_COLOURS["offline"])
        self._insert_devices(list(fleet.devices))

    # -- structure ---------------------------------------------------------------------

    @staticmethod
    def _first_item(device_id: str, sub_id: str | None) -> QStandardItem:
        """A row's first item: the ids (what the search filter and the panel read)."""
        item = QStandardItem(sub_id or device_id)  # until drawn; type-ahead search reads it
        item.setData(device_id, ID_ROLE)
        item.setData(sub_id or device_id, FILTER_ROLE)
        item.setData(sub_id or "", SUBLOCK_ROLE)
        return item

    def _insert_devices(self, ids: list[str], at: int | None = None) -> None:
        """One rowsInserted for all of them (at the end, or at row `at`); their items (and
        known sub-locks) filled in with signals blocked — the view lays the new rows out
        after this returns."""
        if not ids:
            return
        root = self.invisibleRootItem()
        first = root.rowCount() if at is None else at
        self.insertRows(first, len(ids))
        devices = self.fleet.devices
        column = self._sort_column
        with signals_blocked(self):
            for row, device_id in enumerate(ids, first):
                item = self._first_item(device_id, None)
                if devices[device_id].cards:
                    item.setData(search_text(devices[device_id]), FILTER_ROLE)
                root.setChild(row, 0, item)
                cells = self._cells[device_id] = _Row(item)
                # QTreeView takes every row's height from the first row's cells: a row not
                # drawn yet must be as tall as a drawn one, whose status cell has a dot and
                # a word.
                status = self._status(devices[device_id])
                status_item = cells.item(COL_STATUS)
                status_item.setData(self._icon(status), _DECORATION)
                status_item.setData(status.value, _DISPLAY)
                self._sub_cells[device_id] = {}
                subs = list(devices[device_id].sublocks)
                if subs:
                    self._fill_sub_rows(device_id, item, 0, subs)
                if column >= 0:
                    self._set_sort_value(device_id, column)
        self.sig_rows_filled.emit()

    def _place_devices(self, ids: list[str]) -> bool:
        """A few new devices into a sorted tree: each straight into its place, so the tree
        stays sorted without the periodic re-sort (a C++ sort and a relayout of every row,
        ~30-50 ms at 5 000 devices). False, doing nothing, when the tree is not sorted or
        there are many (~90 µs each): one insert at the end and one sort are cheaper then."""
        column = self._sort_column
        if (not ids or len(ids) > PLACE_AT_MOST or column < 0 or self.sort_dirty
                or not self.rowCount()):
            return False
        root = self.invisibleRootItem()
        ascending = self._sort_order == _ASCENDING
        devices = self.fleet.devices
        for device_id in ids:
            key = self._sort_key(self.sort_value(devices[device_id], column), column)
            lo, hi = 0, root.rowCount()
            while lo < hi:  # after any equal keys, as a stable sort leaves them
                mid = (lo + hi) // 2
                item = root.child(mid, column)
                other = item.data(SORT_ROLE) if item is not None else None
                if other is None or type(other) is not type(key):  # not sorted by it yet
                    lo = root.rowCount()
                    self.sort_dirty = True
                    break
                if (key < other) if ascending else (key > other):
                    hi = mid
                else:
                    lo = mid + 1
            self._insert_devices([device_id], at=lo)
        return True

    def _fill_sub_rows(self, device_id: str, host: QStandardItem, first: int,
                       subs: list[str]) -> None:
        for row, sub_id in enumerate(subs, first):
            item = self._first_item(device_id, sub_id)
            host.setChild(row, 0, item)
            self._sub_cells[device_id][sub_id] = _Row(item)
        host.setColumnCount(_NCOL)

    def _add_sublocks(self, device_id: str, subs: list[str]) -> None:
        """Sub-locks new to a known device: announced (the view may show the parent)."""
        host = self._cells[device_id].first
        first = host.rowCount()
        host.setRowCount(first + len(subs))  # one rowsInserted under the device
        with signals_blocked(self):
            self._fill_sub_rows(device_id, host, first, subs)
        self.sig_rows_filled.emit()

    # -- lookups -----------------------------------------------------------------------

    def device_ids(self) -> list[str]:
        """In row order."""
        root = self.invisibleRootItem()
        return [root.child(r, 0).data(ID_ROLE) for r in range(root.rowCount())]

    def row_of(self, device_id: str) -> int:
        cells = self._cells.get(device_id)
        return -1 if cells is None else cells.first.row()

    def index_of(self, device_id: str, column: int = 0) -> QModelIndex:
        cells = self._cells.get(device_id)
        if cells is None:
            return QModelIndex()
        index = self.indexFromItem(cells.first)
        return index if column == 0 else index.siblingAtColumn(column)

    # -- data --------------------------------------------------------------------------

    def fill(self, rows: Iterable[QModelIndex]) -> None:
        """Bring the rows a view is about to draw up to date (this model's column-0 indexes).

        A drawn row is rewritten when its device changed (`apply`), the clock moved
        (`refresh_status`), or its last alarm was acknowledged or became (non-)critical.
        Written with signals blocked: the view is about to paint them anyway.
        """
        devices = self.fleet.devices
        fresh, fresh_subs = self._fresh, self._fresh_subs
        with signals_blocked(self):
            for index in rows:
                dev = devices.get(index.data(ID_ROLE))
                if dev is None:
                    continue
                device_id = dev.device_id
                if index.data(SUBLOCK_ROLE):
                    if device_id in fresh_subs:
                        continue
                    fresh_subs.add(device_id)  # all of them: a device has a few
                    for sub_id, cells in self._sub_cells.get(device_id, {}).items():
                        sub = dev.sublocks.get(sub_id)
                        if sub is not None:
                            self._write_row(cells, dev, sub)
                    continue
                alarm = self._alarm_state(dev)
                if device_id in fresh and fresh[device_id] == alarm:
                    continue
                cells = self._cells.get(device_id)
                if cells is not None:
                    self._write_row(cells, dev, None)
                    fresh[device_id] = alarm

    def _write_row(self, cells: _Row, dev: DeviceState, sub: SubLockState | None) -> None:
        value = self._value
        for col in range(_NCOL):
            item = cells.item(col)
            item.setData(value(dev, sub, col, _DISPLAY), _DISPLAY)
            item.setData(value(dev, sub, col, _TOOLTIP), _TOOLTIP)
            if col in _COLOURED:
                item.setData(value(dev, sub, col, _FOREGROUND), _FOREGROUND)
            if col == COL_STATUS:
                item.setData(value(dev, sub, col, _DECORATION), _DECORATION)

    def _alarm_state(self, dev: DeviceState) -> tuple[bool, bool] | None:
        alarm = dev.last_alarm
        if alarm is None:
            return None
        return alarm.critical, alarm.push_id in self.fleet.unacknowledged

    def _value(self, dev: DeviceState, sub: SubLockState | None, col: int, role: int) -> Any:
        if role == _DISPLAY:
            return self._sub_text(dev, sub, col) if sub else self._text(dev, col)
        if role == _DECORATION:
            if col != COL_STATUS:
                return None
            return self._icon(self._status(dev, sub))
        if role == _TOOLTIP:
            return self._sub_tooltip(dev, sub, col) if sub else self._tooltip(dev, col)
        if col not in _COLOURED:
            return None
        return self._foreground(dev, sub, col)

    def _status(self, dev: DeviceState, sub: SubLockState | None = None) -> Status:
        """By age, or unknown while the feed that carries the device is down (fleet.feeds)."""
        return self.fleet.status_of(dev.profile, sub.last_seen if sub else dev.last_seen,
                                    self.now())

    def status_text(self, device_id: str) -> str:
        """What the device's status cell shows (a test or a screen reader reads it)."""
        dev = self.fleet.devices.get(device_id)
        return self._status_text(dev) if dev is not None else ""

    def _status_text(self, dev: DeviceState, sub: SubLockState | None = None) -> str:
        """'online', …, or 'unknown — feed down since 10:42' (the why in the same cell)."""
        status = self._status(dev, sub)
        if status is not Status.UNKNOWN:
            return status.value
        doubt = self.fleet.doubt(dev.device_id, self.now(), sub.last_seen if sub else None)
        if doubt is None:
            return status.value
        return f"unknown — {doubt.describe(clock(doubt.since))}"

    def _icon(self, status: Status) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            icon = self._icons[status] = status_dot(STATUS_COLOURS[status.value],
                                                    hollow=status is Status.UNKNOWN)
        return icon

    def _text(self, dev: DeviceState, col: int) -> str:
        loc = dev.location
        if col == COL_DEVICE:
            return dev.device_id
        if col == COL_STATUS:
            return self._status_text(dev)
        if col == COL_LOCK:
            status = loc.get("statusJson")
            if isinstance(status, dict) and "lockStatus" not in status and "acc" in status:
                acc = VEHICLE_TEXT.get(_as_int(status.get("acc")))
                return f"ACC {acc}" if acc else DASH
            return LOCK_TEXT.get(_as_int(dev.lock_status), DASH)
        if col == COL_ROPE:
            return ROPE_TEXT.get(_as_int(dev.lock_rope), DASH)
        if col == COL_BATTERY:
            return battery_text(loc.get("battery"), dev.charging)
        if col == COL_SIGNAL:
            if not loc:
                return DASH
            cell, sats = loc.get("cellSignal"), loc.get("gnssSignal")
            left = str(cell) if isinstance(cell, int) else DASH
            right = f"{sats} sats" if isinstance(sats, int) else DASH
            return f"{left} / {right}"
        if col == COL_POSITION:
            text = local_time(epoch_of(loc.get("gpsTime")))
            if loc and dev.position is None:
                return f"{text} (no fix)" if text != DASH else "no fix"
            return text
        if col == COL_ALARM:
            alarm = dev.last_alarm
            if alarm is None:
                return ""
            return f"{alarm.name} · {local_time(alarm.received_at)}"
        if col == COL_PROFILE:
            return dev.profile
        return ""

    def sort_value(self, dev: DeviceState, col: int) -> Any:
        """The raw value a column sorts by (None sorts last)."""
        loc = dev.location
        if col == COL_DEVICE:
            return dev.device_id
        if col == COL_STATUS:
            # worst first when descending; within a status, the most recently seen first
            return STATUS_RANK[self._status(dev)] * 1e12 - dev.last_seen
        if col == COL_LOCK:
            return _as_int(dev.lock_status)
        if col == COL_ROPE:
            return _as_int(dev.lock_rope)
        if col == COL_BATTERY:
            if dev.charging:
                return 101  # charging sorts above full
            battery = loc.get("battery")
            return battery if isinstance(battery, int | float) else None
        if col == COL_SIGNAL:
            return _as_int(loc.get("cellSignal"))
        if col == COL_POSITION:
            return epoch_of(loc.get("gpsTime"))
        if col == COL_ALARM:
            return dev.last_alarm.received_at if dev.last_alarm else None
        if col == COL_PROFILE:
            return dev.profile or None
        return None

    def _tooltip(self, dev: DeviceState, col: int) -> str:
        loc = dev.location
        now = self.now()
        if col == COL_DEVICE:
            parts = [f"Device {dev.device_id}"]
            if dev.sublocks:
                parts.append(f"{len(dev.sublocks)} sub-lock(s)")
            parts.append(f"{dev.pushes:,} pushes since {full_time(dev.first_seen)}")
            return "\n".join(parts)
        if col == COL_STATUS:
            th = self.fleet.thresholds
            text = (
                f"{self._status_text(dev)}\nlast push {full_time(dev.last_seen)}"
                f" ({ago(now - dev.last_seen)})\nquiet after {th.quiet_after:.0f} s without a"
                f" push, offline after {th.offline_after:.0f} s"
            )
            doubt = self.fleet.doubt(dev.device_id, now)
            if doubt is not None:
                text += "\n" + doubt_text(doubt, self.fleet.feeds.quiet_after_of(
                    doubt.profile, th.quiet_after))
            return text
        if col in (COL_LOCK, COL_ROPE):
            status = loc.get("statusJson")
            if not isinstance(status, dict):
                return "no lock status reported"
            return "\n".join(f"{k}: {v}" for k, v in status.items())
        if col == COL_BATTERY:
            volts = loc.get("voltage")
            text = battery_text(loc.get("battery"), dev.charging)
            return f"Battery {text}" + (f", {volts:.2f} V" if isinstance(volts, float) else "")
        if col == COL_SIGNAL:
            expand = loc.get("expandInfo")
            net = expand.get("networkTypeName") if isinstance(expand, dict) else None
            return (
                f"Cellular signal {loc.get('cellSignal', DASH)} (0–31)"
                f"\nGNSS satellites {loc.get('gnssSignal', DASH)}"
                + (f"\nNetwork {net}" if net else "")
            )
        if col == COL_POSITION:
            if not loc:
                return "no location push yet"
            pos = dev.position
            where = f"{pos[0]:.6f}, {pos[1]:.6f}" if pos else "no fix"
            return (
                f"GPS time {full_time(epoch_of(loc.get('gpsTime')))}\n{where}"
                f" · {loc.get('locTypeName') or DASH}"
            )
        if col == COL_ALARM:
            alarm = dev.last_alarm
            if alarm is None:
                return "no alarm since start"
            state = "acknowledged" if alarm.acknowledged else "not acknowledged"
            if alarm.push_id not in self.fleet.unacknowledged and not alarm.acknowledged:
                state = "acknowledged"
            code = f" ({alarm.alarm_type})" if alarm.alarm_type is not None else ""
            return f"{alarm.name}{code}\n{full_time(alarm.received_at)} — {state}"
        if col == COL_PROFILE:
            return f"connection profile {dev.profile}" if dev.profile else ""
        return ""

    def _foreground(self, dev: DeviceState, sub: SubLockState | None, col: int) -> Any:
        if col == COL_BATTERY:
            battery = (sub.data if sub else dev.location).get("battery")
            if isinstance(battery, int) and battery < LOW_BATTERY:
                return self._critical
        elif col == COL_ALARM and sub is None:
            alarm = dev.last_alarm
            if alarm and alarm.critical and alarm.push_id in self.fleet.unacknowledged:
                return self._critical
        elif (
            col == COL_STATUS
            and self._status(dev, sub) in (Status.OFFLINE, Status.UNKNOWN)
        ):
            return self._muted
        return None

    # -- sub-lock rows -----------------------------------------------------------------

    def _sub_text(self, dev: DeviceState, sub: SubLockState, col: int) -> str:
        d = sub.data
        if col == COL_DEVICE:
            parts = [sub.sublock_id]
            if d.get("sensorTypeName"):
                parts.append(str(d["sensorTypeName"]))
            temp = d.get("temperature")
            if isinstance(temp, int | float):
                parts.append(f"{temp:g} ℃")
            return " · ".join(parts)
        if col == COL_STATUS:
            return self._status_text(dev, sub)
        if col == COL_LOCK:
            return LOCK_TEXT.get(_as_int(d.get("locStatus")), DASH)
        if col == COL_ROPE:
            return ROPE_TEXT.get(_as_int(d.get("locRope")), DASH)
        if col == COL_BATTERY:
            return battery_text(d.get("battery"), bool(d.get("charging")))
        if col == COL_SIGNAL:
            rssi = d.get("rssi")
            return f"RSSI {rssi}" if isinstance(rssi, int | float) else DASH
        if col == COL_POSITION:
            return local_time(epoch_of(d.get("subGpsTime") or d.get("gpsTime")))
        if col == COL_ALARM:
            code = _as_int(d.get("eventType"))
            if code in SUBLOCK_WARNINGS:
                return f"{d.get('eventName')} · {local_time(sub.last_seen)}"
            return ""
        return ""

    def _sub_sort(self, sub: SubLockState, col: int) -> Any:
        d = sub.data
        return {
            COL_DEVICE: sub.sublock_id,
            COL_STATUS: -sub.last_seen,
            COL_LOCK: _as_int(d.get("locStatus")),
            COL_ROPE: _as_int(d.get("locRope")),
            COL_BATTERY: d.get("battery"),
            COL_SIGNAL: d.get("rssi"),
            COL_POSITION: epoch_of(d.get("subGpsTime") or d.get("gpsTime")),
        }.get(col)

    def _sub_tooltip(self, dev: DeviceState, sub: SubLockState, col: int) -> str:
        d = sub.data
        if col == COL_DEVICE:
            temp = d.get("temperature")
            return (
                f"Sub-lock {sub.sublock_id} of {dev.device_id}\n"
                f"Sensor {d.get('sensorTypeName') or DASH} ({d.get('sensorType', DASH)})\n"
                f"Temperature {f'{temp:g} ℃' if isinstance(temp, int | float) else DASH}"
            )
        if col == COL_STATUS:
            age = ago(self.now() - sub.last_seen)
            return f"last sub-lock push {full_time(sub.last_seen)} ({age})"
        if col == COL_BATTERY:
            volts = d.get("voltage")
            return f"Battery {self._sub_text(dev, sub, col)}" + (
                f", {volts:.2f} V" if isinstance(volts, float) else ""
            )
        if col == COL_ALARM:
            name = d.get("eventName")
            return f"last event: {name} ({d.get('eventType')})" if name else ""
        return self._sub_text(dev, sub, col)

    # -- live updates --------------------------------------------------------------------

    def apply(self, change: FleetChange) -> None:
        """One insert for the batch's new devices (at most INSERT_AT_MOST: the rest wait),
        child inserts for new sub-locks of known devices, and one dataChanged per run of
        changed rows on screen."""
        devices = self.fleet.devices
        cells = self._cells
        new = [d for d in dict.fromkeys((*self.waiting, *change.new_devices))
               if d not in cells and d in devices]
        self.waiting = new[INSERT_AT_MOST:]
        new = new[:INSERT_AT_MOST]
        new_set = set(new)
        placed = self._place_devices(new)
        if not placed:
            self._insert_devices(new)  # with their sub-locks already known
        by_device: dict[str, list[str]] = {}
        for device_id, sub_id in change.new_sublocks:
            if device_id in new_set or device_id not in cells:
                continue
            if sub_id not in self._sub_cells[device_id]:
                by_device.setdefault(device_id, []).append(sub_id)
        for device_id, subs in by_device.items():
            self._add_sublocks(device_id, subs)
        if change.events:  # a card used on a device: it is found by that card now
            with signals_blocked(self):
                for _push_id, record in change.events:
                    row = cells.get(record.device or "")
                    if row is not None and record.data.get("card"):
                        row.first.setData(search_text(devices[record.device]), FILTER_ROLE)
        changed = [d for d in change.changed_devices if d in cells and d not in new_set]
        column = self._sort_column
        sub_hosts = change.sublock_devices & cells.keys()
        fresh = self._fresh
        for device_id in changed:
            fresh.pop(device_id, None)
        self._fresh_subs.difference_update(sub_hosts, by_device)
        if changed:
            if column > COL_DEVICE:  # keep the sorted column's values current
                with signals_blocked(self):
                    for device_id in changed:
                        self._set_sort_value(device_id, column)
            self._emit_span(sorted(cells[d].first.row() for d in changed))
        self._subs_moved |= sub_hosts
        shown = self.children_shown
        for device_id in sub_hosts - new_set - by_device.keys():
            if shown is not None and not shown(device_id):
                continue  # collapsed: no view draws these rows, expanding draws them afresh
            host = self._cells[device_id].first
            n = host.rowCount()
            if n:
                parent = self.indexFromItem(host)
                self.dataChanged.emit(self.index(0, 0, parent),
                                      self.index(n - 1, _NCOL - 1, parent))
        if (new and not placed) or (changed and column > COL_DEVICE):
            self.sort_dirty = True
            if new and len(cells) <= IMMEDIATE_SORT_MAX_ROWS:
                # New rows are laid out anyway; sorting now puts them in their place within
                # the same relayout instead of at the end until the timer.
                self.sort(self._sort_column, self._sort_order)

    def insert_waiting(self) -> None:
        """The next INSERT_AT_MOST of the new devices that did not fit in their batch."""
        if self.waiting:
            self.apply(FleetChange())

    def _emit_span(self, rows: list[int], first_col: int = 1, last_col: int = _NCOL - 1,
                   roles: list[int] | None = None) -> None:
        """Announce changed rows (sorted): those on screen, one dataChanged per run, when a
        view told us what it draws (`rows_on_screen`); else one over their whole span.

        On a dataChanged over many rows QTreeView repaints its whole viewport, even when
        none of them is on screen: ~40-55 ms of CPU at 5 000 devices, where the few changed
        rows on screen cost a few ms. Rows off screen are read afresh when they scroll in.
        Column 0 (the id) never changes; starting at column 1 matters too: for a span that
        starts in column 0, QTreeView asks hasChildren of every row.
        """
        emit = self.dataChanged.emit
        on_screen = self.rows_on_screen() if self.rows_on_screen is not None else None
        if on_screen is None:
            spans = [(rows[0], rows[-1])] if rows else []
        else:
            shown = set(on_screen)
            spans = runs(r for r in rows if r in shown)
        for top, bottom in spans:
            emit(self.index(top, first_col), self.index(bottom, last_col), roles or [])

    def refresh_status(self) -> None:
        """Status moves with the clock alone: the status column of every row changed."""
        n = self.rowCount()
        if n:
            self._fresh.clear()
            self._fresh_subs.clear()
            self._emit_span(list(range(n)), COL_STATUS, COL_STATUS,
                            [_DISPLAY, _DECORATION, _FOREGROUND, _TOOLTIP])
            if self._sort_column == COL_STATUS:
                self.sort_dirty = True

    # -- sorting -------------------------------------------------------------------------

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def _sort_key(self, value: Any, column: int) -> float | str:
        """What Qt compares: floats, or strings for the id and profile columns. A missing
        value sorts last in either order."""
        ascending = self._sort_order == _ASCENDING
        if column in (COL_DEVICE, COL_PROFILE):
            if isinstance(value, str) and value:
                return value
            return "\U0010ffff" if ascending else ""
        if isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        return float("inf") if ascending else float("-inf")

    def _set_sort_value(self, device_id: str, column: int) -> None:
        dev = self.fleet.devices.get(device_id)
        value = self.sort_value(dev, column) if dev is not None else None
        self._cells[device_id].item(column).setData(self._sort_key(value, column), SORT_ROLE)

    def _fill_sort_values(self, column: int, devices_too: bool) -> None:
        """The rows' values of `column`, with signals blocked: every device's when asked
        (a new column or order, or the clock-driven status), and the sub-locks of devices
        whose sub-locks reported since the last sort."""
        devices = self.fleet.devices
        hosts = list(self._cells) if devices_too else list(self._subs_moved)
        self._subs_moved.clear()
        with signals_blocked(self):
            for device_id in hosts:
                if devices_too:
                    self._set_sort_value(device_id, column)
                dev = devices.get(device_id)
                for sub_id, cells in self._sub_cells[device_id].items():
                    sub = dev.sublocks.get(sub_id) if dev is not None else None
                    value = self._sub_sort(sub, column) if sub is not None else None
                    cells.item(column).setData(self._sort_key(value, column), SORT_ROLE)

    def sort(self, column: int, order: Qt.SortOrder = _ASCENDING) -> None:
        """Qt's sort (C++) by SORT_ROLE, after the column's values are brought up to date."""
        again = (column, order) == (self._sort_column, self._sort_order)
        self._sort_column, self._sort_order = column, order
        self.sort_dirty = False
        if column < 0 or column >= _NCOL or self.rowCount() < 1:
            return
        self._fill_sort_values(column, devices_too=not again or column == COL_STATUS)
        super().sort(column, order)

    def resort(self) -> None:
        if self.sort_dirty and self._sort_column >= 0:
            self.sort(self._sort_column, self._sort_order)


def search_text(dev: DeviceState) -> str:
    """What a device row is searched by: its id and the cards used on it."""
    return " ".join((dev.device_id, *dev.cards))


def battery_text(battery: object, charging: bool) -> str:
    if charging:
        return "⚡ charging"
    if isinstance(battery, int | float):
        return f"{battery:g} %"
    return DASH


class DevicesProxy(QSortFilterProxyModel):
    """Filters by device id, card or sub-lock id (recursively), and by a predicate on the
    device (the chips: status, open alarms…); sorting is delegated to the source."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(COL_DEVICE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortRole(SORT_ROLE)
        # Filtering depends on ids only, which never change: no re-filtering on dataChanged.
        # The chips' predicate does change with the data: the panel re-filters on a timer.
        self.setDynamicSortFilter(False)
        self.accepts: Callable[[str], bool] | None = None

    def set_predicate(self, accepts: Callable[[str], bool] | None) -> None:
        """Show only devices (with their sub-locks) for which `accepts(device_id)`."""
        self.beginFilterChange()  # Qt 6.9's replacement of invalidateFilter()
        self.accepts = accepts
        self.endFilterChange()

    def filterAcceptsRow(self, source_row: int, source_parent: QModelIndex) -> bool:  # Qt's
        accepts = self.accepts
        if accepts is not None:
            device_id = self.sourceModel().index(source_row, 0, source_parent).data(ID_ROLE)
            if not accepts(device_id):
                return False
        return super().filterAcceptsRow(source_row, source_parent)

    def set_search(self, text: str) -> None:
        text = text.strip()
        pattern = QRegularExpression.escape(text) if text else ""
        self.setFilterRegularExpression(
            QRegularExpression(pattern, QRegularExpression.PatternOption.CaseInsensitiveOption)
        )

    def refilter(self) -> None:
        self.invalidateFilter()

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, DevicesModel):
            source.sort(column, order)
        else:  # pragma: no cover - only DevicesModel is used
            super().sort(column, order)
