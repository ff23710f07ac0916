"""Fixtures for the webhook receiver: a real journal writer and a real server on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from webhook_helpers import Receiver

from app.journal.writer import JournalWriter
from app.webhook import WebhookConfig, WebhookServer


@pytest.fixture
def receiver_factory(tmp_path: Path) -> Iterator[Callable[..., Receiver]]:
    """Build receivers with any config (port 0: a free port, no race to find one)."""
    made: list[Receiver] = []

    def make(**config: Any) -> Receiver:
        path = tmp_path / f"journal{len(made)}.sqlite"
        writer = JournalWriter(path).start()
        server = WebhookServer(WebhookConfig(**config), writer.submit).start_in_thread()
        assert server.started.is_set()
        r = Receiver(writer, server, path)
        made.append(r)
        return r

    yield make
    for r in made:
        r.server.stop()
        r.writer.stop()


@pytest.fixture
def receiver(receiver_factory: Callable[..., Receiver]) -> Receiver:
    return receiver_factory()
