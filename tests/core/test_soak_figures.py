"""The soak benchmark's arithmetic (issue 26): the slope over the second half, the stall
histogram's percentiles, the verdict. The benchmark itself runs for minutes: not a test."""

from __future__ import annotations

import random

from app.bench.soak import slope_mb_per_hour, verdict
from app.ui.stall import StallHistogram


def test_the_slope_is_fitted_to_the_samples_of_its_window_only():
    t = [float(s) for s in range(0, 3600, 5)]
    filling = [200 + min(s, 1200) * 0.1 for s in t]  # grows for 20 min, then flat
    assert slope_mb_per_hour(t, filling, 1800, 3600) == 0.0
    assert abs(slope_mb_per_hour(t, filling, 0, 1200) - 360.0) < 1e-6  # 0.1 MB/s
    assert slope_mb_per_hour(t, [None] * len(t), 0, 3600) is None


def test_stall_percentiles_from_the_histogram_are_within_half_a_millisecond():
    rng = random.Random(26)
    samples = [rng.expovariate(1 / 4) for _ in range(60_000)] + [310.0]
    h = StallHistogram()
    for x in samples:
        h.add(x)
    samples.sort()
    exact_p99 = samples[int(0.99 * (len(samples) - 1))]
    assert abs(h.percentile(0.99) - exact_p99) <= StallHistogram.BIN_MS
    assert h.max_ms == 310.0 and h.over_100ms == 1 and h.samples == len(samples)


def test_the_verdict_judges_every_target():
    soak = {"processes": {"window": {"slope_mb_per_h_second_half": 4.0, "peak_mb": 420.0}},
            "stall_slices": [{"from_s": 0, "to_s": 600, "p99_ms": 20.0},
                             {"from_s": 600, "to_s": 620, "p99_ms": 90.0}],  # a stub: not judged
            "published": 1000, "journaled": 1000}
    assert all(verdict(soak).values())
    soak["journaled"] = 999
    assert not verdict(soak)["nothing lost"]
