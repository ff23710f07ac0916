"""A shift in the journal, for the handover report: the alarms raised in a period, who
acknowledged which (reason, note, how long it took), what is still open, per severity, per
device and per alarm type. No Qt: the `report` command, the window's Shift report dialog
(on a worker thread) and the tests read it alike; `app/reports/shift.py` lays it out.

"Acknowledged" means acknowledged by the end of the period: a report on yesterday's shift
shows what was open when that shift handed over, even if it was acknowledged since
(`ShiftAlarm.state` says "acknowledged later" then).
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterable
from dataclasses import dataclass, field

from app.fleet.severity import Severity, SeverityTable

ACKNOWLEDGED, OPEN, ACKNOWLEDGED_LATER = "acknowledged", "open", "acknowledged later"


@dataclass(frozen=True, slots=True)
class ShiftAlarm:
    push_id: int
    raised_at: float
    device: str
    sublock: str
    code: int | None
    name: str
    severity: Severity
    state: str  # ACKNOWLEDGED, OPEN or ACKNOWLEDGED_LATER (open at the end of the period)
    acked_at: float | None = None
    operator: str = ""
    reason: str = ""
    note: str = ""

    @property
    def is_open(self) -> bool:
        return self.state != ACKNOWLEDGED

    @property
    def seconds_to_acknowledge(self) -> float | None:
        if self.state != ACKNOWLEDGED or self.acked_at is None:
            return None
        return max(0.0, self.acked_at - self.raised_at)


@dataclass
class Tally:
    """Counts of one group of alarms (a severity, a device, an alarm type, all of them)."""

    raised: int = 0
    acknowledged: int = 0
    open: int = 0
    critical_open: int = 0
    ack_seconds: list[float] = field(default_factory=list, repr=False)

    def add(self, alarm: ShiftAlarm) -> None:
        self.raised += 1
        if alarm.is_open:
            self.open += 1
            if alarm.severity is Severity.CRITICAL:
                self.critical_open += 1
        else:
            self.acknowledged += 1
            seconds = alarm.seconds_to_acknowledge
            if seconds is not None:
                self.ack_seconds.append(seconds)

    @property
    def median_ack_s(self) -> float | None:
        return statistics.median(self.ack_seconds) if self.ack_seconds else None

    @property
    def longest_ack_s(self) -> float | None:
        return max(self.ack_seconds) if self.ack_seconds else None


@dataclass
class ShiftSummary:
    since: float
    until: float
    alarms: list[ShiftAlarm]  # raised in the period, oldest first
    total: Tally
    by_severity: dict[Severity, Tally]  # every severity, most urgent first
    by_device: dict[str, Tally]  # most open first, then most raised, then by id
    by_type: dict[tuple[int | None, str], Tally]  # most raised first
    # Raised before the period and still open at its end: the next shift inherits them too.
    open_before: dict[Severity, int]

    @property
    def open_before_total(self) -> int:
        return sum(self.open_before.values())

    def open_alarms(self) -> list[ShiftAlarm]:
        """Still open at the end of the period: most urgent first, then oldest first."""
        return sorted((a for a in self.alarms if a.is_open),
                      key=lambda a: (a.severity.rank, a.raised_at, a.push_id))

    def acknowledged_alarms(self) -> list[ShiftAlarm]:
        return [a for a in self.alarms if not a.is_open]


def _code(value: object) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _ack_columns(conn: sqlite3.Connection) -> tuple[bool, bool]:
    """(the journal has acknowledgements, they carry reason and note): a journal read
    read-only is not migrated and may predate either."""
    columns = {row[1] for row in conn.execute("PRAGMA table_info(alarm_ack)")}
    return bool(columns), {"reason", "note"} <= columns


def _alarm_sql(conn: sqlite3.Connection) -> str:
    has_acks, has_reason = _ack_columns(conn)
    alarm = ("SELECT p.id, p.received_at, p.device, p.sublock,"
             " json_extract(p.data, '$.alarmType'), json_extract(p.data, '$.alarmName')")
    if not has_acks:
        return (alarm + ", NULL, '', '', '' FROM push p"
                " WHERE p.kind = 'alarm' AND p.received_at >= ? AND p.received_at < ?"
                " ORDER BY p.received_at, p.id")
    extra = "a.reason, a.note" if has_reason else "'', ''"
    return (alarm + f", a.acked_at, a.operator, {extra}"
            " FROM push p LEFT JOIN alarm_ack a ON a.push_id = p.id"
            " WHERE p.kind = 'alarm' AND p.received_at >= ? AND p.received_at < ?"
            " ORDER BY p.received_at, p.id")


def alarm_rows(conn: sqlite3.Connection, since: float, until: float) -> list[tuple]:
    """(id, received_at, device, sublock, alarmType, alarmName, acked_at, operator, reason,
    note) of every alarm received in [since, until), oldest first; acked_at NULL when not
    acknowledged at all."""
    return conn.execute(_alarm_sql(conn), (since, until)).fetchall()


def open_before_rows(conn: sqlite3.Connection, since: float, until: float
                     ) -> list[tuple[object, int]]:
    """(alarmType, count) of the alarms received before `since` and not acknowledged by
    `until`."""
    has_acks, _ = _ack_columns(conn)
    sql = ("SELECT json_extract(p.data, '$.alarmType'), count(*) FROM push p"
           " WHERE p.kind = 'alarm' AND p.received_at < ?")
    params: tuple = (since,)
    if has_acks:
        sql += (" AND NOT EXISTS (SELECT 1 FROM alarm_ack a"
                " WHERE a.push_id = p.id AND a.acked_at <= ?)")
        params = (since, until)
    return conn.execute(sql + " GROUP BY 1", params).fetchall()


def make_alarm(row: tuple, until: float, severities: SeverityTable) -> ShiftAlarm:
    push_id, at, device, sublock, code_value, name, acked_at, operator, reason, note = row
    code = _code(code_value)
    if acked_at is None:
        state = OPEN
    elif acked_at <= until:
        state = ACKNOWLEDGED
    else:
        state = ACKNOWLEDGED_LATER
    return ShiftAlarm(
        push_id=push_id,
        raised_at=at,
        device=device or "",
        sublock=sublock or "",
        code=code,
        name=str(name or f"Unknown alarm {code_value if code_value is not None else ''}").strip(),
        severity=severities.of(code),
        state=state,
        acked_at=acked_at,
        operator=operator or "",
        reason=reason or "",
        note=note or "",
    )


def summarise(alarms: Iterable[ShiftAlarm], since: float, until: float,
              open_before: dict[Severity, int] | None = None) -> ShiftSummary:
    alarms = sorted(alarms, key=lambda a: (a.raised_at, a.push_id))
    total = Tally()
    by_severity = {s: Tally() for s in sorted(Severity, key=lambda s: s.rank)}
    by_device: dict[str, Tally] = {}
    by_type: dict[tuple[int | None, str], Tally] = {}
    for a in alarms:
        total.add(a)
        by_severity[a.severity].add(a)
        by_device.setdefault(a.device, Tally()).add(a)
        by_type.setdefault((a.code, a.name), Tally()).add(a)
    devices = dict(sorted(by_device.items(),
                          key=lambda kv: (-kv[1].critical_open, -kv[1].open, -kv[1].raised,
                                          kv[0])))
    types = dict(sorted(by_type.items(),
                        key=lambda kv: (-kv[1].raised, kv[0][0] if kv[0][0] is not None
                                        else 1 << 62, kv[0][1])))
    before = {s: 0 for s in by_severity}
    before.update(open_before or {})
    return ShiftSummary(since, until, alarms, total, by_severity, devices, types, before)


def read_shift(conn: sqlite3.Connection, since: float, until: float,
               severities: SeverityTable | None = None) -> ShiftSummary:
    """The period [since, until) of the journal on `conn` (a `Journal`'s, read-only is fine)."""
    table = severities or SeverityTable()
    alarms = [make_alarm(r, until, table) for r in alarm_rows(conn, since, until)]
    before: dict[Severity, int] = {}
    for code_value, n in open_before_rows(conn, since, until):
        severity = table.of(_code(code_value))
        before[severity] = before.get(severity, 0) + n
    return summarise(alarms, since, until, before)
