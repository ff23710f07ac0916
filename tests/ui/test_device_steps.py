"""One step from a device to the next question: the same menu in the device tree, an event
row and a push log row; every entry brings its panel to the front with the device selected
and shown there. A real window on a real journal."""

from __future__ import annotations

import json

import pytest
from live_rig import LiveRig
from PySide6.QtCore import Qt

from app.ui.device_menu import STEPS, step_action
from app.ui.main_window import MainWindow
from app.ui.panels.devices.model import ID_ROLE

DEVICES = ("LOCK0001", "LOCK0002")


def event(device: str) -> tuple[str, bytes]:
    return (f"upload/K/{device}/event",
            json.dumps({"assetId": device, "eventType": 2, "unLockType": -1}).encode())


@pytest.fixture
def rig(tmp_path, qtbot):
    with LiveRig(tmp_path) as r:
        r.feed.stop()  # batches are handed over by deliver(): one each, waited for
        yield r


@pytest.fixture
def window(rig, qtbot):
    w = MainWindow(rig.ctx)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    rig.submit([event(d) for d in DEVICES])
    rig.deliver()
    devices = w.panels["devices"]
    qtbot.waitUntil(lambda: devices.model.rowCount() == len(DEVICES), timeout=5000)
    yield w
    w.close()


def in_front(window, key: str) -> bool:
    dock = window.docks[key]
    return dock.isVisible() and not dock.visibleRegion().isEmpty()


def reached(window, key: str, device: str) -> bool:
    """The target panel shows this device, each in its own way."""
    panel = window.panels[key]
    return {
        "map": lambda: panel.model.selected == device,
        "charts": lambda: panel.devices == [device],
        "commands": lambda: panel.compose.device() == device,
        "pushlog": lambda: panel.model.filter.device == device,
        "alarms": lambda: True,  # follows the selection (checked for every step)
        "commissioning": lambda: device in panel.pending,
    }[key]()


def menu_in(window, where: str, device: str):
    """The context menu of `device`'s row in the tree, the event table or the push log."""
    panel = window.panels[where]
    if where == "devices":
        index = panel.model.index_of(device)
    elif where == "events":
        model = panel.view.model()
        index = next(model.index(r, 0) for r in range(model.rowCount())
                     if panel.model.row_at(panel.proxy.mapToSource(model.index(r, 0))
                                           .row()).device == device)
    else:
        model = panel.model
        index = next(model.index(r, 0) for r in range(model.rowCount())
                     if model.row_at(r).cells[4] == device)
    return panel.menu_for(index)


@pytest.mark.parametrize("where", ["devices", "events", "pushlog"])
def test_every_step_of_the_menu_reaches_its_panel_with_the_device(window, rig, qtbot, where):
    if where != "devices":
        window.show_panel(where)
        panel = window.panels[where]
        rows = (lambda: panel.proxy.rowCount()) if where == "events" else \
            (lambda: panel.model.rowCount())
        qtbot.waitUntil(lambda: rows() == len(DEVICES), timeout=5000)
    for n, step in enumerate(STEPS):
        device = DEVICES[n % 2]
        rig.ctx.selection.select(DEVICES[(n + 1) % 2])  # elsewhere first: the step moves it
        menu = menu_in(window, where, device)
        texts = [a.text() for a in menu.actions() if a.text()]
        assert texts[:len(STEPS)] == [f"{s.text}\t{s.keys}" for s in STEPS]  # same everywhere
        step_action(menu, step.panel).trigger()
        assert rig.ctx.selection.device_id == device, step.panel
        assert in_front(window, step.panel), step.panel
        qtbot.waitUntil(lambda s=step, d=device: reached(window, s.panel, d), timeout=5000)
        assert rig.ctx.navigator.last == (step.panel, device)
        if where == "pushlog" and step.panel == "pushlog":  # its own filter: every row again
            window.panels["pushlog"].clear_filters()
            qtbot.waitUntil(lambda: window.panels["pushlog"].model.rowCount() == len(DEVICES),
                            timeout=5000)


def test_the_steps_are_keys_on_the_device_tree(window, rig, qtbot):
    devices = window.panels["devices"]
    window.show_panel("devices")
    view = devices.view
    view.setFocus()
    qtbot.waitUntil(view.hasFocus, timeout=3000)
    index = devices.model.index_of(DEVICES[1])
    view.setCurrentIndex(index)
    assert index.data(ID_ROLE) == DEVICES[1]
    qtbot.keyClick(view, Qt.Key.Key_H, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert rig.ctx.navigator.last == ("pushlog", DEVICES[1])
    assert in_front(window, "pushlog")
    assert window.panels["pushlog"].model.filter.device == DEVICES[1]
