"""Workspaces: declared arrangements of the panels, one per job at the desk.

A workspace is data — columns of stacks of tabbed panels, with the share of the window each
gets — validated without a window (`problems`) and laid out by one function (`arrange`). The
window keeps each workspace's own saved arrangement (`WorkspaceStates`) and falls back to the
declared one on first use, after a reset, or when `LAYOUT_VERSION` moves on.

Why columns of stacks: every arrangement a dispatcher needs here is a row of columns, and a
grid built by splitting docks (as Spyder's layouts do) never lets two docks overlap.
Pitfalls met (Spyder met them too): floating docks must come back before arranging;
`resizeDocks` ignores hidden docks, so sizes are applied after the docks are shown; dock
object names stay stable, because saved states refer to them.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow

# Bump when the declared arrangements change so that saved ones no longer fit, and say why.
# 1: one arrangement for the whole window (before workspaces).
# 2: three workspaces (Dispatch, Commission, Investigate), each with its own saved state.
LAYOUT_VERSION = 2


@dataclass(frozen=True)
class Stack:
    """Panels tabbed together in one place; the first is in front."""

    panels: tuple[str, ...]
    share: float = 1.0  # of the column's height


@dataclass(frozen=True)
class Column:
    stacks: tuple[Stack, ...]
    share: float  # of the window's width


@dataclass(frozen=True)
class Workspace:
    key: str
    title: str
    shortcut: str
    purpose: str  # the tooltip of its switch
    columns: tuple[Column, ...]

    def panel_keys(self) -> list[str]:
        return [k for c in self.columns for s in c.stacks for k in s.panels]


def _col(share: float, *stacks: Stack) -> Column:
    return Column(tuple(stacks), share)


def _stack(*panels: str, share: float = 1.0) -> Stack:
    return Stack(tuple(panels), share)


WORKSPACES: tuple[Workspace, ...] = (
    Workspace(
        "dispatch", "Dispatch", "Ctrl+Shift+1",
        "Watch the fleet: devices, alarms, events and the selected device",
        (
            _col(0.27, _stack("devices", share=0.64), _stack("connection", share=0.36)),
            _col(0.48, _stack("alarms", share=0.55), _stack("events", share=0.45)),
            _col(0.25, _stack("detail")),
        ),
    ),
    Workspace(
        "commission", "Commission", "Ctrl+Shift+2",
        "Prove a lock on site: its checklist, commands, detail and live pushes",
        (
            _col(0.22, _stack("devices", share=0.62), _stack("connection", share=0.38)),
            _col(0.38, _stack("commissioning", "pushlog")),
            _col(0.40, _stack("commands", share=0.58), _stack("detail", share=0.42)),
        ),
    ),
    Workspace(
        "investigate", "Investigate", "Ctrl+Shift+3",
        "Look back: the push log, charts and the map",
        (
            _col(0.2, _stack("devices")),
            _col(0.42, _stack("pushlog")),
            _col(0.38, _stack("map", share=0.5), _stack("charts", share=0.5)),
        ),
    ),
)

DEFAULT = WORKSPACES[0].key


def by_key(key: str) -> Workspace:
    return next((w for w in WORKSPACES if w.key == key), WORKSPACES[0])


def problems(workspaces: Iterable[Workspace], panel_keys: Iterable[str]) -> list[str]:
    """What is wrong with the declarations, in words; empty when they can be applied."""
    known = set(panel_keys)
    out: list[str] = []
    seen_keys: set[str] = set()
    seen_shortcuts: set[str] = set()
    for w in workspaces:
        if w.key in seen_keys:
            out.append(f"workspace {w.key!r} declared twice")
        seen_keys.add(w.key)
        if w.shortcut in seen_shortcuts:
            out.append(f"{w.key}: shortcut {w.shortcut} already taken")
        seen_shortcuts.add(w.shortcut)
        if not w.columns:
            out.append(f"{w.key}: no columns")
        keys = w.panel_keys()
        for k in keys:
            if k not in known:
                out.append(f"{w.key}: unknown panel {k!r}")
        for k in {k for k in keys if keys.count(k) > 1}:
            out.append(f"{w.key}: panel {k!r} placed twice")
        if abs(sum(c.share for c in w.columns) - 1.0) > 0.01:
            out.append(f"{w.key}: column shares add up to {sum(c.share for c in w.columns):.2f}")
        for i, c in enumerate(w.columns):
            if not c.stacks or any(not s.panels for s in c.stacks):
                out.append(f"{w.key}: column {i + 1} has an empty stack")
            if abs(sum(s.share for s in c.stacks) - 1.0) > 0.01:
                out.append(f"{w.key}: column {i + 1}'s stack shares do not add up to 1")
    return out


def unplaced(workspaces: Iterable[Workspace], panel_keys: Iterable[str]) -> list[str]:
    """Panels no workspace places: allowed (View › <panel> shows one as a tab beside the
    largest panel on screen), so a new panel needs no workspace edit to be usable."""
    placed = {k for w in workspaces for k in w.panel_keys()}
    return sorted(set(panel_keys) - placed)


def arrange(window: QMainWindow, workspace: Workspace, docks: Mapping[str, QDockWidget]) -> None:
    """Lay the docks out as `workspace` declares; panels it does not name are hidden."""
    area = Qt.DockWidgetArea.LeftDockWidgetArea
    window.setUpdatesEnabled(False)
    try:
        for dock in docks.values():
            dock.setFloating(False)
            window.removeDockWidget(dock)  # also hides it
        present = present_columns(workspace, docks)
        if not present:
            return
        heads = [docks[c.stacks[0].panels[0]] for c in present]
        window.addDockWidget(area, heads[0])
        heads[0].show()
        for left, right in itertools.pairwise(heads):
            window.splitDockWidget(left, right, Qt.Orientation.Horizontal)
            right.show()
        for column in present:
            tops = [docks[s.panels[0]] for s in column.stacks]
            for upper, lower in itertools.pairwise(tops):
                window.splitDockWidget(upper, lower, Qt.Orientation.Vertical)
                lower.show()
            for stack in column.stacks:
                front = docks[stack.panels[0]]
                for key in stack.panels[1:]:
                    window.tabifyDockWidget(front, docks[key])
                    docks[key].show()
                front.raise_()
        # The others stay in the layout, hidden, as tabs of the last column: saveState keeps
        # what the user did to them, and View › <panel> brings one back as a tab there.
        placed = {k for c in present for s in c.stacks for k in s.panels}
        host = heads[-1]
        for key, dock in docks.items():
            if key not in placed:
                window.tabifyDockWidget(host, dock)
                dock.hide()
        host.raise_()
    finally:
        window.setUpdatesEnabled(True)
    resize(window, present, docks)


def resize(window: QMainWindow, columns: list[Column], docks: Mapping[str, QDockWidget]) -> None:
    """Give each column and stack its declared share of the window (docks must be shown)."""
    width, height = window.width(), window.height()
    heads = [docks[c.stacks[0].panels[0]] for c in columns]
    window.resizeDocks(heads, [max(1, int(c.share * width)) for c in columns],
                       Qt.Orientation.Horizontal)
    for column in columns:
        if len(column.stacks) > 1:
            window.resizeDocks([docks[s.panels[0]] for s in column.stacks],
                               [max(1, int(s.share * height)) for s in column.stacks],
                               Qt.Orientation.Vertical)


def present_columns(workspace: Workspace, docks: Mapping[str, QDockWidget]) -> list[Column]:
    """The workspace's columns with only the panels this window has (a panel may fail to load)."""
    columns = [
        Column(tuple(Stack(tuple(k for k in s.panels if k in docks), s.share)
                     for s in c.stacks if any(k in docks for k in s.panels)), c.share)
        for c in workspace.columns
    ]
    return [c for c in columns if c.stacks]


class WorkspaceStates:
    """Each workspace's saved arrangement (QMainWindow.saveState) in the settings."""

    def __init__(self, settings: QSettings) -> None:
        self.settings = settings

    def _key(self, workspace: str) -> str:
        return f"workspaces/{workspace}/state"

    def load(self, workspace: str) -> QByteArray | None:
        if int(self.settings.value("workspaces/layout_version", 0) or 0) != LAYOUT_VERSION:
            return None
        state = self.settings.value(self._key(workspace))
        return state if isinstance(state, QByteArray) and not state.isEmpty() else None

    def save(self, workspace: str, state: QByteArray) -> None:
        self.settings.setValue(self._key(workspace), state)
        self.settings.setValue("workspaces/layout_version", LAYOUT_VERSION)

    def forget(self, workspace: str) -> None:
        self.settings.remove(self._key(workspace))

    @property
    def current(self) -> str:
        key = str(self.settings.value("workspaces/current", DEFAULT) or DEFAULT)
        return by_key(key).key

    @current.setter
    def current(self, key: str) -> None:
        self.settings.setValue("workspaces/current", key)
