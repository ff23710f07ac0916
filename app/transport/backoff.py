"""The reconnect schedule: one source for the wait paho sleeps and the "retrying in N s" shown.

The first retry waits `first` seconds, each next one twice the last, never more than `cap`;
a session the broker accepts starts the schedule again. `clock` and `sleep` are injectable so
the schedule can be driven without waiting (tests); `delays` records every delay it gave.
"""

from __future__ import annotations

import time
from collections.abc import Callable

MIN_RETRY_S = 1
MAX_RETRY_S = 60


class Backoff:
    def __init__(
        self,
        first: float = MIN_RETRY_S,
        cap: float = MAX_RETRY_S,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.first = first
        self.cap = cap
        self.clock = clock
        self.sleep = sleep
        self.delay: float | None = None  # the last delay given; None: none since a session
        self.due_at: float | None = None  # clock() when the pending wait ends
        self.delays: list[float] = []  # every delay given, in order (observable)
        self._pending = False  # a delay was given and not yet waited
        self._tried = True  # an attempt was made since the last wait

    def next(self) -> float:
        """The next delay (doubling, capped), counted from now."""
        self.delay = self.first if self.delay is None else min(self.delay * 2, self.cap)
        self.due_at = self.clock() + self.delay
        self.delays.append(self.delay)
        self._pending = True
        return self.delay

    def reset(self) -> None:
        """A session was accepted: the next failure waits `first` again."""
        self.delay = None
        self.due_at = None
        self._pending = False

    def remaining(self) -> float:
        return 0.0 if self.due_at is None else max(0.0, self.due_at - self.clock())

    def attempted(self) -> None:
        """An attempt to connect starts (paho's on_pre_connect)."""
        self._tried = True

    def wait(self, stop: Callable[[], bool]) -> None:
        """Wait out the delay given last, in slices of at most a second so that `stop()` ends
        the wait early.

        paho asks to wait twice for one failed first connection (once in each of
        loop_forever's loops, with no attempt between): the second ask waits nothing, or the
        schedule would run a step ahead of what was reported. A failure nobody reported
        (no delay pending, but an attempt since the last wait) still backs off.
        """
        if not self._pending:
            if not self._tried:
                return
            self.next()
        self._pending = False
        self._tried = False
        while not stop():
            left = self.remaining()
            if left <= 0:
                return
            self.sleep(min(left, 1.0))
