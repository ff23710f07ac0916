"""`record --share` and recorders on one shared journal (issue 23): what is refused and why,
and what the broker does with a stopped member's pushes, which the design stands on."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading

import paho.mqtt.client as mqtt
import pytest
from shared_rig import KEY, ROOT, Proc, Witness, journal_contents, recorder
from waiting import wait_for

from app.transport.settings import shared_filters


def test_shared_filters_prefix_each_filter_with_the_group():
    assert shared_filters("team", ("upload/K/#", "other/+")) == (
        "$share/team/upload/K/#", "$share/team/other/+")
    assert shared_filters("team", ("$share/x/upload/K/#",)) == ("$share/x/upload/K/#",)
    for bad in ("", "a/b", "a+", "#", "$sys"):
        with pytest.raises(ValueError, match="share group"):
            shared_filters(bad, ("upload/K/#",))


@pytest.mark.parametrize(("extra", "message"), [
    ((), "--share needs --client-id"),
    (("--client-id", "r1", "--clean-session"), "--share with --clean-session would lose"),
    (("--client-id", "r1", "--qos", "0"), "--share needs --qos 1"),
    (("--client-id", "r1", "--share", "a/b"), "must be a non-empty name"),
])
def test_share_is_refused_where_it_would_lose_pushes(tmp_path, extra, message):
    share = () if "--share" in extra else ("--share", "team")
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--port", "1", *share, *extra,
         "--journal", str(tmp_path / "j.sqlite")],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, SEALDESK_ACCESS_KEY=KEY))
    assert done.returncode == 2
    assert message in done.stderr
    assert not (tmp_path / "j.sqlite").exists()


def test_sqlite_only_options_are_refused_on_a_shared_journal():
    done = subprocess.run(
        [sys.executable, str(ROOT / "main.py"), "record", "--port", "1", "--move-aside",
         "--journal", "postgresql://nobody@127.0.0.1:1/none"],
        capture_output=True, text=True, timeout=60, cwd=ROOT,
        env=dict(os.environ, SEALDESK_ACCESS_KEY=KEY))
    assert done.returncode == 2
    assert "--move-aside and --integrity-check are for a SQLite journal" in done.stderr


def test_help_says_each_recorder_needs_its_own_client_id():
    done = subprocess.run([sys.executable, str(ROOT / "main.py"), "record", "--help"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)
    text = " ".join(done.stdout.split())
    assert "$share/GROUP/upload/KEY/#" in text
    assert "Every recorder needs its own, the same each time it starts" in text


def test_a_second_recorder_with_the_same_client_id_is_refused(mosquitto, pg_url, started):
    first = recorder(mosquitto, pg_url, "rec-a", started)
    second = Proc("record", "--host", mosquitto.host, "--port", str(mosquitto.port),
                  "--share", "team", "--client-id", "rec-a", "--journal", pg_url)
    started.append(second)
    assert second.proc.wait(60) == 1
    second.stop()
    assert second.said("another recorder is running with client id 'rec-a'"), second.output
    assert first.proc.poll() is None  # the first goes on
    # … and once it has stopped, the id is free again.
    first.stop()
    recorder(mosquitto, pg_url, "rec-a", started)


def test_a_second_recorder_with_the_same_client_id_on_this_machine_is_refused(
        mosquitto, tmp_path, started):
    """Without a shared journal to ask (SQLite), this machine's recorders are told apart."""
    first = recorder(mosquitto, str(tmp_path / "a.sqlite"), "rec-local", started, "--no-share")
    second = Proc("record", "--host", mosquitto.host, "--port", str(mosquitto.port),
                  "--client-id", "rec-local", "--journal", str(tmp_path / "b.sqlite"))
    started.append(second)
    assert second.proc.wait(60) == 1
    second.stop()
    assert second.said("another recorder on this machine is running with client id "
                       "'rec-local'"), second.output
    assert first.proc.poll() is None
    first.stop()
    recorder(mosquitto, str(tmp_path / "b.sqlite"), "rec-local", started, "--no-share")


def test_recorders_without_share_on_one_journal_store_each_push_once(mosquitto, pg_url,
                                                                      started):
    """Two recorders each taking every push (a standby pair): each push comes twice, at once,
    to two writers; the journal keeps it once."""
    witness = Witness(mosquitto)
    try:
        pair = [recorder(mosquitto, pg_url, f"standby-{n}", started, "--no-share",
                         "--count", "5000") for n in (1, 2)]
        sim = Proc("simulate", "--host", mosquitto.host, "--port", str(mosquitto.port),
                   "--access-key", KEY, "--count", "5000", "--rate", "0", "--devices", "2000",
                   "--qos", "1", "--clean-session", "--client-id", "team-sim")
        started.append(sim)
        for rec in pair:
            assert rec.proc.wait(90) == 0, rec.output
            assert rec.said("recorded 5000 messages"), rec.output
        wait_for(lambda: witness.count >= 5000, 30, "the witness to see every push")
    finally:
        witness.close()
    stored = journal_contents(pg_url)
    assert set(stored) == set(witness.seen)
    assert max(stored.values()) == 1


def test_mosquitto_keeps_a_killed_members_pushes_for_its_client_id(mosquitto, tmp_path):
    """What the design of --share stands on (mosquitto 2.0, persistent sessions): a member
    killed with pushes unacknowledged does not have them given to the other member, nor its
    share of the pushes published while it is away; all of it comes when it connects again
    with its client id. (A broker that gives them to the others instead — EMQX does — is
    fine too: the journal stores a push delivered twice once.)"""
    topic = "$share/g/upload/K/#"
    script = tmp_path / "member.py"
    script.write_text(
        "import sys, paho.mqtt.client as mqtt\n"
        "c = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id='killed',\n"
        "                clean_session=False, protocol=mqtt.MQTTv311, manual_ack=True)\n"
        "c.on_connect = lambda cl, *a: cl.subscribe(sys.argv[2], qos=1)\n"
        "c.on_subscribe = lambda *a: print('subscribed', flush=True)\n"
        "c.on_message = lambda cl, u, m: print('got', m.payload.decode(), flush=True)\n"
        "c.connect('127.0.0.1', int(sys.argv[1]))\n"
        "c.loop_forever()\n")
    killed = subprocess.Popen([sys.executable, str(script), str(mosquitto.port), topic],
                              stdout=subprocess.PIPE, text=True)
    lines: list[str] = []
    threading.Thread(target=lambda: lines.extend(killed.stdout), daemon=True).start()
    other_got: list[int] = []
    other = _client("other", clean=False)
    other.on_message = lambda c, u, m: other_got.append(int(m.payload))
    back: mqtt.Client | None = None
    try:
        wait_for(lambda: "subscribed\n" in lines, 15, "the member to subscribe")
        _subscribe(other, mosquitto, topic)
        _publish(mosquitto, range(100))
        wait_for(lambda: len(other_got) + sum(x.startswith("got") for x in lines) >= 100, 15,
                 "the first 100 to be delivered")
        unacknowledged = {int(x.split()[1]) for x in lines if x.startswith("got")}
        assert unacknowledged  # the killed member had its share in hand
        killed.send_signal(signal.SIGKILL)
        killed.wait(10)
        _publish(mosquitto, range(100, 200))
        wait_for(lambda: len(other_got) >= 100, 15, "the other member's share")
        back_got: list[int] = []
        back = _client("killed", clean=False)
        back.on_message = lambda c, u, m: back_got.append(int(m.payload))
        _subscribe(back, mosquitto, topic)
        wait_for(lambda: len(other_got) + len(back_got) >= 200, 15, "every push delivered")
    finally:
        if killed.poll() is None:
            killed.kill()
            killed.wait()
        for c in (other, back):
            if c is not None:
                c.disconnect()
                c.loop_stop()
    assert not unacknowledged & set(other_got)  # not given to the other member
    assert unacknowledged <= set(back_got)  # kept for the killed member's client id
    assert any(n >= 100 for n in back_got)  # … with its share of what came while away
    assert sorted(other_got + back_got) == list(range(200))



def _client(client_id: str, *, clean: bool) -> mqtt.Client:
    return mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id=client_id,
                       clean_session=clean, protocol=mqtt.MQTTv311)


def _subscribe(client: mqtt.Client, broker, topic: str) -> None:
    done = threading.Event()
    client.on_connect = lambda c, *a: c.subscribe(topic, qos=1)
    client.on_subscribe = lambda *a: done.set()
    client.connect(broker.host, broker.port)
    client.loop_start()
    assert done.wait(15), "not subscribed"


def _publish(broker, numbers: range) -> None:
    client = _client("publisher", clean=True)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        for info in [client.publish("upload/K/D1/location", str(n).encode(), qos=1)
                     for n in numbers]:
            info.wait_for_publish(15)
    finally:
        client.disconnect()
        client.loop_stop()
