"""`python -m app.bench.growth [--devices N] [--per-device P]`: what still grows once every
bound is full (issue 26).

The soak benchmark says *whether* the window's memory is flat; this says *what* holds it when
it is not. The real window (offscreen, a throw-away home and journal, small bounds so they fill
fast) takes the simulated fleet's pushes through the recording process and the live feed, as
in a shift. Once every device was seen P times, it counts the objects by type and starts
tracemalloc; after two more rounds of P pushes a device it prints the object counts of the
three moments and the allocations still alive that grew in the last round, by line and by
traceback — the structure that grows is at the top. Several minutes; nothing is kept.
"""

from __future__ import annotations

import argparse
import collections
import gc
import os
import shutil
import tempfile
import time
import tracemalloc
from pathlib import Path

BLOCK = 2000  # pushes handed to the recording process at once
SMALL_BOUNDS = {"alarm rows": 500, "event rows": 500, "unacknowledged": 300,
                "push log rows": 2000}


def _types() -> collections.Counter:
    gc.collect()
    return collections.Counter(type(o).__name__ for o in gc.get_objects())


def measure(devices: int, per_device: int) -> str:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from app.protocol.push import RawPush
    from app.sim.fleet import Fleet
    from app.ui import bounds
    from app.ui.session import Session

    app = QApplication.instance() or QApplication([])
    tmp = Path(tempfile.mkdtemp(prefix="sealdesk-growth-"))
    try:
        settings = QSettings(str(tmp / "settings.ini"), QSettings.Format.IniFormat)
        for bound, value in zip((bounds.ALARM_ROWS, bounds.EVENT_ROWS, bounds.UNACKNOWLEDGED,
                                 bounds.PUSHLOG_ROWS), SMALL_BOUNDS.values(), strict=True):
            settings.setValue(bound.key, value)
        session = Session(tmp / "journal.sqlite", settings)
        window = session.open_window()
        window.resize(1600, 1000)
        window.show()
        fleet = Fleet("GROWTH", devices=devices, seed=26)
        feed = session.feed

        def pump(n: int) -> None:
            for _ in range(0, n, BLOCK):
                target = feed.delivered + feed.dropped + BLOCK
                now = time.time()
                for _ in range(BLOCK):
                    topic, payload = fleet.next_push()
                    session.recording.submit(RawPush("mqtt", topic, payload, now, "growth"))
                session.recording.flush(60)
                deadline = time.monotonic() + 60
                while feed.delivered + feed.dropped < target and time.monotonic() < deadline:
                    app.processEvents()
                    time.sleep(0.002)  # a benchmark's pacing, the window's events run meanwhile
            for _ in range(200):
                app.processEvents()

        n = devices * per_device
        pump(n)
        warm = _types()
        tracemalloc.start(8)
        pump(n)
        gc.collect()
        first, middle = tracemalloc.take_snapshot(), _types()
        pump(n)
        gc.collect()
        last, end = tracemalloc.take_snapshot(), _types()
        tracemalloc.stop()
        held = bounds.census(window, session.fleet, feed)
        window.close()
        feed.stop()
        session.recording.stop()
        app.processEvents()
        settings.sync()  # now, not at exit, when it would make the removed folder again
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    out = [f"{devices:,} devices, {n:,} pushes a round, bounds {SMALL_BOUNDS}; "
           f"delivered {feed.delivered:,}, dropped {feed.dropped:,}",
           "objects by type: full bounds → +1 round → +2 rounds (the most grown first)"]
    for name in sorted(end, key=lambda k: end[k] - warm[k], reverse=True)[:20]:
        out.append(f"  {name:<36} {warm[name]:>9,} {middle[name]:>9,} {end[name]:>9,}")
    out.append("alive and grown in the last round, by line:")
    out += [f"  {stat}" for stat in last.compare_to(first, "lineno")[:20]]
    out.append("the same, by traceback (top 5):")
    for stat in last.compare_to(first, "traceback")[:5]:
        out.append(f"  {stat}")
        out += [f"      {line}" for line in stat.traceback.format()[-6:]]
    out.append("bounded structures (held / bound):")
    out += [f"  {h.what:<48} {h.held:>7,} / {h.bound:,}" for h in held]
    return "\n".join(out)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m app.bench.growth", description=__doc__.split(
        "\n\n")[0])
    p.add_argument("--devices", type=int, default=1000)
    p.add_argument("--per-device", type=int, default=40,
                   help="pushes a device per round (three rounds)")
    args = p.parse_args(argv)
    print(measure(args.devices, args.per_device))
    return 0


if __name__ == "__main__":  # the recording process is spawned: the main module is guarded
    raise SystemExit(main())
