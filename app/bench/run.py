"""`python main.py bench [--quick]`: every figure of the performance issue, in one run.

Targets (2-core machine): draining a backlog, record >= 0.8 x a bare paho subscriber
(`throughput.py`: each consumer drains the same pre-filled persistent session on mosquitto's
default in-flight window; mosquitto_sub is the machine's ceiling); window flood 10 000
pushes/s from 10 000 devices for 60 s with event-loop stall p99 <= 50 ms, nothing lost,
peak memory <= 500 MB; journal first page <= 50 ms at a million rows; start-up <= 2 s.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from app.bench import desk_delay, journal_latency, throughput
from app.bench.sampling import JournalGrowth, MemorySampler
from app.brokers import BrokerProcess

ROOT = Path(__file__).resolve().parent.parent.parent
MAIN = [sys.executable, str(ROOT / "main.py")] if (ROOT / "main.py").exists() else [sys.executable]
FLOOD_ALARM_SHARE = 0.026  # of the flood's pushes, alarms


@dataclass
class Plan:
    messages: int
    flood_rate: int
    flood_devices: int
    flood_seconds: int
    journal_rows: int

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:
            return cls(messages=10_000, flood_rate=500, flood_devices=500, flood_seconds=5,
                       journal_rows=50_000)
        return cls(messages=50_000, flood_rate=10_000, flood_devices=10_000, flood_seconds=60,
                   journal_rows=1_000_000)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    env["PYTHONUNBUFFERED"] = "1"
    return env


def bench_window_flood(broker: BrokerProcess, plan: Plan, tmp: Path) -> dict:
    journal, report = tmp / "flood.sqlite", tmp / "flood.json"
    key = "FLOOD"
    settle = 6.0  # start-up and subscription before the simulator starts
    window = subprocess.Popen(
        [*MAIN, "--host", broker.host, "--port", str(broker.port), "--access-key", key,
         "--journal", str(journal), "--report", str(report), "--client-id", "bench-window",
         "--clean-session", "--quit-after", str(settle + plan.flood_seconds + 10),
         "--settings-file", str(tmp / "flood-settings.ini")],  # a new user's defaults
        env=_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )
    with MemorySampler(window.pid) as memory, JournalGrowth(journal) as growth:
        deadline = time.monotonic() + 30
        while not journal.exists() and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(settle)
        # The flood's alarms as before they were paced per device (2.6 % of the pushes, ~260
        # a second at 10 000 pushes/s): a flood of alarms is part of what the window takes.
        alarm_rate = FLOOD_ALARM_SHARE * plan.flood_rate * 3600 / plan.flood_devices
        sim = subprocess.run(
            [*MAIN, "simulate", "--host", broker.host, "--port", str(broker.port),
             "--access-key", key, "--devices", str(plan.flood_devices), "--rate",
             str(plan.flood_rate), "--duration", str(plan.flood_seconds), "--qos", "1",
             "--alarm-rate", f"{alarm_rate:.3f}", "--client-id", "bench-sim"],
            env=_env(), capture_output=True, text=True,
        )
        published = int(sim.stdout.split()[1]) if sim.stdout.startswith("published") else -1
        during = len(memory.rss_mb)  # the samples taken while the flood ran
        _, err = window.communicate(timeout=plan.flood_seconds + 120)
    data = json.loads(report.read_text()) if report.exists() else {"error": err[-2000:]}
    # What the window and its recording processes logged (connection losses, errors).
    data["window_log"] = err.splitlines()[-50:]
    # Peaks of the whole run (the recording process catches up after the flood); the
    # samples, for "does memory stop growing", of the flood only.
    data.update(peak_rss_mb=max(memory.rss_mb, default=None),
                recording_peak_rss_mb=max(memory.children_rss_mb, default=None),
                rss_mb_samples=[round(x, 1) for x in memory.rss_mb[:during]],
                recording_rss_mb_samples=[round(x, 1) for x in memory.children_rss_mb[:during]],
                rss_mb_after_flood=[round(x, 1) for x in memory.rss_mb[during:]],
                recording_rss_mb_after_flood=[round(x, 1) for x in memory.children_rss_mb[during:]],
                cpu_percent_samples=memory.cpu_percent,
                journal_rows_every_2s=growth.rows)
    data.update(published=published, target_rate=plan.flood_rate,
                devices_target=plan.flood_devices, seconds=plan.flood_seconds,
                achieved_rate=published / plan.flood_seconds if published > 0 else 0)
    return data


def bench_drain(n: int) -> dict:
    """The drain figures (throughput.py), with the ratios the issue reads."""
    tp = throughput.measure(n)
    out: dict = {"messages": n, "broker": tp["broker"], "inflight": tp["inflight"],
                 "distinct": tp.get("distinct", n)}
    for name in ("mosquitto_sub", "paho", "record", "record_pg"):
        if name in tp:
            out[name] = tp[name].as_dict()
    if "record_pg_not_measured" in tp:
        out["record_pg_not_measured"] = tp["record_pg_not_measured"]
    paho = out["paho"]["rate"]
    for name in ("mosquitto_sub", "record", "record_pg"):
        if name in out and paho:
            out[name]["ratio_to_paho"] = out[name]["rate"] / paho
    if "record_pg" in out and out["record"]["rate"]:
        out["record_pg"]["ratio_to_sqlite"] = out["record_pg"]["rate"] / out["record"]["rate"]
    return out


def bench_startup(tmp: Path) -> dict:
    """Start to first painted frame, twice: the first start also compiles the bytecode caches
    (as a first start after installing does), the second is every start after that."""
    env = _env()
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # a user's Python writes its caches
    times = []
    for run in ("first", "again"):
        report = tmp / f"startup-{run}.json"
        env["SEALDESK_T0"] = repr(time.time())
        # Its own settings file, as the flood's: the user's settings are not the bench's to
        # write (the first start makes it, the second reads it, as a user's would).
        subprocess.run([*MAIN, "--journal", str(tmp / "startup.sqlite"), "--report", str(report),
                        "--quit-after", "1.5", "--settings-file", str(tmp / "startup.ini")],
                       env=env, capture_output=True, timeout=120)
        data = json.loads(report.read_text()) if report.exists() else {}
        times.append(data.get("startup_s"))
    return {"startup_s": times[1], "first_startup_s": times[0]}


def bench_journal(plan: Plan, tmp: Path) -> dict:
    path = tmp / "big.sqlite"
    t = time.perf_counter()
    journal_latency.build(path, plan.journal_rows)
    built = time.perf_counter() - t
    device = journal_latency.a_device(path)
    return {
        "rows": plan.journal_rows,
        "build_s": built,
        "push_log_first_page_ms": journal_latency.first_page_ms(path),
        "device_history_first_page_ms": journal_latency.first_page_ms(path, device=device),
    }


def run(quick: bool, json_path: str | None, *, flood_only: bool = False,
        flood_rate: int | None = None, flood_devices: int | None = None,
        flood_seconds: int | None = None, soak_minutes: float | None = None,
        soak_rate: int = 330, soak_devices: int = 10_000) -> int:
    if soak_minutes is not None:
        return _soak(soak_minutes, soak_rate, soak_devices, json_path)
    plan = Plan.of(quick)
    plan.flood_rate = flood_rate or plan.flood_rate
    plan.flood_devices = flood_devices or plan.flood_devices
    plan.flood_seconds = flood_seconds or plan.flood_seconds
    results: dict = {"quick": quick, "cpu_count": os.cpu_count()}
    if flood_only:
        return _flood_only(plan, results, json_path)
    with tempfile.TemporaryDirectory(prefix="sealdesk-bench-") as tmpdir:
        tmp = Path(tmpdir)
        print(f"draining a backlog: {plan.messages} pushes each for mosquitto_sub, paho, "
              "record and record into PostgreSQL…", file=sys.stderr)
        results["drain"] = bench_drain(plan.messages)
        with BrokerProcess("auto") as broker:
            results["broker"] = broker.kind
            print(f"broker: {broker.kind} on {broker.host}:{broker.port}", file=sys.stderr)
            print(f"window flood: {plan.flood_rate}/s from {plan.flood_devices} devices for "
                  f"{plan.flood_seconds} s…", file=sys.stderr)
            results["window_flood"] = bench_window_flood(broker, plan, tmp)
        print(f"journal: {plan.journal_rows} rows…", file=sys.stderr)
        results["journal"] = bench_journal(plan, tmp)
        print("start-up…", file=sys.stderr)
        results["startup"] = bench_startup(tmp)
    print("desk live-feed delay on PostgreSQL…", file=sys.stderr)
    results["desk_delay"] = desk_delay.bench_desk_delay(quick)
    _report(render(results), results, json_path)
    return 0


def _flood_only(plan: Plan, results: dict, json_path: str | None) -> int:
    with tempfile.TemporaryDirectory(prefix="sealdesk-bench-") as tmpdir, \
            BrokerProcess("auto") as broker:
        results["broker"] = broker.kind
        print(f"window flood: {plan.flood_rate}/s from {plan.flood_devices} devices for "
              f"{plan.flood_seconds} s…", file=sys.stderr)
        results["window_flood"] = bench_window_flood(broker, plan, Path(tmpdir))
    _report(render_flood(results), results, json_path)
    return 0


def _soak(minutes: float, rate: int, devices: int, json_path: str | None) -> int:
    from app.bench import soak

    results: dict = {"cpu_count": os.cpu_count()}
    with tempfile.TemporaryDirectory(prefix="sealdesk-soak-") as tmpdir, \
            BrokerProcess("auto") as broker:
        results["broker"] = broker.kind
        print(f"soak: {rate}/s from {devices} devices for {minutes:g} min…", file=sys.stderr)
        results["soak"] = soak.bench_soak(broker, minutes, rate, devices, Path(tmpdir), MAIN,
                                          _env())
        results["soak"]["targets"] = soak.verdict(results["soak"])
    _report(soak.render(results), results, json_path)
    return 0


def _report(text: str, results: dict, json_path: str | None) -> None:
    print(text)
    if json_path:
        Path(json_path).write_text(json.dumps(results, indent=2))
        print(f"written to {json_path}")


def _flood_rows(wf: dict) -> list[tuple[str, str, str]]:
    stall = wf.get("stall", {})
    whole = wf.get("stall_whole_run", {})
    rss = wf.get("rss_mb_samples") or []
    tail = rss[-10:]
    rec = wf.get("recording_rss_mb_samples") or []
    return [
        ("window flood: published", _f(wf.get("published"), "{:,}"),
         f"{_f(wf.get('achieved_rate'), '{:,.0f}')}/s of {wf['target_rate']:,}/s target, "
         f"{wf['devices_target']:,} devices"),
        ("window flood: journaled", _f(wf.get("journaled"), "{:,}"),
         "nothing lost" if wf.get("journaled") == wf.get("published") else "MISMATCH"),
        ("window flood: taken off the broker", _f(sum((wf.get("received") or {}).values()),
                                                  "{:,}"),
         f"sessions per profile: {wf.get('sessions')} (more than 1: the broker dropped us)"),
        ("window flood: stall p50 / p99 / max",
         f"{_f(stall.get('p50_ms'))} / {_f(stall.get('p99_ms'))} / {_f(stall.get('max_ms'))} ms",
         f"while pushes arrive; target p99 <= 50 ms; > 100 ms: {stall.get('over_100ms', 'n/a')} "
         f"(whole run with start-up: max {_f(whole.get('max_ms'), '{:,.0f}')} ms)"),
        ("window flood: peak memory", _f(wf.get("peak_rss_mb"), "{:,.0f} MB"),
         f"last 10 s of the flood: {min(tail):,.0f}–{max(tail):,.0f} MB" if tail
         else "target <= 500 MB"),
        ("recording process: peak memory",
         _f(wf.get("recording_peak_rss_mb", max(rec, default=None)), "{:,.0f} MB"),
         f"last 10 s of the flood: {min(rec[-10:]):,.0f}–{max(rec[-10:]):,.0f} MB (with its "
         "journal writer)" if rec else ""),
    ]


def _drain_rows(d: dict) -> list[tuple[str, str, str]]:
    window = (f"in-flight window {d['inflight']}" if d.get("inflight")
              else f"broker {d['broker']}")
    head = f"{d['messages']:,} queued pushes, {window}"
    rows = []
    if "mosquitto_sub" in d:
        m = d["mosquitto_sub"]
        rows.append(("drain: mosquitto_sub (C)", _f(m["rate"], "{:,.0f} msg/s"),
                     f"the machine's ceiling, {m['ratio_to_paho']:.2f} x paho"))
    else:
        rows.append(("drain: mosquitto_sub (C)", "n/a", "not installed (mosquitto-clients)"))
    rows.append(("drain: paho, counting only", _f(d["paho"]["rate"], "{:,.0f} msg/s"), head))
    rec = d["record"]
    cpu = rec.get("cpu_us_per_push", {})
    rows.append(("drain: record (decode+journal+ack)", _f(rec["rate"], "{:,.0f} msg/s"),
                 f"{rec['ratio_to_paho']:.2f} x paho (target >= 0.80); CPU µs a push: "
                 + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
                 + ("" if rec.get("journaled") == d["messages"]
                    else f"; JOURNALED {rec.get('journaled')}")))
    rows.append(_pg_row(d))
    return rows


def _desk_row(d: dict) -> tuple[str, str, str]:
    """A desk's live feed on the shared journal (issue 23): commit → on screen."""
    name = "desk live feed: commit → screen"
    if not d.get("shown"):
        return name, "n/a", d.get("not_measured", "nothing shown")
    missing = d["counted"] - d["shown"]
    return (name, f"p50 {d['p50_ms']:,.0f} / p99 {d['p99_ms']:,.0f} ms",
            f"max {d['max_ms']:,.0f} ms; {d['counted']:,} pushes at {d['rate']:g}/s into "
            "PostgreSQL, LISTEN/NOTIFY" + (f"; {missing:,} NOT SHOWN" if missing else ""))


def _pg_row(d: dict) -> tuple[str, str, str]:
    """record into a shared PostgreSQL journal (issue 23), beside SQLite's figure."""
    name = "drain: record into PostgreSQL"
    pg = d.get("record_pg")
    if pg is None:
        return name, "n/a", d.get("record_pg_not_measured", "not measured")
    cpu = pg.get("cpu_us_per_push", {})
    return (name, _f(pg["rate"], "{:,.0f} msg/s"),
            f"{pg.get('ratio_to_sqlite', 0):.2f} x record into SQLite, "
            f"{pg['ratio_to_paho']:.2f} x paho; CPU µs a push: "
            + ", ".join(f"{k} {v:.0f}" for k, v in cpu.items())
            + _stored_once(pg.get("journaled"), d["messages"], d.get("distinct", d["messages"])))


def _stored_once(journaled: int | None, messages: int, distinct: int) -> str:
    """What the shared journal kept: each push once by content (the fill's identical pushes,
    made flat out, are one), else the mismatch."""
    if journaled == distinct == messages:
        return ""
    if journaled == distinct:
        return f"; {messages - distinct} pushes of the fill alike, each stored once"
    return f"; JOURNALED {journaled} of {distinct} distinct"


def _f(x, fmt="{:,.1f}") -> str:
    return "n/a" if x is None else fmt.format(x)


def render_flood(r: dict) -> str:
    rows = _flood_rows(r["window_flood"])
    width = max(len(a) for a, _, _ in rows)
    lines = [f"SealDesk window flood ({r['cpu_count']} cores, broker {r['broker']})"]
    lines += [f"  {a:<{width}}  {b:>22}  {c}" for a, b, c in rows]
    return "\n".join(lines)


def render(r: dict) -> str:
    f = _f
    rows = [
        *_drain_rows(r["drain"]),
        *_flood_rows(r["window_flood"]),
        ("journal first page (push log)",
         f(r["journal"]["push_log_first_page_ms"], "{:.1f} ms"),
         f"{r['journal']['rows']:,} rows, target <= 50 ms"),
        ("journal first page (device history)",
         f(r["journal"]["device_history_first_page_ms"], "{:.1f} ms"), "target <= 50 ms"),
        ("start-up to painted window", f(r["startup"]["startup_s"], "{:.2f} s"),
         f"target <= 2 s (first start, compiling caches: "
         f"{f(r['startup'].get('first_startup_s'), '{:.2f}')} s)"),
        _desk_row(r.get("desk_delay") or {}),
    ]
    width = max(len(a) for a, _, _ in rows)
    lines = [f"SealDesk benchmark ({'quick' if r['quick'] else 'full'}, {r['cpu_count']} cores, "
             f"broker {r['broker']})"]
    lines += [f"  {a:<{width}}  {b:>22}  {c}" for a, b, c in rows]
    return "\n".join(lines)
