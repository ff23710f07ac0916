"""Desks on a shared journal (issue 23): two windows, one PostgreSQL journal.

Real widgets, a real PostgreSQL (`pg_url`: a fresh database per test). What one desk does
must show on the other within a second; a push a recorder stores must reach both desks'
tables. Every wait is `qtbot.waitUntil` on what the dispatcher would see — never a sleep.
"""

from __future__ import annotations

import threading
import time

import pytest

from app.desk.tail import JournalTail, parse_range
from app.journal.url import open_journal
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet

KEY = "DESKKEY"


def _records(kind: str = "alarm", n_devices: int = 2, seed: int = 3):
    fleet = Fleet(KEY, devices=n_devices, seed=seed)
    out = []
    for d in fleet.device_ids:
        pairs = fleet.raise_alarm(d, 51) if kind == "alarm" else fleet.location(d)
        out += [decode(RawPush("mqtt", topic, payload, time.time(), "test"))
                for topic, payload in pairs]
    return out


def _store(target: str, records) -> list[int]:
    """As a recorder stores pushes: the journal's write API, in one transaction."""
    with open_journal(target) as journal:
        return journal.write(records)


def _store_alarm(target: str, seed: int = 3) -> int:
    """One device's alarm stored as a recorder would; its push id."""
    records = _records("alarm", 1, seed)
    ids = _store(target, records)
    return next(i for i, r in zip(ids, records, strict=True) if r.kind == "alarm")


# -- the feed, without a window -----------------------------------------------------------------


def test_a_notified_range_is_read_as_such():
    assert parse_range("120-180") == (120, 180)
    assert parse_range("7") == (7, 7)
    assert parse_range("") is None and parse_range("x-y") is None


def test_the_alarms_asked_about_are_a_few_id_ranges_cut_at_the_widest_gaps():
    from app.ui.acknowledgements import spans

    assert spans([]) == []
    assert spans([5]) == [(5, 5)]
    assert spans([1, 2, 3, 100, 101, 5000], most=3) == [(1, 3), (100, 101), (5000, 5000)]
    ids = list(range(0, 10_000, 7))
    ranges = spans(ids, most=4)
    assert len(ranges) == 4 and all(any(lo <= i <= hi for lo, hi in ranges) for i in ids)


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
def test_the_tail_hands_over_each_push_committed_after_it_started_once(kind, request, tmp_path):
    target = request.getfixturevalue("pg_url") if kind == "postgresql" \
        else str(tmp_path / "j.sqlite")
    before = _store(target, _records("location"))
    got: list[int] = []
    done = threading.Event()
    expected: list[int] = []

    def listener(records, ids, _skipped):
        got.extend(ids)
        if expected and set(expected) <= set(got):
            done.set()

    tail = JournalTail(target, start_after=max(before))
    tail.add_listener(listener)
    tail.start()
    try:
        first = _store(target, _records("alarm"))
        second = _store(target, _records("location", seed=4))
        expected.extend(first + second)
        assert done.wait(5), (got, expected)
        assert sorted(got) == sorted(expected)  # nothing from before, nothing twice
    finally:
        tail.stop()


def test_two_recorders_committing_out_of_order_lose_nothing(pg_url):
    """Recorder A takes the lower ids but commits after recorder B: reading 'after the last
    id seen' would skip A's pushes; the notified range is read as such."""
    from waiting import wait_until

    before = _store(pg_url, _records("location"))
    got: list[int] = []
    tail = JournalTail(pg_url, start_after=max(before))
    tail.add_listener(lambda records, ids, _skipped: got.extend(ids))
    states: list = []
    tail.add_state_listener(states.append)
    tail.start()
    a, b = open_journal(pg_url), open_journal(pg_url)
    try:
        assert wait_until(lambda: states and states[-1].connected, 10)
        a.conn.raw.execute("BEGIN")  # A's write is a savepoint of this open transaction
        late = a.write(_records("alarm", seed=13))
        early = b.write(_records("alarm", seed=14))
        assert max(late) < min(early)
        assert wait_until(lambda: set(early) <= set(got), 10)
        a.conn.raw.execute("COMMIT")
        assert wait_until(lambda: set(late) <= set(got), 10), (late, got)
        assert sorted(got) == sorted(late + early)
    finally:
        a.close()
        b.close()
        tail.stop()


def test_the_feed_process_sends_a_batch_only_when_the_window_asks(pg_url):
    """Back-pressure: a window that does not drain its feed gets nothing more (the process
    keeps and coalesces); one that keeps up gets each batch as it comes."""
    from waiting import wait_until

    from app.desk.process import DeskProcess

    start = _store(pg_url, _records("location"))
    got: list[int] = []
    feed = DeskProcess(pg_url, start_after=max(start))
    feed.add_listener(lambda records, ids, _skipped: got.extend(ids))
    states: list = []
    feed.add_state_listener(states.append)
    feed.start()
    try:
        assert wait_until(lambda: states and states[-1].connected, 30)
        first = _store(pg_url, _records("alarm", seed=6))
        assert not wait_until(lambda: got, 1.0)  # not asked: nothing sent
        feed.want_more()
        assert wait_until(lambda: set(first) <= set(got), 10)
        feed.pending = lambda: 0  # a window that keeps up
        feed.want_more()
        second = _store(pg_url, _records("alarm", seed=7))
        third = _store(pg_url, _records("alarm", seed=8))
        assert wait_until(lambda: set(second + third) <= set(got), 10)
        assert sorted(got) == sorted(first + second + third)
    finally:
        feed.stop()


def test_a_change_reaches_the_window_after_the_pushes_before_it_even_in_a_flood():
    """The feed process's relay, with a stand-in pipe: an acknowledgement must not overtake
    the alarm it acknowledges, nor wait for a flood to end."""
    from waiting import wait_until

    from app.desk import process

    class Pipe:
        def __init__(self):
            self.sent: list[tuple] = []
            self.while_sending = None

        def send(self, msg):
            self.sent.append(msg)
            if msg[0] == process.BATCH and self.while_sending:
                self.while_sending, more = None, self.while_sending
                more()  # pushes keep coming while a batch is on its way

    class Tail:
        def add_listener(self, fn):
            self.push = fn

        def add_change_listener(self, fn):
            self.change = fn

        def add_state_listener(self, fn):
            pass

    pipe, tail = Pipe(), Tail()
    child = process._Child(pipe, tail)
    relay = threading.Thread(target=child._relay_loop, daemon=True)
    relay.start()
    records = _records("alarm", 1)
    try:
        tail.push(records, [1, 2])
        tail.change("alarm_ack")  # made after pushes 1 and 2
        tail.push(records, [3, 4])  # the flood goes on
        pipe.while_sending = lambda: tail.push(records, [5, 6])
        assert not [m for m in pipe.sent if m[0] == process.CHANGE]  # not before 1 and 2
        with child._wake:
            child._wanted = True
            child._wake.notify()
        assert wait_until(lambda: any(m[0] == process.CHANGE for m in pipe.sent), 5)
        kinds = [(m[0], tuple(m[2]) if m[0] == process.BATCH else m[1]) for m in pipe.sent]
        # after the batch that holds 1 and 2, though 5 and 6 wait already
        assert kinds == [(process.BATCH, (1, 2, 3, 4)), (process.CHANGE, "alarm_ack")]
        assert len(child.backlog) == 2
    finally:
        with child._wake:
            child._stopping = True
            child._wake.notify()
        relay.join(5)


# -- opening a desk -------------------------------------------------------------------------------


def test_a_desk_opens_from_the_command_line_and_a_journal_out_of_reach_says_so(
        cli, pg_url, tmp_path):
    png = tmp_path / "desk.png"
    res = cli.run("--journal", pg_url, "--operator", "carol", "--screenshot", str(png),
                  "--quit-after", "4")
    assert res.returncode == 0, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    assert png.is_file()
    gone = pg_url.rsplit("/", 1)[0] + "/no_such_database"
    res = cli.run("--journal", gone, "--quit-after", "2", timeout=60)
    assert res.returncode == 1 and "cannot open the journal" in res.stderr
    res = cli.run("--desk", "--demo", timeout=60)
    assert res.returncode == 2 and "a desk" in res.stderr


# -- two desk windows on one journal ------------------------------------------------------------


class Desk:
    """One desk as a dispatcher opens it: `main.py --journal postgresql://… --operator NAME`."""

    def __init__(self, target: str, name: str, folder, qtbot, desk: bool | None = None) -> None:
        from PySide6.QtCore import QSettings

        from app.ui.session import Session

        settings = QSettings(str(folder / f"{name}.ini"), QSettings.Format.IniFormat)
        self.session = Session(target, settings, desk=desk, operator=name)
        self.window = self.session.open_window()
        qtbot.addWidget(self.window)
        self.window.show()
        self.alarms = self.window.panels["alarms"]
        self.events = self.window.panels["events"]
        self.commissioning = self.window.panels["commissioning"]

    def alarm_row(self, push_id: int):
        model = self.alarms.model
        slot = model.row_of(push_id)
        return model.row_at(slot) if slot >= 0 else None

    def event_shown(self, push_id: int) -> bool:
        return self.events.model.row_of(push_id) >= 0

    def batches(self) -> set[str]:
        tree = self.commissioning.sessions
        return {tree.topLevelItem(i).text(1) for i in range(tree.topLevelItemCount())}

    def close(self) -> None:
        self.window.close()
        self.session.feed.stop()
        self.session.ctx.acknowledgements.close()
        self.session.recording.stop()


@pytest.fixture
def desks(pg_url, tmp_path, qtbot):
    a = Desk(pg_url, "alice", tmp_path, qtbot)
    b = Desk(pg_url, "bob", tmp_path, qtbot)
    for desk in (a, b):  # listening before anything is done
        qtbot.waitUntil(lambda d=desk: d.session.ctx.shared.state is not None
                        and d.session.ctx.shared.state.connected, timeout=10000)
    yield a, b
    a.close()
    b.close()


def test_a_desk_is_named_for_its_journal_and_operator(desks):
    a, b = desks
    assert a.session.desk and b.session.desk
    assert a.window.windowTitle().endswith(" — alice")
    assert b.window.windowTitle().endswith(" — bob")
    assert a.window.desk_status.text().startswith("Desk — journal 127.0.0.1:")


def test_a_push_stored_by_a_recorder_reaches_both_desks(desks, pg_url, qtbot):
    a, b = desks
    fleet = Fleet(KEY, devices=2, seed=8)
    d = fleet.device_ids[0]
    records = [decode(RawPush("mqtt", t, p, time.time(), "test"))
               for t, p in fleet.raise_alarm(d, 51) + fleet.lock_cycle(d)]
    ids = _store(pg_url, records)
    alarm = next(i for i, r in zip(ids, records, strict=True) if r.kind == "alarm")
    event = next(i for i, r in zip(ids, records, strict=True) if r.kind == "event")
    for desk in (a, b):
        qtbot.waitUntil(lambda desk=desk: desk.alarm_row(alarm) is not None, timeout=3000)
        qtbot.waitUntil(lambda desk=desk: desk.event_shown(event), timeout=3000)
        assert alarm in desk.session.fleet.unacknowledged
        # the push log, too, once shown (its pages come from the shared journal)
        desk.window.show_panel("pushlog")
        pushlog = desk.window.panels["pushlog"].model
        qtbot.waitUntil(lambda m=pushlog: m.row_of(alarm) >= 0 and m.row_of(event) >= 0,
                        timeout=3000)


def test_an_acknowledgement_with_a_note_shows_on_the_other_desk_within_a_second(
        desks, pg_url, qtbot):
    a, b = desks
    alarm = _store_alarm(pg_url)
    for desk in (a, b):
        qtbot.waitUntil(lambda desk=desk: desk.alarm_row(alarm) is not None, timeout=3000)
    a.alarms.acknowledge([alarm], "Checked on camera", "driver confirmed, seal intact")
    qtbot.waitUntil(lambda: (row := b.alarm_row(alarm)) is not None and row.acknowledged
                    and row.ack_note == "driver confirmed, seal intact", timeout=1000)
    row = b.alarm_row(alarm)
    assert (row.acked_by, row.ack_reason) == ("alice", "Checked on camera")
    assert a.alarms.undo_button.isEnabled()  # alice may take hers back, bob has none to
    assert not b.alarms.undo_button.isEnabled()
    assert alarm not in b.session.fleet.unacknowledged
    # and stored once, by the desk that acknowledged, under its operator's name
    with open_journal(pg_url) as journal:
        assert journal.conn.execute("SELECT operator, note FROM alarm_ack WHERE push_id=?",
                                    (alarm,)).fetchall() == [
            ("alice", "driver confirmed, seal intact")]


def test_an_acknowledgement_taken_back_waits_again_on_the_other_desk(desks, pg_url, qtbot):
    a, b = desks
    alarm = _store_alarm(pg_url)
    for desk in (a, b):
        qtbot.waitUntil(lambda desk=desk: desk.alarm_row(alarm) is not None, timeout=3000)
    a.alarms.acknowledge([alarm])
    qtbot.waitUntil(lambda: b.alarm_row(alarm).acknowledged, timeout=1000)
    assert a.alarms.undo_acknowledge() == [alarm]
    qtbot.waitUntil(lambda: not b.alarm_row(alarm).acknowledged, timeout=1000)
    assert alarm in b.session.fleet.unacknowledged


def test_a_commissioning_session_started_on_one_desk_is_listed_on_the_other(desks, qtbot):
    a, b = desks
    a.commissioning.add_devices("860000000000001")
    a.commissioning.start()
    batch = a.commissioning.session.batch
    assert batch in a.batches()
    qtbot.waitUntil(lambda: batch in b.batches(), timeout=1000)
    item = next(b.commissioning.sessions.topLevelItem(i)
                for i in range(b.commissioning.sessions.topLevelItemCount())
                if b.commissioning.sessions.topLevelItem(i).text(1) == batch)
    assert item.text(2) == "860000000000001"


def test_a_lost_journal_shows_in_the_status_bar_and_what_came_meanwhile_is_caught_up(
        desks, pg_url, qtbot):
    import psycopg

    from app.fleet.state import Status

    a, b = desks
    assert "lost" not in a.window.desk_status.text()
    known = _store_alarm(pg_url, seed=12)
    qtbot.waitUntil(lambda: a.alarm_row(known) is not None, timeout=3000)
    device = a.alarm_row(known).device
    assert a.session.fleet.status(device) is not Status.UNKNOWN
    writer = open_journal(pg_url)  # the recorder keeps its connection through the outage
    server, db = pg_url.rsplit("/", 1)
    admin = psycopg.connect(f"{server}/postgres", autocommit=True)
    try:
        # The server drops every desk's connection and refuses new ones for a while.
        admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS false')
        admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
                      " WHERE datname = %s AND pid <> %s",
                      (db, writer.conn.raw.info.backend_pid))
        qtbot.waitUntil(lambda: "connection lost" in a.window.desk_status.text(),
                        timeout=5000)
        # its silence says nothing now: every device it shows is unknown
        assert a.session.fleet.status(device) is Status.UNKNOWN
        records = _records("alarm", 1, seed=9)
        ids = writer.write(records)
        alarm = next(i for i, r in zip(ids, records, strict=True) if r.kind == "alarm")
        # and another, which a third desk acknowledges before this one is back
        records = _records("alarm", 1, seed=10)
        ids = writer.write(records)
        acked = next(i for i, r in zip(ids, records, strict=True) if r.kind == "alarm")
        writer.acknowledge([acked], at=time.time(), operator="carol", note="done meanwhile")
    finally:
        admin.execute(f'ALTER DATABASE "{db}" ALLOW_CONNECTIONS true')
        admin.close()
        writer.close()
    qtbot.waitUntil(lambda: "lost" not in a.window.desk_status.text(), timeout=15000)
    qtbot.waitUntil(lambda: a.alarm_row(alarm) is not None, timeout=5000)
    assert a.session.fleet.status(device) is not Status.UNKNOWN
    # what came meanwhile, acknowledged meanwhile, is acknowledged here too
    qtbot.waitUntil(lambda: (row := a.alarm_row(acked)) is not None
                    and row.ack_note == "done meanwhile", timeout=5000)
    assert acked not in a.session.fleet.unacknowledged
    # what the desks share goes through on new connections: a session, an acknowledgement
    a.commissioning.add_devices("860000000000003")
    a.commissioning.start()
    qtbot.waitUntil(lambda: a.commissioning.session.batch in b.batches(), timeout=3000)
    a.alarms.acknowledge([alarm], "", "after the outage")
    assert a.session.ctx.acknowledgements.wait_stored(10)
    with open_journal(pg_url) as journal:
        assert journal.conn.execute("SELECT note FROM alarm_ack WHERE push_id=?",
                                    (alarm,)).fetchall() == [("after the outage",)]


def test_the_operator_set_in_settings_names_the_window_and_goes_on_what_is_done(
        desks, pg_url, qtbot):
    from app.ui.operator import SETTINGS_OPERATOR
    from app.ui.settings_dialog import SettingsDialog

    a, b = desks
    dialog = SettingsDialog(a.session.ctx, a.window.panels.values(), a.window)
    dialog.sig_operator_changed.connect(a.window.set_operator)  # as File › Settings wires it
    page = dialog.stack.widget(0)
    page.operator.setText("dora")
    page.operator.editingFinished.emit()
    assert a.window.windowTitle() == "SealDesk — Dispatch — dora"
    assert a.session.settings.value(SETTINGS_OPERATOR) == "dora"
    dialog.close()
    alarm = _store_alarm(pg_url, seed=5)
    qtbot.waitUntil(lambda: a.alarm_row(alarm) is not None and b.alarm_row(alarm) is not None,
                    timeout=3000)
    a.alarms.acknowledge([alarm])
    qtbot.waitUntil(lambda: b.alarm_row(alarm).acked_by == "dora", timeout=1000)


def test_a_command_sent_from_one_desk_is_audited_answered_and_shown_on_the_other(
        desks, pg_url, broker, qtbot):
    """The team as it runs: a recorder journals the fleet's pushes into the shared journal;
    desk A sends over its own publish-only connection; the reply reaches A through the
    journal, and B's history shows the command, who sent it and what came of it."""
    from app.pipeline import Recorder
    from app.sim.runner import Simulator
    from app.transport.settings import ConnectionSettings
    from app.transport.state import Phase

    a, b = desks
    fleet = Fleet(KEY, devices=3, seed=21)
    sim = Simulator(ConnectionSettings(host=broker.host, port=broker.port, access_key=KEY,
                                       qos=1), fleet, stream=False).start()
    recorder = Recorder.for_record(pg_url).start()
    try:
        recorder.connect(ConnectionSettings.from_options(
            host=broker.host, port=broker.port, access_key=KEY, qos=1, clean_session=True,
            client_id="team-recorder", profile="Recorder"))
        assert recorder.transports["Recorder"].wait_connected(10)
        a.session.connections.connect_profile(ConnectionSettings.from_options(
            host=broker.host, port=broker.port, access_key=KEY, qos=1, clean_session=True,
            client_id="desk-a", profile="Yard"))
        qtbot.waitUntil(lambda: (s := a.session.connections.states.get("Yard")) is not None
                        and s.phase is Phase.CONNECTED, timeout=10000)
        # The simulator subscribes on its own thread: probe until its answer is journaled.
        probe = "000000probe"
        for _ in range(80):
            a.session.connections.publish("Yard", f"download/{KEY}/{probe}/cmd",
                                          f"({probe},1,000,BASE,1)", 1)
            try:
                qtbot.waitUntil(lambda: probe in a.session.fleet.devices, timeout=250)
                break
            except AssertionError:
                continue
        panel_a, panel_b = a.window.panels["commands"], b.window.panels["commands"]
        device = fleet.device_ids[0]
        panel_a.compose.set_device(device)
        panel_a.compose.select_template("version")
        panel_a.send_current()

        def shown_on_b(state: str):
            panel_b.model.flush()
            return next((r for r in panel_b.model.rows()
                         if r.device == device and r.state == state), None)

        qtbot.waitUntil(lambda: shown_on_b("answered") is not None, timeout=10000)
        assert shown_on_b("answered").operator == "alice"
        with open_journal(pg_url) as journal:
            assert journal.conn.execute(
                "SELECT operator, state FROM command WHERE device=?", (device,)).fetchall() == [
                ("alice", "answered")]
    finally:
        recorder.stop()
        sim.stop(5)


def test_desks_on_a_sqlite_journal_another_process_writes_share_too(tmp_path, qtbot):
    """Without PostgreSQL: `--desk` on a SQLite journal (data_version polled)."""
    target = str(tmp_path / "shared.sqlite")
    _store(target, _records("location"))  # a journal a recorder made
    a, b = Desk(target, "alice", tmp_path, qtbot, desk=True), \
        Desk(target, "bob", tmp_path, qtbot, desk=True)
    try:
        alarm = _store_alarm(target)
        for desk in (a, b):
            qtbot.waitUntil(lambda desk=desk: desk.alarm_row(alarm) is not None, timeout=3000)
        a.alarms.acknowledge([alarm], "", "seen on the sqlite desk")
        qtbot.waitUntil(lambda: b.alarm_row(alarm).ack_note == "seen on the sqlite desk",
                        timeout=1000)
        a.commissioning.add_devices("860000000000002")
        a.commissioning.start()
        qtbot.waitUntil(lambda: a.commissioning.session.batch in b.batches(), timeout=1000)
    finally:
        a.close()
        b.close()
