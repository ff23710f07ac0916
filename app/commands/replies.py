"""Labelled fields for command replies whose `content` layout is known; raw otherwise.

A field is named only where the seed or the device's own answer supports it; the rest are
"field N". The seed's two replies (BASE1, BASE2) echo the command's head: the device id, the
serial the command carried ("001" for the seed's `(794308010642,1,001,BASE,1)`) and the
command and index (BASE, 1 = the reply's commandType BASE1). Field 2 is "8" in both, where
the command sent "1": the seed never says what it is, so it is not called a version. BASE1's
body names itself: a firmware string, "Jointech", a modem model, a 20-digit ICCID (8986…), a
15-digit IMEI, then MCC, MNC, cell id, LAC — the order of the same device family's location
`cells` "460,0,10352,188975300" read as MCC, MNC, LAC, CID. BASE2's body is the device
clock, one second before the push's dateTime. WLNET replies echo what was sent (the bound
list, the unlock parameters; PROTOCOL.md). The P-commands' reply layout is documented
nowhere: every field is "field N".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

Field = tuple[str, str]

# Long-form replies start with an echo of the command's own head.
_HEAD = ("device id", "field 2 (meaning not documented)", "serial", "command", "index")

BASE1_LABELS: tuple[str, ...] = (
    *_HEAD,
    "firmware",
    "field 7 (meaning not documented)",
    "vendor",
    "modem",
    "ICCID",
    "IMEI",
    "MCC",
    "MNC",
    "cell id",
    "LAC",
)

DEVICE_TIME_FORMAT = "%Y%m%d%H%M%S"


def parse_device_time(text: str) -> datetime:
    """`yyyyMMddHHmmss` (UTC, as BASE2 reports the device clock) → aware datetime."""
    return datetime.strptime(text.strip(), DEVICE_TIME_FORMAT).replace(tzinfo=UTC)


def clock_difference(device_time: str | datetime, reference: float | datetime) -> float:
    """Seconds the device clock is ahead (+) or behind (−) `reference` (epoch s or datetime)."""
    dev = parse_device_time(device_time) if isinstance(device_time, str) else device_time
    ref = reference.timestamp() if isinstance(reference, datetime) else float(reference)
    return dev.timestamp() - ref


def _raw(fields: Sequence[str], start: int = 0) -> list[Field]:
    return [(f"field {i + 1}", str(v)) for i, v in enumerate(fields) if i >= start]


def _zip(labels: Sequence[str], fields: Sequence[str]) -> list[Field]:
    out = [(label, str(v)) for label, v in zip(labels, fields, strict=False)]
    return out + _raw(fields, len(labels))


def _base2(fields: Sequence[str]) -> list[Field]:
    out = _zip(_HEAD, fields[:5])
    if len(fields) > 5:
        try:
            t = parse_device_time(fields[5])
            out.append(("device time (UTC)", t.strftime("%Y-%m-%d %H:%M:%S")))
        except ValueError:
            out.append(("device time (unreadable)", str(fields[5])))
    return out + _raw(fields, 6)


def _wlnet1(fields: Sequence[str]) -> list[Field]:
    out = _zip(_HEAD, fields[:5])
    body = list(fields[5:])
    if not body:
        return out
    op = body[0]
    out.append(("operation", {"0": "query", "1": "bind"}.get(op, op)))
    if len(body) >= 2 and body[1].isdigit():
        ids = body[2:]
        out.append(("bound sub-locks" if op == "0" else "sub-locks to bind", body[1]))
        out += [(f"sub-lock {i + 1}", s) for i, s in enumerate(ids)]
    else:
        out += [(f"field {i + 7}", s) for i, s in enumerate(body[1:])]
    return out


def _wlnet8(fields: Sequence[str]) -> list[Field]:
    labels = (*_HEAD, "parameter 1", "parameter 2", "minutes", "sub-lock id")
    out = _zip(labels, fields)
    out.append(("note", "echo of the command only, not proof that the sub-lock opened"))
    return out


def bound_sublocks(content: Sequence[str] | str) -> list[str] | None:
    """The sub-lock ids a WLNET1 query reply lists; None when it is not such a reply."""
    if isinstance(content, str) or len(content) < 7 or content[5] != "0":
        return None
    return [str(s) for s in content[7:]]


def label_reply(command_type: str, content: Sequence[str] | str | None) -> list[Field]:
    """[(label, value)] for display; unknown layouts come back as "field 1…n"."""
    if content is None:
        return []
    if isinstance(content, str):
        return [("content", content)]
    fields = [str(v) for v in content]
    t = (command_type or "").upper()
    if t == "BASE1":
        return _zip(BASE1_LABELS, fields)
    if t == "BASE2":
        return _base2(fields)
    if t == "WLNET1":
        return _wlnet1(fields)
    if t == "WLNET8":
        return _wlnet8(fields)
    return _raw(fields)
