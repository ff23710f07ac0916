"""How fast can we take pushes off a broker: a bare paho subscriber vs the record pipeline.

Both subscribe with persistent sessions first; then one publisher queues the same N
pushes for both; then each drains its queue alone, timed from connect to the N-th
push (record: to the N-th commit). The publisher's speed is thus out of the figure,
and the two are measured on the same stream, in the same run, one after the other.
"""

from __future__ import annotations

import gc
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt

from app.gctune import tune_for_throughput
from app.pipeline import Recorder
from app.sim.fleet import Fleet
from app.transport.settings import ConnectionSettings


@dataclass
class DrainResult:
    name: str
    messages: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.messages / self.seconds if self.seconds else 0.0


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


def _publish(host: str, port: int, key: str, n: int, seed: int = 1) -> None:
    fleet = Fleet(key, devices=500, seed=seed)
    pushes = [fleet.next_push() for _ in range(n)]
    c = _client(f"bench-pub-{time.monotonic_ns()}", clean=True)
    c.max_inflight_messages_set(1000)
    c.max_queued_messages_set(0)
    c.connect(host, port)
    c.loop_start()
    infos = [c.publish(t, p, qos=1) for t, p in pushes]
    for info in infos:
        info.wait_for_publish(120)
    c.disconnect()
    c.loop_stop()


def _drain_raw(host: str, port: int, client_id: str, n: int) -> DrainResult:
    c = _client(client_id, clean=False)
    count = 0
    done = threading.Event()

    def on_message(client, userdata, message) -> None:
        nonlocal count
        count += 1
        if count >= n:
            done.set()

    c.on_message = on_message
    t0 = time.perf_counter()
    c.connect(host, port)
    c.loop_start()
    done.wait(600)
    seconds = time.perf_counter() - t0
    c.disconnect()
    c.loop_stop()
    return DrainResult("raw paho subscriber", count, seconds)


def _drain_record(host: str, port: int, client_id: str, key: str, n: int,
                  journal: Path, in_process: bool = True) -> DrainResult:
    """The pipeline `record` runs (in-process writer thread; in_process=False measures the
    child-process writer the window uses)."""
    defaults = gc.get_threshold()
    tune_for_throughput()  # as the record command does
    recorder = Recorder(journal, in_process=in_process).start()
    done = threading.Event()
    stats = recorder.writer.stats
    recorder.writer.add_commit_listener(
        lambda count: done.set() if stats.written + count >= n else None)
    settings = ConnectionSettings(host=host, port=port, access_key=key, qos=1,
                                  client_id=client_id, clean_session=False,
                                  topics=(f"upload/{key}/#",))
    t0 = time.perf_counter()
    recorder.connect(settings)
    done.wait(600)
    seconds = time.perf_counter() - t0
    written = stats.written
    recorder.stop()
    gc.unfreeze()
    gc.set_threshold(*defaults)
    return DrainResult("record (decode + journal + ack)", max(written, n if done.is_set() else 0),
                       seconds)


def measure(host: str, port: int, n: int) -> dict[str, DrainResult]:
    key = f"BENCH{time.monotonic_ns() % 100000}"
    topic = f"upload/{key}/#"
    raw_id, rec_id = f"{key}-raw", f"{key}-rec"
    _subscribe_persistent(host, port, raw_id, topic)
    _subscribe_persistent(host, port, rec_id, topic)
    _publish(host, port, key, n)
    raw = _drain_raw(host, port, raw_id, n)
    with tempfile.TemporaryDirectory() as tmp:
        rec = _drain_record(host, port, rec_id, key, n, Path(tmp) / "bench.sqlite")
    return {"raw": raw, "record": rec}
