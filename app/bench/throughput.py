"""Draining a backlog: mosquitto_sub, a bare paho subscriber and `record`, side by side.

What users meet after a console was closed overnight, or when the platform bursts: the
broker already holds the pushes, and the consumer takes them as fast as it can. So each
consumer has a persistent QoS 1 session, subscribed once and then away while one publisher
fills all the sessions with the same N seed-shaped pushes; then each drains its session
alone, timed from connect to the N-th push (`record`: to the N-th commit, whose
acknowledgement goes out with it). The publisher's speed is out of the figure.

The broker is mosquitto with its default in-flight window (`max_inflight_messages` 20: no
more than 20 pushes on their way before the consumer acknowledges), its queue unlimited so
that the fill is not dropped. `mosquitto_sub` (C, where installed) is the machine's
ceiling; paho counting only (acknowledging as each push arrives, as paho does by default) is
the bar `record` is held to. The CPU each process used during each drain is kept too.

`record` drains twice: into a SQLite journal, and into a shared PostgreSQL journal (team
mode, issue 23) — the same pipeline, the same drain, only the journal differs; the server's
CPU (every PostgreSQL process) is counted beside record's. Where PostgreSQL cannot be
started the figure is "not measured" with the reason (`pg_server.py`).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt

from app.brokers import BrokerProcess
from app.sim.fleet import Fleet
from app.transport.settings import ConnectionSettings

# mosquitto's own default: what a consumer meets on a broker nobody tuned.
DEFAULT_INFLIGHT = 20


@dataclass
class DrainResult:
    name: str
    messages: int
    seconds: float
    # CPU seconds used during the drain, per process: "broker", "consumer", "journal"…
    cpu_s: dict[str, float] = field(default_factory=dict)
    journaled: int | None = None  # record: rows in its journal afterwards

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict:
        return {"messages": self.messages, "seconds": self.seconds, "rate": self.rate,
                "cpu_s": self.cpu_s,
                "cpu_us_per_push": {k: v / self.messages * 1e6 for k, v in self.cpu_s.items()}
                if self.messages else {},
                **({"journaled": self.journaled} if self.journaled is not None else {})}


class _Cpu:
    """CPU seconds (user + system) of some processes between `start()` and `stop()`."""

    def __init__(self, trees: tuple[str, ...] = (), **pids: int) -> None:
        """`trees`: the names whose processes count with their children (a server's)."""
        import psutil

        self._procs = {name: psutil.Process(pid) for name, pid in pids.items()}
        self._trees = trees
        self._t0: dict[str, float] = {}
        self.used: dict[str, float] = {}

    @staticmethod
    def _of(proc, children: bool) -> float:
        import psutil

        total = 0.0
        for p in [proc, *(proc.children(recursive=True) if children else [])]:
            try:
                t = p.cpu_times()
            except psutil.Error:
                continue
            total += t.user + t.system
        return total

    def start(self) -> _Cpu:
        self._t0 = {name: self._of(p, name in self._trees) for name, p in self._procs.items()}
        return self

    def stop(self) -> dict[str, float]:
        self.used = {name: self._of(p, name in self._trees) - self._t0[name]
                     for name, p in self._procs.items()}
        return self.used


def _client(client_id: str, clean: bool) -> mqtt.Client:
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                       clean_session=clean, protocol=mqtt.MQTTv311)


def _subscribe_persistent(host: str, port: int, client_id: str, topic: str) -> None:
    c = _client(client_id, clean=False)
    done = threading.Event()
    c.on_subscribe = lambda *a: done.set()
    c.connect(host, port)
    c.loop_start()
    c.subscribe(topic, qos=1)
    if not done.wait(10):
        raise RuntimeError("subscription not confirmed")
    c.disconnect()
    c.loop_stop()


def _publish(host: str, port: int, key: str, n: int, seed: int = 1) -> int:
    """Publish n fleet pushes at QoS 1; returns how many differ in content (a fleet made
    flat out repeats a few: PostgreSQL's journal stores each content once)."""
    fleet = Fleet(key, devices=500, seed=seed)
    pushes = [fleet.next_push() for _ in range(n)]
    c = _client(f"bench-pub-{time.monotonic_ns()}", clean=True)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(host, port)
    c.loop_start()
    for start in range(0, n, 20_000):  # paho holds at most 65 535 unacknowledged (their ids)
        infos = [c.publish(t, p, qos=1) for t, p in pushes[start:start + 20_000]]
        for info in infos:
            info.wait_for_publish(120)
    c.disconnect()
    c.loop_stop()
    return len(set(pushes))


def find_mosquitto_sub() -> str | None:
    return shutil.which("mosquitto_sub")


def _drain_mosquitto_sub(broker: BrokerProcess, client_id: str, topic: str,
                         n: int) -> DrainResult:
    """The C client, as the machine's ceiling: it exits at the N-th message."""
    cpu = _Cpu(broker=broker.pid).start()
    before = _children_cpu()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [find_mosquitto_sub() or "mosquitto_sub", "-h", broker.host, "-p", str(broker.port),
         "-i", client_id, "-c", "-q", "1", "-t", topic, "-C", str(n)],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        _, err = proc.communicate(timeout=600)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        raise RuntimeError("mosquitto_sub did not get its messages") from None
    seconds = time.perf_counter() - t0
    used = cpu.stop()
    if proc.returncode != 0:
        raise RuntimeError(f"mosquitto_sub failed: {err.decode(errors='replace')[-300:]}")
    if before is not None:  # the kernel's account of the children waited for
        used["consumer"] = _children_cpu() - before
    return DrainResult("mosquitto_sub (C)", n, seconds, used)


def _children_cpu() -> float | None:
    try:
        import resource
    except ImportError:  # Windows
        return None
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _drain_raw(broker: BrokerProcess, client_id: str, n: int) -> DrainResult:
    import os

    c = _client(client_id, clean=False)
    count = 0
    done = threading.Event()

    def on_message(client, userdata, message) -> None:
        nonlocal count
        count += 1
        if count >= n:
            done.set()

    c.on_message = on_message
    cpu = _Cpu(broker=broker.pid, consumer=os.getpid()).start()
    t0 = time.perf_counter()
    c.connect(broker.host, broker.port)
    c.loop_start()
    done.wait(600)
    seconds = time.perf_counter() - t0
    used = cpu.stop()
    c.disconnect()
    c.loop_stop()
    return DrainResult("paho, counting only", count, seconds, used)


def _count(journal: Path | str) -> int:
    """Rows in the journal (a PostgreSQL one is migrated first: it may be a new database)."""
    from app.journal.url import open_journal

    db = open_journal(journal, readonly=not isinstance(journal, str))
    try:
        return db.count()
    finally:
        db.close()


def _drain_record(broker: BrokerProcess, client_id: str, key: str, n: int,
                  journal: Path | str, *, server_pid: int | None = None,
                  name: str = "record (decode + journal + ack)") -> DrainResult:
    """The pipeline the `record` command runs, made the way it makes it; `journal` a SQLite
    file or a PostgreSQL URL (`server_pid`: its postmaster, whose CPU counts too)."""
    import gc
    import os

    from app.gctune import tune_for_throughput
    from app.pipeline import Recorder

    before = _count(journal) if isinstance(journal, str) else 0

    defaults = gc.get_threshold()
    tune_for_throughput()  # as the record command does
    recorder = Recorder.for_record(journal).start()
    done = threading.Event()
    stats = recorder.writer.stats
    recorder.writer.add_commit_listener(
        lambda count: done.set() if stats.written + count >= n else None)
    settings = ConnectionSettings(host=broker.host, port=broker.port, access_key=key, qos=1,
                                  client_id=client_id, clean_session=False,
                                  topics=(f"upload/{key}/#",))
    pids = {"broker": broker.pid, "consumer": os.getpid()}
    journal_pid = getattr(recorder.writer, "pid", None)
    if journal_pid:
        pids["journal"] = journal_pid
    if server_pid:
        pids["postgres"] = server_pid
    cpu = _Cpu(trees=("postgres",), **pids).start()
    t0 = time.perf_counter()
    recorder.connect(settings)
    done.wait(600)
    seconds = time.perf_counter() - t0
    used = cpu.stop()
    written = stats.written
    recorder.stop()
    gc.unfreeze()
    gc.set_threshold(*defaults)
    journaled = _count(journal) - before
    return DrainResult(name, min(written, n) if done.is_set() else written, seconds, used,
                       journaled)


def _pg_target(stack: contextlib.ExitStack) -> tuple[str | None, int | None, str]:
    """Where the PostgreSQL drain stores: (URL, server pid, "") or (None, None, why not).
    `$SEALDESK_BENCH_PG` names a server of your own (its CPU is then not counted)."""
    try:
        import psycopg  # noqa: F401

        from app.journal import pg  # noqa: F401
    except ImportError as exc:
        return None, None, f"not measured: {exc}"
    url = os.environ.get("SEALDESK_BENCH_PG")
    if url:
        return url, None, ""
    from app.bench.pg_server import NotAvailable, PgServer

    try:
        server = stack.enter_context(PgServer())
    except NotAvailable as exc:
        return None, None, f"not measured: {exc}"
    except (OSError, subprocess.SubprocessError) as exc:
        return None, None, f"not measured: PostgreSQL did not start ({exc})"
    return server.url, server.pid, ""


def measure(n: int, *, kind: str = "auto", inflight: int | None = DEFAULT_INFLIGHT,
            with_mosquitto_sub: bool = True, with_pg: bool = True) -> dict:
    """Fill a persistent session per consumer with the same N pushes, then drain each in
    turn; the figures of each, with the broker's kind and window. `record_pg` is record
    into PostgreSQL, or `record_pg_not_measured` says why it is missing."""
    key = f"BENCH{time.monotonic_ns() % 100000}"
    topic = f"upload/{key}/#"
    out: dict = {}
    with contextlib.ExitStack() as stack:
        broker = stack.enter_context(BrokerProcess(kind, max_inflight=inflight, max_queued=0))
        tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="sealdesk-drain-"))
        out["broker"] = broker.kind
        out["inflight"] = inflight if broker.kind == "mosquitto" else None
        consumers = ["paho", "record"]
        if with_mosquitto_sub and broker.kind == "mosquitto" and find_mosquitto_sub():
            consumers.insert(0, "mosquitto_sub")
        pg_url, pg_pid, why = _pg_target(stack) if with_pg else (None, None, "not measured")
        if pg_url:
            consumers.append("record_pg")
        else:
            out["record_pg_not_measured"] = why
        for name in consumers:
            _subscribe_persistent(broker.host, broker.port, f"{key}-{name}", topic)
        out["distinct"] = _publish(broker.host, broker.port, key, n)
        for name in consumers:
            client_id = f"{key}-{name}"
            if name == "mosquitto_sub":
                out[name] = _drain_mosquitto_sub(broker, client_id, topic, n)
            elif name == "paho":
                out[name] = _drain_raw(broker, client_id, n)
            elif name == "record_pg":
                out[name] = _drain_record(broker, client_id, key, n, pg_url or "",
                                          server_pid=pg_pid,
                                          name="record into PostgreSQL")
            else:
                out[name] = _drain_record(broker, client_id, key, n,
                                          Path(tmp) / "record.sqlite")
    return out
