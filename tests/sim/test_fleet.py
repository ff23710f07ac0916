"""The simulated fleet must be reproducible and must look exactly like the vendor's pushes."""

from __future__ import annotations

import json
import re
from collections import Counter
from typing import Any

import pytest

from app.sim.fleet import LOCK_ALARMS, VEHICLE_ALARMS, Fleet

NOW = 1738912514.315  # 2025-02-07T07:15:14.315Z, the seed's own day
KEY = "B176C0FF1DFF41D0126BFF7908C76E17"
ISO_S = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
ISO_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
CELLS = re.compile(r"^\d+,\d+,\d+,\d+$")


def make_fleet(seed: int = 7, devices: int = 20) -> Fleet:
    return Fleet(KEY, devices=devices, seed=seed, now=lambda: NOW)


def stream(fleet: Fleet, n: int) -> list[tuple[str, dict[str, Any]]]:
    out = []
    for _ in range(n):
        topic, payload = fleet.next_push()
        assert isinstance(payload, bytes)
        out.append((topic, json.loads(payload)))
    return out


@pytest.fixture(scope="module")
def pushes() -> list[tuple[str, dict[str, Any]]]:
    return stream(make_fleet(), 4000)


def by_kind(pushes: list[tuple[str, dict[str, Any]]], kind: str) -> list[dict[str, Any]]:
    return [doc for topic, doc in pushes if topic.rsplit("/", 1)[1] == kind]


def test_same_seed_same_stream() -> None:
    a, b = make_fleet(seed=42), make_fleet(seed=42)
    assert a.device_ids == b.device_ids
    assert [a.next_push() for _ in range(500)] == [b.next_push() for _ in range(500)]


def test_other_seed_other_fleet() -> None:
    assert make_fleet(seed=1).device_ids != make_fleet(seed=2).device_ids


def test_device_ids_and_models() -> None:
    fleet = make_fleet(devices=20)
    assert len(set(fleet.device_ids)) == 20
    assert all(re.fullmatch(r"\d{10,12}", d) for d in fleet.device_ids)
    models = Counter(d.model for d in fleet.devices.values())
    assert set(models) == {"JT709A", "JT709A-S", "KS20A", "GP"}
    subs = [sl for d in fleet.devices.values() for sl in d.sublocks]
    assert subs and all(re.fullmatch(r"E0[0-9A-F]{3}E\d{4}", s.sub_id) for s in subs)
    assert {s.sensor_type for s in subs} <= {4, 6}
    assert all(1 <= len(d.sublocks) <= 3 for d in fleet.devices.values() if d.model == "JT709A-S")


def test_every_kind_appears(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    kinds = Counter(topic.rsplit("/", 1)[1] for topic, _ in pushes)
    assert set(kinds) == {"location", "sublock", "event", "alarm"}
    assert 0.70 < kinds["location"] / len(pushes) < 0.90
    assert all(topic.startswith(f"upload/{KEY}/") for topic, _ in pushes)


def test_location_shape(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    locations = by_kind(pushes, "location")
    for doc in locations:
        assert isinstance(doc["assetId"], str)
        assert isinstance(doc["longitude"], float) and isinstance(doc["latitude"], float)
        assert isinstance(doc["voltage"], str)
        float(doc["voltage"])
        assert CELLS.match(doc["cells"])
        assert ISO_S.match(doc["gpsTime"]) and ISO_MS.match(doc["recvTime"])
        assert doc["locType"] in (0, 1, 2, 3)
        assert 0 <= doc["battery"] <= 100 or doc["battery"] == 255
        assert isinstance(doc["statusJson"], str) and isinstance(doc["expandInfo"], str)
        status = json.loads(doc["statusJson"])
        assert {"lockStatus", "lockRope"} <= set(status) or {
            "acc", "door", "engine", "fuelCut"
        } <= set(status)  # fmt: skip
        expand = json.loads(doc["expandInfo"])
        assert all(isinstance(v, str) for v in expand.values())
        assert {"temperature", "humidity", "fuels", "reportType", "networkType"} <= set(expand)
    temps = {json.loads(d["expandInfo"])["temperature"] for d in locations}
    assert "-1000.0" in temps and len(temps) > 2
    assert any("null" in json.loads(d["expandInfo"]).values() for d in locations)
    assert any(d["battery"] == 255 for d in locations)
    # Both forms of "no KS20A data" occur, as in the seed's two examples.
    assert any(d.get("ksInfo") == "" for d in locations)
    assert any("ksInfo" not in d for d in locations)


def test_ks20a_info(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    ks = [json.loads(d["ksInfo"]) for d in by_kind(pushes, "location") if d.get("ksInfo")]
    assert ks
    for info in ks:
        assert {"angVelocity", "posture", "subLockId", "volValue", "luminance1"} <= set(info)
        assert info["subInfo"]
        for sub_id, sub in info["subInfo"].items():
            assert sub["subId"] == sub_id and ISO_S.match(sub["dateTime"])
            assert {"temperature", "humidity", "lux"} <= set(sub)


def test_sublock_shape(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    subs = [(t, d) for t, d in pushes if t.endswith("/sublock")]
    assert subs
    sensor_types = set()
    for topic, doc in subs:
        parts = topic.split("/")
        assert len(parts) == 5 and parts[2] == doc["assetId"] and parts[3] == doc["subAssetID"]
        assert isinstance(doc["statusJson"], str) and isinstance(doc["voltage"], str)
        assert doc["subGpsTimestamp"] % 1000 == 0 and ISO_S.match(doc["subGpsTime"])
        assert isinstance(doc["temperature"], float)
        status = json.loads(doc["statusJson"])
        sensor_types.add(doc["sensorType"])
        if doc["sensorType"] == 6:
            assert {"bottomDisassembly", "emergencyKey", "lockMotor", "lockValve"} <= set(status)
        else:
            assert set(status) == {"lockRope", "gateway"}
    assert sensor_types == {4, 6}


def test_alarm_and_event_shape(pushes: list[tuple[str, dict[str, Any]]]) -> None:
    alarms = by_kind(pushes, "alarm")
    assert alarms
    for doc in alarms:
        assert doc["alarmType"] in set(LOCK_ALARMS) | set(VEHICLE_ALARMS)
        assert ISO_S.match(doc["dateTime"]) and doc["fileIndex"].isdigit()
    events = by_kind(pushes, "event")
    types = Counter(d["eventType"] for d in events)
    assert types[1] and types[2]
    unlocks = [d for d in events if d["eventType"] == 1]
    assert {d["unLockType"] for d in unlocks} >= {1, 2}
    assert all(d["card"] for d in unlocks if d["unLockType"] == 1)
    assert all(d["unLockType"] == -1 for d in events if d["eventType"] == 2)
    waybills = [d for d in events if 13 <= d["eventType"] <= 18]
    assert waybills
    for d in waybills:
        assert set(json.loads(d["describe"])) == {"waybillGUID", "waybillNo"}


def test_no_fix_means_zero_position() -> None:
    fleet = make_fleet()
    dev = next(iter(fleet.devices.values()))
    dev.has_fix = False
    doc = json.loads(fleet.location(dev.device_id)[0][1])
    assert (doc["locType"], doc["latitude"], doc["longitude"]) == (0, 0.0, 0.0)


def test_lock_cycle_states() -> None:
    fleet = make_fleet()
    lock = next(d for d in fleet.devices.values() if d.model == "JT709A")
    pushes = fleet.lock_cycle(lock.device_id)
    events = [json.loads(p) for t, p in pushes if t.endswith("/event")]
    assert events[0]["eventType"] == 1 and events[0]["unLockType"] == 2
    assert events[-1]["eventType"] == 2 and events[-1]["unLockType"] == -1
    states = [json.loads(json.loads(p)["statusJson"]) for t, p in pushes if t.endswith("/location")]
    seq = [(s["lockStatus"], s["lockRope"]) for s in states]
    assert seq[0] == (1, 0) and (1, 1) in seq and seq[-1] == (0, 0)
    assert (lock.lock_status, lock.lock_rope) == (0, 0)


def test_raise_alarm_and_location() -> None:
    fleet = make_fleet()
    did = fleet.device_ids[0]
    (topic, payload), (_, loc) = fleet.raise_alarm(did, 46)
    assert topic == f"upload/{KEY}/{did}/alarm" and json.loads(payload)["alarmType"] == 46
    assert json.loads(json.loads(loc)["expandInfo"])["reportType"] == "2"
    [(t, _)] = fleet.location(did)
    assert t == f"upload/{KEY}/{did}/location"
    with pytest.raises(KeyError):
        fleet.location("0000000000")


def test_clock_offset_moves_device_times() -> None:
    fleet = make_fleet()
    did = fleet.device_ids[0]
    fleet.devices[did].clock_offset_s = 86400
    doc = json.loads(fleet.raise_alarm(did, 41)[0][1])
    assert doc["dateTime"] == "2025-02-08T07:15:14Z"


def test_simulated_pushes_decode_cleanly() -> None:
    try:
        from app.protocol.decode import decode
        from app.protocol.push import RawPush
    except ImportError as exc:
        pytest.skip(f"app.protocol.decode is not available yet: {exc}")
    fleet = make_fleet(seed=11)
    bad = []
    for _ in range(3000):
        topic, payload = fleet.next_push()
        record = decode(RawPush("mqtt", topic, payload, NOW))
        if record.errors or record.kind == "unknown":
            bad.append((topic, record.kind, record.errors))
    assert not bad[:5]
