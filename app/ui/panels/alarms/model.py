"""The alarm table: newest first, bounded, critical rows red until acknowledged."""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QColor, QFont

from app.fleet.severity import Severity, SeverityTable
from app.fleet.state import AlarmEntry
from app.journal.queries import acknowledgements_between
from app.journal.store import Journal, JournalRow
from app.protocol import codes
from app.ui.widgets.live_format import (
    clip,
    device_time_text,
    iso_local,
    local_time,
    position_text,
    received_tooltip,
)
from app.ui.widgets.live_model import NO_STYLE, TOOLTIP, LiveFilterProxy, LiveTableModel, role

# Acknowledged comes before the wide, often empty columns so that it is always in sight.
# Severity is the model's last column but the view shows it second (the panel moves it):
# what matters most is read first.
TIME, DEVICE, ALARM, CODE, ACK, POSITION, SPEED, DESCRIPTION, SEVERITY = range(9)
HEADERS = ("Time", "Device", "Alarm", "Code", "Acknowledged", "Position", "Speed",
           "Description", "Severity")
TOOLTIPS = (
    "When the alarm reached SealDesk (local time)",
    "Device id",
    "Alarm type",
    "Alarm code (alarmType)",
    "Who acknowledged it, when and why",
    "Latitude, longitude where the device raised it",
    "Speed when raised",
    "Text the device sent with the alarm",
    "▲ critical: act now · ◆ warning: this shift · ● info: for the record (File › Settings)",
)

CRITICAL_BG = QColor("#b3261e")
CRITICAL_FG = QColor("#ffffff")
WAITING_FG = QColor("#d97706")
_BOLD = QFont()
_BOLD.setBold(True)
# Every cell of a critical alarm not yet acknowledged
_HOT = {
    role(Qt.ItemDataRole.BackgroundRole): CRITICAL_BG,
    role(Qt.ItemDataRole.ForegroundRole): CRITICAL_FG,
    role(Qt.ItemDataRole.FontRole): _BOLD,
    TOOLTIP: "Critical alarm — acknowledge it (Space) once handled",
}
_WAITING = {role(Qt.ItemDataRole.ForegroundRole): WAITING_FG}
# The severity cell: a shape and a word, coloured too (never colour alone).
_SEVERITY_STYLE = {
    Severity.CRITICAL: {role(Qt.ItemDataRole.ForegroundRole): CRITICAL_BG},
    Severity.WARNING: {role(Qt.ItemDataRole.ForegroundRole): WAITING_FG},
    Severity.INFO: {role(Qt.ItemDataRole.ForegroundRole): QColor("#6b7280")},
}
ACK_REASONS = ("false alarm", "handled on site", "customer informed", "duplicate", "other")
_RIGHT = {role(Qt.ItemDataRole.TextAlignmentRole):
          Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter}


@dataclass(slots=True, eq=False)
class AlarmRow:
    push_id: int
    device: str
    at: float
    code: int | None
    name: str
    position: tuple[float, float] | None
    speed: float | None
    describe: str
    device_time: str
    cells: tuple[str, ...]
    acked_at: float | None = None
    acked_by: str = ""
    ack_reason: str = ""
    ack_note: str = ""

    @property
    def acknowledged(self) -> bool:
        return self.acked_at is not None

    def csv(self) -> tuple[Any, ...]:
        lat, lon = self.position if self.position else ("", "")
        return (
            iso_local(self.at), self.device, self.name, "" if self.code is None else self.code,
            lat, lon, "" if self.speed is None else self.speed, self.describe,
            iso_local(self.acked_at) if self.acked_at is not None else "", self.acked_by,
            self.push_id, self.ack_reason, self.ack_note,
        )


CSV_HEADER = ("time", "device", "alarm", "code", "latitude", "longitude", "speed",
              "description", "acknowledged_at", "acknowledged_by", "push_id",
              "acknowledged_reason", "acknowledged_note")


def alarm_name(code: int | None, data: dict[str, Any]) -> str:
    name = data.get("alarmName")
    if isinstance(name, str) and name:
        return name
    if code is not None:
        return codes.alarm_name(code) or f"Unknown alarm {code}"
    raw = data.get("alarmType")
    return codes.alarm_name(raw) or "Unknown alarm (no code)"


def make_row(push_id: int, device: str, at: float, data: dict[str, Any],
             acked_at: float | None = None, acked_by: str = "") -> AlarmRow:
    code = codes.as_code(data.get("alarmType"))
    name = alarm_name(code, data)
    pos_text, pos = position_text(data)
    speed = data.get("speed")
    speed = float(speed) if isinstance(speed, int | float) and not isinstance(speed, bool) else None
    describe = clip(data.get("describe"))
    device_time = device_time_text(data)
    cells = (
        local_time(at),
        device,
        name,
        "" if code is None else str(code),
        "",  # acknowledged: computed when shown
        pos_text,
        "" if speed is None else f"{speed:g} km/h",
        describe,
        "",  # severity: the user's table decides, when shown
    )
    return AlarmRow(push_id, device, at, code, name, pos, speed, describe, device_time, cells,
                    acked_at, acked_by)


def row_from_entry(entry: AlarmEntry) -> AlarmRow:
    return make_row(entry.push_id, entry.device_id, entry.received_at, entry.data)


def rows_from_journal(journal: Journal, rows: list[JournalRow]) -> list[AlarmRow]:
    """History page → rows, with their acknowledgements (runs on the loader thread)."""
    acks: dict[int, tuple[float, str, str, str]] = {}
    if rows:
        acks = acknowledgements_between(journal, min(r.id for r in rows),
                                        max(r.id for r in rows))
    out = []
    for r in rows:
        at, by, reason, note = acks.get(r.id, (None, "", "", ""))
        row = make_row(r.id, r.device or "", r.received_at, r.data, at, by)
        row.ack_reason, row.ack_note = reason, note
        out.append(row)
    return out


class AlarmTableModel(LiveTableModel):
    HEADERS = HEADERS
    TOOLTIPS = TOOLTIPS

    def __init__(self, critical_codes: Callable[[], Collection[int]], max_rows: int = 20_000,
                 parent: QObject | None = None,
                 severities: Callable[[], SeverityTable] = SeverityTable) -> None:
        super().__init__(max_rows, parent)
        self.critical_codes = critical_codes
        self.severities = severities  # the user's table, asked when a row is drawn
        self.unacked: dict[int, AlarmRow] = {}  # push id → row, of rows in the table

    def add_rows(self, rows: Iterable[AlarmRow]) -> int:
        rows = list(rows)
        added = super().add_rows(rows)
        for r in rows:
            if r.acked_at is None and self.row_of(r.push_id) >= 0:
                self.unacked[r.push_id] = r
        return added

    def _rows_dropped(self, rows: list[AlarmRow]) -> None:
        for r in rows:
            self.unacked.pop(r.push_id, None)

    def is_critical(self, row: AlarmRow) -> bool:
        return row.code is not None and row.code in self.critical_codes()

    def critical_unacked(self) -> list[AlarmRow]:
        crit = self.critical_codes()
        return [r for r in self.unacked.values() if r.code in crit]

    def critical_changed(self, codes_: Collection[int]) -> None:
        """These alarm types became critical or stopped being: restyle their waiting rows."""
        changed = set(codes_)
        self.refresh_rows(sorted(
            r for r in (self.row_of(row.push_id) for row in self.unacked.values()
                        if row.code in changed) if r >= 0
        ))

    def severity(self, row: AlarmRow) -> Severity:
        return self.severities().of(row.code)

    def severities_changed(self) -> None:
        """The user changed the severity table: every row's severity cell and style anew."""
        self.refresh_rows(list(range(self.rowCount())))

    def mark_acknowledged(self, push_ids: Iterable[int], at: float, by: str,
                          reason: str = "", note: str = "") -> list[int]:
        done = []
        for push_id in push_ids:
            row = self.unacked.pop(push_id, None)
            if row is not None:
                row.acked_at, row.acked_by = at, by
                row.ack_reason, row.ack_note = reason, note
                done.append(push_id)
        self.rows_changed(done)
        return done

    def mark_unacknowledged(self, push_ids: Iterable[int]) -> list[int]:
        """An acknowledgement was undone: these rows wait again."""
        done = []
        for push_id in push_ids:
            slot = self.row_of(push_id)
            if slot >= 0:
                row = self.row_at(slot)
                if row.acked_at is not None:
                    row.acked_at, row.acked_by, row.ack_reason, row.ack_note = None, "", "", ""
                    self.unacked[push_id] = row
                    done.append(push_id)
        self.rows_changed(done)
        return done

    # -- display --------------------------------------------------------------------------

    def display(self, row: AlarmRow, column: int) -> str:
        if column == ACK:
            if row.acked_at is None:
                return "not yet"
            who = f"{row.acked_by} · " if row.acked_by else ""
            why = f" · {row.ack_reason}" if row.ack_reason else ""
            note = " · ✎" if row.ack_note else ""
            return who + local_time(row.acked_at) + why + note
        if column == SEVERITY:
            return self.severity(row).label
        return row.cells[column]

    def sort_key(self, row: AlarmRow, column: int) -> Any:
        if column == TIME:
            return row.push_id
        if column == CODE:
            return -1 if row.code is None else row.code
        if column == SPEED:
            return -1.0 if row.speed is None else row.speed
        if column == ACK:
            return row.acked_at or 0.0
        if column == SEVERITY:
            return self.severity(row).rank
        return row.cells[column]

    def row_style(self, row: AlarmRow) -> dict[int, Any]:
        return _HOT if row.acked_at is None and self.is_critical(row) else NO_STYLE

    def cell_style(self, row: AlarmRow, column: int) -> dict[int, Any]:
        if column == TIME:
            return {TOOLTIP: received_tooltip(row)}
        if column == DESCRIPTION and row.describe:
            return {TOOLTIP: row.describe}
        if column == ACK:
            if row.acked_at is not None:
                tip = f"acknowledged {iso_local(row.acked_at)} by {row.acked_by or 'unknown'}"
                if row.ack_reason:
                    tip += f"\nreason: {row.ack_reason}"
                if row.ack_note:
                    tip += f"\nnote: {row.ack_note}"
                return {TOOLTIP: tip}
            return NO_STYLE if self.is_critical(row) else _WAITING
        if column == SEVERITY:
            hot = row.acked_at is None and self.is_critical(row)
            return NO_STYLE if hot else _SEVERITY_STYLE[self.severity(row)]
        if column in (CODE, SPEED):
            return _RIGHT
        return NO_STYLE


class AlarmFilterProxy(LiveFilterProxy):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.unacked_only = False
        self.severities: frozenset[Severity] | None = None  # None: every severity

    def set_unacked_only(self, on: bool) -> None:
        if on != self.unacked_only:
            self.refilter(lambda: setattr(self, "unacked_only", on))

    def set_severities(self, severities: frozenset[Severity] | None) -> None:
        if severities != self.severities:
            self.refilter(lambda: setattr(self, "severities", severities))

    def accepts(self, row: AlarmRow) -> bool:
        if self.unacked_only and row.acked_at is not None:
            return False
        if self.severities is not None:
            model = self.sourceModel()
            if isinstance(model, AlarmTableModel) and model.severity(row) not in self.severities:
                return False
        return super().accepts(row)
