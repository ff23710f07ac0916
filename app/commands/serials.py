"""Rolling per-device serial numbers, 000–999.

The platform drops a command whose serial equals the previous one for that device (it
guards against a repeated unlock), so a repeat would silently never be answered. Across
restarts the counter is seeded from the last serial the audit table holds for the device;
with no history it starts at a random point, so two fresh consoles rarely collide.
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable

SeedLookup = Callable[[str], "str | int | None"]


class SerialCounter:
    """Thread-safe; `next(device)` never returns the device's previous serial."""

    MODULO = 1000

    def __init__(
        self,
        seed: SeedLookup | None = None,
        *,
        first: int | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self._seed = seed
        self._first = first
        self._rng = rng or random.Random()
        self._last: dict[str, int] = {}
        self._lock = threading.Lock()

    def _known(self, device: str) -> int | None:
        if device in self._last:
            return self._last[device]
        if self._seed is not None:
            found = self._seed(device)
            if found is not None and str(found).strip().isdigit():
                return int(str(found).strip()) % self.MODULO
        return None

    def next(self, device: str) -> str:
        """The next serial for `device`, 3 digits, zero-padded."""
        with self._lock:
            last = self._known(device)
            if last is None:
                n = self._first if self._first is not None else self._rng.randrange(self.MODULO)
                n %= self.MODULO
            else:
                n = (last + 1) % self.MODULO
            self._last[device] = n
            return f"{n:03d}"

    def observe(self, device: str, serial: str | int) -> None:
        """Record a serial chosen elsewhere (typed full text), so the next one differs."""
        with self._lock:
            self._last[device] = int(serial) % self.MODULO

    def last(self, device: str) -> str | None:
        with self._lock:
            n = self._known(device)
            return None if n is None else f"{n:03d}"

    def would_repeat(self, device: str, serial: str | int) -> bool:
        """True when `serial` equals the previous one: the platform would drop it."""
        with self._lock:
            last = self._known(device)
            return last is not None and last == int(serial) % self.MODULO
