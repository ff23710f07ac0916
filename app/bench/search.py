"""The push log's decoded search on a big journal: how long the first page takes.

    python -m app.bench.search [--rows 1000000] [--journal PATH] [--keep] [--runs 5]

Fills a journal with pushes the simulated fleet makes (decoded once, replayed with other
devices and times, through the journal's bulk fill: its trigger writes each push's decoded
line as `Journal.write` does), a few of them carrying a rare card number, then times the
first page (500 rows, newest first) of decoded searches — the query the push log runs for
its search box — and, for comparison, one scan of the raw payloads. One line per case:
best and median of the runs, the rows found.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from app.journal.push_query import PushFilter, fetch_page_raw
from app.journal.queries import fill_fast
from app.journal.store import Journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet

PAGE = 500
RARE_CARD = "7731904452"  # on a handful of unlock events only
FIELDS = ("alarmName", "alarmType", "eventName", "card")  # a few, as the push log asks


def templates(n: int = 3000) -> list[tuple]:
    fleet = Fleet("BENCH", devices=60, seed=5)
    now = time.time()
    out = []
    for _ in range(n):
        topic, payload = fleet.next_push()
        rec = decode(RawPush("mqtt", topic, payload, now, "Bench"))
        out.append((rec.raw.topic, rec.kind, rec.sublock, payload,
                    json.dumps(rec.data, ensure_ascii=False, separators=(",", ":")),
                    json.dumps(rec.errors) if rec.errors else None))
    return out


def rare_event() -> tuple:
    fleet = Fleet("BENCH", devices=1, seed=6)
    topic, payload = fleet.unlock(fleet.device_ids[0], 1)[0]
    doc = json.loads(payload)
    doc["card"] = RARE_CARD
    payload = json.dumps(doc).encode()
    rec = decode(RawPush("mqtt", topic, payload, time.time(), "Bench"))
    return (rec.raw.topic, rec.kind, rec.sublock, payload,
            json.dumps(rec.data, ensure_ascii=False, separators=(",", ":")), None)


def fill(path: str, rows: int, devices: int = 5000) -> float:
    Journal(path).close()  # schema, indexes and the search trigger as the app makes them
    tpl = templates()
    rare = rare_event()
    rng = random.Random(1)
    ids = [f"8{n:09d}" for n in range(devices)]
    start = time.time() - rows * 0.01
    rare_at = {rows // 7, rows // 3, rows // 2, rows - rows // 5}

    def gen():
        for i in range(rows):
            topic, kind, sublock, raw, data, errors = rare if i in rare_at else \
                tpl[rng.randrange(len(tpl))]
            yield (start + i * 0.01, "mqtt", "Bench", topic, kind, ids[rng.randrange(devices)],
                   sublock, raw, data, errors)

    t0 = time.perf_counter()
    fill_fast(path, gen())
    return time.perf_counter() - t0


def timed(conn, flt: PushFilter, runs: int) -> tuple[float, float, int]:
    times, found = [], 0
    for _ in range(runs):
        t0 = time.perf_counter()
        found = len(fetch_page_raw(conn, flt, None, PAGE, fields=FIELDS))
        times.append(time.perf_counter() - t0)
    return min(times), statistics.median(times), found


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--journal", help="reuse or create this journal (default: a temp file)")
    ap.add_argument("--keep", action="store_true", help="keep the temp journal")
    ap.add_argument("--runs", type=int, default=5)
    args = ap.parse_args(argv)

    folder = None
    path = args.journal
    if path is None:
        folder = tempfile.mkdtemp(prefix="sealdesk-search-bench-")
        path = str(Path(folder) / "j.sqlite")
    try:
        with Journal(path) as j:
            have = j.count()
        if have < args.rows:
            if have:
                os.remove(path)
            took = fill(path, args.rows)
            print(f"filled {args.rows:,} pushes in {took:.1f} s "
                  f"({os.path.getsize(path) / 1e6:,.0f} MB, decoded lines included)")
        with Journal(path) as j:
            conn = j.conn
            total = j.count()
            device = fetch_page_raw(conn, PushFilter(), None, 1, fields=FIELDS)[0][5]
            print(f"journal {path}: {total:,} pushes; first page = {PAGE} rows, newest first")
            cases = [
                ("decoded “SOS” (an alarm's name)", PushFilter(text="SOS", raw=False)),
                (f"decoded card “{RARE_CARD}” (4 pushes)", PushFilter(text=RARE_CARD, raw=False)),
                ("decoded “Heartbeat” (sub-lock events)", PushFilter(text="Heartbeat", raw=False)),
                ("decoded “unlocked” (most locations)", PushFilter(text="unlocked", raw=False)),
                ("decoded “zzqx” (nowhere)", PushFilter(text="zzqx", raw=False)),
                ("decoded “SOS”, alarms only", PushFilter(text="SOS", raw=False, kind="alarm")),
                (f"decoded “locked”, device {device}",
                 PushFilter(text="locked", raw=False, device=device)),
            ]
            worst = 0.0
            for name, flt in cases:
                best, median, found = timed(conn, flt, args.runs)
                worst = max(worst, median)
                print(f"{name:<48} best {best * 1000:8.1f} ms  median {median * 1000:8.1f} ms"
                      f"  {found:>4} rows")
            best, median, found = timed(conn, PushFilter(text="zzqx", raw=True), 1)
            print(f"{'raw payloads “zzqx” (a full scan, for scale)':<48} "
                  f"once {best * 1000:8.1f} ms  {found:>4} rows")
            print(f"decoded search at {total:,} pushes: slowest median {worst * 1000:.1f} ms "
                  f"({'under' if worst < 1.0 else 'OVER'} 1 s)")
    finally:
        if folder and not args.keep:
            shutil.rmtree(folder, ignore_errors=True)
        elif folder:
            print(f"kept {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
