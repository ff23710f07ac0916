"""Property tests: no input makes the decoder raise or produce unserialisable data."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.protocol.decode import decode
from app.protocol.push import KINDS, PushRecord, RawPush

SETTINGS = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KNOWN_KEYS = [
    "assetId", "longitude", "latitude", "speed", "direction", "mileage", "gpsTime",
    "recvTime", "locType", "cellSignal", "gnssSignal", "cells", "battery", "voltage",
    "statusJson", "FStatusJson", "expandInfo", "ksInfo", "alarmType", "dateTime",
    "describe", "fileIndex", "eventType", "unLockType", "card", "password", "commandType",
    "content", "subAssetID", "sensorType", "locStatus", "locRope", "rssi", "temperature",
    "humidity", "locTimes", "subGpsTime", "subGpsTimestamp",
]  # fmt: skip
TOPICS = [
    "upload/K/D/location",
    "upload/K/D/alarm",
    "upload/K/D/event",
    "upload/K/D/cmd",
    "upload/K/D/S/sublock",
    "download/K/D/cmd",
    "nonsense",
]

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["null", "", "-1000.0", "255", "-1,-1,-1", "x: 1; y: -2; z: 3", "[]"])
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
inner_docs = st.dictionaries(
    st.sampled_from(
        ["temperature", "fuels", "posture", "fAcceleration", "backBattery", "reportType",
         "fNetworkType", "subInfo", "lux", "lockRope"]
    ),
    values,
    max_size=6,
).map(lambda d: json.dumps(d))  # fmt: skip
payloads = st.dictionaries(
    st.sampled_from(KNOWN_KEYS) | st.text(max_size=10), values | inner_docs, max_size=12
)


def _check(record: PushRecord) -> None:
    assert isinstance(record, PushRecord)
    assert record.kind in KINDS
    assert isinstance(record.data, dict)
    assert all(isinstance(error, str) for error in record.errors)
    json.dumps(record.data, allow_nan=False)
    if record.errors:
        assert record.model is None or not any(
            e.startswith(("payload is", "empty payload")) for e in record.errors
        )


@SETTINGS
@given(
    payload=st.binary(max_size=400),
    topic=st.text(max_size=60),
    source=st.sampled_from(["mqtt", "webhook"]),
)
def test_any_bytes_any_topic(payload: bytes, topic: str, source: str) -> None:
    _check(decode(RawPush(source, topic, payload, 0.0)))  # type: ignore[arg-type]


@SETTINGS
@given(
    payload=st.binary(max_size=200),
    topic=st.sampled_from(TOPICS),
    hint=st.sampled_from([None, *KINDS, "x"]),
)
def test_any_bytes_known_topics(payload: bytes, topic: str, hint: str | None) -> None:
    _check(decode(RawPush("mqtt", topic, payload, 0.0), hint))


@SETTINGS
@given(obj=payloads, topic=st.sampled_from(TOPICS))
def test_any_object_on_every_topic(obj: dict[str, Any], topic: str) -> None:
    text = json.dumps(obj)  # NaN/Infinity are written as such: the decoder must cope
    _check(decode(RawPush("mqtt", topic, text.encode("utf-8", "surrogatepass"), 0.0)))


@SETTINGS
@given(obj=payloads, kind=st.sampled_from([*KINDS]))
def test_any_object_as_webhook(obj: dict[str, Any], kind: str) -> None:
    text = json.dumps(obj)
    _check(decode(RawPush("webhook", "/hook", text.encode("utf-8", "surrogatepass"), 0.0), kind))
