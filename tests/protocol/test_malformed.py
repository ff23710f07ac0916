"""Garbage in, a record with errors out — never an exception."""

from __future__ import annotations

import json
from typing import Any

import pytest

from app.protocol.decode import decode, infer_kind, salvage
from app.protocol.push import PushRecord, RawPush

TOPIC = "upload/KEY/8052400203/location"


def _raw(payload: bytes, topic: str = TOPIC, source: str = "mqtt") -> RawPush:
    return RawPush(source, topic, payload, 0.0)  # type: ignore[arg-type]


def _check(record: PushRecord) -> PushRecord:
    assert isinstance(record, PushRecord)
    json.dumps(record.data, allow_nan=False)
    assert all(isinstance(error, str) and len(error) < 300 for error in record.errors)
    return record


def _location(**fields: Any) -> bytes:
    base = {"assetId": "8052400203", "longitude": 1.5, "latitude": 2.5, "speed": 3}
    base.update(fields)
    return json.dumps(base).encode()


@pytest.mark.parametrize(
    ("payload", "expected"),
    [
        (b"", "empty payload"),
        (b"  \n\t", "empty payload"),
        (b"[1, 2]", "payload is a JSON array, not an object"),
        (b"42", "payload is a JSON number, not an object"),
        (b"4.5", "payload is a JSON number, not an object"),
        (b'"text"', "payload is a JSON string, not an object"),
        (b"null", "payload is a JSON null, not an object"),
        (b"true", "payload is a JSON boolean, not an object"),
        (b"{", "payload is not valid JSON: "),
        (b"{}}", "payload is not valid JSON: Extra data"),
        (b"not json at all", "payload is not valid JSON: Expecting value at line 1 column 1"),
    ],
)
def test_not_an_object(payload: bytes, expected: str) -> None:
    record = _check(decode(_raw(payload)))
    assert record.errors[0].startswith(expected)
    assert record.data == {} and record.model is None
    assert record.kind == "location" and record.device == "8052400203"


def test_non_utf8() -> None:
    record = _check(decode(_raw(b'{"assetId": "8052400203", "describe": "\xff\xfe"}')))
    assert record.errors[0].startswith("payload is not UTF-8")
    assert record.data["assetId"] == "8052400203"
    record = _check(decode(_raw(b"\xff\xfe\x00garbage")))
    assert record.errors[0].startswith("payload is not UTF-8")


def test_bom_is_tolerated() -> None:
    record = _check(decode(_raw(b"\xef\xbb\xbf" + _location())))
    assert record.ok and record.data["speed"] == 3


def test_wrong_types_are_reported_not_coerced() -> None:
    record = _check(decode(_raw(_location(speed="12", latitude="2.5", assetId=8052400203))))
    assert "speed: expected an integer, got '12'" in record.errors
    assert "latitude: expected a number, got '2.5'" in record.errors
    assert "assetId: expected a string, got 8052400203" in record.errors
    assert record.model is None
    assert record.data["speed"] == "12"  # kept as it came
    assert record.device == "8052400203"
    record = _check(decode(_raw(_location(speed=True, mileage=1.5))))
    assert "speed: expected an integer, got True" in record.errors
    assert "mileage: expected an integer, got 1.5" in record.errors


def test_failed_validation_still_normalises() -> None:
    payload = _location(speed="fast", battery=255, cells="460,0,1,2", voltage="3.75")
    record = _check(decode(_raw(payload)))
    assert record.model is None and record.errors
    assert record.data["charging"] is True and record.data["battery"] is None
    assert record.data["cell"] == {"mcc": 460, "mnc": 0, "lac": 1, "cid": 2}
    assert record.data["voltage"] == 3.75


def test_asset_id_differs_from_topic_device() -> None:
    record = _check(decode(_raw(_location(assetId="123"), topic="upload/K/456/location")))
    assert "assetId 123 differs from topic device 456" in record.errors
    assert record.device == "456"
    sub = json.dumps({"assetId": "456", "subAssetID": "AAA", "sensorType": 4}).encode()
    record = _check(decode(_raw(sub, topic="upload/K/456/BBB/sublock")))
    # Issue 20: the topic's level ({subLockNum}, never defined by the seed) is kept as
    # topicSubLock and never compared; the sub-lock is the payload's subAssetID.
    assert record.sublock == "AAA" and record.data["topicSubLock"] == "BBB"
    assert record.errors == [] and record.warnings == []


def test_unknown_topic() -> None:
    record = _check(decode(_raw(_location(), topic="some/other/topic")))
    assert record.errors and "does not start with upload/" in record.errors[0]
    assert record.kind == "location"  # inferred from the fields
    assert record.device == "8052400203"  # from assetId, as the topic has none
    record = _check(decode(_raw(b'{"x": 1}', topic="")))
    assert record.kind == "unknown" and record.errors


def test_kind_hint_used_when_topic_says_nothing() -> None:
    record = _check(decode(_raw(b'{"assetId": "1"}', topic="upload/K/1/weird"), "alarm"))
    assert record.kind == "alarm"
    record = _check(decode(_raw(b'{"assetId": "1"}', topic="/x", source="webhook"), "bogus"))
    assert record.kind == "unknown"


def test_nan_and_infinity_become_null() -> None:
    payload = (
        b'{"assetId": "8052400203", "longitude": NaN, "latitude": Infinity,'
        b' "extra": [1, -Infinity, {"a": NaN}], "speed": 1e999}'
    )
    record = _check(decode(_raw(payload)))
    assert record.data["longitude"] is None and record.data["latitude"] is None
    assert record.data["extra"] == [1, None, {"a": None}]
    assert record.data["speed"] is None
    assert len(record.errors) >= 4


def test_nan_inside_json_in_string_fields() -> None:
    expand = '{"temperature": NaN, "lux": "Infinity", "deep": [NaN]}'
    record = _check(decode(_raw(_location(expandInfo=expand, statusJson='{"lockRope": NaN}'))))
    assert record.data["expandInfo"]["temperature"] is None
    assert record.data["expandInfo"]["lux"] == "Infinity"  # a string, not a number
    assert record.data["expandInfo"]["deep"] == [None]
    assert record.data["statusJson"] == {"lockRope": None}
    assert any("NaN" in error for error in record.errors)


def test_one_megabyte_body() -> None:
    big = _location(describe="x" * 1_000_000)
    record = _check(decode(_raw(big)))
    assert record.data["describe"] == "x" * 1_000_000
    junk = b"{" + b'"a": 1, ' * 130_000 + b"oops"
    record = _check(decode(_raw(junk)))
    assert record.data == {"a": 1} and record.errors
    record = _check(decode(_raw(b"\x00" * 1_000_000)))
    assert record.errors
    record = _check(decode(_raw(b"[" * 1_000_000)))
    assert record.errors


@pytest.mark.parametrize("opener", ["[", '{"a":'])
def test_deep_nesting(opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    payload = (
        "{" + '"assetId": "8052400203", "x": ' + opener * 100_000 + "1" + closer * 100_000 + "}"
    ).encode()
    record = _check(decode(_raw(payload)))
    assert record.errors[0].startswith("payload is not valid JSON: nested too deeply")
    assert record.data.get("assetId") == "8052400203"


def test_deep_nesting_inside_expand_info() -> None:
    deep = "[" * 100_000 + "]" * 100_000
    record = _check(decode(_raw(_location(expandInfo=deep))))
    assert record.data["expandInfo"] == deep
    assert "expandInfo is not valid JSON: nested too deeply" in record.errors


def test_json_in_string_fields_that_fail() -> None:
    record = _check(decode(_raw(_location(expandInfo="{broken", statusJson="[1]", ksInfo=""))))
    assert record.data["expandInfo"] == "{broken"
    assert any(e.startswith("expandInfo is not valid JSON: ") for e in record.errors)
    assert record.data["statusJson"] == "[1]"
    assert any(e.startswith("statusJson is not a JSON object") for e in record.errors)
    assert record.data["ksInfo"] is None


@pytest.mark.parametrize("payload", [b"x", b"{}", b'{"assetId": null}', b"\x80", b'{"a":' * 5000])
@pytest.mark.parametrize(
    "topic",
    ["", "upload", "upload/K/D/location", "upload/K/D/S/sublock", "download/K/D/cmd", "/", "#"],
)
def test_any_topic_any_payload(payload: bytes, topic: str) -> None:
    _check(decode(_raw(payload, topic=topic)))


def test_odd_raw_values_do_not_raise() -> None:
    for payload in (None, "text", bytearray(b"{}"), memoryview(b"{}"), 12):
        _check(decode(RawPush("mqtt", TOPIC, payload, 0.0)))  # type: ignore[arg-type]
    _check(decode(RawPush("mqtt", None, b"{}", 0.0)))  # type: ignore[arg-type]


def test_download_topic_is_our_command() -> None:
    raw = RawPush("mqtt", "download/K/794308010642/cmd", b"(794308010642,1,001,BASE,1)", 0.0)
    record = _check(decode(raw))
    assert record.kind == "command" and record.device == "794308010642"
    assert record.data == {"command": "(794308010642,1,001,BASE,1)"} and record.ok


def test_salvage_is_conservative() -> None:
    assert salvage('{"a": 1, "b": [1, 2], "c": "x" "d"') == {"a": 1, "b": [1, 2]}
    assert salvage("[1, 2]") == {}
    assert salvage('{"a": tru') == {}
    assert salvage('{"a": 1}') == {"a": 1}


def test_infer_kind() -> None:
    assert infer_kind({"commandType": "BASE1"}) == "command"
    assert infer_kind({"subAssetID": "E0", "eventType": 1}) == "sublock"
    assert infer_kind({"sensorType": 4}) == "sublock"
    assert infer_kind({"alarmType": 1, "longitude": 0}) == "alarm"
    assert infer_kind({"eventType": 1, "unLockType": 2}) == "event"
    assert infer_kind({"eventType": 1, "card": ""}) == "event"
    assert infer_kind({"longitude": 1.0}) == "location"
    assert infer_kind({"gpsTime": "2025-01-01T00:00:00Z"}) == "location"
    assert infer_kind({"foo": 1}) == "unknown"
    assert infer_kind([]) == "unknown"
