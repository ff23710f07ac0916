"""How many genuinely distinct pushes the stored-once key would merge (issue 23).

    python -m app.bench.false_merge [--pushes 200000] [--devices 1000] [--rate 330 …]

Recorders that share the intake may store one push twice (at-least-once: a push committed
but not yet acknowledged when its recorder died comes again), so the shared journal keeps a
push once by a key on its content. A key on content alone also merges two pushes that are
truly distinct but carry the same bytes — the same alarm raised twice in one second by one
device, say. The simulator never publishes a push twice, so every key it repeats here is
such a false merge. The fleet's clock advances by 1/rate a push (`--rate 0`: the real
clock, as fast as this machine makes them), since a faster stream packs more pushes of a
device into each of its whole-second timestamps.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import time
from collections import Counter
from collections.abc import Callable

from app.sim.fleet import Fleet

KeyFunction = Callable[[str, bytes], object]


def content_key(topic: str, payload: bytes) -> bytes:
    """The key when the journal offers none of its own: the topic and the payload's bytes."""
    return hashlib.sha256(topic.encode("utf-8", "surrogateescape") + b"\0" + payload).digest()


WindowFunction = Callable[[bytes], float]


def journal_key() -> tuple[str, KeyFunction, WindowFunction | None]:
    """The shared journal's own key — its content key and its receipt window, which depends
    on the payload (a push is refused when one with its key was received in the same window
    of either of two grids offset by half a window: `app/journal/pg.py`) — else
    `content_key` with no window."""
    try:
        from app.journal import pg
    except ImportError:
        return "topic + sha256(payload) (this module's)", content_key, None
    window = getattr(pg, "duplicate_window", None)
    if window is None:
        return "app.journal.pg.content_key", pg.content_key, None
    return "app.journal.pg.content_key within pg.duplicate_window", pg.content_key, window


START = 1_796_371_200.0  # 2026-12-04 00:00 UTC: a simulated clock's start, for the same figures


class _Clock:
    """The fleet's clock: starts at START, one tick a push (with the seed: reproducible)."""

    def __init__(self, step: float) -> None:
        self.t = START
        self.step = step

    def __call__(self) -> float:
        return self.t

    def tick(self) -> None:
        self.t += self.step


def measure(pushes: int = 200_000, devices: int = 1000, rate: float = 330.0, seed: int = 23,
            key: KeyFunction | None = None) -> dict:
    """Publish `pushes` from a simulated fleet (not on a broker) and count key collisions:
    merged pushes by kind (the topic's last level), and a few examples."""
    key_name, key_fn, window = ("given", key, None) if key is not None else journal_key()
    clock = _Clock(1.0 / rate) if rate > 0 else None
    fleet = Fleet("FALSEMERGE", devices=devices, seed=seed,
                  now=clock if clock is not None else time.time)
    seen: dict[object, tuple[str, bytes]] = {}  # by key and window: the push stored
    merged: Counter[str] = Counter()
    examples: list[dict] = []
    t0 = time.perf_counter()
    for _ in range(pushes):
        topic, payload = fleet.next_push()
        if clock is not None:
            clock.tick()
        k = key_fn(topic, payload)
        at = clock.t if clock is not None else time.time()
        w = window(payload) if window else 0
        keys = [(k, "a", math.floor(at / w)), (k, "b", math.floor(at / w + 0.5))] if w else [k]
        earlier = next((seen[x] for x in keys if x in seen), None)
        if earlier is not None:  # refused by the unique key: merged with an earlier push
            merged[topic.rsplit("/", 1)[-1]] += 1
            if len(examples) < 3:
                examples.append({"topic": topic, "payload": payload.decode("utf-8", "replace"),
                                 "same_bytes": earlier == (topic, payload)})
        else:
            for x in keys:
                seen[x] = (topic, payload)
    seconds = time.perf_counter() - t0
    total = sum(merged.values())
    return {"pushes": pushes, "devices": devices, "rate": rate or pushes / seconds,
            "clock": "simulated, 1/rate a push" if clock else "real (flat out)",
            "key": key_name, "merged": total, "false_merge_rate": total / pushes,
            "merged_by_kind": dict(merged), "examples": examples}


def render(r: dict) -> str:
    kinds = ", ".join(f"{k} {v}" for k, v in sorted(r["merged_by_kind"].items())) or "none"
    return (f"{r['pushes']:,} pushes from {r['devices']:,} devices at {r['rate']:,.0f}/s "
            f"({r['clock']}), key {r['key']}: {r['merged']:,} merged "
            f"= {r['false_merge_rate']:.4%} ({kinds})")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.bench.false_merge", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--pushes", type=int, default=200_000)
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--rate", type=float, action="append", default=None,
                   help="pushes a second on the fleet's clock (repeatable; 0 = the real "
                   "clock, flat out; default 330, 5000 and 0)")
    p.add_argument("--json", default=None, help="also write the figures here")
    args = p.parse_args(argv)
    results = [measure(args.pushes, args.devices, rate)
               for rate in (args.rate or [330.0, 5000.0, 0.0])]
    for r in results:
        print(render(r))
        for ex in r["examples"]:
            print(f"  e.g. {ex['topic']} {ex['payload'][:160]}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
