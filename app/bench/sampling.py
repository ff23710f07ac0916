"""What the flood benchmark samples while the window runs, from outside the window.

The window used to sample its own memory on a timer in the GUI thread: listing the
process's children walks all of /proc, a few tens of milliseconds under load, which the
stall measurement then counted against the window. Sampling from the benchmark's own
process keeps the measurement out of what it measures.
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
from pathlib import Path

from app.journal.push_query import max_id
from app.journal.queries import connect_readonly


class Sampler:
    """Calls `sample()` every `interval_s` on a thread of its own, while in a `with`."""

    name = "sampler"

    def __init__(self, interval_s: float) -> None:
        self.interval_s = interval_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        if not self.setup():
            return
        while not self._stop.wait(self.interval_s):
            if not self.sample():
                return

    def setup(self) -> bool:
        """Before the first sample; False gives up sampling."""
        return True

    def sample(self) -> bool:
        """Take one sample; False when there is nothing more to sample."""
        raise NotImplementedError


class MemorySampler(Sampler):
    """Resident memory (MB) of `pid` and, separately, of all its descendants, once a second;
    and the CPU each of them used in that second (%, by role): on two cores the recording
    process runs below the window's priority and takes what is left."""

    name = "memory-sampler"

    def __init__(self, pid: int, interval_s: float = 1.0) -> None:
        super().__init__(interval_s)
        self.pid = pid
        self.rss_mb: list[float] = []
        self.children_rss_mb: list[float] = []
        self.cpu_percent: dict[str, list[float]] = {}
        self._procs: dict[int, tuple] = {}  # pid → (psutil.Process, role)
        self._proc = None

    def setup(self) -> bool:
        try:
            import psutil
        except ImportError:  # memory samples are a nicety of the benchmark
            return False
        try:
            self._proc = psutil.Process(self.pid)
        except psutil.Error:
            return False
        return True

    def sample(self) -> bool:
        import psutil

        proc = self._proc
        try:
            self.rss_mb.append(proc.memory_info().rss / 2**20)
            children = proc.children(recursive=True)  # recording process, journal writer
            self.children_rss_mb.append(sum(c.memory_info().rss for c in children) / 2**20)
            self._sample_cpu([proc, *children])
        except psutil.Error:
            return False  # it has exited
        return True

    def _sample_cpu(self, procs: list) -> None:
        for p in procs:
            try:
                if p.pid not in self._procs:  # the same object each time: cpu_percent is a delta
                    self._procs[p.pid] = (p, self._role(p))
                known, name = self._procs[p.pid]
                percent = known.cpu_percent()
            except Exception:  # gone between listing and reading
                continue
            self.cpu_percent.setdefault(name, []).append(round(percent))

    def _role(self, proc) -> str:
        """window, recording (its child), journal (the recording process's child)…"""
        if proc.pid == self.pid:
            return "window"
        if "resource_tracker" in " ".join(proc.cmdline()):
            return "resource tracker"
        return "recording" if proc.ppid() == self.pid else "journal"


class ProcessMemory(Sampler):
    """Resident memory (MB) of `pid` and each of its descendants by role (window, recording,
    journal), every `interval_s`, with the time of each sample: what the soak benchmark fits
    its slopes to. Processes of the same role are summed."""

    name = "process-memory"

    def __init__(self, pid: int, interval_s: float = 5.0) -> None:
        super().__init__(interval_s)
        self.pid = pid
        self.t: list[float] = []  # monotonic time of each sample
        self.rss_mb: dict[str, list[float | None]] = {}  # role → MB per sample (None: absent)
        self._roles = MemorySampler(pid)  # for its _role(): window, recording, journal

    def setup(self) -> bool:
        return self._roles.setup()

    def sample(self) -> bool:
        import psutil

        proc = self._roles._proc
        try:
            if proc.status() == psutil.STATUS_ZOMBIE:
                return False  # the window has exited
            procs = [proc, *proc.children(recursive=True)]
        except psutil.Error:
            return False  # the window has exited
        now: dict[str, float] = {}
        for p in procs:
            try:
                role = self._roles._role(p)
                now[role] = now.get(role, 0.0) + p.memory_info().rss / 2**20
            except psutil.Error:
                continue
        self.t.append(time.monotonic())
        n = len(self.t)
        for role in now.keys() | self.rss_mb.keys():
            series = self.rss_mb.setdefault(role, [None] * (n - 1))
            series.append(round(now[role], 1) if role in now else None)
        return True


class JournalGrowth(Sampler):
    """The journal's row count every few seconds, read-only: shows whether the recording
    process keeps up with a flood, falls behind or stops."""

    name = "journal-growth"

    def __init__(self, path: Path, interval_s: float = 2.0) -> None:
        super().__init__(interval_s)
        self.path = path
        self.rows: list[int] = []

    def sample(self) -> bool:
        try:
            with contextlib.closing(connect_readonly(self.path, timeout=1)) as db:
                self.rows.append(max_id(db))
        except sqlite3.Error:
            self.rows.append(-1)  # not there yet
        return True
