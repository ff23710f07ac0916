"""Fixtures of the team-mode tests: mosquitto (shared subscriptions), and the commands a test
starts, stopped whatever happens."""

from __future__ import annotations

import signal
from collections.abc import Iterator

import pytest
from shared_rig import Proc


@pytest.fixture
def mosquitto(broker):
    if broker.kind != "mosquitto":
        pytest.skip("shared subscriptions need mosquitto >= 2 (the embedded broker has none)")
    return broker


@pytest.fixture
def started() -> Iterator[list[Proc]]:
    """Every command a test starts, stopped at its end whatever happened."""
    procs: list[Proc] = []
    yield procs
    for p in procs:
        p.stop(signal.SIGKILL, timeout=10)
