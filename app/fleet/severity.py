"""How urgent each alarm type is: critical, warning or info, by the seed's alarm codes.

Control-room practice (alarm receivers, SCADA alarm summaries) is to rank before anything
else, so a dispatcher facing 400 open alarms sees the dozen that need a person now. The
defaults below are what a lock and tracker dispatcher would choose; the user changes them in
Settings (`SeverityTable.with_overrides`). Every code of the seed's alarm table is in exactly
one of the three sets; tests/fleet/test_severity.py fails when a new code is not ranked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import Enum


class Severity(Enum):
    CRITICAL = "critical"
    WARNING = "warning"
    INFO = "info"

    @property
    def rank(self) -> int:
        """0 is the most urgent: sorts critical first."""
        return _RANK[self]

    @property
    def mark(self) -> str:
        """A shape as well as a colour (never colour alone): ▲ critical, ◆ warning, ● info."""
        return _MARK[self]

    @property
    def label(self) -> str:
        return f"{self.mark} {self.value}"


_RANK = {Severity.CRITICAL: 0, Severity.WARNING: 1, Severity.INFO: 2}
_MARK = {Severity.CRITICAL: "▲", Severity.WARNING: "◆", Severity.INFO: "●"}

# Someone may be stealing, breaking or forcing the lock or the vehicle, or a person is in
# danger: a dispatcher acts now.
CRITICAL_CODES: frozenset[int] = frozenset({
    26,  # Vehicle theft
    27,  # Illegal vehicle ignition
    28,  # Illegal vehicle displacement
    29,  # Collision warning
    30,  # Rollover warning
    31,  # Illegal door opening alarm
    40,  # Lock rope cut
    43,  # Unlock password error for 5 consecutive times
    44,  # Swiping illegal RFID card
    46,  # Back cover opened
    51,  # SOS
    52,  # Towing alarm
    93,  # Call the police
    180,  # Host dismantling
    190,  # Damage of upper cover
    203,  # Lock bar bent
    204,  # Chain saw off
    205,  # lock bar missing
    403,  # Out fence unlock
})

# Routine, or a record of something that happened as intended: kept, never urgent.
INFO_CODES: frozenset[int] = frozenset({
    50,  # Enable backup battery
    71,  # Road sign recognition events
    72,  # Active capture event
    97,  # Auto capture events
    98,  # Driver change event
    163,  # GPRS reconnection
    164,  # Dispatching panel connection
    200,  # Main battery replacement
})

# Everything else the seed lists: needs attention this shift — power, signal, faults, fences,
# driving behaviour, delays.
WARNING_CODES: frozenset[int] = frozenset({
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 15, 19, 23, 24, 32, 33, 34, 35, 36, 37, 38,
    41, 42, 45, 47, 48, 49, 54, 55, 56, 57, 58, 63, 64, 65, 66, 67, 68, 69, 70, 73, 74,
    92, 94, 95, 96, 99, 100, 101, 102, 103, 104, 110, 125, 126, 127, 131, 132, 133, 134,
    135, 136, 137, 141, 145, 146, 151, 160, 161, 162, 165, 166, 167, 168, 191, 192, 193,
    194, 195, 196, 197, 198, 199, 201, 202, 206, 316, 332, 400, 402, 404, 405, 406, 407,
    10000,
})

UNKNOWN_SEVERITY = Severity.WARNING  # a code the seed does not list: look at it, don't panic


def default_severities() -> dict[int, Severity]:
    out = {code: Severity.WARNING for code in WARNING_CODES}
    out.update({code: Severity.INFO for code in INFO_CODES})
    out.update({code: Severity.CRITICAL for code in CRITICAL_CODES})
    return out


@dataclass(frozen=True)
class SeverityTable:
    """The severity of each alarm code: the defaults with the user's changes on top."""

    overrides: Mapping[int, Severity] = field(default_factory=dict)

    def of(self, code: int | None) -> Severity:
        if code is None:
            return UNKNOWN_SEVERITY
        if code in self.overrides:
            return self.overrides[code]
        return _DEFAULTS.get(code, UNKNOWN_SEVERITY)

    def codes(self, severity: Severity, known: Iterable[int]) -> set[int]:
        return {c for c in known if self.of(c) is severity}

    def with_overrides(self, changes: Mapping[int, Severity]) -> SeverityTable:
        merged = dict(self.overrides)
        for code, severity in changes.items():
            if _DEFAULTS.get(code, UNKNOWN_SEVERITY) is severity:
                merged.pop(code, None)  # back to the default: nothing to remember
            else:
                merged[code] = severity
        return SeverityTable(merged)

    def to_text(self) -> str:
        """For the settings file: "51=critical,45=info"."""
        return ",".join(f"{c}={s.value}" for c, s in sorted(self.overrides.items()))

    @classmethod
    def from_text(cls, text: str | None) -> SeverityTable:
        """The inverse of to_text; unreadable entries are skipped (a hand-edited file)."""
        overrides: dict[int, Severity] = {}
        for part in str(text or "").split(","):
            code, _, value = part.partition("=")
            try:
                overrides[int(code.strip())] = Severity(value.strip())
            except ValueError:
                continue
        return cls(overrides)


_DEFAULTS = default_severities()
