"""Against a real broker with the simulator answering: pairing, failures, time-outs,
unsolicited replies, the audit, and the `send` command end to end.

No sleeps: every wait is on a condition or an event, with a timeout.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app.cli import send as send_cli
from app.commands import audit
from app.commands.builder import Command, build_text, parse_command_text
from app.commands.serials import SerialCounter
from app.commands.tracker import CommandState, CommandTracker, UnsolicitedReply
from app.pipeline import Recorder
from app.sim.fleet import NOT_ONLINE, NOT_REGISTERED, Fleet, compact_json
from app.sim.runner import Simulator
from app.transport.mqtt import MqttTransport
from app.transport.settings import ConnectionSettings

KEY = "K7"
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Rig:
    """Console side (recorder + tracker + audit) and device side (simulator) on one broker."""

    fleet: Fleet
    sim: Simulator
    recorder: Recorder
    transport: MqttTransport
    tracker: CommandTracker
    log: audit.AuditLog
    serials: SerialCounter = field(default_factory=lambda: SerialCounter(first=0))
    cond: threading.Condition = field(default_factory=threading.Condition)
    unsolicited: list[UnsolicitedReply] = field(default_factory=list)

    def send(self, device: str, text: str) -> int:
        short = parse_command_text(text).index is None
        cmd: Command = build_text(text, device, None if short else self.serials.next(device))
        cid = self.tracker.track(cmd, "test")
        info = self.transport.publish(cmd.topic(KEY), cmd.text.encode(), qos=1)
        assert info.rc == 0
        self.tracker.mark_sent(cid)
        return cid

    def wait_closed(self, ids: list[int], timeout: float = 15.0) -> bool:
        end = time.monotonic() + timeout
        with self.cond:
            while True:
                self.tracker.expire()
                if all(not self.tracker.get(i).open for i in ids):
                    return True
                left = end - time.monotonic()
                if left <= 0:
                    return False
                nd = self.tracker.next_deadline()
                self.cond.wait(left if nd is None else min(left, max(0.01, nd - time.monotonic())))

    def wait_unsolicited(self, n: int, timeout: float = 15.0) -> bool:
        with self.cond:
            return self.cond.wait_for(lambda: len(self.unsolicited) >= n, timeout)


def _wait_sim_ready(transport: MqttTransport, recorder: Recorder) -> None:
    """Probe an unregistered id until the platform (simulator) answers: subscriptions live."""
    heard = threading.Event()
    recorder.add_listener(
        lambda records, ids: (
            heard.set() if any(r.device == "000000probe" for r in records) else None
        )
    )
    for _ in range(80):
        transport.publish(f"download/{KEY}/000000probe/cmd", b"(000000probe,1,000,BASE,1)", 1)
        if heard.wait(0.25):
            return
    raise AssertionError("the simulator never answered the probe")


@pytest.fixture
def rig(broker, tmp_path) -> Iterator[Rig]:
    fleet = Fleet(KEY, devices=12, seed=11)
    sim_settings = ConnectionSettings(host=broker.host, port=broker.port, access_key=KEY, qos=1)
    sim = Simulator(sim_settings, fleet, stream=False).start()
    recorder = Recorder(tmp_path / "journal.sqlite").start()
    tracker = CommandTracker(timeout_s=30, operator="tester")
    log = audit.AuditLog(tmp_path / "journal.sqlite").attach(tracker)
    settings = ConnectionSettings.from_options(
        host=broker.host,
        port=broker.port,
        access_key=KEY,
        client_id="console-under-test",
        clean_session=True,
        topics=[f"upload/{KEY}/+/cmd"],
        profile="test",
    )
    transport = recorder.connect(settings)
    assert transport.wait_connected(10)
    _wait_sim_ready(transport, recorder)
    r = Rig(fleet, sim, recorder, transport, tracker, log)

    def poke(_: object) -> None:
        with r.cond:
            if isinstance(_, UnsolicitedReply) and _.device != "000000probe":
                r.unsolicited.append(_)
            r.cond.notify_all()

    tracker.add_listener(poke)
    tracker.add_unsolicited_listener(poke)
    recorder.add_listener(tracker.on_batch)
    try:
        yield r
    finally:
        recorder.stop()
        sim.stop(5)
        log.close()


def _locks(fleet: Fleet) -> list[str]:
    return [d.device_id for d in fleet.devices.values()]


def test_interleaved_commands_to_many_devices_pair_correctly(rig: Rig) -> None:
    devices = _locks(rig.fleet)[:10]
    texts = ["BASE,1", "BASE,2", "WLNET,1,0", "P01", "BASE,1"]
    sent: list[tuple[int, str, str]] = []
    for text in texts:  # round-robin over devices: replies interleave on the wire
        for d in devices:
            sent.append((rig.send(d, text), d, text))
    assert rig.wait_closed([cid for cid, _, _ in sent])
    for cid, device, _text in sent:
        tc = rig.tracker.get(cid)
        assert tc.state is CommandState.ANSWERED, (device, tc)
        assert tc.reply_type == tc.command.name
        assert tc.reply[0] == device
        if tc.command.serial is not None:
            assert tc.reply[2] == tc.command.serial  # the echo proves the pairing
        assert tc.reply_push_id is not None
    # Both BASE,1 of each device were answered, oldest first.
    for d in devices:
        base1 = [rig.tracker.get(c) for c, dev, t in sent if dev == d and t == "BASE,1"]
        assert [tc.reply[2] for tc in base1] == [tc.command.serial for tc in base1]
    assert rig.unsolicited == []


def test_offline_and_unregistered_fail_with_the_platform_reason(rig: Rig) -> None:
    offline = _locks(rig.fleet)[0]
    rig.fleet.devices[offline].online = False
    a = rig.send(offline, "BASE,1")
    b = rig.send("123456789", "BASE,1")
    assert rig.wait_closed([a, b])
    assert rig.tracker.get(a).state is CommandState.FAILED
    assert rig.tracker.get(a).reason == NOT_ONLINE
    assert rig.tracker.get(b).state is CommandState.FAILED
    assert rig.tracker.get(b).reason == NOT_REGISTERED


def test_a_silent_device_times_out(rig: Rig) -> None:
    silent = _locks(rig.fleet)[1]
    rig.fleet.devices[silent].silent = True
    rig.tracker.timeout_s = 0.5
    answered = rig.send(_locks(rig.fleet)[2], "BASE,1")
    cid = rig.send(silent, "BASE,1")
    assert rig.wait_closed([cid, answered], timeout=10)
    timed_out = rig.tracker.get(cid)
    assert timed_out.state is CommandState.TIMED_OUT
    assert timed_out.reason  # not early: that is test_tracker.test_timeouts (injected clock)
    assert rig.tracker.get(answered).state is CommandState.ANSWERED


def test_unsolicited_replies_are_listed(rig: Rig) -> None:
    dev = _locks(rig.fleet)[3]
    content = compact_json([dev, "8", "123", "BASE", "1", "FW"])
    doc = {
        "assetId": dev,
        "commandType": "BASE1",
        "content": content,
        "dateTime": "2025-02-07T03:52:39.964Z",
    }
    rig.sim.publish_now([(f"upload/{KEY}/{dev}/cmd", compact_json(doc).encode())])
    assert rig.wait_unsolicited(1)
    (u,) = rig.unsolicited
    assert u.device == dev and u.command_type == "BASE1" and u.content[2] == "123"
    assert u.push_id is not None


def test_audit_rows_are_written(rig: Rig) -> None:
    devices = _locks(rig.fleet)[:3]
    rig.fleet.devices[devices[2]].online = False
    ids = [rig.send(d, "BASE,1") for d in devices]
    assert rig.wait_closed(ids)
    rig.recorder.writer.flush(10)
    rows = {r.device: r for r in audit.search(rig.log.conn)}
    assert set(rows) == set(devices)
    assert rows[devices[0]].state == "answered" and rows[devices[0]].operator == "tester"
    assert rows[devices[2]].state == "failed" and rows[devices[2]].reason == NOT_ONLINE
    # The reply push is in the journal, linked from the audit row.
    pid = rows[devices[0]].reply_push_id
    push = rig.log.conn.execute("SELECT device, kind FROM push WHERE id = ?", (pid,)).fetchone()
    assert push == (devices[0], "command")


# ---- the `send` command ------------------------------------------------------------------


@pytest.fixture
def sim(broker) -> Iterator[Simulator]:
    fleet = Fleet(KEY, devices=6, seed=3)
    settings = ConnectionSettings(host=broker.host, port=broker.port, access_key=KEY, qos=1)
    s = Simulator(settings, fleet, stream=False).start()
    try:
        yield s
    finally:
        s.stop(5)


def _args(broker, device: str, text: str, journal: Path | str, *extra: str) -> list[str]:
    return [
        "send",
        "--host",
        broker.host,
        "--port",
        str(broker.port),
        "--access-key",
        KEY,
        "--device",
        device,
        text,
        "--journal",
        str(journal),
        *extra,
    ]


def _audit_rows(journal: Path | str) -> list[tuple]:
    """The audit table of a journal file or of a shared journal's URL."""
    from app.journal.commands import connect

    conn = connect(journal)
    try:
        return conn.execute(
            "SELECT device, text, state, reason, reply FROM command ORDER BY id"
        ).fetchall()
    finally:
        conn.close()


def test_send_end_to_end(cli, broker, sim: Simulator, journal_target: str) -> None:
    """On a journal file and on a shared journal's URL alike."""
    journal = journal_target
    lock, offline, silent = sim.fleet.device_ids[:3]
    sim.fleet.devices[offline].online = False
    sim.fleet.devices[silent].silent = True

    ok = cli.run(*_args(broker, lock, "BASE,1", journal))
    assert ok.returncode == 0, ok.stderr
    assert "answered: BASE1" in ok.stdout
    assert sim.fleet.devices[lock].firmware in ok.stdout and "ICCID" in ok.stdout

    again = cli.run(*_args(broker, lock, "(P04,1,60,30)", journal))
    assert again.returncode == 0, again.stderr

    bad = cli.run(*_args(broker, offline, "BASE,1", journal))
    assert bad.returncode == 1
    assert "failed: Device not online！" in bad.stdout

    late = cli.run(*_args(broker, silent, "BASE,2", journal, "--timeout", "1"))
    assert late.returncode == 3
    assert "timed out after 1 s" in late.stdout

    usage = cli.run(*_args(broker, lock, "BASE", journal))
    assert usage.returncode == 2 and "numeric index" in usage.stderr

    rows = _audit_rows(journal)
    assert [(r[0], r[2]) for r in rows] == [
        (lock, "answered"),
        (lock, "answered"),
        (offline, "failed"),
        (silent, "timed_out"),
    ]
    assert json.loads(rows[0][4])[3:5] == ["BASE", "1"]
    assert rows[2][3] == "Device not online！"
    # Serials roll across runs of the command (seeded from the audit table).
    serial = rows[0][1].split(",")[2]
    ok2 = cli.run(*_args(broker, lock, "BASE,1", journal))
    assert ok2.returncode == 0
    assert _audit_rows(journal)[-1][1].split(",")[2] == f"{(int(serial) + 1) % 1000:03d}"


def test_send_refuses_an_unlock_without_confirmation(broker, sim: Simulator, tmp_path) -> None:
    journal = tmp_path / "j.sqlite"
    lock = sim.fleet.device_ids[0]
    # stdin is not a terminal (as in any script): no --yes, no unlock.
    r = subprocess.run(
        [
            sys.executable,
            str(ROOT / "main.py"),
            *_args(broker, lock, "WLNET,8,1,1,5,E0171E0365", journal),
        ],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=ROOT,
    )
    assert r.returncode == 2
    assert "--yes" in r.stderr and "unlocks a sub-lock" in r.stderr
    assert _audit_rows(journal) == []
    assert sim.snapshot().commands == 0
    ok = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), *_args(broker, lock, "P15", journal, "--yes")],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        timeout=60,
        cwd=ROOT,
    )
    assert ok.returncode == 0, ok.stderr
    assert sim.snapshot().commands == 1  # only the confirmed one ever reached the broker


def test_confirmation_needs_the_typed_device_id(monkeypatch) -> None:
    class Tty:
        def isatty(self) -> bool:
            return True

    monkeypatch.setattr(sys, "stdin", Tty())
    monkeypatch.setattr("builtins.input", lambda prompt: "794308010642")
    assert send_cli._confirm("794308010642", "unlocks a sub-lock", yes=False)
    monkeypatch.setattr("builtins.input", lambda prompt: "y")
    assert not send_cli._confirm("794308010642", "unlocks a sub-lock", yes=False)
    assert send_cli._confirm("794308010642", "unlocks a sub-lock", yes=True)
