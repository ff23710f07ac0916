"""Every JSON example of the vendor's documentation decodes to the right values."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.protocol.decode import decode
from app.protocol.models import (
    AlarmPush,
    CommandResponsePush,
    EventPush,
    LocationPush,
    SubLockPush,
)
from app.protocol.push import PushRecord, RawPush

EXAMPLES: list[dict[str, str]] = json.loads(
    (Path(__file__).parents[1] / "data" / "seed_examples.json").read_text("utf-8")
)
BY_NAME = {example["name"]: example for example in EXAMPLES}


def _decode(name: str, source: str = "mqtt") -> PushRecord:
    example = BY_NAME[name]
    topic = example["topic"]
    hint = None
    if source == "webhook":
        topic, hint = "/hook", example["kind"]
    return decode(RawPush(source, topic, example["payload"].encode("utf-8"), 0.0), hint)


def test_examples_file_is_complete() -> None:
    assert len(EXAMPLES) == 14
    for example in EXAMPLES:
        assert set(example) == {"name", "topic", "kind", "payload"}
    kinds = [example["kind"] for example in EXAMPLES]
    for kind in ("location", "alarm", "event", "command", "sublock"):
        assert kind in kinds
    broken = [e for e in EXAMPLES if "broken" in e["name"]]
    assert len(broken) == 1
    with pytest.raises(json.JSONDecodeError):
        json.loads(broken[0]["payload"])
    for example in EXAMPLES:
        if example is not broken[0]:
            assert isinstance(json.loads(example["payload"]), dict)


@pytest.mark.parametrize("name", list(BY_NAME))
@pytest.mark.parametrize("source", ["mqtt", "webhook"])
def test_every_example_decodes(name: str, source: str) -> None:
    record = _decode(name, source)
    example = BY_NAME[name]
    assert record.kind == example["kind"]
    assert record.device == example["topic"].split("/")[2]
    json.dumps(record.data, allow_nan=False)
    if "broken" in name:
        assert record.errors and record.model is None
    else:
        assert record.errors == [], record.errors
        assert record.ok and record.model is not None


def test_webhook_location() -> None:
    record = _decode("webhook-location")
    d: dict[str, Any] = record.data
    assert isinstance(record.model, LocationPush)
    assert record.model.assetId == "8022300001" and record.model.speed == 0
    assert d["assetId"] == "8022300001"
    assert d["longitude"] == 0.0 and d["latitude"] == 0.0
    assert d["speed"] == 0 and d["direction"] == 0 and d["mileage"] == 16
    assert d["gpsTime"] == "2022-09-01T08:59:56Z"
    assert d["recvTime"] == "2022-09-01T08:59:56.964Z"
    assert d["ksInfo"] is None
    assert d["locType"] == 0 and d["locTypeName"] == "No positioning"
    assert d["cellSignal"] == 19 and d["gnssSignal"] == 0
    assert d["cells"] == "460,0,9383,220792647"
    assert d["cell"] == {"mcc": 460, "mnc": 0, "lac": 9383, "cid": 220792647}
    assert d["battery"] == 100 and d["charging"] is False
    assert d["voltage"] == 0.0 and isinstance(d["voltage"], float)
    assert d["statusJson"] == {"lockBar": -1, "lockRope": 0, "lockStatus": 0}
    assert d["expandInfo"] == {
        "angle": None,
        "backBattery": None,
        "fuels": [None, None, None],
        "humidity": 0,
        "lux": 0.0,
        "networkType": 0,
        "pressure": 0.0,
        "reportType": 0,
        "temperature": None,
        "reportTypeName": "Real-time",
        "networkTypeName": "Unknown",
    }


def test_webhook_location_with_ks_info() -> None:
    ks = _decode("webhook-location-ksinfo").data["ksInfo"]
    assert ks["angVelocity"] == 21000.0
    assert ks["eleStatus"] == 0 and ks["eleValue"] == 3.48
    assert ks["humidity"] == 0
    assert [ks[f"luminance{i}"] for i in range(1, 5)] == [50, 50, 50, 50]
    assert ks["posture"] == {"x": 0, "y": 0, "z": 230}
    assert ks["shakeStatus"] == 1
    assert ks["subLockId"] == "022408000000"  # an id: leading zero kept, not a number
    assert ks["temperature"] == 36.0
    assert ks["vibrate"] == 0 and ks["volStatus"] == 0 and ks["volValue"] == 23.5
    assert ks["subInfo"] == {
        "112408000035": {
            "dateTime": "2025-05-14T09:39:03Z",
            "humidity": 60.0,
            "lux": 0.0,
            "subId": "112408000035",
            "temperature": 29.3,
        }
    }


def test_mqtt_location_charging() -> None:
    record = _decode("mqtt-location-charging")
    d = record.data
    assert record.device == "8052400203" and record.sublock is None
    assert d["battery"] is None and d["charging"] is True
    assert d["cellSignal"] == 31
    assert d["cell"] == {"mcc": 460, "mnc": 0, "lac": 10352, "cid": 188975300}
    assert d["latitude"] == 22.6700711039462 and d["longitude"] == 113.922999834147
    assert d["locType"] == 2 and d["locTypeName"] == "Base station positioning"
    assert d["statusJson"] == {"lockRope": 0, "lockStatus": 0}
    assert d["voltage"] == 0.0
    e = d["expandInfo"]
    assert e["lux"] is None and e["pressure"] is None and e["reportType"] is None
    assert e["reportTypeName"] is None
    assert e["temperature"] is None and e["humidity"] == 0
    assert e["fuels"] == [None, None, None]
    assert e["networkType"] == 0 and e["networkTypeName"] == "Unknown"


def test_alarms() -> None:
    webhook = _decode("webhook-alarm")
    assert isinstance(webhook.model, AlarmPush)
    d = webhook.data
    assert d["alarmType"] == 46 and d["alarmName"] == "Back cover opened"
    assert d["dateTime"] == "2020-04-01T00:00:13Z"
    assert d["cells"] == "0,0,0,0"
    assert d["cell"] == {"mcc": 0, "mnc": 0, "lac": 0, "cid": 0}
    assert d["describe"] == "" and d["fileIndex"] == "1585699212"
    mqtt = _decode("mqtt-alarm").data
    assert mqtt["alarmType"] == 44 and mqtt["alarmName"] == "Swiping illegal RFID card"
    assert mqtt["assetId"] == "8454601010" and mqtt["mileage"] == 59
    assert mqtt["cell"] == {"mcc": 460, "mnc": 0, "lac": 9383, "cid": 149428936}


def test_mqtt_event() -> None:
    record = _decode("mqtt-event-remote-unlock")
    assert isinstance(record.model, EventPush)
    d = record.data
    assert d["eventType"] == 1 and d["eventName"] == "Unlock"
    assert d["unLockType"] == 2 and d["unLockTypeName"] == "Remote unlock"
    assert d["card"] == "" and d["password"] == "" and d["describe"] == ""
    assert d["dateTime"] == "2025-02-07T06:54:52Z"


def test_broken_event_keeps_what_parses() -> None:
    record = _decode("webhook-event-broken-describe")
    assert record.kind == "event" and record.device == "795206001104"
    assert record.model is None
    assert record.errors[0].startswith("payload is not valid JSON: Expecting ',' delimiter")
    d = record.data
    assert d["eventType"] == 1 and d["eventName"] == "Unlock"
    assert d["unLockType"] == 1 and d["unLockTypeName"] == "Swipe card to unlock"
    assert d["card"] == "0003116836" and d["fileIndex"] == "1767002445"
    assert d["cell"] == {"mcc": 460, "mnc": 0, "lac": 10352, "cid": 220726855}
    assert "describe" not in d  # the damaged field is not guessed at


def test_waybill_describe_becomes_an_object() -> None:
    payload = {
        "assetId": "795206001104",
        "eventType": 16,
        "unLockType": -1,
        "describe": json.dumps({"waybillGUID": "190db1a2-3df1", "waybillNo": "45435345"}),
    }
    record = decode(RawPush("mqtt", "upload/K/795206001104/event", json.dumps(payload).encode(), 0))
    assert record.errors == []
    assert record.data["describe"] == {"waybillGUID": "190db1a2-3df1", "waybillNo": "45435345"}
    assert record.data["eventName"] == "Complete the waybill"
    assert record.data["unLockTypeName"] == "Locked"
    plain = dict(payload, describe="left the yard")
    record = decode(RawPush("mqtt", "upload/K/795206001104/event", json.dumps(plain).encode(), 0))
    assert record.data["describe"] == "left the yard" and record.errors == []


def test_command_responses() -> None:
    base2 = _decode("webhook-command-base2")
    assert isinstance(base2.model, CommandResponsePush)
    assert base2.data["commandType"] == "BASE2"
    assert base2.data["content"] == ["742207000010", "8", "001", "BASE", "2", "20220901081402"]
    assert "platformError" not in base2.data
    base1 = _decode("mqtt-command-success-base1").data
    assert base1["content"][0] == "794308010642"
    assert base1["content"][5] == "JT709A_20241115_HW-V1.2_RFID_7600_V2_8"
    assert base1["content"][7] == "Jointech" and len(base1["content"]) == 15
    offline = _decode("mqtt-command-device-not-online").data
    assert offline["commandType"] == "MQTT_CMD"
    assert offline["content"] == "Device not online！"
    assert offline["platformError"] == "Device not online！"
    unregistered = _decode("mqtt-command-device-not-registered").data
    assert unregistered["platformError"] == "Device has not been registered！"
    assert unregistered["dateTime"] == "2025-01-07T09:48:32.975Z"


def test_sublocks() -> None:
    record = _decode("mqtt-sublock")
    assert isinstance(record.model, SubLockPush)
    assert record.device == "8052400203" and record.sublock == "E0171E0366"
    d = record.data
    assert d["subAssetID"] == "E0171E0366"
    assert d["sensorType"] == 4 and d["sensorTypeName"] == "JT709"
    assert d["eventType"] == 3 and d["eventName"] == "Lora unlock event"
    assert d["temperature"] is None and d["humidity"] == 0
    assert d["voltage"] == 3.75 and d["battery"] == 41 and d["charging"] is False
    assert d["statusJson"] == {"lockRope": 0, "gateway": 0}
    assert d["subGpsTime"] == "2025-02-07T07:15:14Z"
    assert d["subGpsTimestamp"] == 1738912514000
    assert d["locTimes"] == 54 and d["rssi"] == 15
    assert d["latitude"] == 0.0 and d["longitude"] == 0.0

    webhook = _decode("webhook-sublock", "webhook")
    assert webhook.device == "8012600005" and webhook.sublock == "E0171E0365"
    assert webhook.data["eventName"] == "Heartbeat packet"
    assert webhook.data["voltage"] == 3.93 and webhook.data["temperature"] is None

    jt802 = _decode("sublock-fstatusjson-jt802").data
    assert "statusJson" not in jt802
    assert jt802["FStatusJson"] == {
        "bottomDisassembly": 0,
        "emergencyKey": 0,
        "lockMotor": 0,
        "structuralDisassembly": 0,
        "gateway": 0,
        "lockValve": 0,
    }
    assert jt802["sensorTypeName"] == "JT802"


def test_webhook_device_from_asset_id_and_kind_from_path() -> None:
    example = BY_NAME["mqtt-alarm"]
    raw = RawPush("webhook", "/receiveAlarmData", example["payload"].encode(), 0.0)
    record = decode(raw)
    assert record.kind == "alarm" and record.device == "8454601010" and record.ok
    inferred = decode(RawPush("webhook", "/somewhere", example["payload"].encode(), 0.0))
    assert inferred.kind == "alarm" and inferred.ok
