"""Labelled reply fields, checked against the vendor's seed example and the simulator."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from app.commands.builder import build, template
from app.commands.replies import bound_sublocks, clock_difference, label_reply, parse_device_time
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet
from app.sim.responder import CommandResponder

SEED_BASE1 = [
    "794308010642",
    "8",
    "001",
    "BASE",
    "1",
    "JT709A_20241115_HW-V1.2_RFID_7600_V2_8",
    "0",
    "Jointech",
    "LE20B05SIM7600M21-A_CUS_JT",
    "898604B81022C1046673",
    "868822046635957",
    "460",
    "0",
    "188975300",
    "10352",
]


def test_base1_seed_example() -> None:
    fields = dict(label_reply("BASE1", SEED_BASE1))
    assert fields["device id"] == "794308010642"
    assert fields["serial"] == "001"
    assert fields["firmware"] == "JT709A_20241115_HW-V1.2_RFID_7600_V2_8"
    assert fields["vendor"] == "Jointech"
    assert fields["modem"] == "LE20B05SIM7600M21-A_CUS_JT"
    assert fields["ICCID"] == "898604B81022C1046673"
    assert fields["IMEI"] == "868822046635957"
    assert (fields["MCC"], fields["MNC"]) == ("460", "0")
    assert (fields["cell id"], fields["LAC"]) == ("188975300", "10352")
    assert any("not documented" in label for label in fields)
    assert len(fields) == len(SEED_BASE1)
    # Issue 20: field 2 is "8" where the command sent "1"; the seed does not say what it is.
    assert fields["field 2 (meaning not documented)"] == "8"
    assert not any("version" in label for label in fields)


def test_base1_extra_fields_are_kept_raw() -> None:
    fields = label_reply("BASE1", [*SEED_BASE1, "x"])
    assert fields[-1] == ("field 16", "x")


def test_base2_device_time_and_clock_difference() -> None:
    content = ["742207000010", "8", "001", "BASE", "2", "20220901081402"]
    fields = dict(label_reply("BASE2", content))
    assert fields["device time (UTC)"] == "2022-09-01 08:14:02"
    t = parse_device_time("20220901081402")
    assert t == datetime(2022, 9, 1, 8, 14, 2, tzinfo=UTC)
    # The seed's reply was pushed at 08:14:03.564Z: the device is 1.564 s behind.
    ref = datetime(2022, 9, 1, 8, 14, 3, 564000, tzinfo=UTC)
    assert clock_difference("20220901081402", ref) == pytest.approx(-1.564)
    assert clock_difference(t, ref.timestamp()) == pytest.approx(-1.564)


def test_base2_unreadable_time_is_said_so() -> None:
    assert ("device time (unreadable)", "2022") in label_reply(
        "BASE2", ["d", "8", "1", "B", "2", "2022"]
    )


def test_wlnet1_query_lists_sublocks() -> None:
    content = ["D", "8", "001", "WLNET", "1", "0", "2", "E0171E0365", "E0171E0366"]
    fields = label_reply("WLNET1", content)
    assert ("operation", "query") in fields
    assert ("bound sub-locks", "2") in fields
    assert ("sub-lock 2", "E0171E0366") in fields
    assert bound_sublocks(content) == ["E0171E0365", "E0171E0366"]
    assert bound_sublocks(["D", "8", "001", "WLNET", "1", "1", "1", "E0171E0365"]) is None


def test_wlnet8_is_labelled_as_an_echo_only() -> None:
    fields = dict(label_reply("WLNET8", ["D", "8", "001", "WLNET", "8", "1", "1", "5", "E01X"]))
    assert fields["sub-lock id"] == "E01X"
    assert "not proof" in fields["note"]


def test_unknown_and_plain_text() -> None:
    assert label_reply("GPRS3", ["a", "b"]) == [("field 1", "a"), ("field 2", "b")]
    assert label_reply("MQTT_CMD", "Device not online！") == [("content", "Device not online！")]
    assert label_reply("BASE1", None) == []


@pytest.fixture
def fleet() -> Fleet:
    return Fleet("K", devices=3, seed=7, now=lambda: 1_700_000_000.0)


def _ask(fleet: Fleet, text_name: str, **params):
    dev = fleet.device_ids[0]
    cmd = build(template(text_name), dev, 5, **params)
    pushes = CommandResponder(fleet).respond(cmd.topic("K"), cmd.text.encode())
    topic, payload = pushes[0]
    record = decode(RawPush("mqtt", topic, payload, 0.0))
    return fleet.devices[dev], cmd, record


def test_simulator_base1_agrees_with_the_labels(fleet: Fleet) -> None:
    dev, cmd, record = _ask(fleet, "version")
    assert record.kind == "command" and record.data["commandType"] == cmd.name
    fields = dict(label_reply(cmd.name, record.data["content"]))
    assert fields["firmware"] == dev.firmware
    assert fields["ICCID"] == dev.iccid and fields["IMEI"] == dev.imei
    assert fields["cell id"] == str(dev.cid) and fields["LAC"] == str(dev.lac)
    assert fields["serial"] == "005"


def test_simulator_base2_agrees_with_the_labels(fleet: Fleet) -> None:
    dev, cmd, record = _ask(fleet, "time")
    fields = dict(label_reply(cmd.name, record.data["content"]))
    expected = datetime.fromtimestamp(int(dev.device_time(1_700_000_000.0)), UTC)
    assert fields["device time (UTC)"] == expected.strftime("%Y-%m-%d %H:%M:%S")


def test_simulator_p01_agrees_with_the_labels(fleet: Fleet) -> None:
    dev, cmd, record = _ask(fleet, "p01")
    fields = dict(label_reply(cmd.name, record.data["content"]))
    # Issue 20: no document gives the P-commands' reply layout, so nothing is named.
    assert fields == {"field 1": dev.device_id, "field 2": "P01", "field 3": dev.firmware,
                      "field 4": str(dev.battery)}


def test_seed_reply_through_the_decoder() -> None:
    doc = {
        "assetId": "794308010642",
        "commandType": "BASE1",
        "content": json.dumps(SEED_BASE1),
        "dateTime": "2025-02-07T03:52:39.964Z",
    }
    record = decode(RawPush("mqtt", "upload/K/794308010642/cmd", json.dumps(doc).encode(), 0.0))
    assert record.data["content"] == SEED_BASE1
    offline = {
        "assetId": "8294630003",
        "commandType": "MQTT_CMD",
        "content": "Device not online！",
        "dateTime": "2025-01-07T09:49:43.158Z",
    }
    record = decode(
        RawPush(
            "mqtt", "upload/K/8294630003/cmd", json.dumps(offline, ensure_ascii=False).encode(), 0.0
        )
    )
    assert record.data.get("platformError") == "Device not online！"
