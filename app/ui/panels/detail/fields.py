"""What the detail pane says about one device: sections of labelled, formatted fields.

Pure Python (no widgets), so it is easy to test and to reuse for "Copy as text". Every field
of the decoded `record.data` is shown: known fields with their label, unit and code name
(in the seed's words), unknown ones under their own name. Nested documents become nested
rows — never a JSON text.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterable
from typing import Any

from app.fleet.state import DeviceState, FleetState
from app.protocol.normalize import parse_time
from app.protocol.redact import mask_data
from app.ui.format import DASH, ago
from app.ui.format import date_time as local_time
from app.ui.sections import Row, Section, SectionProvider

# -- value formatting ----------------------------------------------------------------------


def humanize(name: str) -> str:
    """'bottomDisassembly' → 'Bottom disassembly'."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", name).replace("_", " ").split()
    if not words:
        return name
    text = " ".join(w if w.isupper() and len(w) > 1 else w.lower() for w in words)
    return text[:1].upper() + text[1:]


def number(value: Any, unit: str = "", digits: int | None = None) -> str:
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        if digits is not None and isinstance(value, float):
            text = f"{value:,.{digits}f}"
        elif isinstance(value, int) and abs(value) >= 10_000:
            text = f"{value:,}"
        else:
            text = f"{value:g}"
        if unit == "°":
            return f"{text}°"
        return f"{text} {unit}" if unit else text
    return plain(value)


def plain(value: Any) -> str:
    """Any value as one line of text; a string that still looks like JSON is called that."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, str):
        text = value.strip()
        if text[:1] in ("{", "["):
            return "(unreadable document — see the Push log)"
        return text if text else DASH
    if isinstance(value, dict):
        return " · ".join(f"{humanize(str(k))} {plain(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return ", ".join(plain(v) for v in value) or DASH
    return str(value)


def when(value: Any) -> str:
    """A protocol time (UTC ISO-8601) shown in local time; the raw text goes in the tooltip."""
    epoch = parse_time(value)
    if epoch is None:
        return plain(value)
    return f"{local_time(epoch)}  ({ago(time.time() - epoch)})"


def coded(value: Any, name: Any) -> str:
    """Small enumerations: '2 — Base station positioning'."""
    if value is None:
        return DASH
    return f"{plain(value)} — {name}" if name else plain(value)


def named(value: Any, name: Any) -> str:
    """Alarm and event codes: 'Back cover opened (46)'."""
    if value is None:
        return DASH
    return f"{name} ({plain(value)})" if name else plain(value)


def enum(table: dict[int, str]) -> Callable[[Any], str]:
    def fmt(value: Any) -> str:
        if isinstance(value, int) and value in table:
            return f"{value} — {table[value]}"
        return plain(value)

    return fmt


def unit(suffix: str, digits: int | None = None) -> Callable[[Any], str]:
    return lambda v: number(v, suffix, digits)


def axes(value: Any) -> str:
    if isinstance(value, dict) and {"x", "y", "z"} <= value.keys():
        return f"x {plain(value['x'])} · y {plain(value['y'])} · z {plain(value['z'])}"
    return plain(value)


def degrees(value: Any) -> str:
    return f"{value:.6f}°" if isinstance(value, int | float) else plain(value)


def cell(value: Any) -> str:
    if isinstance(value, dict):
        return " · ".join(f"{k.upper()} {v}" for k, v in value.items())
    return plain(value)


def fuels(value: Any) -> str:
    if isinstance(value, list):
        if all(v is None for v in value):
            return "no fuel sensor"
        return " · ".join(f"tank {i} {number(v)}" for i, v in enumerate(value, 1) if v is not None)
    return plain(value)


def back_battery(value: Any) -> str:
    if isinstance(value, dict):
        return (
            f"{number(value.get('percent'), '%')} · {number(value.get('voltage'), 'V')}"
            f" · state {plain(value.get('state'))}"
        )
    return plain(value)


def ms_time(value: Any) -> str:
    if isinstance(value, int | float) and value > 0:
        return f"{local_time(value / 1000)}  ({value:.0f} ms)"
    return plain(value)


def battery(data: dict[str, Any]) -> str:
    if data.get("charging"):
        return "⚡ charging (the device reports 255)"
    return number(data.get("battery"), "%")


def signal(value: Any) -> str:
    return f"{value} of 31" if isinstance(value, int) else plain(value)


def humidity(value: Any) -> str:
    """The seed: humidity 0 means no sensor."""
    return DASH if value == 0 else number(value, "%")


def secret(value: Any) -> str:
    if not value:
        return DASH
    return f"•••• ({len(str(value))} characters)"


NONE_OFF_ON = {-1: "none", 0: "off", 1: "on"}
LOCK = {0: "Locked", 1: "Unlocked"}
ROPE = {-1: "none", 0: "Inserted", 1: "Pulled out"}
DOOR = {-1: "none", 0: "closed", 1: "open"}
DISASSEMBLY = {0: "intact", 1: "disassembled"}
VOL_STATUS = {0: "normal", 1: "overvoltage", 2: "undervoltage"}
ELE_STATUS = {0: "normal", 1: "overcurrent", 2: "undercurrent"}
SHAKE = {0: "stationary", 1: "shaking"}
EMERGENCY_KEY = {0: "sealed", 1: "enabled"}

Spec = tuple[str, Callable[[Any], str]]

POSITION: dict[str, Spec] = {
    "latitude": ("Latitude", degrees),
    "longitude": ("Longitude", degrees),
    "speed": ("Speed", unit("km/h")),
    "direction": ("Direction", unit("°")),
    "mileage": ("Mileage", unit("km")),
    "cell": ("Cell", cell),
}

LOCATION: dict[str, Spec] = {
    "gpsTime": ("GPS time", when),
    "recvTime": ("Platform received", when),
    **POSITION,
    "cellSignal": ("Cellular signal", signal),
    "gnssSignal": ("GNSS satellites", unit("")),
    "voltage": ("Voltage", unit("V", 2)),
}

STATUS: dict[str, Spec] = {
    "lockStatus": ("Lock", enum(LOCK)),
    "lockRope": ("Lock rope", enum(ROPE)),
    "lockBar": ("Lock bar", enum({-1: "none"})),
    "acc": ("ACC (ignition)", enum(NONE_OFF_ON)),
    "engine": ("Engine", enum(NONE_OFF_ON)),
    "door": ("Door", enum(DOOR)),
    "fuelCut": ("Fuel cut-off switch", enum(NONE_OFF_ON)),
    # JT802 sub-locks
    "lockMotor": ("Lock motor", enum(NONE_OFF_ON)),
    "lockValve": ("Lock valve", enum(NONE_OFF_ON)),
    "lockKnob": ("Lock knob", enum(NONE_OFF_ON)),
    "bottomDisassembly": ("Bottom", enum(DISASSEMBLY)),
    "structuralDisassembly": ("Structure", enum(DISASSEMBLY)),
    "emergencyKey": ("Emergency key", enum(EMERGENCY_KEY)),
    "gateway": ("Gateway", plain),
}

EXPAND: dict[str, Spec] = {
    "temperature": ("Temperature", unit("℃")),
    "humidity": ("Humidity", humidity),
    "lux": ("Illuminance", unit("lux")),
    "pressure": ("Air pressure", unit("Pa")),
    "fuels": ("Fuel level", fuels),
    "backBattery": ("Backup battery", back_battery),
    "posture": ("Posture", axes),
    "fPosture": ("Posture", axes),
    "acceleration": ("Acceleration", axes),
    "fAcceleration": ("Acceleration", axes),
    "angle": ("Angle", unit("°")),
    "fVoltage": ("Voltage", unit("V")),
}

KS: dict[str, Spec] = {
    "temperature": ("Onboard temperature", unit("℃")),
    "humidity": ("Humidity", unit("%")),
    "volValue": ("LED voltage", unit("V")),
    "volStatus": ("LED voltage status", enum(VOL_STATUS)),
    "eleValue": ("LED current", unit("A")),
    "eleStatus": ("LED current status", enum(ELE_STATUS)),
    "shakeStatus": ("Motion", enum(SHAKE)),
    "angVelocity": ("Angular velocity", unit("mdps")),
    "vibrate": ("Vibration amplitude", unit("mg")),
    "posture": ("Posture", axes),
    "subLockId": ("Lock controller id", plain),
    "subLargeCharId": ("Large display controller id", plain),
    "luminance1": ("White light", unit("%")),
    "luminance2": ("Red light", unit("%")),
    "luminance3": ("Yellow light", unit("%")),
    "luminance4": ("Blue light", unit("%")),
}

PERIPHERAL: dict[str, Spec] = {
    "dateTime": ("Online at", when),
    "temperature": ("Temperature", unit("℃")),
    "humidity": ("Humidity", unit("%")),
    "lux": ("Illuminance", unit("lux")),
}

SUBLOCK: dict[str, Spec] = {
    "battery": ("Battery", unit("%")),
    "voltage": ("Voltage", unit("V", 2)),
    "rssi": ("RSSI", unit("")),
    "temperature": ("Temperature", unit("℃")),
    "humidity": ("Humidity", humidity),
    "locTimes": ("Unlock count", unit("")),
    "subGpsTime": ("Sub-lock time", when),
    "subGpsTimestamp": ("Sub-lock timestamp", ms_time),
    "gpsTime": ("Host GPS time", when),
    "recvTime": ("Platform received", when),
    **POSITION,
}

ALARM: dict[str, Spec] = {
    "dateTime": ("Time", when),
    **POSITION,
    "fileIndex": ("File index", plain),
}

EVENT: dict[str, Spec] = {
    "dateTime": ("Time", when),
    "card": ("Card", plain),
    "password": ("Password", secret),
    **POSITION,
    "fileIndex": ("File index", plain),
}

COMMAND: dict[str, Spec] = {
    "commandType": ("Command type", plain),
    "dateTime": ("Time", when),
    "platformError": ("Platform says", plain),
}

DOCUMENTS = {
    "statusJson": "Lock/vehicle status",
    "FStatusJson": "Lock/vehicle status",
    "expandInfo": "Extended info",
    "ksInfo": "KS20A info",
}

# Fields never listed on their own: the id is in the header, names go with their codes,
# documents get their own sections, and the raw packed strings have decoded twins.
HIDDEN = frozenset(
    {
        "assetId", "charging", "cells", "locTypeName", "alarmName", "eventName",
        "unLockTypeName", "sensorTypeName", "reportTypeName", "networkTypeName",
        "statusJson", "FStatusJson", "expandInfo", "ksInfo",
    }
)  # fmt: skip


def rows_of(
    data: dict[str, Any],
    specs: dict[str, Spec],
    prefix: str,
    first: list[Row] | None = None,
    skip: tuple[str, ...] = (),
) -> list[Row]:
    """`first`, then known fields in spec order, then every other field (nothing decoded is
    lost); `skip` names the fields `first` already covers."""
    rows = list(first or [])
    done = set(skip)
    for name, (label, fmt) in specs.items():
        if name in data and name not in done:
            done.add(name)
            if name == "cell" and data.get(name) is None and data.get("cells"):
                rows.append(Row(f"{prefix}/{name}", label, plain(data["cells"])))
                continue
            rows.append(_row(f"{prefix}/{name}", label, data[name], fmt))
    for name, value in data.items():
        if name in done or name in HIDDEN:
            continue
        rows.append(_row(f"{prefix}/{name}", humanize(name), value, plain))
    return rows


def _row(key: str, label: str, value: Any, fmt: Callable[[Any], str]) -> Row:
    if isinstance(value, dict) and fmt is plain:
        return Row(key, label, "", rows_of(value, {}, key))
    if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        return Row(key, label, f"{len(value)} items", [
            Row(f"{key}/{i}", str(i + 1), "", rows_of(v, {}, f"{key}/{i}"))
            for i, v in enumerate(value)
        ])  # fmt: skip
    text = fmt(value)
    tooltip = value if isinstance(value, str) and value != text else ""
    return Row(key, label, text, tooltip=tooltip)


# -- sections --------------------------------------------------------------------------------


def received(dev: DeviceState, kind: str, now: float) -> str:
    at = dev.latest_at.get(kind)
    if at is None:
        return ""
    return f"received {time.strftime('%H:%M:%S', time.localtime(at))} ({ago(now - at)})"


def location_sections(dev: DeviceState, now: float) -> list[Section]:
    loc = dev.location
    if not loc:
        return []
    summary = received(dev, "location", now)
    first = []
    if "locType" in loc:
        first.append(
            Row("loc/locType", "Positioning", coded(loc.get("locType"), loc.get("locTypeName")))
        )
    first.append(Row("loc/battery", "Battery", battery(loc)))
    if dev.position is None:
        first.append(Row("loc/fix", "Fix", "no position fix (0, 0 or no positioning)"))
    for name, label in DOCUMENTS.items():
        value = loc.get(name)
        if isinstance(value, str) and value.strip():  # the decoder could not read it
            first.append(Row(f"loc/{name}", label, plain(value), tooltip=value[:500]))
    rows = rows_of(loc, LOCATION, "loc", first, skip=("locType", "battery"))
    out = [Section("location", "Location", summary, rows)]
    status = loc.get("statusJson", loc.get("FStatusJson"))
    if isinstance(status, dict) and status:
        vehicle = "acc" in status and "lockStatus" not in status
        title = "Vehicle status" if vehicle else "Lock status"
        out.append(Section("status", title, summary, rows_of(status, STATUS, "status")))
    expand = loc.get("expandInfo")
    if isinstance(expand, dict) and expand:
        first = []
        for code, alt, name, label in (
            ("reportType", "fReportType", "reportTypeName", "Report type"),
            ("networkType", "fNetworkType", "networkTypeName", "Network"),
        ):
            raw = expand.get(code, expand.get(alt))
            if raw is not None or name in expand:
                first.append(Row(f"expand/{code}", label, coded(raw, expand.get(name))))
        skip = ("reportType", "fReportType", "networkType", "fNetworkType")
        rows = rows_of(expand, EXPAND, "expand", first, skip=skip)
        out.append(Section("expand", "Extended info", summary, rows))
    ks = loc.get("ksInfo")
    if isinstance(ks, dict) and ks:
        values = {k: v for k, v in ks.items() if k != "subInfo"}
        out.append(Section("ks", "KS20A values", summary, rows_of(values, KS, "ks")))
        sub_info = ks.get("subInfo")
        if isinstance(sub_info, dict):
            out.append(Section("ksperipherals", "KS20A peripherals",
                               f"{len(sub_info)} peripheral(s)", peripheral_rows(sub_info)))
    return out


def peripheral_rows(sub_info: dict[str, Any]) -> list[Row]:
    rows = []
    for pid, p in sub_info.items():
        key = f"periph/{pid}"
        if not isinstance(p, dict):
            rows.append(Row(key, str(pid), plain(p)))
            continue
        parts = [unit("℃")(p.get("temperature")), unit("%")(p.get("humidity")),
                 unit("lux")(p.get("lux"))]
        epoch = parse_time(p.get("dateTime"))
        if epoch is not None:
            parts.append(f"online {time.strftime('%H:%M:%S', time.localtime(epoch))}")
        if p.get("eventType") is not None:
            parts.append(f"event {plain(p.get('eventType'))}")
        children = rows_of({k: v for k, v in p.items() if k != "subId"}, PERIPHERAL, key)
        rows.append(Row(key, str(p.get("subId") or pid), " · ".join(parts), children,
                        expanded=False))
    return rows


def sublock_section(dev: DeviceState, now: float) -> Section | None:
    if not dev.sublocks:
        return None
    rows = []
    for sub_id, sub in dev.sublocks.items():
        d = sub.data
        key = f"sub/{sub_id}"
        first = [
            Row(f"{key}/sensorType", "Sensor type",
                coded(d.get("sensorType"), d.get("sensorTypeName"))),
            Row(f"{key}/locStatus", "Lock", enum(LOCK)(d.get("locStatus"))),
            Row(f"{key}/locRope", "Lock rope", enum(ROPE)(d.get("locRope"))),
            Row(f"{key}/eventType", "Last event", named(d.get("eventType"), d.get("eventName"))),
        ]
        first = [r for r in first if r.key.rsplit("/", 1)[-1] in d]
        skip = ("sensorType", "locStatus", "locRope", "eventType", "subAssetID")
        children = rows_of(d, SUBLOCK, key, first, skip=skip)
        status = d.get("statusJson", d.get("FStatusJson"))
        if isinstance(status, dict) and status:
            children.append(Row(f"{key}/statusJson", "Status", "",
                                rows_of(status, STATUS, f"{key}/statusJson")))
        summary = [
            str(d.get("sensorTypeName") or ""),
            LOCK.get(d.get("locStatus"), "") if isinstance(d.get("locStatus"), int) else "",
            number(d.get("battery"), "%") if d.get("battery") is not None else "",
            f"RSSI {d['rssi']}" if d.get("rssi") is not None else "",
            f"seen {ago(now - sub.last_seen)}",
        ]
        rows.append(Row(key, sub_id, " · ".join(s for s in summary if s), children))
    return Section("sublocks", "Sub-locks", f"{len(rows)} bound", rows)


def alarm_section(dev: DeviceState, fleet: FleetState, now: float) -> Section | None:
    alarm = dev.last_alarm
    if alarm is None:
        return None
    d = alarm.data
    open_ = alarm.push_id in fleet.unacknowledged
    first = [
        Row("alarm/alarmType", "Alarm", named(d.get("alarmType"), d.get("alarmName")),
            alert=alarm.critical and open_),
        Row("alarm/ack", "Acknowledged", "no — waiting for a dispatcher" if open_ else "yes"),
    ]
    if alarm.critical:
        first.append(Row("alarm/critical", "Critical", "yes", alert=open_))
    describe = d.get("describe")
    skip: tuple[str, ...] = ("alarmType",)
    if describe is None or (isinstance(describe, str) and not describe.strip()):
        skip += ("describe",)
    rows = rows_of(d, ALARM, "alarm", first, skip=skip)
    summary = f"received {time.strftime('%H:%M:%S', time.localtime(alarm.received_at))}"
    return Section("alarm", "Last alarm", f"{summary} ({ago(now - alarm.received_at)})", rows)


def event_section(dev: DeviceState, now: float) -> Section | None:
    d = dev.latest.get("event") or dev.last_event
    if not d:
        return None
    first = [
        Row("event/eventType", "Event", named(d.get("eventType"), d.get("eventName"))),
    ]
    if d.get("unLockType") is not None:
        first.append(Row("event/unLockType", "Unlock type",
                         named(d.get("unLockType"), d.get("unLockTypeName"))))
    describe = d.get("describe")
    skip: tuple[str, ...] = ("eventType", "unLockType")
    if isinstance(describe, dict):
        skip += ("describe",)
        if "waybillGUID" in describe or "waybillNo" in describe:
            first.append(
                Row("event/waybillGUID", "Waybill GUID", plain(describe.get("waybillGUID")))
            )
            first.append(Row("event/waybillNo", "Waybill No", plain(describe.get("waybillNo"))))
        rest = {k: v for k, v in describe.items() if k not in ("waybillGUID", "waybillNo")}
        if rest:
            first.append(Row("event/describe", "Description", "", rows_of(rest, {}, "event/d")))
    elif describe is None or (isinstance(describe, str) and not describe.strip()):
        skip += ("describe",)
    rows = rows_of(d, EVENT, "event", first, skip=skip)
    return Section("event", "Last event", received(dev, "event", now), rows)


def command_section(dev: DeviceState, now: float, secrets_shown: bool = False
                    ) -> Section | None:
    d = dev.latest.get("command")
    if not d:
        return None
    if not secrets_shown:  # a P43 reply echoes the unlock password
        d = mask_data("command", d)
    first = []
    content = d.get("content")
    if isinstance(content, list):
        first.append(Row("cmd/content", "Reply content", f"{len(content)} fields", [
            Row(f"cmd/content/{i}", str(i + 1), plain(v)) for i, v in enumerate(content)
        ]))  # fmt: skip
    skip = ("content",) if isinstance(content, list) or d.get("platformError") else ()
    rows = rows_of(d, COMMAND, "cmd", first, skip=skip)
    return Section("command", "Last command reply", received(dev, "command", now), rows)


def device_sections(dev: DeviceState, fleet: FleetState, now: float | None = None,
                    extra: Iterable[SectionProvider] = (), secrets_shown: bool = False
                    ) -> list[Section]:
    """The built-in sections, then those other panels add (`AppContext.detail_sections`);
    unlock passwords masked unless `secrets_shown` (the context's audited reveal)."""
    now = time.time() if now is None else now
    out = location_sections(dev, now)
    for section in (
        sublock_section(dev, now),
        alarm_section(dev, fleet, now),
        event_section(dev, now),
        command_section(dev, now, secrets_shown),
    ):
        if section is not None:
            out.append(section)
    for provider in extra:
        try:
            section = provider(dev, fleet)
        except Exception:  # an extension must never blank the pane
            section = None
        if section is not None:
            out.append(section)
    return out


def as_text(title: str, sections: list[Section]) -> str:
    lines = [title]

    def walk(rows: list[Row], depth: int) -> None:
        for row in rows:
            pad = "  " * depth
            lines.append(f"{pad}{row.label}: {row.value}".rstrip(": ") if row.value
                         else f"{pad}{row.label}")
            walk(row.children, depth + 1)

    for section in sections:
        lines.append("")
        lines.append(f"{section.title}" + (f" ({section.summary})" if section.summary else ""))
        walk(section.rows, 1)
    return "\n".join(lines) + "\n"
