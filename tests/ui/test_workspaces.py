"""Workspaces: declared arrangements that validate without a window, switch with one key,
keep each its own arrangement, and reset at once with an undo."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings, Qt

from app.ui.main_window import load_panel_classes
from app.ui.session import Session
from app.ui.workspaces import WORKSPACES, Column, Stack, Workspace, problems, unplaced


def test_declared_workspaces_are_valid_without_a_window():
    keys = [cls.KEY for cls in load_panel_classes()]
    assert problems(WORKSPACES, keys) == []
    assert unplaced(WORKSPACES, keys) == []  # every panel of ours has a place
    assert [w.shortcut for w in WORKSPACES[:3]] == ["Ctrl+Shift+1", "Ctrl+Shift+2",
                                                    "Ctrl+Shift+3"]


def test_validation_names_what_is_wrong():
    bad = Workspace("x", "X", "Ctrl+Shift+1", "", (
        Column((Stack(("devices", "nosuch")),), 0.5),
        Column((Stack(("devices",), 0.5),), 0.3),
    ))
    found = problems([bad, bad], ["devices", "alarms"])
    text = "\n".join(found)
    assert "unknown panel 'nosuch'" in text
    assert "panel 'devices' placed twice" in text
    assert "column shares add up to 0.80" in text
    assert "stack shares do not add up" in text
    assert "declared twice" in text and "shortcut Ctrl+Shift+1 already taken" in text
    assert unplaced([bad], ["devices", "alarms"]) == ["alarms"]


@pytest.fixture
def window(qtbot, tmp_path):
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    session = Session(tmp_path / "j.sqlite", settings)
    w = session.open_window()
    qtbot.addWidget(w)
    w.show_fitted()
    qtbot.waitExposed(w)
    yield w
    w.close()
    session.feed.stop()
    session.recording.stop()


def shown(window) -> set[str]:
    return {k for k, d in window.docks.items() if not d.isHidden()}


def test_each_workspace_shows_its_panels_and_a_key_switches(qtbot, window):
    assert window.workspace == "dispatch"
    assert {"devices", "alarms", "events", "detail"} <= shown(window)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert window.workspace == "commission"
    assert {"commissioning", "commands", "detail"} <= shown(window)
    assert "alarms" not in shown(window)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier
                   | Qt.KeyboardModifier.ShiftModifier)
    assert window.workspace == "investigate"
    assert {"pushlog", "charts", "map"} <= shown(window)
    assert window.workspace_actions["investigate"].isChecked()


def test_each_workspace_keeps_its_own_arrangement(qtbot, window, tmp_path):
    window.docks["events"].hide()  # the dispatcher closes Events in Dispatch
    window.switch_workspace("commission")
    assert "events" not in shown(window)
    window.switch_workspace("dispatch")
    assert "events" not in shown(window) and "alarms" in shown(window)
    window.switch_workspace("investigate")
    window.docks["map"].setFloating(True)
    window.close()
    # the next start opens the workspace last used, as it was left
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    session = Session(tmp_path / "j2.sqlite", settings)
    again = session.open_window()
    qtbot.addWidget(again)
    try:
        again.show()
        assert again.workspace == "investigate"
        assert again.docks["map"].isFloating()
        again.switch_workspace("dispatch")
        assert "events" not in shown(again)
    finally:
        again.close()
        session.feed.stop()
        session.recording.stop()


def test_reset_layout_is_immediate_and_can_be_undone(qtbot, window):
    window.docks["alarms"].hide()
    window.docks["detail"].setFloating(True)
    window.reset_layout()
    assert "alarms" in shown(window)
    assert not window.docks["detail"].isFloating()
    assert window.undo_reset_action.isEnabled()
    assert window._undo_button.isVisible()
    window._undo_button.click()
    assert "alarms" not in shown(window)
    assert window.docks["detail"].isFloating()
    assert not window.undo_reset_action.isEnabled()


def test_a_panel_outside_the_workspace_joins_it_as_a_tab(qtbot, window):
    assert window.docks["map"].isHidden()
    window.show_panel("map")
    dock = window.docks["map"]
    assert not dock.isHidden() and not dock.isFloating()
    assert window.tabifiedDockWidgets(dock), "tabbed with a panel already on screen"
    qtbot.waitUntil(lambda: window.rect().contains(dock.geometry()))


def test_settings_are_saved_as_they_are_made(qtbot, window, tmp_path):
    from app.ui.settings_dialog import SettingsDialog

    dialog = SettingsDialog(window.ctx, window.panels.values(), window)
    qtbot.addWidget(dialog)
    titles = [dialog.pages.item(i).text() for i in range(dialog.pages.count())]
    assert titles[0] == "General" and "Map" in titles and "Alarms" in titles
    general = dialog.stack.widget(0)
    general.quiet.setValue(120)
    general.offline.setValue(600)
    assert window.ctx.fleet.thresholds.quiet_after == 120
    assert window.ctx.fleet.thresholds.offline_after == 600
    general.offline.setValue(60)  # before quiet: refused, said, nothing saved
    assert "not saved" in general.threshold_note.text()
    window.ctx.settings.sync()
    saved = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert int(saved.value("devices/quiet_after_s")) == 120
    assert int(saved.value("devices/offline_after_s")) == 600
    alarms = dialog.stack.widget(titles.index("Alarms"))
    alarms.sound_on.setChecked(False)
    alarms.escalate.setValue(12)
    window.ctx.settings.sync()
    saved = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    assert saved.value("alarms/sound") == "false"
    assert int(saved.value("alarms/escalate_after_min")) == 12


def test_f1_lists_every_shortcut(window):
    rows = window.shortcut_rows()
    keys = {k for _g, k, _w in rows}
    assert {"Ctrl+Shift+1", "Ctrl+Shift+2", "Ctrl+Shift+3", "Ctrl+4", "Ctrl+,", "Space", "N",
            "Ctrl+Shift+M"} <= keys
    assert len(keys) == len(rows)  # no key listed twice
