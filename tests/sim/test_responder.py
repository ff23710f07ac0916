"""Command answers: every outcome a console must distinguish (answer, error, silence)."""

from __future__ import annotations

import json
import threading
from typing import Any

import paho.mqtt.client as mqtt
import pytest

from app.sim.fleet import Fleet
from app.sim.responder import CommandResponder

NOW = 1738912514.315  # 2025-02-07T07:15:14.315Z
KEY = "KEY1"


@pytest.fixture
def fleet() -> Fleet:
    return Fleet(KEY, devices=10, seed=3, now=lambda: NOW)


@pytest.fixture
def responder(fleet: Fleet) -> CommandResponder:
    return CommandResponder(fleet)


def send(responder: CommandResponder, device: str, text: str | bytes) -> list[tuple[str, bytes]]:
    payload = text.encode() if isinstance(text, str) else text
    return responder.respond(f"download/{KEY}/{device}/cmd", payload)


def only_reply(replies: list[tuple[str, bytes]], device: str) -> dict[str, Any]:
    assert len(replies) >= 1
    topic, payload = replies[0]
    assert topic == f"upload/{KEY}/{device}/cmd"
    doc = json.loads(payload)
    assert set(doc) == {"assetId", "commandType", "content", "dateTime"}
    assert doc["assetId"] == device and doc["dateTime"] == "2025-02-07T07:15:14.315Z"
    return doc


def test_base1_content_shape(fleet: Fleet, responder: CommandResponder) -> None:
    dev = fleet.devices[fleet.device_ids[0]]
    did = dev.device_id
    doc = only_reply(send(responder, did, f"({did},1,001,BASE,1)"), did)
    assert doc["commandType"] == "BASE1"
    assert isinstance(doc["content"], str) and '","' in doc["content"]  # compact, as the seed
    content = json.loads(doc["content"])
    assert len(content) == 15 and all(isinstance(c, str) for c in content)
    assert content[:5] == [dev.device_id, "8", "001", "BASE", "1"]
    assert content[6:8] == ["0", "Jointech"]
    assert content[5] == dev.firmware and content[9] == dev.iccid and content[10] == dev.imei
    assert content[11:] == [dev.mcc, dev.mnc, str(dev.cid), str(dev.lac)]


def test_base2_reports_skewed_clock(fleet: Fleet, responder: CommandResponder) -> None:
    did = fleet.device_ids[1]
    fleet.devices[did].clock_offset_s = -3600
    doc = only_reply(send(responder, did, f"({did},1,002,BASE,2)"), did)
    assert doc["commandType"] == "BASE2"
    assert json.loads(doc["content"]) == [did, "8", "002", "BASE", "2", "20250207061514"]
    # Setting the time fixes the skew.
    doc = only_reply(send(responder, did, f"({did},1,003,BASE,2,20250207071514)"), did)
    assert json.loads(doc["content"])[-1] == "20250207071514"


@pytest.mark.parametrize(
    ("knob", "text"),
    [(None, "Device has not been registered！"), ("offline", "Device not online！")],
)
def test_platform_errors(
    fleet: Fleet, responder: CommandResponder, knob: str | None, text: str
) -> None:
    did = "8294630481"
    if knob == "offline":
        did = fleet.device_ids[2]
        fleet.devices[did].online = False
    [(topic, payload)] = send(responder, did, f"({did},1,001,BASE,1)")
    assert topic == f"upload/{KEY}/{did}/cmd"
    assert "！".encode() in payload  # raw UTF-8 on the wire, as the platform sends
    doc = json.loads(payload)
    assert doc["commandType"] == "MQTT_CMD" and doc["content"] == text
    assert "\uff01" in doc["content"]


def test_silent_device_never_answers(fleet: Fleet, responder: CommandResponder) -> None:
    did = fleet.device_ids[3]
    fleet.devices[did].silent = True
    assert send(responder, did, f"({did},1,001,BASE,1)") == []
    assert send(responder, did, "(P01)") == []


@pytest.mark.parametrize(
    "text",
    [b"", b"hello", b"(", b"()", b"(123,1)", b"(x,1,001,base,1)", b"\xff\xfe(", b"((P01))",
     b"(x,1,,BASE,1)", b"{\"cmd\":1}"],
)  # fmt: skip
def test_malformed_gets_no_reply(fleet: Fleet, responder: CommandResponder, text: bytes) -> None:
    assert send(responder, fleet.device_ids[0], text) == []


def test_other_topics_ignored(fleet: Fleet, responder: CommandResponder) -> None:
    did = fleet.device_ids[0]
    assert responder.respond(f"download/OTHER/{did}/cmd", b"(P01)") == []
    assert responder.respond(f"upload/{KEY}/{did}/cmd", b"(P01)") == []
    assert responder.respond("download", b"(P01)") == []


def test_repeated_serial_dropped(fleet: Fleet, responder: CommandResponder) -> None:
    did = fleet.device_ids[0]
    assert send(responder, did, f"({did},1,007,BASE,1)")
    assert send(responder, did, f"({did},1,007,BASE,1)") == []
    assert send(responder, did, f"({did},1,008,BASE,1)")
    assert send(responder, did, f"({did},1,007,BASE,1)")  # not back to back any more
    other = fleet.device_ids[1]
    assert send(responder, other, f"({other},1,007,BASE,1)")  # per device


def test_wlnet_query_bind_unlock(fleet: Fleet, responder: CommandResponder) -> None:
    did = fleet.device_ids[0]
    dev = fleet.devices[did]
    dev.sublocks = []
    doc = only_reply(send(responder, did, f"({did},1,010,WLNET,1,0)"), did)
    assert doc["commandType"] == "WLNET1"
    assert json.loads(doc["content"]) == [did, "8", "010", "WLNET", "1", "0", "0"]
    bind = f"({did},1,011,WLNET,1,1,2,E0171E0365,E0171E0366)"
    doc = only_reply(send(responder, did, bind), did)
    assert json.loads(doc["content"])[5:] == ["1", "2", "E0171E0365", "E0171E0366"]
    doc = only_reply(send(responder, did, f"({did},1,012,WLNET,1,0)"), did)
    assert json.loads(doc["content"])[5:] == ["0", "2", "E0171E0365", "E0171E0366"]
    # Each bind replaces the whole list.
    send(responder, did, f"({did},1,013,WLNET,1,1,1,E0171E0366)")
    assert [s.sub_id for s in dev.sublocks] == ["E0171E0366"]
    replies = send(responder, did, f"({did},1,014,WLNET,8,1,1,5,E0171E0366)")
    doc = only_reply(replies, did)
    assert doc["commandType"] == "WLNET8"
    assert json.loads(doc["content"])[5:] == ["1", "1", "5", "E0171E0366"]
    assert replies[1][0] == f"upload/{KEY}/{did}/E0171E0366/sublock"
    assert json.loads(replies[1][1])["locStatus"] == 1


def test_short_commands(fleet: Fleet, responder: CommandResponder) -> None:
    dev = next(d for d in fleet.devices.values() if d.model == "JT709A")
    did = dev.device_id
    doc = only_reply(send(responder, did, "(P01)"), did)
    assert doc["commandType"] == "P01"
    assert json.loads(doc["content"]) == [did, "P01", dev.firmware, str(dev.battery)]
    replies = send(responder, did, "(P02)")
    assert only_reply(replies, did)["commandType"] == "P02"
    assert replies[1][0] == f"upload/{KEY}/{did}/location"
    doc = only_reply(send(responder, did, "(P04,1,60,30)"), did)
    assert json.loads(doc["content"]) == [did, "P04", "1", "60", "30"]
    assert only_reply(send(responder, did, "(P15)"), did)["commandType"] == "P15"
    replies = send(responder, did, "(P43,123456)")
    assert only_reply(replies, did)["commandType"] == "P43"
    events = [json.loads(p) for t, p in replies if t.endswith("/event")]
    assert events[0]["eventType"] == 1 and events[0]["password"] == "123456"


def test_never_raises_on_garbage(fleet: Fleet, responder: CommandResponder) -> None:
    did = fleet.device_ids[0]
    odd = {f"({did},1,1,WLNET,1,1,x)": "WLNET1", f"({did},1,2,WLNET,8)": "WLNET8",
           f"({did},1,3,BASE,2,999)": "BASE2"}
    for text, command_type in odd.items():
        doc = only_reply(send(responder, did, text), did)  # answered, no exception
        assert doc["commandType"] == command_type
        serial = text.split(",")[2]
        assert json.loads(doc["content"])[:3] == [did, "8", serial]  # its serial echoed


def test_simulator_on_a_broker(broker: Any, fleet: Fleet) -> None:
    """End to end: a command on download/… gets its answer; injected pushes arrive."""
    from app.sim.runner import Simulator
    from app.transport.settings import ConnectionSettings

    settings = ConnectionSettings(host=broker.host, port=broker.port, access_key=KEY, qos=1)
    did = fleet.device_ids[0]
    got: list[mqtt.MQTTMessage] = []
    done = threading.Event()
    subscribed = threading.Event()

    def on_message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        got.append(msg)
        if any(m.topic.endswith("/alarm") for m in got) and any(
            m.topic.endswith("/cmd") for m in got
        ):
            done.set()

    sub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="t-sub", protocol=mqtt.MQTTv311)
    sub.on_message = on_message
    sub.on_subscribe = lambda *a: subscribed.set()
    sub.connect(broker.host, broker.port)
    sub.subscribe(f"upload/{KEY}/#", qos=1)
    sub.loop_start()
    try:
        assert subscribed.wait(5)
        with Simulator(settings, fleet, stream=False) as sim:
            sub.publish(f"download/{KEY}/{did}/cmd", f"({did},1,001,BASE,1)", qos=1)
            sim.publish_now(fleet.raise_alarm(did, 51))
            assert done.wait(5), [m.topic for m in got]
        stats = sim.snapshot()
        assert stats.commands == 1 and stats.replies == 1
        assert stats.acknowledged == stats.published == 3
    finally:
        sub.disconnect()  # first, so loop_stop need not wait out a select()
        sub.loop_stop()
    reply = next(json.loads(m.payload) for m in got if m.topic.endswith("/cmd"))
    assert reply["commandType"] == "BASE1"


def test_unreachable_broker_is_a_clear_error() -> None:
    from app.sim.runner import SimulatorError, run_simulator
    from app.transport.settings import ConnectionSettings

    settings = ConnectionSettings(host="127.0.0.1", port=1, access_key=KEY)
    with pytest.raises(SimulatorError, match=r"cannot reach broker 127\.0\.0\.1:1"):
        run_simulator(settings, count=1)
