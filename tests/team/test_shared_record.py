"""Recorders that share the intake (issue 23): `record --share` into a shared PostgreSQL
journal, on a real mosquitto and a real PostgreSQL.

Run them alone with `python -m pytest -k shared`.

The done-when test: two recorders of one group take a 50 000-push QoS 1 stream from the
simulator; one is killed (SIGKILL) halfway and started again with its client id, as a
service manager would; the journal then holds every published push exactly once.

What mosquitto 2.0 does with a killed member (measured on 2.0.11 with persistent sessions,
which `--share` requires): its unacknowledged pushes are *not* given to the other members,
and the broker keeps handing it its share of new ones — all kept in its session, for its
client id. So the member still running takes that session over (app/cli/takeover.py: it
connects as the killed one, leaves the group in its name, journals what the session held),
and the killed recorder started again waits for that, then rejoins. Pushes the killed one had
committed but not yet acknowledged come twice; the journal's stored-once key keeps one. The
second test leaves the killed member dead: the group alone must then have every push.

What the simulator published is taken by a witness: a plain subscriber of its own beside the
group, holding the (topic, payload) of every push. Compared by content, as the journal's key
compares: two pushes with the same bytes are one (the simulator makes a handful in 50 000,
a device saying the same thing twice in one second; counted, and bounded here).
"""

from __future__ import annotations

import signal

import psutil
import pytest
from shared_rig import KEY, Proc, Witness, journal_contents, journal_count, recorder
from waiting import wait_for

pytestmark = pytest.mark.slow
PUSHES = 50_000


def test_shared_recorders_store_every_push_once_when_one_is_killed_halfway(
        mosquitto, pg_url, started):
    witness = Witness(mosquitto)
    try:
        a = recorder(mosquitto, pg_url, "rec-a", started)
        b = recorder(mosquitto, pg_url, "rec-b", started)
        sim = Proc("simulate", "--host", mosquitto.host, "--port", str(mosquitto.port),
                    "--access-key", KEY,  # simulate takes no $SEALDESK_ACCESS_KEY
                    "--count", str(PUSHES), "--rate", "5000", "--devices", "5000", "--qos", "1",
                    "--clean-session", "--client-id", "team-sim")
        started.append(sim)

        wait_for(lambda: journal_count(pg_url) >= PUSHES // 2, 90, "half the stream journaled")
        journal_process = a.children()
        a.proc.send_signal(signal.SIGKILL)  # no goodbye: its session stays at the broker
        a.proc.wait(10)
        # Its journal process ends by itself (the pipe from its parent closed).
        _, alive = psutil.wait_procs(journal_process, timeout=30)
        assert not alive, "the killed recorder's journal process went on"
        a.stop()
        at_kill = journal_count(pg_url)

        again = recorder(mosquitto, pg_url, "rec-a", started)  # as a service manager would
        wait_for(lambda: sim.proc.poll() is not None, 90, "the simulator to finish")
        assert sim.proc.returncode == 0, sim.output
        assert sim.said(f"published {PUSHES} messages"), sim.output
        wait_for(lambda: witness.count >= PUSHES, 60, "the witness to see every push")
        distinct = len(witness.seen)
        wait_for(lambda: journal_count(pg_url) >= distinct, 90,
                 f"{distinct} distinct pushes journaled")
        for rec in (again, b):
            rec.stop()  # Ctrl-C: acknowledges what it committed, says what it recorded
        stored = journal_contents(pg_url)
    finally:
        witness.close()

    assert witness.count == PUSHES
    assert set(stored) == set(witness.seen), (
        f"missing {len(set(witness.seen) - set(stored))}, "
        f"not published {len(set(stored) - set(witness.seen))}")
    assert max(stored.values()) == 1, "a push is stored twice"
    assert len(stored) == distinct
    # Pushes the simulator made with the same bytes (one push, by content): a few at most.
    assert PUSHES - distinct <= PUSHES // 1000, PUSHES - distinct
    # What the broker kept for the killed member's client id was taken by the member still
    # running (a takeover), or by the killed one started again (it waits for a takeover).
    assert at_kill < distinct
    assert again.said("recorded "), again.output
    assert b.said("recorded "), b.output
    assert b.said("share: took ") or not again.said("recorded 0 messages"), (
        again.output, b.output)


def test_a_killed_members_pushes_are_taken_over_by_the_group_without_its_return(
        mosquitto, pg_url, started):
    """No restart this time: the member still running sees the killed one's hold go in the
    journal, connects as it, leaves the group in its name and journals what its session held;
    every push is then in the journal once, and the group takes the whole stream."""
    witness = Witness(mosquitto)
    try:
        a = recorder(mosquitto, pg_url, "rec-a", started)
        b = recorder(mosquitto, pg_url, "rec-b", started)
        sim = Proc("simulate", "--host", mosquitto.host, "--port", str(mosquitto.port),
                   "--access-key", KEY, "--count", "20000", "--rate", "4000",
                   "--devices", "5000", "--qos", "1", "--clean-session", "--client-id", "sim")
        started.append(sim)
        wait_for(lambda: journal_count(pg_url) >= 5000, 60, "a quarter of the stream")
        journal_process = a.children()
        a.proc.send_signal(signal.SIGKILL)
        a.proc.wait(10)
        psutil.wait_procs(journal_process, timeout=30)
        a.stop()
        wait_for(lambda: sim.proc.poll() is not None, 60, "the simulator to finish")
        assert sim.said("published 20000 messages"), sim.output
        wait_for(lambda: witness.count >= 20000, 60, "the witness to see every push")
        distinct = len(witness.seen)
        wait_for(lambda: journal_count(pg_url) >= distinct, 60,
                 f"{distinct} distinct pushes journaled, rec-a not back")
        wait_for(lambda: b.said("share: took "), 30, "the takeover to end")
        b.stop()
        stored = journal_contents(pg_url)
    finally:
        witness.close()
    assert set(stored) == set(witness.seen)
    assert max(stored.values()) == 1
    assert b.said("share: rec-a stopped; taking over its session"), b.output


def test_a_member_that_only_lost_its_hold_keeps_its_session(mosquitto, pg_url, started):
    """Its connection to the journal cut while it runs: the other member takes its session
    over, it takes it back at its next connect, the takeover leaves it; nothing is lost."""
    import psycopg

    witness = Witness(mosquitto)
    try:
        a = recorder(mosquitto, pg_url, "rec-a", started)
        b = recorder(mosquitto, pg_url, "rec-b", started)
        sim = Proc("simulate", "--host", mosquitto.host, "--port", str(mosquitto.port),
                   "--access-key", KEY, "--count", "10000", "--rate", "2000",
                   "--devices", "5000", "--qos", "1", "--clean-session", "--client-id", "sim")
        started.append(sim)
        wait_for(lambda: journal_count(pg_url) >= 2000, 60, "a fifth of the stream")
        with psycopg.connect(pg_url, autocommit=True) as admin:
            cut = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE application_name LIKE 'sealdesk rec % rec-a'").fetchone()[0]
        assert cut == 1
        wait_for(lambda: b.said("share: rec-a is still connected; its session is left to it"),
                 60, "the takeover to give the session back")
        wait_for(lambda: sim.proc.poll() is not None, 60, "the simulator to finish")
        wait_for(lambda: witness.count >= 10000, 60, "the witness to see every push")
        distinct = len(witness.seen)
        wait_for(lambda: journal_count(pg_url) >= distinct, 60, "every push journaled")
        assert a.proc.poll() is None, a.output  # it went on recording throughout
        for rec in (a, b):
            rec.stop()
        stored = journal_contents(pg_url)
    finally:
        witness.close()
    assert set(stored) == set(witness.seen)
    assert max(stored.values()) == 1
