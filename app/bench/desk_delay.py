"""A desk's live-feed delay: from a push's commit in the shared journal to the desk's screen.

`measure_desk_delay(url)` opens a real desk window (every panel, shown, offscreen when there
is no display) on the PostgreSQL journal at `url`, then a writer *process* — a recorder's
stand-in, so it does not share the window's GIL — stores pushes at a steady rate through the
journal's write API and notes when each commit returned. The desk notes when each push had
been handed to every view and the event loop had turned once more (the paint of what they
changed). The delay of a push is the second time less the first: LISTEN/NOTIFY, the tail's
read, the feed's tick (≤ 200 ms, 5 batches/s by design) and the views' turns.

    python -m app.bench.desk_delay postgresql://user@host/db [--rate 200] [--seconds 10]

Measured on the 2-core test machine (PostgreSQL, writer and desk on it): 200/s one push a
commit p50 143 ms, p99 239 ms; 1 000/s (10 a commit) 154 / 305 ms; 3 000/s (100 a commit)
161 / 319 ms; 6 000/s (200 a commit) 471 / 1 024 ms — the window's feed ticks less often when
its views are busy, by design (app/ui/feed.py) — every push shown.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

DEFAULT_RATE = 200.0  # pushes per second
DEFAULT_SECONDS = 10.0
DEFAULT_PER_COMMIT = 1  # pushes a transaction: a recorder that keeps up commits each at once
WARMUP_S = 1.0  # pushes committed this soon after the writer starts are not counted
GRACE_S = 5.0  # after the writer ends, how long the desk may take to show the rest


def _write_steadily(url: str, rate: float, seconds: float, per_commit: int,
                    out: Any) -> None:
    """The writer process: `per_commit` pushes a transaction, `rate` pushes a second, for
    `seconds`; sends back [(push id, commit time)] once done."""
    from app.journal.url import open_journal
    from app.protocol.decode import decode
    from app.protocol.push import RawPush
    from app.sim.fleet import Fleet

    fleet = Fleet("DESKBENCH", devices=50, seed=11)
    devices = fleet.device_ids
    commits: list[tuple[int, float]] = []
    with open_journal(url) as journal:
        step = per_commit / rate
        start = next_at = time.time()
        i = 0
        while next_at - start < seconds:
            wait = next_at - time.time()
            if wait > 0:
                time.sleep(wait)
            records = []
            for _ in range(per_commit):  # each its own payload: a repeat is stored once
                [(topic, payload)] = fleet.location(devices[i % len(devices)])[:1]
                i += 1
                records.append(decode(RawPush("mqtt", topic, payload, time.time(), "bench")))
            ids = journal.write(records)
            done = time.time()
            commits.extend((push_id, done) for push_id in ids)
            next_at += step
    out.send(commits)
    out.close()


def measure_desk_delay(url: str, *, rate: float = DEFAULT_RATE,
                       seconds: float = DEFAULT_SECONDS,
                       per_commit: int = DEFAULT_PER_COMMIT) -> dict[str, Any]:
    """Commit → on-screen delay of a desk on the PostgreSQL journal at `url` (migrated if
    new; the pushes written stay in it). Returns the figures `render` prints: p50, p99 and
    max in ms, pushes written and shown."""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY")
                                                 or os.environ.get("WAYLAND_DISPLAY")):
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # no screen: draw anyway
    from PySide6.QtCore import QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    from app.ui.session import Session

    app = QApplication.instance() or QApplication(sys.argv[:1])
    folder = tempfile.mkdtemp(prefix="sealdesk-deskbench-")
    settings = QSettings(str(Path(folder) / "desk.ini"), QSettings.Format.IniFormat)
    session = Session(url, settings, desk=True, operator="bench")
    window = session.open_window()
    window.show()
    shown: dict[int, float] = {}

    def stamp(ids: list[int]) -> None:
        now = time.time()
        for push_id in ids:
            shown.setdefault(push_id, now)

    def on_delivered(change: Any) -> None:
        ids = [i for i, _ in change.records]
        QTimer.singleShot(0, lambda: stamp(ids))  # once the views' paint has had its turn

    session.feed.sig_batch_delivered.connect(on_delivered)
    loop = QEventLoop()

    def run_until(done, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not done():
            if time.monotonic() > deadline:
                return False
            QTimer.singleShot(20, loop.quit)
            loop.exec()
        return True

    writer = None
    try:
        if not run_until(lambda: getattr(session.ctx.shared.state, "connected", False), 30):
            raise RuntimeError(f"the desk could not reach the journal at {url}")
        ctx = mp.get_context("spawn")
        receive, send = ctx.Pipe(duplex=False)
        writer = ctx.Process(target=_write_steadily, args=(url, rate, seconds, per_commit, send),
                             name="desk-bench-writer")
        writer.start()
        send.close()
        run_until(lambda: receive.poll(), seconds + 120)
        commits: list[tuple[int, float]] = receive.recv() if receive.poll() else []
        writer.join(30)
        first = min((t for _, t in commits), default=0.0)
        counted = [(i, t) for i, t in commits if t - first >= WARMUP_S]
        run_until(lambda: all(i in shown for i, _ in counted), GRACE_S)
    finally:
        if writer is not None and writer.is_alive():
            writer.terminate()
        window.close()
        session.feed.stop()
        session.ctx.acknowledgements.close()
        session.recording.stop()
        window.deleteLater()
        app.processEvents()
        # What the window wrote on closing goes to disk now, not when QSettings is destroyed
        # at exit, which would make the folder again after it is removed.
        settings.sync()
        shutil.rmtree(folder, ignore_errors=True)
    delays = sorted((shown[i] - t) * 1000.0 for i, t in counted if i in shown)
    return {
        "journal": "postgresql",
        "rate": rate,
        "seconds": seconds,
        "per_commit": per_commit,
        "written": len(commits),
        "counted": len(counted),
        "shown": len(delays),
        "p50_ms": _pct(delays, 50),
        "p99_ms": _pct(delays, 99),
        "max_ms": delays[-1] if delays else None,
        "mean_ms": statistics.fmean(delays) if delays else None,
    }


def _pct(values: list[float], p: float) -> float | None:
    if not values:
        return None
    k = min(len(values) - 1, max(0, round(p / 100.0 * (len(values) - 1))))
    return values[k]


def render(result: dict[str, Any]) -> str:
    """One line for `bench`: the percentiles, and what they were measured on."""
    if not result.get("shown"):
        return (f"desk live-feed delay: nothing shown of {result.get('counted', 0):,} pushes "
                f"written at {result.get('rate', 0):g}/s")
    missing = result["counted"] - result["shown"]
    tail = "all shown" if not missing else f"{missing:,} not shown within {GRACE_S:g} s"
    return (f"desk live-feed delay, commit → screen (PostgreSQL, LISTEN/NOTIFY): "
            f"p50 {result['p50_ms']:.0f} ms, p99 {result['p99_ms']:.0f} ms, "
            f"max {result['max_ms']:.0f} ms — {result['counted']:,} pushes at "
            f"{result['rate']:g}/s, {result['per_commit']} a commit, {tail}")


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.bench.desk_delay",
                                description="A desk's commit → screen delay on a PostgreSQL "
                                            "journal (the pushes written stay in it).")
    p.add_argument("url", help="postgresql://user@host/db (a scratch database)")
    p.add_argument("--rate", type=float, default=DEFAULT_RATE)
    p.add_argument("--seconds", type=float, default=DEFAULT_SECONDS)
    p.add_argument("--per-commit", type=int, default=DEFAULT_PER_COMMIT)
    args = p.parse_args(argv)
    print(render(measure_desk_delay(args.url, rate=args.rate, seconds=args.seconds,
                                    per_commit=args.per_commit)))
    return 0


if __name__ == "__main__":
    sys.exit(main())


def bench_desk_delay(quick: bool) -> dict[str, Any]:
    """The figure `bench` prints: a desk on a throw-away PostgreSQL (or `$SEALDESK_BENCH_PG`),
    or `not_measured` with the reason where PostgreSQL cannot be started here."""
    import contextlib

    from app.bench.throughput import _pg_target

    seconds = 5.0 if quick else DEFAULT_SECONDS
    with contextlib.ExitStack() as stack:
        url, _pid, why = _pg_target(stack)
        if url is None:
            return {"not_measured": why}
        try:
            return measure_desk_delay(url, rate=DEFAULT_RATE, seconds=seconds)
        except Exception as exc:  # a benchmark line that says why, not a crashed bench
            return {"not_measured": f"not measured: {type(exc).__name__}: {exc}"}
