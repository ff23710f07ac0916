"""Measures how long the GUI event loop is blocked, for the benchmark and diagnostics.

A timer asks to fire every `interval_ms`; how late it fires is how long the loop was
busy elsewhere. Cheap enough to leave running during a flood.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback

from PySide6.QtCore import QObject, QTimer


class StallMonitor(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000.0
        self.stalls_ms: list[float] = []
        self.at: list[float] = []  # perf_counter() of each sample, to take a time window
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self.long_cpu_ms: list[tuple[int, int]] = []  # (stall, GUI thread CPU) of stalls > 100
        self._timer = QTimer(self)
        self._timer.setTimerType(self._timer.timerType().PreciseTimer)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self._tick)
        self.stacks: list[str] = []  # where the GUI thread was during long stalls
        self._gui_thread = threading.get_ident()
        self._stop = threading.Event()

    def start(self, watchdog_ms: float | None = 300) -> None:
        self._last = time.perf_counter()
        self._last_cpu = time.thread_time()
        self._timer.start()
        if watchdog_ms:
            threading.Thread(target=self._watch, args=(watchdog_ms / 1000,), daemon=True,
                             name="stall-watchdog").start()

    def stop(self) -> None:
        self._timer.stop()
        self._stop.set()

    def _watch(self, limit: float) -> None:
        """Record the GUI thread's stack once per stall longer than `limit`."""
        reported_for = None
        while not self._stop.wait(limit / 3):
            last = self._last
            if time.perf_counter() - last > limit and reported_for != last:
                reported_for = last
                frame = sys._current_frames().get(self._gui_thread)
                if frame is not None and len(self.stacks) < 50:
                    self.stacks.append("".join(traceback.format_stack(frame)[-12:]))

    def _tick(self) -> None:
        now = time.perf_counter()
        cpu = time.thread_time()
        stall = max(0.0, (now - self._last - self.interval) * 1000.0)
        self.stalls_ms.append(stall)
        self.at.append(now)
        if stall > 100.0:  # how much of it the GUI thread spent on the CPU (vs. waiting)
            self.long_cpu_ms.append((round(stall), round((cpu - self._last_cpu) * 1000.0)))
        self._last = now
        self._last_cpu = cpu

    def summary(self, since: float | None = None, until: float | None = None) -> dict[str, float]:
        """p50/p99/max of the stalls, of all samples or of those in [since, until]."""
        if since is None and until is None:
            data = sorted(self.stalls_ms)
        else:
            lo, hi = since or 0.0, until or float("inf")
            data = sorted(x for t, x in zip(self.at, self.stalls_ms, strict=True) if lo <= t <= hi)
        if not data:
            return {"samples": 0, "p50_ms": 0.0, "p99_ms": 0.0, "max_ms": 0.0, "over_100ms": 0}
        p50, p99, top = spread(data)
        return {"samples": len(data), "p50_ms": p50, "p99_ms": p99, "max_ms": top,
                "over_100ms": sum(1 for x in data if x > 100.0)}


def spread(data: list[float]) -> tuple[float, float, float]:
    """p50, p99 and max of sorted, non-empty values."""

    def pct(p: float) -> float:
        return data[min(len(data) - 1, int(p * (len(data) - 1)))]

    return pct(0.5), pct(0.99), data[-1]
