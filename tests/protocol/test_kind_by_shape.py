"""Issue 20: a push's kind comes from its content; the path or topic is only a hint.

Every seed example is decoded under every hint the seed's samples can give it (a Java,
.NET or Python sample path, the intro's, any MQTT topic kind) and must come out as its own
kind, without errors; a disagreement between hint and content is a warning.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.fleet.state import FleetState
from app.protocol.decode import decode, shape_kind
from app.protocol.push import KINDS, PushRecord, RawPush

EXAMPLES: list[dict[str, str]] = json.loads(
    (Path(__file__).parents[1] / "data" / "seed_examples.json").read_text("utf-8")
)
BY_NAME = {example["name"]: example for example in EXAMPLES}
HINTS = [k for k in KINDS if k != "unknown"]


def _webhook(payload: str | bytes, path: str, hint: str | None = None) -> PushRecord:
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    return decode(RawPush("webhook", path, body, 0.0), hint)


def _mqtt(payload: str | bytes, topic: str) -> PushRecord:
    body = payload.encode("utf-8") if isinstance(payload, str) else payload
    return decode(RawPush("mqtt", topic, body, 0.0))


@pytest.mark.parametrize("hint", HINTS)
@pytest.mark.parametrize("name", list(BY_NAME))
def test_every_example_under_every_hint_keeps_its_kind(name: str, hint: str) -> None:
    example = BY_NAME[name]
    record = _webhook(example["payload"], "/hook", hint)
    assert record.kind == example["kind"]
    if "broken" not in name:
        assert record.errors == [], record.errors
        assert record.model is not None
    if hint == example["kind"]:
        assert record.warnings == []
    else:
        (warning,) = record.warnings
        assert f"says {hint}" in warning and f"content is {example['kind']}" in warning


def test_java_sample_posts_sub_lock_data_to_receive_location_data() -> None:
    record = _webhook(BY_NAME["webhook-sublock"]["payload"], "/receiveLocationData")
    assert (record.kind, record.device, record.sublock) == ("sublock", "8012600005", "E0171E0365")
    assert record.errors == []
    assert record.data["eventName"] == "Heartbeat packet"  # the sub-lock table, not the lock's
    assert record.warnings == [
        "path /receiveLocationData says location, but the content is sublock "
        "(subAssetID/sensorType): decoded as sublock"
    ]


def test_sub_lock_data_updates_the_sub_lock_not_the_lock() -> None:
    fleet = FleetState()
    location = _webhook(BY_NAME["webhook-location"]["payload"].replace("8022300001", "8012600005"),
                        "/receiveLocationData")
    sub = _webhook(BY_NAME["webhook-sublock"]["payload"], "/receiveLocationData")
    fleet.apply([location, sub], [1, 2])
    dev = fleet.devices["8012600005"]
    assert dev.location is location.data  # the lock's position is its own
    assert dev.position is None  # (0, 0): no fix, not the sub-lock's 22.67, 113.92
    assert dev.sublocks["E0171E0365"].data["latitude"] == 22.670017


@pytest.mark.parametrize("slot", ["1", "E0171E0366"])
@pytest.mark.parametrize("name", ["mqtt-sublock", "sublock-fstatusjson-jt802"])
def test_topic_sub_lock_level_is_kept_never_an_error(name: str, slot: str) -> None:
    record = _mqtt(BY_NAME[name]["payload"], f"upload/KEY/8052400203/{slot}/sublock")
    assert (record.kind, record.device, record.sublock) == ("sublock", "8052400203", "E0171E0366")
    assert record.data["topicSubLock"] == slot
    assert record.errors == [] and record.warnings == []


def test_sub_lock_without_sub_asset_id_is_named_by_the_topic() -> None:
    record = _mqtt('{"assetId":"D1","sensorType":4,"locStatus":0}', "upload/K/D1/3/sublock")
    assert (record.kind, record.sublock) == ("sublock", "3")
    assert record.errors == []
    assert record.warnings == ["no subAssetID: the sub-lock is named by the topic's level"]


@pytest.mark.parametrize("where", ["mqtt", "known path", "own path"])
def test_an_unknown_shape_is_kept_as_unknown_with_a_warning(where: str) -> None:
    status = '{"assetId":"8052400203","status":"offline","dateTime":"2025-02-07T07:26:30Z"}'
    if where == "mqtt":
        record = _mqtt(status, "upload/K/8052400203/location")
    else:
        record = _webhook(status, "/receiveLocationData" if where == "known path" else "/st")
    assert (record.kind, record.device) == ("unknown", "8052400203")
    assert record.errors == []
    (warning,) = record.warnings
    assert warning.startswith("unknown kind of push (fields: assetId, dateTime, status)")
    assert record.raw.payload == status.encode()


def test_a_thin_or_damaged_push_takes_the_hint() -> None:
    assert _mqtt('{"assetId":"1"}', "upload/K/1/alarm").kind == "alarm"
    assert _webhook(b"", "/receiveAlarmData").kind == "alarm"
    cut = BY_NAME["mqtt-sublock"]["payload"][:120]  # before its subAssetID
    record = _mqtt(cut, "upload/KEY/8052400203/E0171E0366/sublock")
    assert record.kind == "sublock" and record.sublock == "E0171E0366"
    assert record.errors and record.warnings == []


def test_platform_error_on_cmd_is_a_command_whatever_the_path() -> None:
    payload = BY_NAME["mqtt-command-device-not-online"]["payload"]
    record = _webhook(payload, "/receiveAlarmData")
    assert record.kind == "command" and record.data["platformError"] == "Device not online！"
    assert record.errors == []


@pytest.mark.parametrize(("fields", "kind"), [
    ({"subAssetID": "E0", "eventType": 6, "longitude": 1.0}, "sublock"),
    ({"sensorType": 4}, "sublock"),
    ({"commandType": "BASE1"}, "command"),
    ({"content": "Device not online！"}, "command"),
    ({"alarmType": 1, "eventType": 2}, "alarm"),
    ({"eventType": 1}, "event"),
    ({"latitude": 1.0}, "location"),
    ({"statusJson": "{}"}, "location"),
    ({"assetId": "1"}, "unknown"),
    ({}, "unknown"),
])
def test_shape_kind(fields: dict[str, Any], kind: str) -> None:
    assert shape_kind(fields) == kind
