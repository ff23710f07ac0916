"""Push log first-page timings on a big journal. A script, not a test:

    python tests/perf/pushlog_first_page.py [--rows 1000000] [--journal PATH] [--keep]

Fills a journal with synthetic pushes (real simulator payloads, decoded once, replayed
with other devices and times; one executemany in one transaction), then times the first
page of the push log model — the same code the panel runs — unfiltered and filtered, and
a few pages further down. Prints one line per case: best and median of several runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from app.journal.store import Journal  # noqa: E402
from app.protocol.decode import decode  # noqa: E402
from app.protocol.push import RawPush  # noqa: E402
from app.sim.fleet import Fleet  # noqa: E402
from app.sim.responder import CommandResponder  # noqa: E402

_INSERT = (
    "INSERT INTO push (received_at, source, profile, topic, kind, device, sublock, raw, data,"
    " errors) VALUES (?,?,?,?,?,?,?,?,?,?)"
)


def templates(n: int = 2000) -> list[tuple]:
    fleet = Fleet("PERFKEY", devices=50, seed=3)
    out = []
    now = time.time()
    for _ in range(n):
        topic, payload = fleet.next_push()
        rec = decode(RawPush("mqtt", topic, payload, now, "Perf"))
        out.append((rec.raw.topic, rec.kind, rec.sublock, payload,
                    json.dumps(rec.data, ensure_ascii=False, separators=(",", ":")),
                    json.dumps(rec.errors) if rec.errors else None))
    responder = CommandResponder(fleet)  # command replies, a few per cent of the traffic
    for dev in fleet.device_ids[:20]:
        for cmd in (b"(P01)", f"({dev},1,{len(out)},BASE,1)".encode()):
            for topic, payload in responder.respond(f"download/PERFKEY/{dev}/cmd", cmd):
                rec = decode(RawPush("mqtt", topic, payload, now, "Perf"))
                out.append((rec.raw.topic, rec.kind, rec.sublock, payload,
                            json.dumps(rec.data, ensure_ascii=False, separators=(",", ":")),
                            json.dumps(rec.errors) if rec.errors else None))
    for topic, bad in (("upload/PERFKEY/8000000001/location", b"{bad"),
                       ("upload/PERFKEY/8000000002/location", b"\xff\xfe"),
                       ("upload/PERFKEY/8000000003/alarm", b'{"assetId":1'),
                       ("somebody/else", b"\x00\x01")):
        rec = decode(RawPush("mqtt", topic, bad, now, "Perf"))
        out.append((rec.raw.topic, rec.kind, rec.sublock, bad, json.dumps(rec.data),
                    json.dumps(rec.errors)))
    return out


def fill(path: str, rows: int, devices: int) -> None:
    tpl = templates()
    rng = random.Random(1)
    device_ids = [f"8{n:09d}" for n in range(devices)]
    start = time.time() - rows * 0.01  # 100 pushes/s of history
    journal = Journal(path)  # creates the schema
    conn = journal.conn
    # Bulk load: no WAL copy, no fsync, and the secondary indexes built once at the end
    # (the same CREATE INDEX statements the schema made) instead of row by row.
    conn.execute("PRAGMA journal_mode=OFF")
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("PRAGMA cache_size=-200000")
    indexes = [sql for (sql,) in conn.execute(
        "SELECT sql FROM sqlite_master WHERE type='index' AND tbl_name='push' AND sql IS NOT NULL"
    )]
    for (name,) in conn.execute(
        "SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='push'"
        " AND sql IS NOT NULL"
    ).fetchall():
        conn.execute(f"DROP INDEX {name}")
    t0 = time.perf_counter()
    chunk = 100_000
    conn.execute("BEGIN")
    for base in range(0, rows, chunk):
        batch = []
        for i in range(base, min(rows, base + chunk)):
            topic, kind, sublock, raw, data, errors = tpl[rng.randrange(len(tpl))]
            dev = device_ids[rng.randrange(devices)]
            src = "webhook" if i % 97 == 0 else "mqtt"
            batch.append((start + i * 0.01, src, "Perf", topic, kind, dev, sublock, raw, data,
                          errors))
        conn.executemany(_INSERT, batch)
    for sql in indexes:
        conn.execute(sql)
    conn.execute("COMMIT")
    conn.execute("PRAGMA journal_mode=WAL")
    journal.close()
    print(f"filled {rows:,} rows in {time.perf_counter() - t0:.1f} s "
          f"({os.path.getsize(path) / 1e6:,.0f} MB)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--devices", type=int, default=5000)
    ap.add_argument("--journal", help="reuse or create this journal (default: a temp file)")
    ap.add_argument("--keep", action="store_true", help="keep the temp journal")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()

    path = args.journal or str(Path(tempfile.mkdtemp(prefix="pushlog-perf-")) / "j.sqlite")
    if not Path(path).exists() or Journal(path).count() < args.rows:
        if Path(path).exists():
            os.remove(path)
        fill(path, args.rows, args.devices)

    from PySide6.QtCore import QCoreApplication

    from app.ui.panels.pushlog.model import PushLogModel
    from app.ui.panels.pushlog.query import PushFilter, fetch_page

    QCoreApplication.instance() or QCoreApplication([])
    journal = Journal(path)
    conn = journal.conn
    print(f"journal {path}: {journal.count():,} rows")

    # a device and an alarm-heavy kind from the newest rows, and a rare kind
    device = conn.execute("SELECT device FROM push ORDER BY id DESC LIMIT 1").fetchone()[0]
    old_device = conn.execute("SELECT device FROM push WHERE id=1").fetchone()[0]
    mid = journal.count() // 2
    last = conn.execute("SELECT max(received_at) FROM push").fetchone()[0]
    cases = [
        ("unfiltered", PushFilter(), None),
        (f"device {device}", PushFilter(device=device), None),
        ("kind=location", PushFilter(kind="location"), None),
        ("kind=command (rare)", PushFilter(kind="command"), None),
        ("kind=unknown (very rare)", PushFilter(kind="unknown"), None),
        (f"device {old_device} + kind=alarm", PushFilter(device=old_device, kind="alarm"), None),
        ("last hour", PushFilter(since=time.time() - 3600), None),
        ("an hour, two hours ago", PushFilter(since=last - 7200, until=last - 3600), None),
        (f"device {device} + text 'alarm'", PushFilter(device=device, text="alarm"), None),
        ("unfiltered, page at mid journal", PushFilter(), mid),
        (f"device {device}, page at mid journal", PushFilter(device=device), mid),
        ("errors only (no index)", PushFilter(errors_only=True), None),
        ("text '\"alarmType\":46' (LIKE, no index)", PushFilter(text='"alarmType":46'), None),
    ]

    def timed(fn) -> tuple[float, float, object]:
        times = []
        result = None
        for _ in range(args.runs):
            t0 = time.perf_counter()
            result = fn()
            times.append((time.perf_counter() - t0) * 1000)
        return min(times), statistics.median(times), result

    print(f"{'case':48} {'rows':>5} {'best ms':>8} {'median ms':>10}")
    for name, flt, before in cases:
        best, med, rows = timed(lambda f=flt, b=before: fetch_page(conn, f, b))
        print(f"query  {name:41} {len(rows):5} {best:8.1f} {med:10.1f}")

    # The model end to end: construction + first page through its synchronous path.
    model_cases = (("unfiltered", PushFilter()), (f"device {device}", PushFilter(device=device)))
    for name, flt in model_cases:
        def first_page(f=flt):
            model = PushLogModel(path, async_queries=False)
            model.set_filter(f)
            model.reload()
            n = model.rowCount()
            model.shutdown()
            return n
        best, med, n = timed(first_page)
        print(f"model  first page, {name:29} {n:5} {best:8.1f} {med:10.1f}")
    journal.close()
    if not args.journal and not args.keep:
        os.remove(path)
        for suffix in ("-wal", "-shm"):
            if os.path.exists(path + suffix):
                os.remove(path + suffix)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
