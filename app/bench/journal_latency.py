"""First-page latency of the push log and of one device's history in a large journal."""

from __future__ import annotations

import json
import random
import time
from pathlib import Path

from app.journal.queries import fill_fast, newest_device
from app.journal.store import Journal


def build(path: Path, rows: int, devices: int = 1000, seed: int = 1) -> None:
    """Fill a journal fast with realistic-looking rows (one transaction, executemany)."""
    rnd = random.Random(seed)
    Journal(path).close()  # schema and indexes as the app makes them
    t0 = time.time() - rows
    ids = [f"80{rnd.randrange(10**8):08d}" for _ in range(devices)]
    data = json.dumps({"assetId": "x", "battery": 80, "latitude": 22.6, "longitude": 113.9,
                       "statusJson": {"lockStatus": 1, "lockRope": 0}})
    raw = data.encode()

    def gen():
        for i in range(rows):
            dev = ids[i % devices]
            kind = "alarm" if i % 50 == 0 else "location"
            yield (t0 + i, "mqtt", "bench", f"upload/K/{dev}/{kind}", kind, dev, None, raw, data,
                   None)

    fill_fast(path, gen())


def first_page_ms(path: Path, *, device: str | None = None, page: int = 500,
                  repeats: int = 5) -> float:
    """Median time to open a connection and read the newest `page` rows (cold connection)."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        with Journal(path) as j:
            rows = list(j.rows(device=device, newest_first=True, limit=page))
        times.append((time.perf_counter() - t) * 1000)
        assert rows
    return sorted(times)[len(times) // 2]


def a_device(path: Path) -> str:
    with Journal(path) as j:
        device = newest_device(j)
    assert device is not None, "an empty journal"
    return device
