"""Pushes waiting for the views, bounded by the fleet's size rather than by a flood's length.

When the views fall behind, the backlog is coalesced: every alarm, event and command
reply stays, but of the position and sub-lock readings only the newest per device (and
sub-lock) is kept — the views show the latest state and the journal has every push.
A hard cap drops the oldest as a last resort. Thread-safe and Qt-free: the recording
process keeps one for the window, and the window's feed keeps one of its own.
"""

from __future__ import annotations

import threading
from collections import deque

from app.protocol.push import PushRecord

SUPERSEDED_KINDS = frozenset({"location", "sublock"})  # a newer one replaces it on screen
COALESCE_AT = 20_000  # pending pushes before the backlog is coalesced


class Backlog:
    def __init__(self, *, max_pending: int = 200_000, coalesce_at: int = COALESCE_AT) -> None:
        self._lock = threading.Lock()
        self._pending: deque[tuple[PushRecord, int]] = deque()
        self.max_pending = max_pending
        self.base_coalesce_at = coalesce_at
        self.coalesce_at = coalesce_at
        self.dropped = 0  # skipped by coalescing or the cap (the journal still has them)

    def __len__(self) -> int:
        return len(self._pending)

    def push(self, records: list[PushRecord], ids: list[int]) -> None:
        """Thread-safe, O(1) amortised."""
        with self._lock:
            self._pending.extend(zip(records, ids, strict=False))
            if len(self._pending) > self.coalesce_at:
                self._coalesce()
            overflow = len(self._pending) - self.max_pending
            if overflow > 0:
                for _ in range(overflow):
                    self._pending.popleft()
                self.dropped += overflow

    def coalesce(self) -> None:
        """Coalesce now, whatever the size (before a batch is handed over)."""
        with self._lock:
            self._coalesce()

    def _coalesce(self) -> None:
        """Keep alarms, events, replies and the newest reading per device/sub-lock (lock held)."""
        seen: set[tuple[str, str | None, str | None]] = set()
        kept: list[tuple[PushRecord, int]] = []
        for item in reversed(self._pending):
            record = item[0]
            if record.kind in SUPERSEDED_KINDS and record.device:  # no device: nothing to supersede
                key = (record.kind, record.device, record.sublock)
                if key in seen:
                    continue
                seen.add(key)
            kept.append(item)
        kept.reverse()
        self.dropped += len(self._pending) - len(kept)
        self._pending = deque(kept)
        # A fleet bigger than the threshold: coalesce again only when the backlog doubles.
        self.coalesce_at = max(self.base_coalesce_at, 2 * len(kept))

    def drain(self) -> list[tuple[PushRecord, int]]:
        """Everything pending, oldest first; the backlog is empty after."""
        with self._lock:
            if not self._pending:
                return []
            batch = list(self._pending)
            self._pending.clear()
            self.coalesce_at = self.base_coalesce_at
            return batch
