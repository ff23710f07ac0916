"""Open the window on one simulated screen, put each workspace in front, and say what is wrong.

Run in a child process per screen (Qt picks its platform once per process), started by
test_screen_fit.py:

    QT_QPA_PLATFORM=offscreen:configfile=SCREEN.json python tests/ui/screen_probe.py DIR

DIR receives settings.ini, the journal and, with --png, a grab of each workspace. Prints one
JSON document: per workspace, the window's facts and a list of problems in words.
"""

from __future__ import annotations

import argparse
import json
import sys
from itertools import combinations
from pathlib import Path

MAX_MINIMUM = (1024, 640)


def settle(app) -> None:
    """Let posted events and zero-length timers (the first resizeDocks) run."""
    for _ in range(30):
        app.processEvents()
        app.sendPostedEvents()


def check(window) -> tuple[dict, list[str]]:
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QAbstractButton

    problems: list[str] = []
    avail = window.screen().availableGeometry()
    frame = window.frameGeometry()
    if not avail.contains(frame):
        problems.append(f"frame {frame.getRect()} is not inside the screen {avail.getRect()}")
    minimum = window.minimumSizeHint().expandedTo(window.minimumSize())
    if minimum.width() > MAX_MINIMUM[0] or minimum.height() > MAX_MINIMUM[1]:
        problems.append(f"minimum size {minimum.toTuple()} exceeds {MAX_MINIMUM}")
    inside = QRect(0, 0, window.width(), window.height())
    bar = window.statusBar()
    bar_rect = QRect(bar.mapTo(window, bar.rect().topLeft()), bar.size())
    if not bar.isVisible() or not inside.contains(bar_rect) or bar.visibleRegion().isEmpty():
        problems.append(f"status bar not fully shown: {bar_rect.getRect()}")
    shown = {}
    for key, dock in window.docks.items():
        if dock.isVisible() and not dock.isFloating() and not dock.visibleRegion().isEmpty():
            shown[key] = QRect(dock.mapTo(window, dock.rect().topLeft()), dock.size())
    for key, rect in shown.items():
        if not inside.contains(rect):
            problems.append(f"{key}: dock {rect.getRect()} reaches outside the window "
                            f"{inside.getRect()}")
    for (a, ra), (b, rb) in combinations(shown.items(), 2):
        if ra.intersects(rb):
            problems.append(f"{a} {ra.getRect()} overlaps {b} {rb.getRect()}")
    buttons = 0
    for key in shown:
        dock = window.docks[key]
        for button in dock.widget().findChildren(QAbstractButton):
            if not button.isVisible() or button.width() <= 0 or button.height() <= 0:
                continue
            if button.window() is not window:
                continue
            buttons += 1
            rect = QRect(button.mapTo(dock, button.rect().topLeft()), button.size())
            name = button.text() or button.toolTip()[:30] or type(button).__name__
            if not dock.rect().contains(rect):
                problems.append(f"{key}: button {name!r} {rect.getRect()} is outside its dock "
                                f"{dock.rect().getRect()}")
            elif button.visibleRegion().boundingRect() != button.rect():
                problems.append(f"{key}: button {name!r} is covered or cut off "
                                f"(visible {button.visibleRegion().boundingRect().getRect()})")
    facts = {
        "screen": avail.getRect(),
        "dpr": window.screen().devicePixelRatio(),
        "frame": frame.getRect(),
        "minimum": minimum.toTuple(),
        "docks": {k: r.getRect() for k, r in shown.items()},
        "buttons_checked": buttons,
    }
    return facts, problems


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("folder")
    parser.add_argument("--png", action="store_true", help="grab each workspace to DIR")
    args = parser.parse_args()
    folder = Path(args.folder)

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.ui.session import Session
    from app.ui.workspaces import WORKSPACES

    app = QApplication(sys.argv[:1])
    session = Session(folder / "journal.sqlite",
                      QSettings(str(folder / "settings.ini"), QSettings.Format.IniFormat))
    window = session.open_window()
    report = {}
    try:
        window.show_fitted()
        settle(app)
        for workspace in WORKSPACES:
            window.switch_workspace(workspace.key)
            settle(app)
            facts, problems = check(window)
            report[workspace.key] = {"facts": facts, "problems": problems}
            if args.png:
                window.grab().save(str(folder / f"{workspace.key}.png"))
    finally:
        window.close()
        session.feed.stop()
        session.recording.stop()
    print(json.dumps(report))
    return 0


def screen_env(folder: Path, width: int, height: int, dpr: float = 1.0) -> dict[str, str]:
    """The environment for a child process whose only screen is `width`×`height` device
    pixels at device pixel ratio `dpr` (Qt's offscreen platform, from a config file)."""
    import os

    config = folder / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": f"{width}x{height}@{dpr:g}", "x": 0, "y": 0,
        "width": int(width / dpr), "height": int(height / dpr),  # logical pixels
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": dpr,
    }]}))
    return dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}",
                PYTHONUNBUFFERED="1")


if __name__ == "__main__":
    sys.exit(main())
