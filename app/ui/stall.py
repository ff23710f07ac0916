"""Measures how long the GUI event loop is blocked, for the benchmark and diagnostics.

A timer asks to fire every `interval_ms`; how late it fires is how long the loop was
busy elsewhere. Cheap enough to leave running during a flood.

A short run keeps every sample (`stalls_ms`, `at`). A long one (the soak benchmark) must
not: 100 samples a second are ~23 MB an hour in Python floats, which is the very growth it
measures. With `keep_samples=False` the monitor keeps histograms only (`StallHistogram`,
fixed size): one for the whole run and one per slice of `slice_s` seconds from
`start_slices()`.
"""

from __future__ import annotations

import sys
import threading
import time
import traceback
from array import array

from PySide6.QtCore import QObject, QTimer

LONG_KEPT = 1_000  # long stalls remembered (when, how long, CPU), at most


class StallHistogram:
    """Stalls in 0.5 ms bins up to 5 s (one bin beyond): p50/p99 within half a millisecond,
    the exact maximum, in 40 KB whatever the run's length."""

    BIN_MS = 0.5
    BINS = 10_000

    def __init__(self, start: float = 0.0) -> None:
        self.start = start
        self.end = start
        self.counts = array("I", bytes(4 * (self.BINS + 1)))
        self.samples = 0
        self.max_ms = 0.0
        self.over_100ms = 0

    def add(self, ms: float, at: float | None = None) -> None:
        self.counts[min(int(ms / self.BIN_MS), self.BINS)] += 1
        self.samples += 1
        if ms > self.max_ms:
            self.max_ms = ms
        if ms > 100.0:
            self.over_100ms += 1
        if at is not None:
            self.end = at

    def percentile(self, p: float) -> float:
        """The upper edge of the bin holding the p-th sample (never above the maximum)."""
        if not self.samples:
            return 0.0
        rank = int(p * (self.samples - 1))
        seen = 0
        for i, n in enumerate(self.counts):
            seen += n
            if seen > rank:
                return min((i + 1) * self.BIN_MS, self.max_ms)
        return self.max_ms

    def summary(self) -> dict[str, float]:
        return {"samples": self.samples, "p50_ms": self.percentile(0.5),
                "p99_ms": self.percentile(0.99), "max_ms": self.max_ms,
                "over_100ms": self.over_100ms}


class StallMonitor(QObject):
    def __init__(self, interval_ms: int = 10, parent: QObject | None = None, *,
                 keep_samples: bool = True, slice_s: float = 600.0) -> None:
        super().__init__(parent)
        self.interval = interval_ms / 1000.0
        self.keep_samples = keep_samples
        self.stalls_ms: list[float] = []  # every sample, with keep_samples only
        self.at: list[float] = []  # perf_counter() of each sample, to take a time window
        self.whole = StallHistogram()  # every sample, as a histogram
        self.slice_s = slice_s
        self.slices: list[StallHistogram] = []  # from start_slices() on, slice_s each
        self._slices_from: float | None = None
        self.long_stalls: list[tuple[float, float]] = []  # (perf_counter, ms) of those > 100
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

    def start_slices(self, at: float | None = None) -> None:
        """Begin the slices (e.g. at the first batch of pushes); a second call is ignored."""
        if self._slices_from is None:
            self._slices_from = time.perf_counter() if at is None else at

    def _tick(self) -> None:
        now = time.perf_counter()
        cpu = time.thread_time()
        stall = max(0.0, (now - self._last - self.interval) * 1000.0)
        if self.keep_samples:
            self.stalls_ms.append(stall)
            self.at.append(now)
        self.whole.add(stall, now)
        if self._slices_from is not None:
            k = int((now - self._slices_from) // self.slice_s)
            while len(self.slices) <= k:
                self.slices.append(StallHistogram(self._slices_from
                                                  + len(self.slices) * self.slice_s))
            self.slices[k].add(stall, now)
        if stall > 100.0 and len(self.long_stalls) < LONG_KEPT:
            self.long_stalls.append((now, stall))
            # how much of it the GUI thread spent on the CPU (vs. waiting)
            self.long_cpu_ms.append((round(stall), round((cpu - self._last_cpu) * 1000.0)))
        self._last = now
        self._last_cpu = cpu

    def slice_summaries(self, origin: float | None = None) -> list[dict[str, float]]:
        """p50/p99/max per slice, each with its start and end in seconds from `origin`
        (default: the start of the slices)."""
        origin = self._slices_from if origin is None else origin
        out = []
        for h in self.slices:
            out.append({"from_s": round(h.start - (origin or 0.0), 1),
                        "to_s": round(h.end - (origin or 0.0), 1), **h.summary()})
        return out

    def summary(self, since: float | None = None, until: float | None = None) -> dict[str, float]:
        """p50/p99/max of the stalls, of all samples or of those in [since, until]. Without
        kept samples: of the whole run, or of the slices (`since`, `until` ignored)."""
        if not self.keep_samples:
            if (since is None and until is None) or not self.slices:
                return self.whole.summary()
            merged = StallHistogram()
            for h in self.slices:
                for i, n in enumerate(h.counts):
                    if n:
                        merged.counts[i] += n
                merged.samples += h.samples
                merged.max_ms = max(merged.max_ms, h.max_ms)
                merged.over_100ms += h.over_100ms
            return merged.summary()
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
