"""Garbage-collector settings for long-running, allocation-heavy processes.

Decoding a push allocates dozens of small dicts that reference counting frees at once;
the cyclic collector, run every 700 allocations by default, re-scans everything still
alive (the journal batch, the fleet state) for nothing. Freezing what start-up built and
collecting generation 0 less often gave the recorder about 10-15 % here.
"""

from __future__ import annotations

import gc


def tune_for_throughput() -> None:
    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 20)


# The window: short pauses matter more than throughput. The collector runs in whichever
# thread allocates and holds the GIL while it walks: under a flood young collections took
# 20-80 ms and full ones ~100-150 ms, inside batches. It only ever finds reference cycles,
# and the window makes almost none (115 objects over a 20 s, 85 000-push flood, measured
# with the benchmark's report): pushes are acyclic dicts and lists that reference counting
# frees. So in the window the automatic collector is off, and a full collection runs once
# a minute when no push has come for a few seconds.
IDLE_FULL_COLLECT_S = 60.0


def tune_for_latency() -> None:
    """Freeze what start-up built; collect only when asked (see collect_all)."""
    gc.collect()
    gc.freeze()
    gc.disable()


def collect_all() -> int:
    """The full collection tune_for_latency() leaves to the caller; returns what it freed."""
    return gc.collect()
