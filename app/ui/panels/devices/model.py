"""The device tree: devices at the top, their sub-locks as children, one notification per batch.

The model keeps no copy of device data: it reads `FleetState` on demand and only remembers
the order of rows. Rows are appended as devices appear; sorting is done here in Python with
a key per row (one pass, then `list.sort`), because asking Qt's proxy to sort 10 000 rows
calls `data()` hundreds of thousands of times. The proxy in front of this model only filters.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterable
from typing import Any

from PySide6.QtCore import (
    QAbstractItemModel,
    QModelIndex,
    QRegularExpression,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor, QIcon

from app.fleet.state import DeviceState, FleetChange, FleetState, Status, SubLockState
from app.protocol.normalize import parse_time
from app.ui.format import DASH, ago
from app.ui.theme import STATUS_COLOURS
from app.ui.widgets.roles import BatchedRoles, ForwardRoles
from app.ui.widgets.status_dot import status_dot

_USER = int(Qt.ItemDataRole.UserRole)
SORT_ROLE = _USER + 1  # raw value of the cell, for sorting
ID_ROLE = _USER + 2  # device id (the host's id on a sub-lock row)
FILTER_ROLE = _USER + 3  # device id, or sub-lock id on a sub-lock row
SUBLOCK_ROLE = _USER + 4  # sub-lock id, "" on a device row
# Plain ints: data() runs thousands of times per repaint, enum attribute lookups add up.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_DECORATION = int(Qt.ItemDataRole.DecorationRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_HANDLED = frozenset(
    {_DISPLAY, _DECORATION, _TOOLTIP, _FOREGROUND, SORT_ROLE, ID_ROLE, FILTER_ROLE, SUBLOCK_ROLE}
)

# Above this many rows, new devices wait for the periodic re-sort: sorting and re-laying out
# 10 000 rows on every batch was the longest stall of a flood.
IMMEDIATE_SORT_MAX_ROWS = 2000

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
DEFAULT_WIDTHS: tuple[int, ...] = (165, 74, 74, 80, 82, 86, 96, 210, 80)

STATUS_RANK = {Status.ONLINE: 0, Status.QUIET: 1, Status.OFFLINE: 2}
LOCK_TEXT = {0: "Locked", 1: "Unlocked"}
ROPE_TEXT = {0: "Inserted", 1: "Pulled out"}
VEHICLE_TEXT = {0: "off", 1: "on"}
# Sub-lock events that are warnings (the rest are heartbeats and routine reports).
SUBLOCK_WARNINGS = frozenset({2, 4, 10, 14, 17, 18, 19, 23, 25, 28, 29})
LOW_BATTERY = 20
_ROOT = QModelIndex()  # default argument of the model API
_NO_FLAGS = Qt.ItemFlag.NoItemFlags
_ROW_FLAGS = Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable
_LEAF_FLAGS = _ROW_FLAGS | Qt.ItemFlag.ItemNeverHasChildren


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


def full_time(epoch: float | None) -> str:
    if epoch is None:
        return DASH
    return time.strftime("%Y-%m-%d %H:%M:%S %Z", time.localtime(epoch))


def _as_int(value: object) -> int | None:
    return value if type(value) is int else None


class DevicesModel(BatchedRoles, QAbstractItemModel):
    """Top-level rows are devices (internalId 0); a sub-lock row's internalId is its host's
    serial number (1-based, fixed for life), so child indexes survive sorting."""

    def __init__(
        self,
        fleet: FleetState,
        parent: Any = None,
        now: Callable[[], float] = time.time,
    ) -> None:
        super().__init__(parent)
        self.fleet = fleet
        self.now = now
        self._ids: list[str] = []  # row → device id (display order)
        self._row: dict[str, int] = {}  # device id → row
        self._serial: dict[str, int] = {}  # device id → serial (internalId of its children)
        self._by_serial: list[str] = []  # serial - 1 → device id
        self._subs: dict[str, list[str]] = {}  # device id → sub-lock ids in row order
        self._sort_column = -1
        self._sort_order = Qt.SortOrder.AscendingOrder
        self.sort_dirty = False  # data under the sort column moved since the last sort
        # Set by the view: whether a device's sub-lock rows are on screen (expanded). None:
        # announce every change (any other consumer of the model).
        self.children_shown: Callable[[str], bool] | None = None
        self._icons: dict[Status, QIcon] = {}
        self._critical = QColor(STATUS_COLOURS["critical"])
        self._muted = QColor(STATUS_COLOURS["offline"])
        self._add_devices(list(fleet.devices))

    # -- structure ---------------------------------------------------------------------

    def _add_devices(self, ids: Iterable[str]) -> None:
        devices = self.fleet.devices
        for device_id in ids:
            self._row[device_id] = len(self._ids)
            self._ids.append(device_id)
            self._by_serial.append(device_id)
            self._serial[device_id] = len(self._by_serial)
            self._subs[device_id] = list(devices[device_id].sublocks)

    # index/rowCount/hasChildren run ~4 times per row on every relayout of the tree (10 000
    # rows → 40 000 calls): the common top-level case comes first and does the least.

    def index(self, row: int, column: int, parent: QModelIndex = _ROOT) -> QModelIndex:
        if not parent.isValid():
            if 0 <= row < len(self._ids) and 0 <= column < _NCOL:
                return self.createIndex(row, column, 0)
            return QModelIndex()
        if parent.internalId() != 0 or not 0 <= column < _NCOL or row < 0:
            return QModelIndex()
        prow = parent.row()
        if prow >= len(self._ids):
            return QModelIndex()
        device_id = self._ids[prow]
        if row < len(self._subs[device_id]):
            return self.createIndex(row, column, self._serial[device_id])
        return QModelIndex()

    def parent(self, index: QModelIndex = _ROOT) -> QModelIndex:  # type: ignore[override]
        serial = index.internalId() if index.isValid() else 0
        if serial == 0:
            return QModelIndex()
        return self.createIndex(self._row[self._by_serial[serial - 1]], 0, 0)

    def rowCount(self, parent: QModelIndex = _ROOT) -> int:
        if not parent.isValid():
            return len(self._ids)
        if parent.internalId() != 0 or parent.column() > 0:
            return 0
        return len(self._subs[self._ids[parent.row()]])

    def columnCount(self, parent: QModelIndex = _ROOT) -> int:
        return _NCOL

    def hasChildren(self, parent: QModelIndex = _ROOT) -> bool:
        if not parent.isValid():
            return bool(self._ids)
        if parent.internalId() != 0 or parent.column() > 0:
            return False
        return bool(self._subs[self._ids[parent.row()]])

    def flags(self, index: QModelIndex) -> Qt.ItemFlag:
        # Called for every row on each relayout: constants, no arithmetic on enums.
        if not index.isValid():
            return _NO_FLAGS
        return _ROW_FLAGS if index.internalId() == 0 else _LEAF_FLAGS

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:
        if (
            orientation == Qt.Orientation.Horizontal
            and role == Qt.ItemDataRole.DisplayRole
            and 0 <= section < len(COLUMNS)
        ):
            return COLUMNS[section]
        return None

    # -- lookups -----------------------------------------------------------------------

    def device_ids(self) -> list[str]:
        return list(self._ids)

    def row_of(self, device_id: str) -> int:
        return self._row.get(device_id, -1)

    def index_of(self, device_id: str, column: int = 0) -> QModelIndex:
        row = self._row.get(device_id)
        return QModelIndex() if row is None else self.createIndex(row, column, 0)

    def _target(self, index: QModelIndex) -> tuple[DeviceState, SubLockState | None] | None:
        serial = index.internalId()
        if serial == 0:
            if index.row() >= len(self._ids):
                return None
            dev = self.fleet.devices.get(self._ids[index.row()])
            return (dev, None) if dev is not None else None
        device_id = self._by_serial[serial - 1]
        dev = self.fleet.devices.get(device_id)
        subs = self._subs.get(device_id, ())
        if dev is None or index.row() >= len(subs):
            return None
        sub = dev.sublocks.get(subs[index.row()])
        return (dev, sub) if sub is not None else None

    # -- data --------------------------------------------------------------------------

    def data(self, index: QModelIndex, role: int = _DISPLAY) -> Any:
        role = int(role)
        if role not in _HANDLED:
            return None
        col = index.column()
        if role == _DECORATION and col != COL_STATUS:
            return None
        if role == _FOREGROUND and col not in _COLOURED:
            return None
        target = self._target(index) if index.isValid() else None
        if target is None:
            return None
        dev, sub = target
        if role == _DISPLAY:
            return self._sub_text(dev, sub, col) if sub else self._text(dev, col)
        if role == SORT_ROLE:
            return self._sub_sort(sub, col) if sub else self.sort_value(dev, col)
        if role == _DECORATION:
            return self._icon(self._status(sub.last_seen if sub else dev.last_seen))
        if role == _TOOLTIP:
            return self._sub_tooltip(dev, sub, col) if sub else self._tooltip(dev, col)
        if role == ID_ROLE:
            return dev.device_id
        if role == FILTER_ROLE:
            return sub.sublock_id if sub else dev.device_id
        if role == SUBLOCK_ROLE:
            return sub.sublock_id if sub else ""
        return self._foreground(dev, sub, col)

    def _status(self, last_seen: float) -> Status:
        return self.fleet.thresholds.status(last_seen, self.now())

    def _icon(self, status: Status) -> QIcon:
        icon = self._icons.get(status)
        if icon is None:
            icon = self._icons[status] = status_dot(STATUS_COLOURS[status.value])
        return icon

    def _text(self, dev: DeviceState, col: int) -> str:
        loc = dev.location
        if col == COL_DEVICE:
            return dev.device_id
        if col == COL_STATUS:
            return self._status(dev.last_seen).value
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
            return STATUS_RANK[self._status(dev.last_seen)] * 1e12 - dev.last_seen
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
            return (
                f"{self._status(dev.last_seen).value} — last push {full_time(dev.last_seen)}"
                f" ({ago(now - dev.last_seen)})\nquiet after {th.quiet_after:.0f} s without a"
                f" push, offline after {th.offline_after:.0f} s"
            )
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
            and self._status(sub.last_seen if sub else dev.last_seen) is Status.OFFLINE
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
            return self._status(sub.last_seen).value
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
        """One insert for the batch's new devices, child inserts for new sub-locks of known
        devices, and one dataChanged over the span of changed rows."""
        devices = self.fleet.devices
        new = [d for d in dict.fromkeys(change.new_devices) if d not in self._row and d in devices]
        new_set = set(new)
        if new:
            first = len(self._ids)
            self.beginInsertRows(QModelIndex(), first, first + len(new) - 1)
            self._add_devices(new)  # with their sub-locks already known
            self.endInsertRows()
        by_device: dict[str, list[str]] = {}
        for device_id, sub_id in change.new_sublocks:
            if device_id in new_set or device_id not in self._row:
                continue
            if sub_id not in self._subs[device_id]:
                by_device.setdefault(device_id, []).append(sub_id)
        for device_id, subs in by_device.items():
            parent = self.index_of(device_id)
            first = len(self._subs[device_id])
            self.beginInsertRows(parent, first, first + len(subs) - 1)
            self._subs[device_id].extend(subs)
            self.endInsertRows()
        rows = sorted(
            self._row[d] for d in change.changed_devices if d in self._row and d not in new_set
        )
        if rows:
            self._emit_span(rows)
        sub_hosts = {
            r.device for _, r in change.records if r.kind == "sublock" and r.device in self._row
        }
        shown = self.children_shown
        for device_id in sub_hosts - new_set - by_device.keys():
            if shown is not None and not shown(device_id):
                continue  # collapsed: no view draws these rows, expanding reads them fresh
            n = len(self._subs[device_id])
            if n:
                serial, last = self._serial[device_id], len(COLUMNS) - 1
                self.dataChanged.emit(
                    self.createIndex(0, 0, serial), self.createIndex(n - 1, last, serial)
                )
        if (rows or new) and self._sort_column >= 0:
            self.sort_dirty = True
            if new and len(self._ids) <= IMMEDIATE_SORT_MAX_ROWS:
                # New rows make the tree lay out every row anyway; sorting now puts them in
                # their place within the same relayout instead of at the end until the timer.
                self.sort(self._sort_column, self._sort_order)

    def _emit_span(self, rows: list[int]) -> None:
        """One dataChanged over the changed rows' span (rows sorted), from column 1.

        Column 0 (the id) never changes. Starting at column 1 matters: for a span that
        starts in column 0, QTreeView asks hasChildren of every row in it (a Python call
        per row); from column 1 it only repaints. One signal per batch, not one per run.
        """
        self.dataChanged.emit(self.createIndex(rows[0], 1, 0),
                              self.createIndex(rows[-1], len(COLUMNS) - 1, 0))

    def refresh_status(self) -> None:
        """Status moves with the clock alone: one dataChanged over the whole column."""
        if self._ids:
            self.dataChanged.emit(
                self.createIndex(0, COL_STATUS, 0),
                self.createIndex(len(self._ids) - 1, COL_STATUS, 0),
                [Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.DecorationRole,
                 Qt.ItemDataRole.ForegroundRole, Qt.ItemDataRole.ToolTipRole],
            )
            if self._sort_column == COL_STATUS:
                self.sort_dirty = True

    # -- sorting -------------------------------------------------------------------------

    @property
    def sort_column(self) -> int:
        return self._sort_column

    @property
    def sort_order(self) -> Qt.SortOrder:
        return self._sort_order

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort_column, self._sort_order = column, order
        self.sort_dirty = False
        if column < 0 or column >= len(COLUMNS) or len(self._ids) < 2:
            return
        devices = self.fleet.devices
        present: list[tuple[Any, str]] = []
        missing: list[str] = []
        for device_id in self._ids:
            dev = devices.get(device_id)
            value = self.sort_value(dev, column) if dev is not None else None
            if value is None:
                missing.append(device_id)
            else:
                present.append((value, device_id))
        present.sort(reverse=order == Qt.SortOrder.DescendingOrder)
        new_ids = [d for _, d in present] + sorted(missing)
        if new_ids == self._ids:
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        moved = [(i, self._ids[i.row()]) for i in old if i.internalId() == 0 and i.isValid()]
        self._ids = new_ids
        self._row = {d: r for r, d in enumerate(new_ids)}
        if moved:
            self.changePersistentIndexList(
                [i for i, _ in moved],
                [self.createIndex(self._row[d], i.column(), 0) for i, d in moved],
            )
        self.layoutChanged.emit()

    def resort(self) -> None:
        if self.sort_dirty and self._sort_column >= 0:
            self.sort(self._sort_column, self._sort_order)


def battery_text(battery: object, charging: bool) -> str:
    if charging:
        return "⚡ charging"
    if isinstance(battery, int | float):
        return f"{battery:g} %"
    return DASH


class DevicesProxy(ForwardRoles, QSortFilterProxyModel):
    """Filters by device id or sub-lock id (recursively); sorting is delegated to the source."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self.setRecursiveFilteringEnabled(True)
        self.setAutoAcceptChildRows(True)
        self.setFilterRole(FILTER_ROLE)
        self.setFilterKeyColumn(COL_DEVICE)
        self.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.setSortRole(SORT_ROLE)
        # Filtering depends on ids only, which never change: no re-filtering on dataChanged.
        self.setDynamicSortFilter(False)

    def set_search(self, text: str) -> None:
        text = text.strip()
        pattern = QRegularExpression.escape(text) if text else ""
        self.setFilterRegularExpression(
            QRegularExpression(pattern, QRegularExpression.PatternOption.CaseInsensitiveOption)
        )

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        source = self.sourceModel()
        if isinstance(source, DevicesModel):
            source.sort(column, order)
        else:  # pragma: no cover - only DevicesModel is used
            super().sort(column, order)
