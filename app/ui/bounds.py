"""What the window keeps in memory, and the bound on each (issue 26).

Every structure that grows with the pushes received has a bound that the dispatcher can see
and set in File › Settings (each panel's page); what falls off the end stays in the journal,
and the view says when it shows a window of it. The defaults are sized so that a 10 000-device
fleet's console stays well under 1 GB over a shift, and reaches its bounds within the first
half hour, after which its memory is flat (`python main.py bench --soak 60`).

`Held` is what a panel reports of one bound (`Panel.bounds()`): the benchmark's report and the
tests read them the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtWidgets import QFormLayout, QLabel, QSpinBox, QWidget

from app.fleet.state import DEFAULT_MAX_UNACKNOWLEDGED
from app.ui.panels.charts.series import DEFAULT_CHART_POINTS


@dataclass(frozen=True)
class Bound:
    """A setting that bounds one structure: its key, default, range, and what it costs."""

    key: str
    label: str  # "Rows in the table"
    default: int
    minimum: int
    maximum: int
    kb_each: float  # memory per unit, roughly, to say what the bound costs
    tip: str  # where the rest is

    def value(self, settings) -> int:
        """The saved value, within range (a damaged or hand-edited setting gives the default)."""
        try:
            v = int(settings.value(self.key, self.default) or self.default)
        except (TypeError, ValueError):
            return self.default
        return max(self.minimum, min(self.maximum, v))

    def cost(self, n: int) -> str:
        mb = n * self.kb_each / 1024
        return f"≈ {mb:,.0f} MB when full" if mb >= 1 else "< 1 MB when full"


@dataclass(frozen=True)
class Held:
    """What one bounded structure holds now, against its bound."""

    what: str
    held: int
    bound: int


# The bounds, one place for their keys and defaults; each panel shows its own.
ALARM_ROWS = Bound("alarms/max_rows", "Alarms in the table", 10_000, 100, 200_000, 4.5,
                   "older alarms stay in the journal: the push log shows them (kind alarm)")
UNACKNOWLEDGED = Bound("alarms/unacknowledged_in_memory", "Unacknowledged alarms in memory",
                       DEFAULT_MAX_UNACKNOWLEDGED, 100, 500_000, 0.3,
                       "older ones stay unacknowledged in the journal and come back at the "
                       "next start within this bound")
EVENT_ROWS = Bound("events/max_rows", "Events in the table", 10_000, 100, 200_000, 4.5,
                   "older events stay in the journal: the push log shows them (kind event)")
PUSHLOG_ROWS = Bound("pushlog/max_rows", "Pushes held in the list", 50_000, 1_000, 500_000,
                     0.8, "scrolling past them pages older ones in from the journal")
TRACK_POINTS = Bound("map/track_points", "Points per track", 20_000, 100, 1_000_000, 0.15,
                     "a longer track keeps every 2nd, then every 4th… fix (evenly, the "
                     "newest too); the journal holds every fix")
CHART_POINTS = Bound("charts/points_per_series", "Points per device and stream",
                     DEFAULT_CHART_POINTS, 500, 2_000_000, 0.16,
                     "older points are read again from the journal (downsampled) when the "
                     "chart is scrolled or zoomed to them, or 'all' is chosen")
COMMAND_HISTORY = Bound("commands/history_rows", "Commands in the history", 5_000, 100,
                        200_000, 1.0,
                        "older commands stay in the journal's audit (the history's Export "
                        "CSV… writes them all)")


def bound_box(settings, bound: Bound, apply=None) -> QSpinBox:
    """A spin box for `bound`, saved at once (and `apply(n)` called) as it changes."""
    box = QSpinBox()
    box.setRange(bound.minimum, bound.maximum)
    box.setSingleStep(max(100, bound.default // 10))
    box.setGroupSeparatorShown(True)
    box.setValue(bound.value(settings))
    box.setToolTip(f"{bound.label}: at most this many are kept in memory; {bound.tip}")

    def save(n: int) -> None:
        settings.setValue(bound.key, n)
        if apply is not None:
            apply(n)

    box.valueChanged.connect(save)
    return box


def bounds_page(settings, rows: list[tuple[Bound, object]], intro: str = "", *,
                embedded: bool = False) -> QWidget:
    """A settings page of bounds: one spin box per bound, with what it costs and where the
    rest is; `rows` pairs each bound with the function that applies a new value at once
    (None: from the next start). `embedded`: part of a panel's own page (no margins)."""
    page = QWidget()
    form = QFormLayout(page)
    if embedded:
        form.setContentsMargins(0, 0, 0, 0)
    if intro:
        note = QLabel(intro)
        note.setWordWrap(True)
        form.addRow(note)
    for bound, apply in rows:
        box = bound_box(settings, bound, apply)
        form.addRow(bound.label, box)
        note = QLabel(f"{bound.cost(box.value())}; {bound.tip}.")
        note.setWordWrap(True)
        note.setEnabled(False)
        box.valueChanged.connect(lambda n, b=bound, t=note: t.setText(f"{b.cost(n)}; {b.tip}."))
        form.addRow("", note)
    return page


def census(window, fleet, feed) -> list[Held]:
    """Every bounded structure of a running console, against its bound: the panels' own
    (`Panel.bounds()`), the fleet's unacknowledged alarms and the feed's backlog."""
    out: list[Held] = []
    for panel in getattr(window, "panels", {}).values():
        out.extend(panel.bounds())
    out.append(Held("fleet: unacknowledged alarms in memory", len(fleet.unacknowledged),
                    fleet.max_unacknowledged))
    out.append(Held("feed: pushes waiting for the views", len(feed.backlog),
                    feed.backlog.max_pending))
    return out
