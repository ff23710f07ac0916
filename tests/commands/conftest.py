"""Fixtures shared by the command tests: replies shaped as the decoder hands them over."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from app.protocol.push import PushRecord, RawPush

ReplyFactory = Callable[..., PushRecord]


def _reply(
    device: str,
    command_type: str,
    content: Any,
    *,
    key: str = "K",
    platform_error: str | None = None,
    profile: str = "",
) -> PushRecord:
    """A decoded command reply, following decode.py's contract."""
    data: dict[str, Any] = {"assetId": device, "commandType": command_type, "content": content}
    if platform_error:
        data["platformError"] = platform_error
    raw = RawPush("mqtt", f"upload/{key}/{device}/cmd", b"", 0.0, profile)
    return PushRecord(raw, "command", device, None, data, [])


@pytest.fixture
def make_reply() -> ReplyFactory:
    return _reply


@pytest.fixture
def long_reply() -> ReplyFactory:
    """long_reply(device, cmd, index, serial, *body): a long-form device answer."""

    def make(device: str, cmd: str, index: str, serial: str, *body: str) -> PushRecord:
        return _reply(device, cmd + index, [device, "8", serial, cmd, index, *body])

    return make
