"""Runs of consecutive row numbers: one change notification per run, not one per row."""

from __future__ import annotations

from collections.abc import Iterable


def runs(rows: Iterable[int]) -> list[tuple[int, int]]:
    """(first, last) of each run of consecutive numbers in ascending `rows`."""
    out: list[tuple[int, int]] = []
    for r in rows:
        if out and out[-1][1] == r - 1:
            out[-1] = (out[-1][0], r)
        else:
            out.append((r, r))
    return out
