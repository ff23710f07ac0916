"""Waiting, in tests of code that signals only through shared state (threads, processes).

Importable as `waiting` (tests/ is on sys.path, as for `live_rig`). Qt tests use
`qtbot.waitUntil` instead: it keeps the event loop turning.
"""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_until(cond: Callable[[], object], timeout: float = 10.0) -> bool:
    """Poll cond until it is true or the deadline passes; True if it became true."""
    deadline = time.monotonic() + timeout
    while True:
        if cond():
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.01)


def wait_for(cond: Callable[[], object], timeout: float, what: str) -> None:
    """Like wait_until, but a timeout fails the test, saying what did not happen."""
    if not wait_until(cond, timeout):
        raise AssertionError(f"timed out waiting for {what}")
