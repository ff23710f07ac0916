"""A journal with a known shift in it, for the shift report's tests (command and dialog).

The shift is 2025-02-07 06:00–14:00 UTC. Alarms are real simulator pushes, decoded and
written with the real journal (`open_journal`: SQLite or PostgreSQL); acknowledgements go
through `Journal.acknowledge`, as the window writes them. `Expected` is what the report
must say, worked out by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from app.journal.url import open_journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet

SINCE = datetime(2025, 2, 7, 6, 0, tzinfo=UTC).timestamp()
UNTIL = SINCE + 8 * 3600
SINCE_ISO, UNTIL_ISO = "2025-02-07T06:00:00Z", "2025-02-07T14:00:00Z"
FORMULA_NOTE = '=HYPERLINK("http://evil.example","click")'


@dataclass
class Expected:
    devices: tuple[str, str, str]
    in_shift: dict[str, int]  # name → journal id of the alarms raised in the shift
    raised: int = 6
    acknowledged: int = 3
    open: int = 3
    critical_open: int = 2
    open_before: int = 2
    median_minutes: float = 2.0  # acknowledged after 300, 120 and 60 s
    # severity → (raised, acknowledged, open)
    by_severity: dict[str, tuple[int, int, int]] = field(default_factory=lambda: {
        "critical": (3, 1, 2), "warning": (2, 1, 1), "info": (1, 1, 0)})


def build(path: Path | str) -> Expected:
    """The shift written into the journal at `path` (a file, or a postgresql:// URL)."""
    # The fleet's clock is the receipt time, as for a real device: the payloads carry their
    # own times (a shared journal takes the same bytes for the same push within a day).
    clock = [SINCE]
    fleet = Fleet("SHIFT", devices=3, seed=18, now=lambda: clock[0])
    a, b, c = fleet.device_ids
    journal = open_journal(path)

    def alarm(device: str, code: int, at: float) -> int:
        clock[0] = at
        topic, payload = fleet.raise_alarm(device, code)[0]
        record = decode(RawPush("mqtt", topic, payload, at, "Test"))
        assert record.kind == "alarm" and not record.errors, record.errors
        return journal.write([record])[0]

    def location(device: str, at: float) -> None:
        clock[0] = at
        journal.write([decode(RawPush("mqtt", t, p, at, "Test"))
                       for t, p in fleet.location(device)])

    def ack(push_id: int, at: float, operator: str, reason: str = "", note: str = "") -> None:
        journal.acknowledge([push_id], at=at, operator=operator, reason=reason, note=note)

    try:
        # before the shift: two still open at its end (a critical, a warning), two not
        before_open = alarm(a, 46, SINCE - 3600)
        ack(alarm(b, 41, SINCE - 1800), SINCE - 1700, "night")
        ack(alarm(a, 45, SINCE - 600), SINCE + 600, "ada", "handled on site")
        alarm(c, 48, SINCE - 100)
        location(a, SINCE + 10)
        ids = {
            "B1": alarm(a, 46, SINCE + 60),  # critical: back cover opened
            "B2": alarm(a, 41, SINCE + 120),  # warning: vibration
            "B3": alarm(b, 51, SINCE + 3600),  # critical: SOS, left open
            "B4": alarm(b, 50, SINCE + 3700),  # info: backup battery enabled
            "B5": alarm(c, 45, SINCE + 7200),  # warning: acknowledged after the shift
            "B6": alarm(c, 40, UNTIL - 1),  # critical: rope cut in the last second
        }
        location(b, SINCE + 5000)
        ack(ids["B1"], SINCE + 360, "ada", "handled on site", "guard sent\nall fine")
        ack(ids["B2"], SINCE + 240, "ben", "false alarm", FORMULA_NOTE)
        ack(ids["B4"], SINCE + 3760, "ada")
        ack(ids["B5"], UNTIL + 100, "night")
        # after the shift: not in it (the period ends before UNTIL)
        alarm(a, 51, UNTIL)
        alarm(b, 46, UNTIL + 10)
        assert before_open
    finally:
        journal.close()
    return Expected(devices=(a, b, c), in_shift=ids)
