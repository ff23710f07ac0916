"""The two shapes every push takes: as it arrived, and as it was understood.

A `RawPush` is what a transport hands over — it knows nothing of payloads.
A `PushRecord` is what the decoder makes of it — always, even for garbage,
so that the journal can keep every push and say what was wrong with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Source = Literal["mqtt", "webhook"]
Kind = Literal["location", "alarm", "event", "command", "sublock", "unknown"]
KINDS: tuple[Kind, ...] = ("location", "alarm", "event", "command", "sublock", "unknown")


@dataclass(frozen=True, slots=True)
class RawPush:
    """One push exactly as a transport received it."""

    source: Source
    topic: str  # MQTT topic, or the URL path for a webhook POST
    payload: bytes
    received_at: float  # seconds since the epoch, UTC
    profile: str = ""  # name of the connection profile it came through
    # Called by the journal writer after the commit (MQTT QoS 1 manual acknowledgement).
    ack_token: Callable[[], object] | None = field(default=None, compare=False, repr=False)


@dataclass(slots=True)
class PushRecord:
    """A decoded push. `data` is JSON-ready; `errors` lists what was wrong with it;
    `warnings` what is odd but not wrong (e.g. the path or topic said another kind than the
    content): a record with warnings only is `ok`."""

    raw: RawPush
    kind: Kind
    device: str | None
    sublock: str | None
    data: dict[str, Any]
    errors: list[str]
    model: Any = None  # the validated pydantic model, when validation succeeded
    warnings: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors
