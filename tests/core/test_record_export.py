"""record → export through a real broker: every seed example and every malformed case."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from waiting import wait_for

SEED = json.loads((Path(__file__).parent.parent / "data" / "seed_examples.json").read_text())

MALFORMED: list[tuple[str, bytes]] = [
    ("upload/KEY/D1/event", b""),  # empty body
    ("upload/KEY/D1/location", b"\xff\xfe\x00garbage"),  # not UTF-8
    ("upload/KEY/D1/alarm", b"[1, 2, 3]"),  # JSON, not an object
    ("upload/KEY/D1/location", b'{"assetId": "D1", "speed": "12"}'),  # wrong type
    ("upload/KEY/D1/location", b"[" * 100_000 + b"]" * 100_000),  # 100 000 levels deep
    ("upload/KEY/D1/alarm", b'{"assetId": "OTHER", "alarmType": 46}'),  # id differs from topic
    ("something/else", b'{"assetId": "D1"}'),  # not a vendor topic
]


BIG = ("upload/KEY/D1/location", b'{"assetId": "D1", "blob": "' + b"x" * 1_000_000 + b'"}')


def _publish_all(broker, messages: list[tuple[str, bytes]], qos: int = 1) -> None:
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        infos = [client.publish(t, p, qos=qos) for t, p in messages]
        for info in infos:
            info.wait_for_publish(30)
    finally:
        client.disconnect()
        client.loop_stop()


def _record_then_publish(cli, broker, journal: Path, messages: list[tuple[str, bytes]]):
    proc = cli.start(
        "record", "--host", broker.host, "--port", str(broker.port), "--access-key", "KEY",
        "--topic", "#", "--journal", str(journal), "--count", str(len(messages)),
        "--duration", "60", "--qos", "1", "--clean-session",
    )
    # Wait until the recorder says it is subscribed (its state line on stderr).
    assert proc.stderr is not None
    for line in proc.stderr:
        if "connected" in line:
            break
    _publish_all(broker, messages)
    out, err = proc.communicate(timeout=90)
    assert proc.returncode == 0, err
    return out


def _export(cli, journal: Path, *extra: str) -> list[dict]:
    res = cli.run("export", "--journal", str(journal), *extra)
    assert res.returncode == 0, res.stderr
    return [json.loads(line) for line in res.stdout.splitlines()]


def test_every_seed_example_round_trips_decoded(cli, broker, tmp_path):
    journal = tmp_path / "j.sqlite"
    messages = [(e["topic"], e["payload"].encode()) for e in SEED]
    out = _record_then_publish(cli, broker, journal, messages)
    assert f"recorded {len(SEED)} messages" in out
    rows = _export(cli, journal)
    assert len(rows) == len(SEED)
    by_topic_payload = {(r["topic"], r["raw"]): r for r in rows}
    for example in SEED:
        row = by_topic_payload[(example["topic"], example["payload"])]
        assert row["kind"] == example["kind"], example["name"]
        assert row["source"] == "mqtt"
        assert row["received_at"].endswith("Z")
        expected_errors = example["name"] == "webhook-event-broken-describe"
        assert bool(row["errors"]) == expected_errors, (example["name"], row["errors"])

    def one(name: str) -> dict:
        ex = next(e for e in SEED if e["name"] == name)
        return by_topic_payload[(ex["topic"], ex["payload"])]

    loc = one("mqtt-location-charging")["data"]
    assert loc["charging"] is True and loc["battery"] is None
    assert loc["statusJson"] == {"lockRope": 0, "lockStatus": 0}
    assert loc["expandInfo"]["temperature"] is None  # -1000.0 means none
    assert loc["expandInfo"]["lux"] is None  # the string "null"
    assert loc["cell"] == {"mcc": 460, "mnc": 0, "lac": 10352, "cid": 188975300}
    assert loc["locTypeName"] == "base station positioning" or "base" in loc["locTypeName"].lower()

    ks = one("webhook-location-ksinfo")["data"]["ksInfo"]
    assert isinstance(ks, dict) and isinstance(ks["subInfo"], dict)
    assert ks["subInfo"]["112408000035"]["temperature"] == 29.3

    alarm = one("webhook-alarm")["data"]
    assert alarm["alarmType"] == 46 and alarm["alarmName"] == "Back cover opened"

    event = one("mqtt-event-remote-unlock")["data"]
    assert event["eventName"] == "Unlock" and event["unLockType"] == 2
    assert "remote" in event["unLockTypeName"].lower()

    base1 = one("mqtt-command-success-base1")
    assert base1["data"]["commandType"] == "BASE1"
    assert base1["data"]["content"][5] == "JT709A_20241115_HW-V1.2_RFID_7600_V2_8"
    offline = one("mqtt-command-device-not-online")["data"]
    assert offline["platformError"] == "Device not online！"
    unregistered = one("mqtt-command-device-not-registered")["data"]
    assert unregistered["platformError"] == "Device has not been registered！"

    sub = one("mqtt-sublock")
    assert sub["sublock"] == "E0171E0366" and sub["device"] == "8052400203"
    assert sub["data"]["temperature"] is None
    assert sub["data"]["sensorTypeName"] == "JT709"
    assert sub["data"]["statusJson"] == {"lockRope": 0, "gateway": 0}

    broken = one("webhook-event-broken-describe")
    assert broken["kind"] == "event" and broken["device"] == "795206001104"
    assert broken["raw"] == next(
        e["payload"] for e in SEED if e["name"] == "webhook-event-broken-describe"
    )


def test_malformed_pushes_are_journaled_with_errors_not_crashes(cli, broker, tmp_path):
    journal = tmp_path / "bad.sqlite"
    out = _record_then_publish(cli, broker, journal, [*MALFORMED, BIG])
    assert f"recorded {len(MALFORMED) + 1} messages ({len(MALFORMED)} with errors)" in out
    rows = _export(cli, journal)
    assert len(rows) == len(MALFORMED) + 1
    big = rows.pop()
    assert big["raw"].encode() == BIG[1] and len(big["data"]["blob"]) == 1_000_000  # never cut
    for (topic, payload), row in zip(MALFORMED, rows, strict=True):
        assert row["topic"] == topic
        assert row["errors"], f"no error for {payload[:40]!r}"
        # raw is kept losslessly, even when it is not UTF-8
        assert row["raw"].encode("utf-8", "surrogateescape") == payload
    mismatch = rows[5]
    assert mismatch["device"] == "D1"
    assert any("OTHER" in e for e in mismatch["errors"])
    wrong_type = rows[3]
    assert any("speed" in e for e in wrong_type["errors"])

    csv_out = cli.run("export", "--journal", str(journal), "--format", "csv")
    assert csv_out.returncode == 0
    assert csv_out.stdout.splitlines()[0].startswith("id,received_at,source")


def test_export_filters_by_kind_device_and_since(cli, broker, tmp_path):
    journal = tmp_path / "j.sqlite"
    messages = [(e["topic"], e["payload"].encode()) for e in SEED]
    _record_then_publish(cli, broker, journal, messages)
    alarms = _export(cli, journal, "--kind", "alarm")
    assert {r["kind"] for r in alarms} == {"alarm"} and len(alarms) == 2
    dev = _export(cli, journal, "--device", "8052400203")
    assert {r["device"] for r in dev} == {"8052400203"} and len(dev) == 3
    assert _export(cli, journal, "--since", "2999-01-01T00:00:00Z") == []


def test_record_explains_an_unreachable_broker(cli, tmp_path):
    from app.brokers import PortReservation

    with PortReservation() as nobody:  # bound, never listening: connections are refused
        res = cli.run("record", "--host", "127.0.0.1", "--port", str(nobody.port),
                      "--access-key", "K", "--journal", str(tmp_path / "j.sqlite"),
                      "--connect-timeout", "2")
    assert res.returncode == 1
    assert "could not connect" in res.stderr and "refused" in res.stderr
    assert "Traceback" not in res.stderr
    # The last line says why, not when it would retry: record gives up here.
    assert res.stderr.splitlines()[-1] == (
        f"sealdesk: error: could not connect to 127.0.0.1:{nobody.port} (nothing listening at "
        f"127.0.0.1:{nobody.port} (connection refused))")


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "70000"], "out of range"),
        (["--password-md5", "nothex"], "32 hexadecimal"),
        (["--count", "0"], "--count must be positive"),
    ],
)
def test_record_rejects_bad_arguments_clearly(cli, tmp_path, args, message):
    res = cli.run("record", "--access-key", "K", "--journal", str(tmp_path / "j.sqlite"), *args)
    assert res.returncode == 2
    assert message in res.stderr
    assert "Traceback" not in res.stderr


def test_export_of_a_missing_journal_is_a_clear_error(cli, tmp_path):
    res = cli.run("export", "--journal", str(tmp_path / "none.sqlite"))
    assert res.returncode == 1 and "no journal" in res.stderr


def test_transport_ack_happens_after_commit(broker, tmp_path):
    """QoS 1: the broker may forget a push only once the journal holds it."""
    from app.journal.store import Journal
    from app.pipeline import Recorder
    from app.transport.settings import ConnectionSettings

    journal = tmp_path / "j.sqlite"
    recorder = Recorder(journal).start()
    seen_at_ack: list[int] = []
    checker = Journal(journal)
    settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key="KEY", qos=1, clean_session=True,
    )
    transport = recorder.connect(settings)
    assert transport.wait_connected(10)
    original_ack = transport.client.ack_many  # a commit's acknowledgements, in one call
    done = threading.Event()

    def ack(mids, connection: int):
        seen_at_ack.append(checker.count())
        done.set()
        return original_ack(mids, connection)

    transport.client.ack_many = ack  # type: ignore[method-assign]
    _publish_all(broker, [("upload/KEY/D9/alarm", b'{"assetId":"D9","alarmType":51}')])
    assert done.wait(10)
    recorder.stop()
    assert seen_at_ack and seen_at_ack[0] >= 1


@pytest.mark.skipif(sys.platform == "win32", reason="SIGTERM is a POSIX signal")
def test_record_ends_in_order_on_sigterm(cli, broker, tmp_path):
    """What a service manager sends (systemd, docker stop): the pushes so far are
    journaled and acknowledged, the summary line is printed, exit 0 — as on Ctrl-C."""
    journal = tmp_path / "j.sqlite"
    proc = cli.start(
        "record", "--host", broker.host, "--port", str(broker.port), "--access-key", "KEY",
        "--topic", "#", "--journal", str(journal), "--qos", "1", "--clean-session",
    )
    assert proc.stderr is not None
    for line in proc.stderr:
        if "connected" in line:
            break
    _publish_all(broker, [("upload/KEY/D1/alarm", b'{"assetId":"D1","alarmType":51}')] * 3)
    wait_for(lambda: journal.exists() and _count_rows(journal) == 3, 30, "3 pushes journaled")
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, err
    assert "recorded 3 messages" in out


def _count_rows(journal: Path) -> int:
    from app.journal.store import Journal

    with Journal(journal, readonly=True) as j:
        return j.count()
