"""The window fits the screens people have, in every workspace, from a fresh settings file.

Each screen is a child process (Qt chooses its platform once per process) running
screen_probe.py on Qt's offscreen platform configured to that screen's size and pixel ratio.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from screen_probe import screen_env

from app.ui.workspaces import WORKSPACES

PROBE = Path(__file__).with_name("screen_probe.py")
ROOT = Path(__file__).resolve().parents[2]

SCREENS = [
    (1280, 720, 1.0),   # a technician's small laptop
    (1366, 768, 1.0),   # the usual yard laptop
    (1920, 1080, 1.0),  # a desk monitor
    (3840, 2160, 1.0),  # a control-room wall, unscaled
    (3840, 2160, 2.0),  # a 4K monitor at 200 %
]


@pytest.mark.parametrize(("width", "height", "dpr"), SCREENS,
                         ids=[f"{w}x{h}@{d:g}" for w, h, d in SCREENS])
def test_every_workspace_fits_the_screen(tmp_path, width, height, dpr):
    res = subprocess.run([sys.executable, str(PROBE), str(tmp_path)], capture_output=True,
                         text=True, timeout=180, env=screen_env(tmp_path, width, height, dpr),
                         cwd=ROOT)
    assert res.returncode == 0, res.stderr[-3000:]
    report = json.loads(res.stdout.strip().splitlines()[-1])
    assert set(report) == {w.key for w in WORKSPACES}
    for key, result in report.items():
        facts = result["facts"]
        assert result["problems"] == [], f"{key} at {width}x{height}@{dpr:g}: {facts}"
        # the probe really looked: docks side by side and their buttons
        assert len(facts["docks"]) >= 3, facts
        assert facts["buttons_checked"] > 5, facts
        assert facts["dpr"] == dpr
        screen_w, screen_h = facts["screen"][2], facts["screen"][3]
        frame_w, frame_h = facts["frame"][2], facts["frame"][3]
        # it uses the screen: all of a laptop, most of a large one
        assert frame_w >= 0.85 * screen_w and frame_h >= 0.85 * screen_h
