"""Shared fixtures: a real private broker per test, and a way to run the CLI as a user does."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

# Tests never touch the user's own settings, logs, journals or map tiles: every folder Qt and
# SealDesk would use (QSettings, QStandardPaths, the log file) points into one throw-away home,
# set before anything imports Qt and inherited by every child process the tests start.
_THROWAWAY_HOME = Path(tempfile.mkdtemp(prefix="sealdesk-tests-home-"))
for _var, _sub in (("XDG_CONFIG_HOME", "config"), ("XDG_DATA_HOME", "data"),
                   ("XDG_STATE_HOME", "state"), ("XDG_CACHE_HOME", "cache"),
                   ("XDG_RUNTIME_DIR", "runtime")):
    (_THROWAWAY_HOME / _sub).mkdir(mode=0o700)
    os.environ[_var] = str(_THROWAWAY_HOME / _sub)


def pytest_sessionfinish(session, exitstatus) -> None:
    shutil.rmtree(_THROWAWAY_HOME, ignore_errors=True)

from app.brokers import BrokerProcess  # noqa: E402 (after the home is set)

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def broker() -> Iterator[BrokerProcess]:
    """mosquitto on a free port, or the embedded amqtt broker where mosquitto is absent.

    SEALDESK_TEST_BROKER=amqtt forces the fallback so it is exercised too.
    """
    kind = os.environ.get("SEALDESK_TEST_BROKER", "auto")
    with BrokerProcess(kind) as b:
        yield b


class Cli:
    """Runs `python main.py ARGS…` in a child process, exactly as a user would."""

    @staticmethod
    def _env() -> dict[str, str]:
        return dict(os.environ, PYTHONUNBUFFERED="1")

    def run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, str(ROOT / "main.py"), *args],
            capture_output=True, text=True, timeout=timeout, env=self._env(), cwd=ROOT,
        )

    def start(self, *args: str) -> subprocess.Popen[str]:
        """In the background (e.g. `record` while a test publishes)."""
        return subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=self._env(), cwd=ROOT,
        )


@pytest.fixture
def cli() -> Cli:
    return Cli()
