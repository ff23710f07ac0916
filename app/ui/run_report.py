"""The window run's report for the benchmark (the hidden `--report FILE` option).

Stalls of the event loop while pushes arrive, what each long one cost the GUI thread, the
garbage collector's pauses, and how many pushes the journal holds once it stops growing.
`app/bench/run.py` reads it, and samples memory itself, from outside (`app/bench/sampling.py`).
"""

from __future__ import annotations

import gc
import json
import os
import time
from pathlib import Path

from PySide6.QtCore import QTimer

from app.gctune import collect_all
from app.ui.bounds import census
from app.ui.stall import StallMonitor, spread


class RunReport:
    """What the benchmark wants to know about a window run (hidden --report FILE)."""

    def __init__(self, path: str, session, slice_s: float | None = None) -> None:
        """`slice_s` (the soak benchmark): stalls as histograms per slice of that many seconds
        from the first batch, no samples kept (the report must not grow over an hour)."""
        self.path = path
        self.session = session
        t0 = float(os.environ.get("SEALDESK_T0", "0") or 0)
        self.painted_after = None
        self.slice_s = slice_s
        self.monitor = StallMonitor(10, keep_samples=slice_s is None, slice_s=slice_s or 600.0)
        self.monitor.start(watchdog_ms=80)
        self.gc_pauses: list[tuple[int, float]] = []  # (generation, ms) of the long ones
        self._gc_started = 0.0
        self.gc_collected = 0  # cyclic garbage the collector found during the run
        gc.callbacks.append(self._on_gc)
        # The flood is the time live data was arriving: start-up and settling are not in it.
        self.first_batch_at: float | None = None
        self.last_batch_at: float | None = None
        session.feed.sig_batch_delivered.connect(self._on_batch)

        def painted() -> None:
            if t0:
                self.painted_after = time.time() - t0

        # The first timer tick after show() runs once the first frame has been painted.
        QTimer.singleShot(0, painted)

    def _on_gc(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._gc_started = time.perf_counter()
        else:
            self.gc_collected += info.get("collected", 0)
            ms = (time.perf_counter() - self._gc_started) * 1000.0
            if ms > 20.0 and len(self.gc_pauses) < 1000:
                self.gc_pauses.append((info.get("generation", -1), round(ms, 1)))

    def _on_batch(self, _change) -> None:
        now = time.perf_counter()
        if self.first_batch_at is None:
            self.first_batch_at = now
            self.monitor.start_slices(now)
        self.last_batch_at = now

    def write(self) -> None:
        self.monitor.stop()
        freed = collect_all()  # what the collector would have found: cycles left behind
        recording = self.session.recording
        settle_journal(recording)
        stats = recording.stats()
        data = {
            "startup_s": self.painted_after,
            "stall": self.monitor.summary(self.first_batch_at, self.last_batch_at),
            "stall_whole_run": self.monitor.summary(),
            "journaled": stats["written"],
            # Per profile: pushes paho handed over, and sessions (more than 1: dropped once).
            "received": stats.get("received"),
            "sessions": stats.get("sessions"),
            "view_delivered": self.session.feed.delivered,
            "view_dropped": self.session.feed.dropped,
            "batch_ms": _spread(list(self.session.feed.busy_ms)),
            "devices": len(self.session.fleet.devices),
            "stall_stacks": self.monitor.stacks,
            "gc_pauses_over_20ms": self.gc_pauses,
            "long_stalls_cpu_ms": self.monitor.long_cpu_ms,
            "gc_freed_at_exit": freed,
            "gc_collected_during_run": self.gc_collected,
            # When the long ones happened, in seconds from the first batch (where to look).
            "long_stalls": [
                (round(at - (self.first_batch_at or 0.0), 2), round(ms))
                for at, ms in self.monitor.long_stalls
            ],
        }
        if self.slice_s is not None:
            data["stall_slices"] = self.monitor.slice_summaries()
        # What each bounded structure holds at the end, against its bound (issue 26).
        data["bounds"] = {h.what: (h.held, h.bound) for h in census(
            self.session.window, self.session.fleet, self.session.feed)}
        Path(self.path).write_text(json.dumps(data, indent=2))


def settle_journal(recording, quiet_s: float = 2.0, limit_s: float = 90.0) -> None:
    """Wait until the journal stops growing: the recording process runs below the window's
    priority and may still be taking the end of a flood off the broker when the window is
    told to quit (the benchmark counts what was journaled)."""
    recording.flush(60)
    deadline = time.monotonic() + limit_s
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        try:
            stats = recording.stats()
        except RuntimeError:
            return
        written = stats["written"]
        if written != last or stats.get("pending", 0):
            # Still committing: one transaction of a long backlog can take seconds, and
            # the count only moves when it ends (a 2 s wait alone once cut a run short).
            last, since = written, time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return
        time.sleep(0.25)


def _spread(values: list[float]) -> dict[str, float]:
    p50, p99, top = spread(sorted(values) or [0.0])
    return {"n": len(values), "p50": p50, "p99": p99, "max": top}
