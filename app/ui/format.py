"""Small text formatting shared by the panels: times, "… ago", the dash for no value.

Pure Python (no Qt), so the detail pane's field formatting stays testable without widgets.
"""

from __future__ import annotations

import time

DASH = "—"  # shown where there is no value


def date_time(epoch: float | None) -> str:
    """'2025-02-07 15:26:30' (local time), or a dash for None."""
    if epoch is None:
        return DASH
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(epoch))


def ago(seconds: float) -> str:
    """How long ago, in the unit that reads best: '42 s ago', '7 min ago', '3.5 h ago'…"""
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s ago"
    if seconds < 5400:
        return f"{seconds / 60:.0f} min ago"
    if seconds < 172_800:
        return f"{seconds / 3600:.1f} h ago"
    return f"{seconds / 86400:.0f} days ago"
