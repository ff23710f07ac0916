"""Memory of a running process and of its children, sampled from outside it.

The window's flood benchmark used to sample its own memory on a timer in the GUI thread:
listing the process's children walks all of /proc, a few tens of milliseconds under load,
which the stall measurement then counted against the window. Sampling from the benchmark's
own process keeps the measurement out of what it measures.
"""

from __future__ import annotations

import threading


class MemorySampler:
    """Resident memory (MB) of `pid` and, separately, of all its descendants, once a second;
    and the CPU each of them used in that second (%, by process name): on two cores the
    recording process runs below the window's priority and takes what is left."""

    def __init__(self, pid: int, interval_s: float = 1.0) -> None:
        self.pid = pid
        self.interval_s = interval_s
        self.rss_mb: list[float] = []
        self.children_rss_mb: list[float] = []
        self.cpu_percent: dict[str, list[float]] = {}
        self._procs: dict[int, object] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def __enter__(self) -> MemorySampler:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._stop.set()
        self._thread.join(5)

    def _run(self) -> None:
        try:
            import psutil
        except ImportError:  # memory samples are a nicety of the benchmark
            return
        try:
            proc = psutil.Process(self.pid)
        except psutil.Error:
            return
        while not self._stop.wait(self.interval_s):
            try:
                self.rss_mb.append(proc.memory_info().rss / 2**20)
                children = proc.children(recursive=True)  # recording process, journal writer
                self.children_rss_mb.append(sum(c.memory_info().rss for c in children) / 2**20)
                self._sample_cpu([proc, *children])
            except psutil.Error:
                return  # it has exited

    def _sample_cpu(self, procs: list) -> None:
        for p in procs:
            known = self._procs.setdefault(p.pid, p)  # the same object: cpu_percent is a delta
            try:
                percent = known.cpu_percent()  # type: ignore[attr-defined]
                name = self._role(known)
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
