"""The two shapes every push takes: as it arrived, and as it was understood.

A `RawPush` is what a transport hands over — it knows nothing of payloads.
A `PushRecord` is what the decoder makes of it — always, even for garbage,
so that the journal can keep every push and say what was wrong with it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
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


class GroupedAck:
    """An acknowledgement token that can go out with others of its group in one call: the
    MQTT transport's, whose group is one connection's `ack_many` (one lock, one wake-up and
    one write for a whole commit, not one each — ~2 µs a push on the thread that calls them).
    Called alone it acknowledges just its push."""

    __slots__ = ("group", "mid")

    def __init__(self, group: Callable[[list[int]], object], mid: int) -> None:
        self.group = group  # the same object for every push of one connection
        self.mid = mid

    def __call__(self) -> None:
        self.group([self.mid])


def acknowledge(tokens: Iterable[Callable[[], object] | None]) -> None:
    """Call the tokens of committed pushes, in order; a `GroupedAck`'s group once for all of
    its pushes. A token that fails is logged: the others still go out."""
    groups: dict[Callable[[list[int]], object], list[int]] = {}
    for token in tokens:
        if token is None:
            continue
        if type(token) is GroupedAck:
            mids = groups.get(token.group)
            if mids is None:
                groups[token.group] = [token.mid]
            else:
                mids.append(token.mid)
            continue
        try:
            token()
        except Exception:
            _log.exception("acknowledgement failed")
    for group, mids in groups.items():
        try:
            group(mids)
        except Exception:
            _log.exception("acknowledgement failed")


_log = logging.getLogger(__name__)
