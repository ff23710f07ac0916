"""The export format: sentinels, packed strings, names."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.protocol.decode import decode
from app.protocol.normalize import (
    parse_axes,
    parse_back_battery,
    parse_cells,
    parse_fuels,
    parse_number,
    parse_time,
)
from app.protocol.push import PushRecord, RawPush


def _decode(kind: str, **fields: Any) -> PushRecord:
    topics = {
        "location": "upload/K/D/location",
        "sublock": "upload/K/D/S/sublock",
        "command": "upload/K/D/cmd",
        "event": "upload/K/D/event",
        "alarm": "upload/K/D/alarm",
    }
    record = decode(RawPush("mqtt", topics[kind], json.dumps(fields).encode(), 0.0))
    json.dumps(record.data, allow_nan=False)
    return record


def test_expand_info_values() -> None:
    expand = {
        "temperature": "25.5",
        "humidity": "40",
        "fuels": "12.5,-1,30",
        "fAcceleration": "x: 1; y: -29; z: -2903",
        "posture": "x: 1; y: - 29; z: - 2903",
        "backBattery": "55,3.88,0",
        "fReportType": "2",
        "fNetworkType": "4",
        "fVoltage": "12.1",
        "angle": "null",
        "note": "plain",
    }
    record = _decode("location", expandInfo=json.dumps(expand))
    e = record.data["expandInfo"]
    assert record.errors == []
    assert e["temperature"] == 25.5 and e["humidity"] == 40
    assert e["fuels"] == [12.5, None, 30]
    assert e["fAcceleration"] == {"x": 1, "y": -29, "z": -2903}
    assert e["posture"] == {"x": 1, "y": -29, "z": -2903}
    assert e["backBattery"] == {"percent": 55, "voltage": 3.88, "state": 0}
    assert e["fReportType"] == 2 and e["reportTypeName"] == "Alarm"
    assert e["fNetworkType"] == 4 and e["networkTypeName"] == "4G"
    assert "reportType" not in e and "networkType" not in e
    assert e["fVoltage"] == 12.1 and e["angle"] is None and e["note"] == "plain"


def test_expand_info_bad_packed_fields() -> None:
    expand = {"fuels": "a,b", "posture": "sideways", "backBattery": "55"}
    record = _decode("location", expandInfo=json.dumps(expand))
    e = record.data["expandInfo"]
    assert e == {"fuels": "a,b", "posture": "sideways", "backBattery": "55"}
    assert len(record.errors) == 3 and all(x.startswith("expandInfo.") for x in record.errors)


def test_expand_info_already_an_object() -> None:
    record = _decode("location", expandInfo={"temperature": -1000, "lux": "3"})
    assert record.data["expandInfo"] == {"temperature": None, "lux": 3}
    assert record.ok


@pytest.mark.parametrize("value", [-1000, -1000.0, "-1000.0", "-1000"])
def test_no_temperature_everywhere(value: object) -> None:
    sub = _decode("sublock", subAssetID="S", temperature=value).data
    assert sub["temperature"] is None
    ks = json.dumps({"temperature": value, "subInfo": {"1": {"temperature": value}}})
    loc = _decode("location", expandInfo=json.dumps({"temperature": value}), ksInfo=ks).data
    assert loc["expandInfo"]["temperature"] is None
    assert loc["ksInfo"]["temperature"] is None
    assert loc["ksInfo"]["subInfo"]["1"]["temperature"] is None


def test_null_string_everywhere() -> None:
    record = _decode(
        "location",
        speed="null",
        statusJson=json.dumps({"lockRope": "null"}),
        ksInfo=json.dumps({"vibrate": "null", "subInfo": {"1": {"lux": "null"}}}),
        extra={"deep": ["null"]},
    )
    d = record.data
    assert d["speed"] is None and d["statusJson"] == {"lockRope": None}
    assert d["ksInfo"]["vibrate"] is None and d["ksInfo"]["subInfo"]["1"]["lux"] is None
    assert d["extra"] == {"deep": [None]}
    assert record.ok  # "null" is the protocol's way of saying none, not an error


@pytest.mark.parametrize(
    ("battery", "shown", "charging"),
    [(255, None, True), (0, 0, False), (100, 100, False), (55, 55, False), (150, 150, None)],
)
def test_battery(battery: int, shown: int | None, charging: bool | None) -> None:
    d = _decode("location", battery=battery).data
    assert d["battery"] == shown and d["charging"] is charging


def test_voltage() -> None:
    assert _decode("location", voltage="3.75").data["voltage"] == 3.75
    assert _decode("location", voltage=4).data["voltage"] == 4.0
    assert _decode("location", voltage="").data["voltage"] is None
    record = _decode("location", voltage="3,75V")
    assert record.data["voltage"] == "3,75V"
    assert "voltage is not a number: '3,75V'" in record.errors


def test_cells() -> None:
    assert _decode("location", cells="").data["cell"] is None
    assert _decode("location", cells="").ok
    record = _decode("location", cells="460,0,9383")
    assert record.data["cell"] is None and record.data["cells"] == "460,0,9383"
    assert "cells is not MCC,MNC,LAC,CID: '460,0,9383'" in record.errors


def test_times_and_bad_times() -> None:
    assert parse_time("2025-02-07T07:26:30Z") == 1738913190.0
    assert parse_time("2025-02-07T07:25:20.832Z") == pytest.approx(1738913120.832)
    assert parse_time("2025-02-07T07:26:30") == 1738913190.0
    assert parse_time("yesterday") is None
    assert parse_time(None) is None and parse_time(5) is None
    record = _decode("alarm", dateTime="yesterday")
    assert record.data["dateTime"] == "yesterday"
    assert "dateTime is not an ISO-8601 time: 'yesterday'" in record.errors


def test_command_content() -> None:
    d = _decode("command", commandType="BASE1", content='["1", "2"]').data
    assert d["content"] == ["1", "2"] and "platformError" not in d
    record = _decode("command", commandType="BASE1", content='["1", ')
    assert record.data["content"] == '["1", '
    assert any(e.startswith("content is not valid JSON") for e in record.errors)
    d = _decode("command", commandType="P01", content="(P01,1.2)").data
    assert d["content"] == "(P01,1.2)" and "platformError" not in d


def test_names_for_unknown_codes() -> None:
    assert _decode("alarm", alarmType=999).data["alarmName"] == "Unknown alarm 999"
    assert _decode("event", eventType=99).data["eventName"] == "Unknown event 99"
    sub = _decode("sublock", eventType=12, sensorType=9).data
    assert sub["eventName"] == "Unknown sub-lock event 12"
    assert sub["sensorTypeName"] == "Unknown sensor type 9"


def test_unknown_fields_survive() -> None:
    # With a position: since issue 20 a push with no field of a known kind is kind "unknown".
    record = _decode("location", assetId="D", longitude=1.0, newField={"a": 1}, other=[1, "x"])
    assert record.ok
    assert record.data["newField"] == {"a": 1} and record.data["other"] == [1, "x"]
    assert record.model.newField == {"a": 1}


def test_helpers() -> None:
    assert parse_number("0") == 0 and parse_number("3.5") == 3.5 and parse_number("-1") == -1
    for bad in ("nan", "inf", "1_0", "", "abc", "٣", "1e999"):
        assert parse_number(bad) is None
    assert parse_axes("x:0;y:0;z:230") == {"x": 0, "y": 0, "z": 230}
    assert parse_axes("x: 1; y: 2") is None
    assert parse_fuels("-1,-1,-1") == [None, None, None]
    assert parse_fuels(-1) == [None]
    assert parse_back_battery("55,3.88,0") == {"percent": 55, "voltage": 3.88, "state": 0}
    assert parse_cells("460,0,9383,220792647") == {
        "mcc": 460,
        "mnc": 0,
        "lac": 9383,
        "cid": 220792647,
    }
    assert parse_cells("460,0,a,1") is None
