"""The recording process: the window's MQTT connections and journal in a child process,
driven over a pipe — against a real broker, a real journal and real child processes."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator

import paho.mqtt.client as mqtt
import psutil
import pytest
from waiting import wait_until

from app.journal.store import Journal
from app.protocol.push import RawPush
from app.recording_process.client import RecordingProcess
from app.sim.fleet import Fleet
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase

KEY = "RPKEY"


class States:
    """A state listener that remembers everything it was told (called on the pipe thread)."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.seen: list[ConnectionState] = []

    def __call__(self, state: ConnectionState) -> None:
        with self.lock:
            self.seen.append(state)

    def snapshot(self) -> list[ConnectionState]:
        with self.lock:
            return list(self.seen)

    def last_phase(self) -> Phase | None:
        seen = self.snapshot()
        return seen[-1].phase if seen else None


class Batches:
    """A batch listener; with pull=True it asks for the next batch after each one."""

    def __init__(self, rp: RecordingProcess | None = None) -> None:
        self.rp = rp
        self.lock = threading.Lock()
        self.calls: list[tuple[list, list[int], int]] = []

    def __call__(self, records: list, ids: list[int], skipped: int) -> None:
        with self.lock:
            self.calls.append((records, ids, skipped))
        if self.rp is not None:
            self.rp.want_more()

    def count(self) -> int:
        with self.lock:
            return len(self.calls)

    def delivered(self) -> int:
        with self.lock:
            return sum(len(records) + skipped for records, _, skipped in self.calls)

    def ids(self) -> list[int]:
        with self.lock:
            return [i for _, ids, _ in self.calls for i in ids]


def settings_for(broker, profile: str = "P") -> ConnectionSettings:
    return ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=KEY, qos=1,
        client_id=f"rp-test-{uuid.uuid4().hex[:8]}", clean_session=True, profile=profile,
    )


def connected(rp: RecordingProcess, broker, profile: str = "P") -> States:
    states = States()
    rp.connect(settings_for(broker, profile), states)
    assert wait_until(lambda: states.last_phase() is Phase.CONNECTED), states.snapshot()
    return states


def written(rp: RecordingProcess) -> int:
    return rp.stats()["written"]


def fleet_pushes(n: int, seed: int = 5) -> list[tuple[str, bytes]]:
    fleet = Fleet(KEY, devices=50, seed=seed)
    return [fleet.next_push() for _ in range(n)]


def paho_client(broker, name: str) -> mqtt.Client:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2,
                         client_id=f"{name}-{uuid.uuid4().hex[:6]}", protocol=mqtt.MQTTv311)
    client.max_inflight_messages_set(200)
    client.max_queued_messages_set(0)
    client.connect(broker.host, broker.port)
    client.loop_start()
    return client


def publish_all(client: mqtt.Client, pushes: list[tuple[str, bytes]]) -> None:
    """QoS 1, each confirmed by the broker (PUBACK) before this returns."""
    infos = [client.publish(topic, payload, qos=1) for topic, payload in pushes]
    for info in infos:
        info.wait_for_publish(20)
        assert info.is_published()


@pytest.fixture
def journal_path(tmp_path):
    return tmp_path / "journal.sqlite"


@pytest.fixture
def rp(journal_path) -> Iterator[RecordingProcess]:
    process = RecordingProcess(journal_path)
    try:
        process.start()
        yield process
    finally:
        process.stop()


@pytest.fixture
def publisher(broker) -> Iterator[mqtt.Client]:
    client = paho_client(broker, "vendor")
    yield client
    client.disconnect()
    client.loop_stop()


def test_connect_reports_connected_and_lists_the_profile(rp, broker):
    assert rp.profiles() == []
    states = connected(rp, broker, "P")
    assert rp.profiles() == ["P"]
    seen = states.snapshot()
    assert seen[0].phase is Phase.CONNECTING  # the way there is reported too
    assert seen[-1].phase is Phase.CONNECTED
    assert not rp.lost


def test_batches_come_only_when_asked_for_and_the_journal_has_every_push(
        rp, broker, publisher, journal_path):
    batches = Batches()  # never asks for more by itself
    rp.add_listener(batches)
    connected(rp, broker)
    first = fleet_pushes(60, seed=11)
    publish_all(publisher, first)
    assert wait_until(lambda: written(rp) == len(first))
    assert rp.flush(10)
    assert batches.count() == 0  # committed, but nobody asked: nothing was sent

    rp.want_more()
    assert wait_until(lambda: batches.count() == 1)
    records, ids, skipped = batches.calls[0]
    assert skipped == 0
    assert [(r.raw.topic, r.raw.payload) for r in records] == first  # all of it, in order
    with Journal(journal_path) as journal:
        rows = list(journal.rows())
    assert ids == [row.id for row in rows]
    assert [(r.kind, r.device, r.sublock) for r in records] == [
        (row.kind, row.device, row.sublock) for row in rows]
    assert all(r.raw.profile == "P" and r.raw.source == "mqtt" for r in records)

    # More pushes, but no want_more(): they are journaled, and they wait.
    second = fleet_pushes(40, seed=12)
    publish_all(publisher, second)
    assert wait_until(lambda: written(rp) == len(first) + len(second))
    assert rp.flush(10)
    assert rp.stats()["written"] == len(first) + len(second)  # one more round trip
    assert batches.count() == 1

    rp.want_more()
    assert wait_until(lambda: batches.count() == 2)
    records, ids, skipped = batches.calls[1]
    assert skipped == 0
    assert [(r.raw.topic, r.raw.payload) for r in records] == second
    assert ids == list(range(ids[0], ids[0] + len(second)))
    assert ids[0] == batches.calls[0][1][-1] + 1  # exactly where the first batch stopped
    with Journal(journal_path) as journal:
        assert journal.count() == len(first) + len(second)
        assert journal.count(source="mqtt") == len(first) + len(second)


def test_a_listener_that_asks_each_time_gets_every_push(rp, broker, publisher, journal_path):
    batches = Batches(rp)
    rp.add_listener(batches)
    connected(rp, broker)
    pushes = fleet_pushes(800, seed=13)
    publish_all(publisher, pushes[:500])
    assert wait_until(lambda: written(rp) == 500)

    rp.want_more()  # 500 waiting: one batch, handed over in pieces
    assert wait_until(lambda: batches.delivered() == 500)
    with batches.lock:
        sizes = [len(records) for records, _, _ in batches.calls]
        skipped = [s for _, _, s in batches.calls]
    assert sum(sizes) == 500 and all(size <= 200 for size in sizes) and len(sizes) >= 3
    assert skipped == [0] * len(sizes)

    publish_all(publisher, pushes[500:])  # the listener keeps asking: these follow by themselves
    assert wait_until(lambda: batches.delivered() == len(pushes))
    assert rp.flush(10)
    assert rp.stats()["written"] == len(pushes)
    ids = batches.ids()
    assert ids == sorted(ids) and len(set(ids)) == len(pushes)  # each once, in journal order
    with Journal(journal_path) as journal:
        assert [row.id for row in journal.rows()] == ids


def test_a_flood_the_window_did_not_ask_for_is_coalesced_but_accounted_for(
        rp, broker, publisher, journal_path):
    batches = Batches(rp)
    rp.add_listener(batches)
    connected(rp, broker)
    pushes = fleet_pushes(6_000, seed=14)  # past the relay's coalescing threshold
    publish_all(publisher, pushes)
    assert wait_until(lambda: written(rp) == len(pushes), timeout=30)
    assert batches.count() == 0

    rp.want_more()
    assert wait_until(lambda: batches.delivered() == len(pushes))
    assert rp.flush(10)
    with batches.lock:
        skipped = sum(s for _, _, s in batches.calls)
        kinds = [r.kind for records, _, _ in batches.calls for r in records]
    assert skipped > 0  # old positions were left out…
    assert len(kinds) + skipped == len(pushes)
    with Journal(journal_path) as journal:  # …but every alarm and event reached the window
        assert journal.count() == len(pushes)
        for kind in ("alarm", "event"):
            assert kinds.count(kind) == journal.count(kind=kind) > 0


def test_publish_goes_out_through_the_profile(rp, broker):
    connected(rp, broker, "P")
    subscribed = threading.Event()
    got: list[tuple[str, bytes, int]] = []
    listener = paho_client(broker, "device")
    try:
        listener.on_subscribe = lambda *args: subscribed.set()
        listener.on_message = lambda c, u, m: got.append((m.topic, m.payload, m.qos))
        topic = f"download/{KEY}/DEV1/cmd"
        listener.subscribe(topic, qos=1)
        assert subscribed.wait(10)

        result = rp.publish("P", topic, b"(P45)", 1)
        assert result.rc == 0
        assert wait_until(lambda: got)
        assert got == [(topic, b"(P45)", 1)]
    finally:
        listener.disconnect()
        listener.loop_stop()

    with pytest.raises(RuntimeError, match="not connected"):
        rp.publish("nobody", topic, b"(P45)", 1)


def test_a_submitted_push_is_acknowledged_once_committed(rp, journal_path):
    fleet = Fleet(KEY, devices=5, seed=3)
    device = fleet.device_ids[0]
    topic, payload = fleet.raise_alarm(device, 46)[0]
    acked = threading.Event()
    calls: list[int] = []

    def ack() -> None:  # on the pipe thread, once the child says it is committed
        with Journal(journal_path) as journal:
            calls.append(journal.count(source="webhook"))
        acked.set()

    rp.submit(RawPush("webhook", "/receiveAlarmData", payload, time.time(), "hook", ack),
              "alarm")
    assert acked.wait(10)
    assert rp.flush(10)
    assert calls == [1]  # called once, and the push was on disk by then
    with Journal(journal_path) as journal:
        rows = list(journal.rows(source="webhook"))
    assert len(rows) == 1
    assert rows[0].raw == payload
    assert rows[0].kind == "alarm" and rows[0].device == device
    assert rows[0].topic == "/receiveAlarmData" and rows[0].profile == "hook"
    assert topic.startswith(f"upload/{KEY}/")


def test_hang_up_forgets_the_profile_and_its_late_state_reports(rp, broker):
    old = connected(rp, broker, "P")
    before = old.snapshot()
    rp.hang_up("P")
    assert rp.profiles() == []
    with pytest.raises(RuntimeError, match="not connected"):
        rp.publish("P", f"download/{KEY}/DEV1/cmd", b"(P45)", 1)
    rp.hang_up("P")  # a second time: nothing to do, and no error

    # The child hangs up off-thread and reports "disconnected, by user" for that connection;
    # the old listener must not hear it, nor anything else from now on.
    assert rp.flush(10)
    new = connected(rp, broker, "P")  # the same name again: a new connection, a new listener
    assert rp.profiles() == ["P"]
    assert not wait_until(lambda: len(old.snapshot()) > len(before), timeout=2)
    assert old.snapshot() == before
    assert old.last_phase() is Phase.CONNECTED  # the last it heard, before the hang-up
    # Nor does the old connection's goodbye reach the new listener.
    assert all(state.reason != "by user" for state in new.snapshot())
    assert new.last_phase() is Phase.CONNECTED


def test_the_child_dying_is_reported_and_nothing_waits_for_it(
        rp, broker, publisher, journal_path):
    states = connected(rp, broker, "P")
    pushes = fleet_pushes(30, seed=15)
    publish_all(publisher, pushes)
    assert wait_until(lambda: written(rp) == len(pushes))
    assert rp.flush(10)
    assert rp._proc is not None
    child = psutil.Process(rp._proc.pid)
    grandchildren = child.children(recursive=True)  # the journal writer
    assert grandchildren

    rp._proc.terminate()

    def lost() -> bool:
        return any(s.phase is Phase.DISCONNECTED and "recording process stopped" in s.reason
                   for s in states.snapshot())

    assert wait_until(lost)
    assert rp.lost
    assert rp.flush() is False
    with pytest.raises(RuntimeError, match="recording process stopped"):
        rp.stats()
    with pytest.raises(RuntimeError, match="recording process stopped"):
        rp.publish("P", f"download/{KEY}/DEV1/cmd", b"(P45)", 1)
    rp.want_more()  # nothing to ask; no error either

    # The journal writer does not outlive its parent, and what was committed stays.
    _gone, alive = psutil.wait_procs(grandchildren, timeout=10)
    assert not alive
    with Journal(journal_path) as journal:
        assert journal.count() == len(pushes)
