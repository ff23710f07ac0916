"""Models: the command history (live tracker + journal), unsolicited replies, bulk summary.

All three are fed on the GUI thread. The history model queues snapshots and applies them at
most every 50 ms: one insert for all new commands, one dataChanged over the changed range.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtCore import (
    QModelIndex,
    QObject,
    QSortFilterProxyModel,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFont

from app.commands.audit import AuditRow
from app.commands.builder import mask_secrets
from app.commands.replies import label_reply
from app.commands.tracker import TrackedCommand, UnsolicitedReply
from app.protocol.redact import MASK, mask_reply
from app.ui.widgets.roles import ForwardRoles
from app.ui.widgets.table_model import AnyIndex, RowsTableModel

ROW_ROLE = Qt.ItemDataRole.UserRole + 1
SORT_ROLE = Qt.ItemDataRole.UserRole + 2

STATE_WORDS = {
    "queued": "queued",
    "sent": "sent, waiting",
    "answered": "answered",
    "failed": "failed",
    "timed_out": "timed out",
}
STATE_COLOURS = {
    "queued": QColor("#6b7280"),
    "sent": QColor("#2f6fba"),
    "answered": QColor("#2e9d4f"),
    "failed": QColor("#d03b3b"),
    "timed_out": QColor("#d97706"),
}


def clock(ts: float | None, now: float | None = None) -> str:
    """'14:03:22' today, '07 Feb 14:03:22' on other days (local time)."""
    if ts is None:
        return ""
    t = time.localtime(ts)
    today = time.localtime(time.time() if now is None else now)
    if (t.tm_year, t.tm_yday) == (today.tm_year, today.tm_yday):
        return time.strftime("%H:%M:%S", t)
    return time.strftime("%d %b %H:%M:%S", t)


def reply_summary(name: str, reply: Any) -> str:
    """One line for the table: what the reply said, in words where we know them."""
    fields = dict(label_reply(name, reply))
    if isinstance(reply, str):
        return reply
    if name == "BASE1" and "firmware" in fields:
        return f"firmware {fields['firmware']}" + (
            f", IMEI {fields['IMEI']}" if "IMEI" in fields else ""
        )
    if name == "BASE2" and "device time (UTC)" in fields:
        return f"device time {fields['device time (UTC)']} UTC"
    if name == "P01" and "firmware" in fields:
        return f"firmware {fields['firmware']}, battery {fields.get('battery (%)', '?')} %"
    if name == "WLNET1" and "bound sub-locks" in fields:
        return f"{fields['bound sub-locks']} bound sub-lock(s)"
    n = len(reply) if isinstance(reply, list) else 0
    return f"reply with {n} field(s)"


@dataclass
class HistoryRow:
    key: str  # "t<tracker id>" live, "a<audit id>" from the journal
    device: str
    text: str
    name: str
    serial: str | None
    state: str
    reason: str
    created_at: float
    sent_at: float | None
    answered_at: float | None
    operator: str
    profile: str
    reply: Any = None
    reply_type: str | None = None
    dangerous: bool = False
    tracker_id: int | None = None
    audit_id: int | None = None
    timeout_s: float | None = None
    extra: dict = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.state in ("queued", "sent")

    @property
    def answered_in(self) -> float | None:
        if self.answered_at is None or self.sent_at is None or self.state != "answered":
            return None
        return max(0.0, self.answered_at - self.sent_at)

    def outcome(self) -> str:
        if self.state == "answered":
            return reply_summary(self.reply_type or self.name, self.reply)
        if self.state == "sent":
            return f"waiting for {self.name} (up to {self.timeout_s:g} s)" if self.timeout_s else (
                f"waiting for {self.name}")
        if self.state == "queued":
            return "publishing…"
        if self.state == "timed_out":
            return (self.reason or "no reply") + " (device may be asleep)"
        return self.reason or ""

    @classmethod
    def from_tracked(cls, tc: TrackedCommand, timeout_s: float | None = None) -> HistoryRow:
        c = tc.command
        return cls(
            f"t{tc.id}", c.device, c.text, c.name, c.serial, tc.state.value, tc.reason,
            tc.created_at, tc.sent_at, tc.answered_at, tc.operator, tc.profile, tc.reply,
            tc.reply_type, c.dangerous, tc.id, None, timeout_s,
        )

    @classmethod
    def from_audit(cls, r: AuditRow) -> HistoryRow:
        return cls(
            f"a{r.id}", r.device, r.text, r.name, r.serial, r.state, r.reason or "",
            r.created_at, r.sent_at, r.answered_at, r.operator, r.profile, r.reply,
            r.name if r.state == "answered" else None, r.dangerous, None, r.id,
        )


class HistoryModel(RowsTableModel):
    HEADERS = ("Sent", "Device", "State", "Command text", "Outcome / reason", "Answered in",
               "Serial", "Operator", "Profile")
    TIME, DEVICE, STATE, TEXT, OUTCOME, ANSWERED_IN, SERIAL, OPERATOR, PROFILE = range(9)

    sig_rows_changed = Signal(list)  # keys of rows that changed in the last flush

    def __init__(self, max_rows: int = 5000, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_rows = max_rows
        self._rows: list[HistoryRow] = []  # oldest first; display row r = _rows[-1 - r]
        # Command text as shown: its unlock password masked (the panel hands the context's
        # reveal here; masked when nobody does).
        self.shown_text: Callable[[str], str] = lambda text: mask_secrets(text, mask=MASK)
        self._pos: dict[str, int] = {}
        self._pending: dict[str, HistoryRow] = {}
        self.dropped = 0
        self._bold = QFont()
        self._bold.setBold(True)
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(50)
        self._timer.timeout.connect(self.flush)

    # -- Qt ---------------------------------------------------------------------------

    def row_at(self, r: int) -> HistoryRow | None:
        return self._rows[-1 - r] if 0 <= r < len(self._rows) else None

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.row_at(index.row())
        c = index.column()
        if row is None or not 0 <= c < len(self.HEADERS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, c)
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            return row.created_at if c == self.TIME else self._display(row, c)
        if c == self.STATE:
            if role == Qt.ItemDataRole.ForegroundRole:
                return STATE_COLOURS.get(row.state)
            if role == Qt.ItemDataRole.FontRole:
                return self._bold
        if c == self.TEXT and role == Qt.ItemDataRole.FontRole:
            f = QFont("monospace")
            f.setStyleHint(QFont.StyleHint.Monospace)
            return f
        if role == Qt.ItemDataRole.ToolTipRole and c in (self.OUTCOME, self.TEXT):
            return self._display(row, c)
        if role == Qt.ItemDataRole.TextAlignmentRole and c in (self.SERIAL, self.ANSWERED_IN):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def _display(self, row: HistoryRow, c: int) -> str:
        if c == self.TIME:
            return clock(row.sent_at or row.created_at)
        if c == self.DEVICE:
            return row.device
        if c == self.TEXT:
            return ("⚠ " if row.dangerous else "") + self.shown_text(row.text)
        if c == self.SERIAL:
            return row.serial or "—"
        if c == self.STATE:
            return STATE_WORDS.get(row.state, row.state)
        if c == self.OUTCOME:
            return row.outcome()
        if c == self.ANSWERED_IN:
            t = row.answered_in
            return "" if t is None else f"{t:.2f} s"
        if c == self.OPERATOR:
            return row.operator
        if c == self.PROFILE:
            return row.profile
        return ""

    # -- rows -------------------------------------------------------------------------

    def load(self, rows: Iterable[HistoryRow]) -> None:
        """Replace everything (start-up load from the journal); rows newest first."""
        self.beginResetModel()
        self._rows = list(reversed(list(rows)))[-self.max_rows:]
        self._pos = {r.key: i for i, r in enumerate(self._rows)}
        self.endResetModel()

    def upsert(self, row: HistoryRow) -> None:
        """Queue a new or changed row; applied on the next flush (≤ 50 ms)."""
        self._pending[row.key] = row
        if not self._timer.isActive():
            self._timer.start()

    def flush(self) -> None:
        self._timer.stop()
        if not self._pending:
            return
        pending, self._pending = self._pending, {}
        new = [r for k, r in pending.items() if k not in self._pos]
        changed = [r for k, r in pending.items() if k in self._pos]
        if changed:
            positions = []
            for r in changed:
                p = self._pos[r.key]
                self._rows[p] = r
                positions.append(p)
            n = len(self._rows)
            top, bottom = n - 1 - max(positions), n - 1 - min(positions)
            self.dataChanged.emit(self.index(top, 0), self.index(bottom, len(self.HEADERS) - 1))
        if new:
            self.beginInsertRows(QModelIndex(), 0, len(new) - 1)
            for r in new:
                self._pos[r.key] = len(self._rows)
                self._rows.append(r)
            self.endInsertRows()
        self._trim()
        self.sig_rows_changed.emit(list(pending))

    def set_max_rows(self, n: int) -> None:
        """A new bound (File › Settings › Commands): past it the oldest rows go at once."""
        self.max_rows = max(1, int(n))
        self._trim()

    def _trim(self) -> None:
        over = len(self._rows) - self.max_rows
        if over > 0:
            n = len(self._rows)
            self.beginRemoveRows(QModelIndex(), n - over, n - 1)
            del self._rows[:over]
            self._pos = {r.key: i for i, r in enumerate(self._rows)}
            self.endRemoveRows()
            self.dropped += over

    def row_by_key(self, key: str) -> HistoryRow | None:
        if key in self._pending:
            return self._pending[key]
        p = self._pos.get(key)
        return None if p is None else self._rows[p]

    def display_row_of(self, key: str) -> int:
        p = self._pos.get(key)
        return -1 if p is None else len(self._rows) - 1 - p

    def rows(self) -> list[HistoryRow]:
        """Newest first."""
        return list(reversed(self._rows))


class HistoryFilter(ForwardRoles, QSortFilterProxyModel):
    """Case-insensitive substring over device, command text, state and outcome."""

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._needle = ""
        self.setSortRole(SORT_ROLE)

    def set_needle(self, text: str) -> None:
        self.beginFilterChange()
        self._needle = text.strip().lower()
        self.endFilterChange(QSortFilterProxyModel.Direction.Rows)

    def filterAcceptsRow(self, source_row: int, source_parent: AnyIndex) -> bool:
        if not self._needle:
            return True
        model = self.sourceModel()
        row = model.row_at(source_row) if isinstance(model, HistoryModel) else None
        if row is None:
            return False
        text = model.shown_text(row.text)  # a masked password is not searched for either
        hay = f"{row.device}\n{text}\n{row.state}\n{row.outcome()}".lower()
        return self._needle in hay


class UnsolicitedModel(RowsTableModel):
    HEADERS = ("Received", "Device", "Reply type", "Content", "Profile")

    def __init__(self, max_rows: int = 500, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.max_rows = max_rows
        self._rows: list[UnsolicitedReply] = []  # newest first
        # A reply's content as shown: an echoed unlock password masked (see HistoryModel).
        self.shown_reply: Callable[[str | None, Any], Any] = mask_reply

    def data(self, index: AnyIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        u = self._rows[index.row()]
        c = index.column()
        if role == ROW_ROLE:
            return u
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            if c == 0:
                return clock(u.received_at)
            if c == 1:
                return u.device or ""
            if c == 2:
                return u.command_type or ""
            if c == 3:
                if u.platform_error:
                    return str(u.platform_error)
                content = self.shown_reply(u.command_type, u.content)
                return ",".join(map(str, content)) if isinstance(content, list) else str(
                    content)
            if c == 4:
                return u.profile
        return None

    def add(self, items: list[UnsolicitedReply]) -> None:
        if not items:
            return
        items = list(reversed(items))[: self.max_rows]
        self.beginInsertRows(QModelIndex(), 0, len(items) - 1)
        self._rows[:0] = items
        self.endInsertRows()
        over = len(self._rows) - self.max_rows
        if over > 0:
            n = len(self._rows)
            self.beginRemoveRows(QModelIndex(), n - over, n - 1)
            del self._rows[n - over:]
            self.endRemoveRows()

    def rows(self) -> list[UnsolicitedReply]:
        return list(self._rows)
