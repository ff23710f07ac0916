"""The event table: unlocks, locks, doors and waybill milestones, newest first, bounded."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject

from app.journal.store import Journal, JournalRow
from app.protocol import codes
from app.protocol.push import PushRecord
from app.ui.widgets.live_format import (
    clip,
    device_time_text,
    iso_local,
    local_time,
    position_text,
    received_tooltip,
)
from app.ui.widgets.live_model import NO_STYLE, TOOLTIP, LiveTableModel

TIME, DEVICE, EVENT, UNLOCK, CARD, PASSWORD, WAYBILL, POSITION = range(8)
HEADERS = ("Time", "Device", "Event", "Unlock type", "Card", "Password", "Waybill", "Position")
TOOLTIPS = (
    "When the event reached SealDesk (local time)",
    "Device id",
    "Event type and its code (eventType)",
    "How the lock was opened (unLockType)",
    "RFID card number used",
    "Password used (hidden unless 'Show passwords' is on)",
    "Waybill GUID / number for waybill events (13–18), else the event's text",
    "Latitude, longitude of the event",
)
MASK = "••••"


@dataclass(slots=True, eq=False)
class EventRow:
    push_id: int
    device: str
    at: float
    code: int | None
    name: str
    unlock: str
    card: str
    password: str
    waybill_guid: str
    waybill_no: str
    describe: str
    position: tuple[float, float] | None
    device_time: str
    cells: tuple[str, ...]

    def csv(self, with_password: bool = False) -> tuple[Any, ...]:
        lat, lon = self.position if self.position else ("", "")
        return (
            iso_local(self.at), self.device, "" if self.code is None else self.code, self.name,
            self.unlock, self.card,
            self.password if with_password else (MASK if self.password else ""),
            self.waybill_guid, self.waybill_no, self.describe, lat, lon, self.push_id,
        )


CSV_HEADER = ("time", "device", "event_code", "event", "unlock_type", "card", "password",
              "waybill_guid", "waybill_no", "describe", "latitude", "longitude", "push_id")


def make_row(push_id: int, device: str, at: float, data: dict[str, Any]) -> EventRow:
    code = codes.as_code(data.get("eventType"))
    name = data.get("eventName")
    if not isinstance(name, str) or not name:
        name = codes.event_name(data.get("eventType")) or "Unknown event (no code)"
    unlock_code = codes.as_code(data.get("unLockType"))
    unlock = data.get("unLockTypeName")
    if not isinstance(unlock, str):
        unlock = codes.unlock_type_name(data.get("unLockType")) or ""
    if unlock_code == -1:
        unlock = ""  # -1 ("Locked") means no unlock happened: nothing to say
    describe = data.get("describe")
    guid = number = ""
    if isinstance(describe, dict):
        guid = clip(describe.get("waybillGUID"))
        number = clip(describe.get("waybillNo"))
        waybill = " / ".join(p for p in (guid, number) if p) or clip(describe)
        describe_text = waybill
    else:
        describe_text = clip(describe)
        waybill = describe_text
    pos_text, pos = position_text(data)
    device_time = device_time_text(data)
    event = f"{name} ({code})" if code is not None else name
    cells = (local_time(at), device, event, unlock, clip(data.get("card")), "",
             waybill, pos_text)
    return EventRow(push_id, device, at, code, name, unlock, clip(data.get("card")),
                    clip(data.get("password")), guid, number, describe_text, pos,
                    device_time, cells)


def row_from_record(push_id: int, record: PushRecord) -> EventRow:
    return make_row(push_id, record.device or "", record.raw.received_at, record.data)


def rows_from_journal(_journal: Journal, rows: list[JournalRow]) -> list[EventRow]:
    return [make_row(r.id, r.device or "", r.received_at, r.data) for r in rows]


class EventTableModel(LiveTableModel):
    HEADERS = HEADERS
    TOOLTIPS = TOOLTIPS

    def __init__(self, max_rows: int = 20_000, parent: QObject | None = None) -> None:
        super().__init__(max_rows, parent)
        self.show_passwords = False

    def set_show_passwords(self, on: bool) -> None:
        if on != self.show_passwords:
            self.show_passwords = on
            self.rows_changed([row.push_id for row in self._rows if row.password],
                              PASSWORD, PASSWORD)

    def display(self, row: EventRow, column: int) -> str:
        if column == PASSWORD:
            if not row.password:
                return ""
            return row.password if self.show_passwords else MASK
        return row.cells[column]

    def sort_key(self, row: EventRow, column: int) -> Any:
        if column == TIME:
            return row.push_id
        if column == EVENT:
            return -1 if row.code is None else row.code
        if column == PASSWORD:
            return self.display(row, column)
        return row.cells[column]

    def cell_style(self, row: EventRow, column: int) -> dict[int, Any]:
        if column == TIME:
            return {TOOLTIP: received_tooltip(row)}
        if column == WAYBILL and row.waybill_guid:
            return {TOOLTIP: f"waybill GUID {row.waybill_guid}\nwaybill No {row.waybill_no}"}
        if column == WAYBILL and row.describe:
            return {TOOLTIP: row.describe}
        if column == EVENT:
            return {TOOLTIP: row.cells[EVENT]}
        if column == PASSWORD and row.password and not self.show_passwords:
            return {TOOLTIP: "Hidden — tick 'Show passwords' to see it"}
        return NO_STYLE
