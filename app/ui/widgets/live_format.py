"""Display text of the alarm and event tables' cells: times, positions, counts. No Qt."""

from __future__ import annotations

import time
from typing import Any


def local_time(ts: float) -> str:
    """Display form of a time: '07 Feb 15:26:30' (local)."""
    return time.strftime("%d %b %H:%M:%S", time.localtime(ts))


def iso_local(ts: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(ts))


def position_text(data: dict[str, Any]) -> tuple[str, tuple[float, float] | None]:
    lat, lon = data.get("latitude"), data.get("longitude")
    if (
        not isinstance(lat, int | float) or not isinstance(lon, int | float)
        or isinstance(lat, bool) or (abs(lat) < 1e-9 and abs(lon) < 1e-9)
        or data.get("locType") == 0
    ):
        return "no fix", None
    return f"{lat:.5f}, {lon:.5f}", (float(lat), float(lon))


def thousands(n: int) -> str:
    return f"{n:,}".replace(",", " ")


def clip(value: Any, limit: int = 300) -> str:
    """A value as text, cut to `limit` characters ("..." at the end when cut); None is ""."""
    if value is None:
        return ""
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def device_time_text(data: dict[str, Any]) -> str:
    """The device's own time of a push (``dateTime``), or "" when it sent none."""
    value = data.get("dateTime")
    return value if isinstance(value, str) else ""


def received_tooltip(row: Any) -> str:
    """Tooltip of a time cell: when the row was received, and the device's time if known."""
    text = f"received {iso_local(row.at)}"
    if row.device_time:
        text += f"\ndevice time {row.device_time} (UTC)"
    return text
