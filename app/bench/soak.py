"""`python main.py bench --soak MINUTES [--soak-rate R --soak-devices N]`: a shift, compressed.

The window (offscreen, a new user's settings) connected to a private broker while the
simulator publishes `R` pushes a second from `N` devices for `MINUTES`. From outside the
window the benchmark samples each process's resident memory every few seconds (window,
recording process, journal process); inside, the window's report keeps the event loop's
stalls as one histogram per ten-minute slice (no samples kept: a report that grew would be
the very growth it looks for). At the end:

- per process, the memory slope over the second half of the pushes (MB per hour, a least
  squares line) and the peak;
- per ten-minute slice, stall p50 / p99 / max;
- nothing lost: the journal's count against what the simulator published;
- what the bounded structures hold against their bounds (the window's report).

Targets (issue 26), 60 minutes at 330/s from 10 000 devices: window slope <= 5 MB/h, peak
<= 600 MB, stall p99 <= 50 ms in every slice, journal count == published.
"""

from __future__ import annotations

import json
import subprocess
import time
from pathlib import Path

from app.bench.sampling import JournalGrowth, ProcessMemory

SLICE_S = 600.0  # stalls are summed up per ten minutes
SAMPLE_S = 5.0  # memory sampled this often
SETTLE_S = 8.0  # start-up and subscription before the simulator starts
TARGET_SLOPE = 5.0  # MB per hour, window, second half
TARGET_PEAK = 600.0  # MB, window
TARGET_P99 = 50.0  # ms, every slice


def slope_mb_per_hour(t: list[float], mb: list[float | None], since: float,
                      until: float) -> float | None:
    """Least-squares slope of the samples taken in [since, until], in MB per hour."""
    pts = [(x, y) for x, y in zip(t, mb, strict=True) if y is not None and since <= x <= until]
    if len(pts) < 3:
        return None
    n = len(pts)
    mx = sum(x for x, _ in pts) / n
    my = sum(y for _, y in pts) / n
    sxx = sum((x - mx) ** 2 for x, _ in pts)
    if sxx <= 0:
        return None
    sxy = sum((x - mx) * (y - my) for x, y in pts)
    return sxy / sxx * 3600.0


def bench_soak(broker, minutes: float, rate: int, devices: int, tmp: Path,
               main: list[str], env: dict[str, str]) -> dict:
    journal, report = tmp / "soak.sqlite", tmp / "soak.json"
    key = "SOAK"
    seconds = int(minutes * 60)
    # The window's log to a file, not a pipe read at the end: an hour of Qt's warnings
    # would fill a pipe's buffer and block the window on a write.
    log_path = tmp / "window.log"
    log_file = log_path.open("w")
    window = subprocess.Popen(
        [*main, "--host", broker.host, "--port", str(broker.port), "--access-key", key,
         "--journal", str(journal), "--report", str(report), "--report-slices", str(SLICE_S),
         "--client-id", "soak-window", "--clean-session",
         "--quit-after", str(SETTLE_S + seconds + 20),
         "--settings-file", str(tmp / "soak-settings.ini")],  # a new user's defaults
        env=env, stdout=subprocess.DEVNULL, stderr=log_file, text=True,
    )
    started = time.monotonic()
    with ProcessMemory(window.pid, SAMPLE_S) as memory, JournalGrowth(journal, 10.0) as growth:
        deadline = time.monotonic() + 30
        while not journal.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(SETTLE_S)
        flow_from = time.monotonic()
        sim = subprocess.run(
            [*main, "simulate", "--host", broker.host, "--port", str(broker.port),
             "--access-key", key, "--devices", str(devices), "--rate", str(rate),
             "--duration", str(seconds), "--qos", "1", "--client-id", "soak-sim"],
            env=env, capture_output=True, text=True,
        )
        flow_to = time.monotonic()
        published = int(sim.stdout.split()[1]) if sim.stdout.startswith("published") else -1
        window.wait(timeout=seconds + 300)
    log_file.close()
    err = log_path.read_text(errors="replace")
    data = json.loads(report.read_text()) if report.exists() else {"error": err[-2000:]}
    half = flow_from + (flow_to - flow_from) / 2
    processes = {}
    for role, mb in sorted(memory.rss_mb.items()):
        flow = [y for x, y in zip(memory.t, mb, strict=True)
                if y is not None and flow_from <= x <= flow_to]
        processes[role] = {
            "slope_mb_per_h_second_half": _round(slope_mb_per_hour(memory.t, mb, half, flow_to)),
            "slope_mb_per_h_first_half": _round(slope_mb_per_hour(memory.t, mb, flow_from,
                                                                  half)),
            "peak_mb": max((y for y in mb if y is not None), default=None),
            "start_mb": flow[0] if flow else None,
            "end_mb": flow[-1] if flow else None,
            # Every sample, to plot: (seconds from the start of the pushes, MB).
            "samples": [(round(x - flow_from, 1), y) for x, y in zip(memory.t, mb, strict=True)
                        if y is not None],
        }
    out = {"error": data["error"]} if "error" in data else {}
    return out | {
        "minutes": minutes, "target_rate": rate, "devices_target": devices,
        "published": published, "journaled": data.get("journaled"),
        "achieved_rate": published / (flow_to - flow_from) if published > 0 else 0,
        "processes": processes,
        "stall_slices": data.get("stall_slices", []),
        "stall": data.get("stall"),
        "bounds": data.get("bounds", {}),
        "devices": data.get("devices"),
        "view_delivered": data.get("view_delivered"),
        "view_dropped": data.get("view_dropped"),
        "gc_collected_during_run": data.get("gc_collected_during_run"),
        "gc_freed_at_exit": data.get("gc_freed_at_exit"),
        "long_stalls": data.get("long_stalls", [])[:100],
        "stall_stacks": data.get("stall_stacks", [])[:10],
        "journal_rows_every_10s": growth.rows,
        "simulator": sim.stdout.strip()[-300:] or sim.stderr.strip()[-300:],
        "window_log": err.splitlines()[-50:],
        "started_s_before_pushes": round(flow_from - started, 1),
    }


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def verdict(s: dict) -> dict[str, bool]:
    """Each of the issue's targets: met or not (for the closing line and the JSON)."""
    window = s["processes"].get("window", {})
    slope = window.get("slope_mb_per_h_second_half")
    peak = window.get("peak_mb")
    # A slice shorter than a minute (the end of the run) says little: not judged.
    slices = [x for x in s["stall_slices"] if x["to_s"] - x["from_s"] >= 60]
    if "error" in s:
        return {"the window ran to the end": False}
    return {
        "window slope <= 5 MB/h": slope is not None and slope <= TARGET_SLOPE,
        "window peak <= 600 MB": peak is not None and peak <= TARGET_PEAK,
        "stall p99 <= 50 ms in every slice": bool(slices) and all(
            x["p99_ms"] <= TARGET_P99 for x in slices),
        "nothing lost": s["published"] > 0 and s["journaled"] == s["published"],
    }


def render(r: dict) -> str:
    s = r["soak"]
    f = _f
    lines = [f"SealDesk soak ({s['minutes']:g} min, {s['target_rate']:,}/s target from "
             f"{s['devices_target']:,} devices, {r['cpu_count']} cores, broker {r['broker']})",
             f"  published {f(s['published'], '{:,}')} ({f(s['achieved_rate'], '{:,.0f}')}/s), "
             f"journaled {f(s['journaled'], '{:,}')}: "
             + ("nothing lost" if s["journaled"] == s["published"] else "MISMATCH"),
             "  memory            start →    end     peak   slope 1st half   slope 2nd half"]
    for role, p in s["processes"].items():
        lines.append(f"  {role:<16} {f(p['start_mb'], '{:>6,.0f}')} → {f(p['end_mb'], '{:>6,.0f}')}"
                     f" {f(p['peak_mb'], '{:>6,.0f}')} MB"
                     f" {f(p['slope_mb_per_h_first_half'], '{:>+10.1f}')} MB/h"
                     f" {f(p['slope_mb_per_h_second_half'], '{:>+10.1f}')} MB/h")
    lines.append("  event-loop stalls per slice (from the first push): p50 / p99 / max, > 100 ms")
    for x in s["stall_slices"]:
        lines.append(f"  {x['from_s'] / 60:>5.1f}–{x['to_s'] / 60:>5.1f} min  "
                     f"{x['p50_ms']:>5.1f} / {x['p99_ms']:>5.1f} / {x['max_ms']:>6.1f} ms, "
                     f"{x['over_100ms']}")
    bounds = s.get("bounds") or {}
    if bounds:
        lines.append("  bounded structures at the end (held / bound):")
        for name, (held, bound) in bounds.items():
            lines.append(f"    {name:<44} {held:>9,} / {bound:,}")
    lines.append("  targets: " + ", ".join(
        f"{k}: {'met' if ok else 'NOT MET'}" for k, ok in verdict(s).items()))
    return "\n".join(lines)


def _f(x, fmt="{:,.1f}") -> str:
    return "n/a" if x is None else fmt.format(x)

