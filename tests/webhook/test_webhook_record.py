"""`record --webhook-port` as a user runs it: a child process, then `export` of what it kept."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from webhook_helpers import post, seed_examples

from app.protocol.topics import WEBHOOK_PATHS

PATH_OF_KIND = {kind: path for path, kind in WEBHOOK_PATHS.items()}
LISTENING = re.compile(r"webhook: listening on (https?)://([^ ]+):(\d+)")


def _wait_listening(proc: subprocess.Popen[str]) -> int:
    """Read the child's stderr up to its "listening" line; the port it bound (port 0 given)."""
    assert proc.stderr is not None
    seen = []
    while True:
        line = proc.stderr.readline()
        if not line:
            out, err = proc.communicate(timeout=30)
            pytest.fail(f"record ended before listening: {''.join(seen)}{err}{out}")
        seen.append(line)
        match = LISTENING.search(line)
        if match:
            return int(match.group(3))


def _export(cli: Any, journal: Path, *extra: str) -> list[dict[str, Any]]:
    done = cli.run("export", "--journal", str(journal), *extra)
    assert done.returncode == 0, done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


def test_record_receives_every_seed_example_and_export_shows_them(cli: Any, tmp_path: Path):
    examples = seed_examples()
    journal = tmp_path / "hook.sqlite"
    n = 2 * len(examples)
    proc = cli.start("record", "--webhook-port", "0", "--journal", str(journal),
                     "--count", str(n))
    try:
        port = _wait_listening(proc)
        statuses = []
        for ex in examples:
            statuses.append(post(port, PATH_OF_KIND[ex["kind"]], ex["payload"]).status)
            statuses.append(post(port, "/receive", ex["payload"]).status)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert set(statuses) <= {200, 400}
    assert f"recorded {n} messages" in out
    assert "webhook: " in err and f"{n} received" in err

    rows = _export(cli, journal, "--source", "webhook")
    assert len(rows) == n
    assert all(row["source"] == "webhook" for row in rows)
    by_payload: dict[str, list[dict[str, Any]]] = {}
    for row in rows:
        by_payload.setdefault(row["raw"], []).append(row)
    for ex in examples:
        got = by_payload[ex["payload"]]
        # Some examples share a payload; each was posted twice (kind path and catch-all).
        same = sum(1 for e in examples if e["payload"] == ex["payload"])
        assert len(got) == 2 * same, ex["name"]
        assert {r["kind"] for r in got} == {ex["kind"]}, ex["name"]
        assert {r["topic"] for r in got} == {PATH_OF_KIND[ex["kind"]], "/receive"}
        assert all(r["data"] for r in got), ex["name"]  # decoded, not just stored
    # The MQTT filter sees none of them.
    assert _export(cli, journal, "--source", "mqtt") == []


def test_record_with_required_header(cli: Any, tmp_path: Path) -> None:
    journal = tmp_path / "hook.sqlite"
    proc = cli.start("record", "--webhook-port", "0", "--webhook-header", "headerKey:abc123",
                     "--journal", str(journal), "--count", "1")
    try:
        port = _wait_listening(proc)
        body = '{"assetId":"1","alarmType":46,"dateTime":"2020-04-01T00:00:00Z"}'
        assert post(port, "/receiveAlarmData", body).status == 401
        assert post(port, "/receiveAlarmData", body, {"headerKey": "nope"}).status == 401
        assert post(port, "/receiveAlarmData", body, {"headerKey": "abc123"}).status == 200
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "recorded 1 messages" in out
    assert "2 rejected (2×401)" in err
    (row,) = _export(cli, journal)
    assert (row["kind"], row["source"]) == ("alarm", "webhook")


def test_record_warns_when_listening_on_every_interface(cli: Any, tmp_path: Path) -> None:
    proc = cli.start("record", "--webhook-port", "0", "--webhook-bind", "0.0.0.0",
                     "--journal", str(tmp_path / "j.sqlite"), "--count", "1")
    try:
        port = _wait_listening(proc)
        assert proc.stderr is not None
        warning = proc.stderr.readline()
        assert "warning" in warning and "network" in warning
        assert post(port, "/receive", '{"assetId":"1","longitude":1,"latitude":1}').status == 200
        out, _err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert "recorded 1 messages" in out


def test_record_needs_an_access_key_or_a_webhook_port(cli: Any, tmp_path: Path) -> None:
    done = cli.run("record", "--journal", str(tmp_path / "j.sqlite"), "--count", "1")
    assert done.returncode == 2
    assert "--access-key" in done.stderr


@pytest.mark.parametrize("options, message", [
    (["--webhook-header", "novalue"], "NAME:VALUE"),
    (["--webhook-max-body", "0"], "max body"),
    (["--webhook-cert", "c.pem"], "certificate and a key"),
    (["--webhook-port", "70000"], "port"),
])
def test_record_refuses_bad_webhook_options(
    cli: Any, tmp_path: Path, options: list[str], message: str
) -> None:
    args = ["record", "--journal", str(tmp_path / "j.sqlite"), "--webhook-port", "0", *options]
    done = cli.run(*args)
    assert done.returncode == 2, done.stderr
    assert message in done.stderr


def test_record_reports_a_taken_port(cli: Any, tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        done = cli.run("record", "--webhook-port", str(port),
                       "--journal", str(tmp_path / "j.sqlite"), "--count", "1")
    assert done.returncode == 1
    assert "cannot start the webhook receiver" in done.stderr


def test_record_takes_mqtt_and_webhook_into_one_journal(
    cli: Any, broker: Any, tmp_path: Path
) -> None:
    import paho.mqtt.client as mqtt

    journal = tmp_path / "both.sqlite"
    proc = cli.start("record", "--host", broker.host, "--port", str(broker.port),
                     "--access-key", "KEY", "--webhook-port", "0",
                     "--journal", str(journal), "--count", "2")
    try:
        port = _wait_listening(proc)
        assert proc.stderr is not None
        body = '{"assetId":"8454601010","alarmType":44,"dateTime":"2020-04-01T00:00:00Z"}'
        assert post(port, "/receiveAlarmData", body).status == 200
        pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
        pub.connect(broker.host, broker.port)
        pub.loop_start()
        try:
            # Retained, so it reaches the recorder whenever its subscription is in place.
            info = pub.publish("upload/KEY/8454601010/alarm", body, qos=1, retain=True)
            info.wait_for_publish(10)
        finally:
            pub.loop_stop()
            pub.disconnect()
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    assert "recorded 2 messages" in out
    rows = _export(cli, journal)
    assert sorted(r["source"] for r in rows) == ["mqtt", "webhook"]
    assert {r["kind"] for r in rows} == {"alarm"}
    assert {r["device"] for r in rows} == {"8454601010"}
