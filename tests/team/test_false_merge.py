"""The false-merge measurement (issue 23): distinct simulator pushes the stored-once key
would keep as one."""

from __future__ import annotations

from app.bench.false_merge import journal_key, measure, render


def test_every_repeated_key_counts_as_a_merge():
    by_kind = measure(2000, devices=20, rate=330, key=lambda topic, payload:
                      topic.rsplit("/", 1)[-1])
    kinds = len(by_kind["merged_by_kind"])
    assert by_kind["merged"] >= 2000 - kinds - 2  # one push of each kind (+ sublock) kept
    assert by_kind["false_merge_rate"] == by_kind["merged"] / 2000


def test_the_journal_key_merges_almost_nothing_at_a_real_fleets_pace():
    name, _, window = journal_key()
    assert "content_key" in name and window is not None
    assert window(b'{"gpsTime":"2026-12-04T09:00:00Z"}') == 86400  # the same push for a day
    r = measure(20_000, devices=1000, rate=330)
    assert r["false_merge_rate"] < 0.001
    assert "merged" in render(r)
