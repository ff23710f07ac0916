"""Code tables and topic parsing."""

from __future__ import annotations

import pytest

from app.protocol import codes
from app.protocol.topics import (
    WEBHOOK_PATHS,
    TopicInfo,
    download_topic,
    parse_topic,
    upload_topic,
    webhook_kind,
)


def test_table_sizes() -> None:
    assert len(codes.ALARM_TYPES) == 125
    assert sorted(codes.EVENT_TYPES) == [*range(1, 21), 10000]
    assert sorted(codes.UNLOCK_TYPES) == [-1, 1, 2, 3, 4, 5, 6]
    assert sorted(codes.SUBLOCK_EVENT_TYPES) == [-1, *range(0, 11), *range(14, 31)]
    assert sorted(codes.SENSOR_TYPES) == [1, 4, 5, 6]
    assert sorted(codes.LOC_TYPES) == [0, 1, 2, 3]
    assert sorted(codes.NETWORK_TYPES) == [0, 1, 2, 3, 4, 5]
    assert sorted(codes.REPORT_TYPES) == [0, 1, 2]


@pytest.mark.parametrize(
    ("function", "code", "name"),
    [
        (codes.alarm_name, 1, "Speeding Alarm"),
        (codes.alarm_name, 40, "Lock rope cut"),
        (codes.alarm_name, 44, "Swiping illegal RFID card"),
        (codes.alarm_name, 46, "Back cover opened"),
        (codes.alarm_name, 206, "Forbidden to unlock in the sealed state"),
        (codes.alarm_name, 407, "Late alarm"),
        (codes.alarm_name, 10000, "Custom Alarm"),
        (codes.alarm_name, 999, "Unknown alarm 999"),
        (codes.alarm_name, 14, "Unknown alarm 14"),
        (codes.event_name, 1, "Unlock"),
        (codes.event_name, 2, "Lock"),
        (codes.event_name, 16, "Complete the waybill"),
        (codes.event_name, 10000, "Custom Event"),
        (codes.event_name, 21, "Unknown event 21"),
        (codes.unlock_type_name, -1, "Locked"),
        (codes.unlock_type_name, 1, "Swipe card to unlock"),
        (codes.unlock_type_name, 6, "Regional trigger"),
        (codes.unlock_type_name, 0, "Unknown unlock type 0"),
        (codes.sublock_event_name, -1, "None"),
        (codes.sublock_event_name, 8, "Pull out the lock rope event"),
        (codes.sublock_event_name, 20, "Pull out the lock rope event"),
        (codes.sublock_event_name, 30, "NFC trigger"),
        (codes.sublock_event_name, 12, "Unknown sub-lock event 12"),
        (codes.sensor_type_name, 6, "JT802"),
        (codes.sensor_type_name, 2, "Unknown sensor type 2"),
        (codes.loc_type_name, 1, "GPS positioning"),
        (codes.loc_type_name, 9, "Unknown positioning type 9"),
        (codes.network_type_name, 4, "4G"),
        (codes.network_type_name, 6, "Unknown network type 6"),
        (codes.report_type_name, 1, "Supplementary report"),
        (codes.report_type_name, 3, "Unknown report type 3"),
        # sloppy but unambiguous codes are looked up; nothing raises
        (codes.alarm_name, "46", "Back cover opened"),
        (codes.alarm_name, 46.0, "Back cover opened"),
        (codes.alarm_name, None, None),
        (codes.alarm_name, True, "Unknown alarm True"),
        (codes.alarm_name, [1], "Unknown alarm [1]"),
        (codes.event_name, "x", "Unknown event 'x'"),
    ],
)
def test_names(function: object, code: object, name: str | None) -> None:
    assert function(code) == name  # type: ignore[operator]


def test_names_of_huge_garbage_are_short() -> None:
    assert len(codes.alarm_name("9" * 10_000) or "") < 80
    assert len(codes.alarm_name({"a": "b" * 1000}) or "") < 80


@pytest.mark.parametrize(
    ("topic", "expected"),
    [
        ("upload/K/D/location", TopicInfo("upload", "K", "D", None, "location")),
        ("upload/K/D/alarm", TopicInfo("upload", "K", "D", None, "alarm")),
        ("upload/K/D/event", TopicInfo("upload", "K", "D", None, "event")),
        ("upload/K/D/cmd", TopicInfo("upload", "K", "D", None, "command")),
        ("upload/K/D/S/sublock", TopicInfo("upload", "K", "D", "S", "sublock")),
        ("download/K/D/cmd", TopicInfo("download", "K", "D", None, "command")),
    ],
)
def test_parse_good_topics(topic: str, expected: TopicInfo) -> None:
    info = parse_topic(topic)
    assert info == expected and info.ok


@pytest.mark.parametrize(
    "topic",
    [
        "",
        "/",
        "upload",
        "upload/K/D",
        "upload/K/D/command",
        "upload/K/D/sublock",
        "upload/K/D/S/location",
        "upload/K/D/S/T/sublock",
        "upload//D/location",
        "upload/K/D/location/",
        "/upload/K/D/location",
        "upload/K/+/location",
        "upload/K/#",
        "download/K/D/location",
        "download/K/D/S/cmd",
        "UPLOAD/K/D/location",
        "x" * 100_000,
        "upload/K/D/\x00",
    ],
)
def test_parse_bad_topics(topic: str) -> None:
    info = parse_topic(topic)
    assert info.kind == "unknown" and info.error and len(info.error) < 200
    assert not info.ok


def test_bad_topic_keeps_what_it_can() -> None:
    info = parse_topic("upload/K/D/weird")
    assert (info.access_key, info.device, info.kind) == ("K", "D", "unknown")
    assert parse_topic(None).error == "topic is not text: NoneType"  # type: ignore[arg-type]


def test_builders_round_trip() -> None:
    for kind in ("location", "alarm", "event", "command"):
        assert parse_topic(upload_topic("K", "D", kind)) == TopicInfo(
            "upload", "K", "D", None, kind
        )  # type: ignore[arg-type]
    assert upload_topic("K", "D", "command") == "upload/K/D/cmd"
    assert upload_topic("K", "D", "sublock", "S") == "upload/K/D/S/sublock"
    assert download_topic("K", "D") == "download/K/D/cmd"
    for bad in (
        ("K", "D", "sublock"),
        ("K", "D", "unknown"),
        ("K/2", "D", "alarm"),
        ("K", "", "alarm"),
    ):
        with pytest.raises(ValueError):
            upload_topic(*bad)
    with pytest.raises(ValueError):
        upload_topic("K", "D", "alarm", "S")
    with pytest.raises(ValueError):
        download_topic("K", "+")


def test_webhook_paths() -> None:
    assert WEBHOOK_PATHS == {
        "/receiveLocationData": "location",
        "/receiveAlarmData": "alarm",
        "/receiveEventData": "event",
        "/receiveInsData": "command",
        "/receiveSlaveData": "sublock",
        # The Python sample's and the intro's (issue 20: the seed's paths are hints too).
        "/lock/Positiondata": "location",
        "/lock/alarm": "alarm",
        "/lock/lockevent": "event",
        "/lock/cmdresponse": "command",
        "/revTerminalLocation": "location",
    }
    assert webhook_kind("/receiveEventData") == "event"
    assert webhook_kind("/receiveEventData/?token=1") == "event"
    assert webhook_kind("receiveInsData") == "command"
    assert webhook_kind("/other") is None
    assert webhook_kind(None) is None
    assert webhook_kind("/a", {"/a": "alarm"}) == "alarm"
    # Without case, and by the last segment: the .NET sample's actions under any route.
    assert webhook_kind("/lock/positiondata") == "location"
    assert webhook_kind("/api/Push/ReceiveAlarmData") == "alarm"
    assert webhook_kind("/webhook/ReceiveInsData/") == "command"
    assert webhook_kind("/x/alarm", {"/a/alarm": "alarm"}) == "alarm"
