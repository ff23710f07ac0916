"""The packaged program (packaging/build.py → dist/SealDesk/) runs without Python around it.

Built once a run into a temporary folder (SEALDESK_PACKAGE_DIR keeps it, reused while newer
than every source file that goes into it); never into dist/ or build/ of the checkout.
Skipped when SEALDESK_SKIP_PACKAGE=1 or when PyInstaller is not installed (it is in the test
extras).
Every run of the binary gets a clean environment (no PYTHONPATH, no virtualenv, a throw-away
HOME) and a working directory outside the repository, so nothing can come from the source tree.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from app import __version__
from app.brokers import BrokerProcess

ROOT = Path(__file__).resolve().parent.parent.parent


def _load_build_script():
    """packaging/build.py, by path (a module named `build` could be pypa's)."""
    spec = importlib.util.spec_from_file_location("sealdesk_packaging_build",
                                                  ROOT / "packaging" / "build.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


packaging_build = _load_build_script()

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(900),
    pytest.mark.skipif(os.environ.get("SEALDESK_SKIP_PACKAGE") == "1",
                       reason="SEALDESK_SKIP_PACKAGE=1: packaged-binary test skipped"),
]

INPUTS = ("app", "resources", "packaging", "main.py", "pyproject.toml")


def _newest_input() -> float:
    newest = 0.0
    for name in INPUTS:
        path = ROOT / name
        files = [path] if path.is_file() else path.rglob("*")
        for f in files:
            if f.is_file() and "__pycache__" not in f.parts and f.suffix != ".pyc":
                newest = max(newest, f.stat().st_mtime)
    return newest


def _pyinstaller_available() -> str | None:
    """None when PyInstaller can be used, else why not. Never installs anything: PyInstaller
    is in the test extras (pip install -e ".[test]")."""
    try:
        import PyInstaller  # noqa: F401
        return None
    except ImportError:
        return 'PyInstaller is not installed (pip install -e ".[test]")'


@pytest.fixture(scope="session")
def packaged(tmp_path_factory) -> Path:
    """Built into a temporary folder (never dist/ or build/ in the checkout), once a run;
    SEALDESK_PACKAGE_DIR names a folder to keep and reuse the build in instead."""
    keep = os.environ.get("SEALDESK_PACKAGE_DIR")
    where = Path(keep) if keep else tmp_path_factory.mktemp("package")
    dist, work = where / "dist", where / "work"
    exe = packaging_build.executable_path(dist)
    if exe.exists() and exe.stat().st_mtime > _newest_input():
        return exe  # an up-to-date build: reuse it
    why = _pyinstaller_available()
    if why:
        pytest.skip(why)
    res = subprocess.run([sys.executable, str(ROOT / "packaging" / "build.py"),
                          "--dist", str(dist), "--work", str(work)],
                         capture_output=True, text=True, timeout=1200, cwd=ROOT)
    assert res.returncode == 0, f"build failed:\n{res.stdout[-3000:]}\n{res.stderr[-5000:]}"
    assert exe.exists(), res.stdout
    return exe


def clean_env(home: Path) -> dict[str, str]:
    """What a user's desktop session has: no Python variables at all."""
    env = {
        "PATH": os.pathsep.join(["/usr/bin", "/bin"]) if os.name != "nt"
        else os.environ.get("SYSTEMROOT", r"C:\Windows") + r"\system32",
        "HOME": str(home),
        "LANG": "C.UTF-8",
        "QT_QPA_PLATFORM": "offscreen",
    }
    if os.name == "nt":
        for key in ("SYSTEMROOT", "WINDIR", "TEMP", "TMP"):
            if key in os.environ:
                env[key] = os.environ[key]
        env.update(USERPROFILE=str(home), APPDATA=str(home / "AppData" / "Roaming"),
                   LOCALAPPDATA=str(home / "AppData" / "Local"))
    return env


def run(exe: Path, *args: str, home: Path, timeout: float = 120,
        cwd: Path | None = None, screen: tuple[int, int] | None = None
        ) -> subprocess.CompletedProcess[str]:
    """`screen`: the offscreen platform's one screen, that size (the window fits its screen;
    the platform's own default is 800×800)."""
    env = clean_env(home)
    if screen is not None:
        config = home / "screen.json"
        config.write_text(json.dumps({"screens": [{
            "name": "test", "x": 0, "y": 0, "width": screen[0], "height": screen[1],
            "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
        env["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=timeout,
                          env=env, cwd=cwd or home, stdin=subprocess.DEVNULL)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


def test_version(packaged: Path, home: Path) -> None:
    res = run(packaged, "--version", home=home, timeout=60)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == f"SealDesk {__version__}"


def test_demo_takes_a_screenshot(packaged: Path, home: Path, tmp_path: Path, qapp) -> None:
    from PySide6.QtGui import QImage

    shot = tmp_path / "demo.png"
    res = run(packaged, "--demo", "--show", "map", "--screenshot", str(shot), "--quit-after", "10",
              home=home, timeout=180, screen=(1366, 768))
    assert res.returncode == 0, f"exit {res.returncode}\n{res.stdout}\n{res.stderr[-4000:]}"
    assert f"screenshot saved to {shot}" in res.stdout
    assert "Traceback" not in res.stderr, res.stderr[-4000:]
    assert "QtLocation map failed" not in res.stderr, res.stderr[-4000:]  # QML bundled

    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(data) > 20_000, f"suspiciously small screenshot: {len(data)} bytes"
    img = QImage(str(shot))
    assert not img.isNull()
    assert img.width() >= 800 and img.height() >= 500, (img.width(), img.height())
    colours = {img.pixel(x, y)
               for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 20, f"blank-looking screenshot: {len(colours)} colours"

    if sys.platform.startswith("linux"):
        # User data where the platform keeps it: the rotating log under XDG state.
        log = home / ".local" / "state" / "SealDesk" / "SealDesk" / "logs" / "sealdesk.log"
        assert log.exists(), sorted(str(p) for p in home.rglob("*"))
        text = log.read_text(encoding="utf-8")
        assert "starting (frozen=True)" in text
        assert "Traceback" not in text, text[-4000:]


def test_headless_commands(packaged: Path, home: Path, tmp_path: Path) -> None:
    """record, simulate, export and report (and send/bench by name) from the binary, on a
    private broker."""
    for command in ("record", "export", "simulate", "send", "bench", "report"):
        res = run(packaged, command, "--help", home=home, timeout=60)
        assert res.returncode == 0 and "usage: sealdesk" in res.stdout, (command, res.stderr)

    journal = tmp_path / "j.sqlite"
    with BrokerProcess("auto") as broker:
        conn = ["--host", broker.host, "--port", str(broker.port), "--access-key", "KEY"]
        recorder = subprocess.Popen(
            [str(packaged), "record", *conn, "--journal", str(journal), "--count", "30",
             "--duration", "90", "--qos", "1"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=clean_env(home),
            cwd=home, stdin=subprocess.DEVNULL,
        )
        try:
            assert recorder.stderr is not None
            for line in recorder.stderr:
                if "connected" in line:
                    break
            sim = run(packaged, "simulate", *conn, "--devices", "3", "--rate", "60",
                      "--count", "40", "--seed", "7", home=home, timeout=120)
            assert sim.returncode == 0, sim.stderr
            out, err = recorder.communicate(timeout=120)
        finally:
            if recorder.poll() is None:
                recorder.kill()
                recorder.communicate()
    assert recorder.returncode == 0, err
    m = re.search(r"recorded (\d+) messages \(0 with errors\)", out)
    assert m and int(m[1]) >= 30, out  # --count stops at the end of the batch that reaches it
    recorded = int(m[1])

    res = run(packaged, "export", "--journal", str(journal), home=home, timeout=60)
    assert res.returncode == 0, res.stderr
    rows = [json.loads(line) for line in res.stdout.splitlines()]
    assert len(rows) == recorded
    assert all(r["source"] == "mqtt" and r["kind"] for r in rows)

    # the shift report, as a PDF: Qt lays it out offscreen in the frozen program too
    res = run(packaged, "report", "--journal", str(journal), "--since", "2000-01-01",
              "--out", str(tmp_path / "shift.pdf"), "--note", "handover", home=home,
              timeout=120)
    assert res.returncode == 0, res.stderr
    assert "alarms raised" in res.stdout or "alarm raised" in res.stdout
    assert (tmp_path / "shift.pdf").read_bytes().startswith(b"%PDF")


def test_module_runner_starts_the_embedded_broker(packaged: Path, home: Path) -> None:
    """`SealDesk -m app.brokers` (BrokerProcess("amqtt") when frozen) serves MQTT."""
    from app.brokers import PortReservation, wait_for_port

    hold = PortReservation()  # held while the broker serves it (both bind with SO_REUSEADDR)
    port = hold.port
    proc = subprocess.Popen([str(packaged), "-m", "app.brokers", "--port", str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            env=clean_env(home), cwd=home, stdin=subprocess.DEVNULL)
    try:
        assert wait_for_port("127.0.0.1", port, 30), proc.stderr.read() if proc.poll() else ""
    finally:
        proc.terminate()
        proc.communicate(timeout=20)
        hold.close()
