"""Issue 20: every way the seed sets the platform up delivers, and decodes right.

One pipeline as the window has it (journal writer, fleet state fed by its batches, MQTT
through a real mosquitto, the webhook receiver on a real socket). Every JSON example of the
seed is POSTed to every path the seed names — the Java sample's (with its required
`headerKey`), the .NET sample's actions (under a route of the user's), the Python sample's and
the intro's — and published over MQTT on its topic, the sub-lock ones with `{subLockNum}`
both a slot number and the sub-lock's id.
"""

from __future__ import annotations

import http.client
import json
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from waiting import wait_for
from webhook_helpers import post, seed_examples

from app.fleet.state import FleetState
from app.journal.export import row_to_dict
from app.journal.store import Journal, JournalRow
from app.pipeline import Recorder
from app.protocol.topics import webhook_kind
from app.transport.settings import ConnectionSettings
from app.transport.state import Phase
from app.webhook import WebhookConfig, WebhookServer

JAVA = ["/receiveLocationData", "/receiveAlarmData", "/receiveEventData", "/receiveInsData"]
# The .NET sample shows [HttpPost] actions without a route: any controller route will do.
DOTNET = ["/api/Push/ReceiveLocationData", "/api/Push/ReceiveAlarmData",
          "/api/Push/ReceiveEventData", "/api/Push/ReceiveInsData"]
PYTHON = ["/lock/lockevent", "/lock/Positiondata", "/lock/alarm", "/lock/cmdresponse"]
INTRO = ["/revTerminalLocation"]
SEED_PATHS = JAVA + DOTNET + PYTHON + INTRO
HEADER = {"headerKey": "from-the-rule"}
EXAMPLES = seed_examples()


def _valid(example: dict[str, str]) -> bool:
    return "broken" not in example["name"]


@dataclass
class Pipeline:
    recorder: Recorder
    server: WebhookServer
    fleet: FleetState
    path: Path

    def rows(self, n: int) -> list[JournalRow]:
        wait_for(lambda: self.recorder.writer.stats.written >= n, 60, f"{n} pushes journaled")
        with Journal(self.path, readonly=True) as journal:
            return list(journal.rows())


@pytest.fixture
def pipeline(tmp_path: Path) -> Iterator[Pipeline]:
    path = tmp_path / "journal.sqlite"
    recorder = Recorder(path).start()
    fleet = FleetState()
    lock = threading.Lock()

    def apply(records, ids) -> None:  # on the writer's thread, after the commit
        with lock:
            fleet.apply(records, ids)

    recorder.add_listener(apply)
    config = WebhookConfig(header_name="headerKey", header_value=HEADER["headerKey"])
    server = WebhookServer(config, recorder.submit).start_in_thread()
    try:
        yield Pipeline(recorder, server, fleet, path)
    finally:
        server.stop()
        for name in recorder.profiles():
            recorder.disconnect(name)
        recorder.writer.stop()


def test_every_seed_example_posted_to_every_seed_path(pipeline: Pipeline) -> None:
    port = pipeline.server.port
    assert port is not None
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    sent = []
    try:
        for path in SEED_PATHS:
            for example in EXAMPLES:
                reply = post(port, path, example["payload"], HEADER, conn=conn)
                # The seed's broken event example is journaled all the same, answered 400.
                assert reply.status == (200 if _valid(example) else 400), (path, example["name"])
                sent.append((path, example))
    finally:
        conn.close()

    rows = pipeline.rows(len(sent))
    assert len(rows) == len(sent) == len(SEED_PATHS) * len(EXAMPLES)
    for row, (path, example) in zip(rows, sent, strict=True):
        what = (path, example["name"])
        assert (row.source, row.topic, row.kind) == ("webhook", path, example["kind"]), what
        assert row.raw == example["payload"].encode("utf-8")
        if _valid(example):
            assert row.errors == [], what
        hint = webhook_kind(path)
        assert hint is not None, path
        assert bool(row.warnings) == (hint != example["kind"]), (what, row.warnings)
        if example["kind"] == "sublock":
            assert row.sublock == json.loads(example["payload"])["subAssetID"]

    # The Java sample's slave data, on /receiveLocationData: a sub-lock, with a warning.
    java_sub = next(r for r in rows if r.topic == "/receiveLocationData" and r.kind == "sublock"
                    and r.device == "8012600005")
    exported = row_to_dict(java_sub)
    assert exported["errors"] == [] and len(exported["warnings"]) == 1
    assert exported["data"]["eventName"] == "Heartbeat packet"
    _check_sub_locks_update_the_sub_lock(pipeline.fleet)


def _check_sub_locks_update_the_sub_lock(fleet: FleetState) -> None:
    # 8052400203 sends a location (22.67, 113.92) and sub-lock E0171E0366 (-0.0, -0.0).
    lock = fleet.devices["8052400203"]
    assert set(lock.sublocks) == {"E0171E0366"}
    assert lock.location["latitude"] == pytest.approx(22.6700711039462)
    assert lock.location["assetId"] == "8052400203" and "subAssetID" not in lock.location
    # 8012600005 sends only sub-lock data: it has a sub-lock and no position of its own.
    host = fleet.devices["8012600005"]
    assert set(host.sublocks) == {"E0171E0365"}
    assert "location" not in host.latest and host.position is None
    assert host.sublocks["E0171E0365"].data["latitude"] == pytest.approx(22.670017)


def _publish_all(host: str, port: int, messages: list[tuple[str, bytes]]) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(host, port)
    client.loop_start()
    try:
        for info in [client.publish(t, p, qos=1) for t, p in messages]:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


def test_every_seed_example_published_on_its_topic(pipeline: Pipeline, broker) -> None:
    settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="KEY", qos=1, profile="seed",
        client_id="seed-delivery", clean_session=True,
    )
    connected = threading.Event()
    pipeline.recorder.connect(
        settings, lambda state: connected.set() if state.phase is Phase.CONNECTED else None)
    assert connected.wait(30), "the recorder did not subscribe"

    messages: list[tuple[str, bytes, dict[str, str], str | None]] = []
    for example in EXAMPLES:
        payload = example["payload"].encode("utf-8")
        if example["kind"] != "sublock":
            messages.append((example["topic"], payload, example, None))
            continue
        _, key, device, sub_id, leaf = example["topic"].split("/")
        for level in ("1", sub_id):  # {subLockNum}: a slot number, and the sub-lock's id
            messages.append((f"upload/{key}/{device}/{level}/{leaf}", payload, example, level))
    _publish_all(broker.host, broker.port, [(t, p) for t, p, _, _ in messages])

    rows = pipeline.rows(len(messages))
    assert len(rows) == len(messages)
    by_topic = {(r.topic, r.raw): r for r in rows}
    for topic, payload, example, level in messages:
        row = by_topic[(topic, payload)]
        what = (topic, example["name"])
        assert (row.source, row.kind) == ("mqtt", example["kind"]), what
        assert row.device == topic.split("/")[2]
        assert row.warnings == [], what
        if _valid(example):
            assert row.errors == [], (what, row.errors)
        if level is not None:
            assert row.sublock == json.loads(payload)["subAssetID"], what
            assert row.data["topicSubLock"] == level
    _check_sub_locks_update_the_sub_lock(pipeline.fleet)


def test_the_window_s_journal_process_hands_back_the_warnings(tmp_path: Path) -> None:
    # The window journals in a child process and gets the decoded records back over a pipe.
    from app.journal.process_writer import ProcessJournalWriter
    from app.protocol.push import RawPush

    writer = ProcessJournalWriter(tmp_path / "j.sqlite", send_records=True)
    got = []
    writer.add_listener(lambda records, ids: got.extend(records))
    writer.start()
    try:
        payload = next(e for e in EXAMPLES if e["name"] == "webhook-sublock")["payload"]
        writer.submit(RawPush("webhook", "/receiveLocationData", payload.encode(), 1.0))
        assert writer.flush(30)
        wait_for(lambda: len(got) == 1, 30, "the decoded record back from the journal process")
    finally:
        writer.stop()
    (record,) = got
    assert (record.kind, record.sublock, record.errors) == ("sublock", "E0171E0365", [])
    assert record.warnings and "says location" in record.warnings[0]
