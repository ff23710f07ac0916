"""Secrets shown only on purpose: an unlock password sent with (P43,<password>) is echoed by
the reply and reported by the unlock event; the journal keeps it, but no text of any view
of the window and no byte of any export shows it — until one audited reveal.

A real window on a real broker, the simulated lock answering; every item view's every cell
(display and tooltip), every line edit, label, text box and combo box of every panel is
read, and every export the window offers is written and read back."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, QSettings, Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QTextEdit,
)

from app.fleet.state import FleetState
from app.journal import reveals
from app.journal.store import Journal
from app.pipeline import Recorder
from app.protocol.redact import has_secrets
from app.sim.fleet import Fleet
from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings
from app.ui.context import AppContext, Connections, Selection
from app.ui.feed import LiveFeed
from app.ui.main_window import MainWindow
from app.ui.panels.commands import compose as compose_mod

KEY = "SECRETKEY"
PROFILE = "test"
PASSWORD = "73915604"
ROLES = (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole,
         Qt.ItemDataRole.EditRole)


class Rig:
    def __init__(self, broker, tmp_path: Path) -> None:
        self.journal = tmp_path / "journal.sqlite"
        self.settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        self.recorder = Recorder(self.journal, in_process=True).start()
        self.fleet_state = FleetState()
        self.feed = LiveFeed(self.fleet_state)
        self.recorder.add_listener(self.feed.push)
        self.connections = Connections(self.recorder)
        self.ctx = AppContext(
            fleet=self.fleet_state, feed=self.feed, connections=self.connections,
            selection=Selection(), journal_path=str(self.journal), settings=self.settings,
            operator="dispatcher7",
        )
        self.fleet = Fleet(KEY, devices=6, seed=4)
        devices = self.fleet.devices
        self.lock = next(d for d in self.fleet.device_ids
                         if devices[d].is_lock and devices[d].lock_status == 0)
        self.sim = Simulator(ConnectionSettings(host=broker.host, port=broker.port,
                                                access_key=KEY, qos=1),
                             self.fleet, stream=False).start()
        self.connections.connect_profile(ConnectionSettings.from_options(
            host=broker.host, port=broker.port, access_key=KEY, qos=1,
            client_id="secrets-under-test", clean_session=True, profile=PROFILE))
        assert self.recorder.transports[PROFILE].wait_connected(10)
        self._wait_sim_ready()

    def _wait_sim_ready(self) -> None:
        heard = threading.Event()
        self.recorder.add_listener(
            lambda records, ids: heard.set() if any(r.device == self.lock for r in records)
            else None)
        transport = self.recorder.transports[PROFILE]
        for _ in range(80):  # a location query: the lock answers once the simulator listens
            transport.publish(f"download/{KEY}/{self.lock}/cmd", b"(P02)", 1)
            if heard.wait(0.25):
                return
        raise AssertionError("the simulator never answered")

    def close(self) -> None:
        self.ctx.acknowledgements.close()
        self.feed.stop()
        self.recorder.stop()
        self.sim.stop(5)


@pytest.fixture
def rig(broker, tmp_path, monkeypatch):
    monkeypatch.setattr(compose_mod, "templates_path", lambda: tmp_path / "templates.json")
    r = Rig(broker, tmp_path)
    yield r
    r.close()


@pytest.fixture
def window(rig, qtbot):
    w = MainWindow(rig.ctx)
    qtbot.addWidget(w)
    w.resize(1600, 1000)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def all_texts(window) -> str:
    """Every text the window shows or holds for showing, panel by panel."""
    return "\n".join(text for _where, text in texts_of(window))


def leaks(window) -> list[str]:
    """Where the password shows (what a failure says)."""
    return [f"{where}: {text[:200]}" for where, text in texts_of(window) if PASSWORD in text]


def texts_of(window) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = [("title", window.windowTitle()),
                                  ("status", window.statusBar().currentMessage())]
    for key in window.panels:
        window.show_panel(key)
    QGuiApplication.processEvents()
    for view in window.findChildren(QAbstractItemView):
        model = view.model()
        if model is None:
            continue
        if hasattr(view, "viewport"):
            view.viewport().repaint()  # the device tree writes its cells as it draws them

        def walk(parent: QModelIndex, model=model, view=view) -> None:
            for r in range(model.rowCount(parent)):
                for c in range(model.columnCount(parent)):
                    index = model.index(r, c, parent)
                    for role in ROLES:
                        value = index.data(role)
                        if value is not None:
                            out.append((f"{type(view).__name__} {view.objectName()} in "
                                        f"{type(view.parent()).__name__}[{r},{c}]", str(value)))
                first = model.index(r, 0, parent)
                if model.rowCount(first):
                    walk(first)

        walk(QModelIndex())
    for edit in window.findChildren(QLineEdit):
        out.append((f"line edit {edit.objectName()}", edit.displayText()))
    for label in window.findChildren(QLabel):
        out += [("label", label.text()), ("label tooltip", label.toolTip())]
    for box in window.findChildren(QPlainTextEdit):
        out.append(("text box", box.toPlainText()))
    for box in window.findChildren(QTextEdit):
        out.append(("text box", box.toPlainText()))
    for combo in window.findChildren(QComboBox):
        out += [("combo", combo.itemText(i)) for i in range(combo.count())]
    return out


def test_no_password_on_screen_or_in_exports_until_an_audited_reveal(
        rig, window, qtbot, tmp_path, cli):
    ctx, lock = rig.ctx, rig.lock
    commands = window.panels["commands"]
    window.show_panel("commands")
    compose = commands.compose
    compose.set_device(lock)
    compose.select_template("p43")
    field = compose._param_widgets["password"]
    compose.set_param("password", PASSWORD)
    # the command field shows dots, the preview a mask
    assert field.echoMode() == QLineEdit.EchoMode.Password
    assert PASSWORD not in compose.preview.text() and "(P43,••••)" in compose.preview.text()
    qtbot.mouseClick(commands.send_button, Qt.MouseButton.LeftButton)
    dlg = commands.confirm_dialog
    assert PASSWORD not in dlg.text_view.toPlainText()  # the typed confirmation too
    qtbot.keyClicks(dlg.edit, lock)
    qtbot.mouseClick(dlg.ok_button, Qt.MouseButton.LeftButton)

    # the reply and the unlock event arrive, and are journaled with the password
    events = window.panels["events"]
    window.show_panel("events")
    qtbot.waitUntil(lambda: any(r.state == "answered" for r in commands.model.rows()),
                    timeout=15000)
    qtbot.waitUntil(lambda: any(events.model.row_at(r).password == PASSWORD
                                for r in range(events.model.rowCount())), timeout=15000)
    with Journal(rig.journal) as j:
        raws = [r.raw for r in j.rows()]
        assert any(PASSWORD.encode() in raw for raw in raws)  # the record stays complete
        audit_text = j.conn.execute("SELECT text FROM command").fetchone()[0]
        assert PASSWORD in audit_text

    # selected everywhere it could be shown in full: the history row, the push log rows
    ctx.selection.select(lock)
    commands.table.selectRow(0)
    pushlog = window.panels["pushlog"]
    window.show_panel("pushlog")
    pushlog.show_device_history(lock)
    qtbot.waitUntil(lambda: not pushlog.model.loading and pushlog.model.rowCount() > 0,
                    timeout=10000)
    secret_rows = [r for r in range(pushlog.model.rowCount())
                   if pushlog.model.row_at(r).cells[3] in ("command", "event")]
    assert secret_rows
    offered = 0
    for r in secret_rows:
        pushlog.table.selectRow(r)
        assert not leaks(window), pushlog.model.row_at(r).cells
        shown = pushlog.details.row
        offered += pushlog.details.reveal_button.isVisible()
        assert pushlog.details.reveal_button.isVisible() == has_secrets(shown.kind, shown.data)
        for copy in (pushlog.details.raw_for_copy(), pushlog.details.decoded_for_copy()):
            assert PASSWORD not in copy
    assert offered >= 2  # the reply and the unlock event
    assert not leaks(window)

    # every export the window offers
    files = {
        "pushes.csv": lambda p: pushlog.start_export(str(p), "csv"),
        "pushes.jsonl": lambda p: pushlog.start_export(str(p), "jsonl"),
    }
    for name, start in files.items():
        path = tmp_path / name
        job = start(path)
        qtbot.waitUntil(lambda job=job: pushlog._export is None, timeout=15000)
        data = path.read_bytes()
        assert lock.encode() in data and PASSWORD.encode() not in data, name
    events_csv = tmp_path / "events.csv"
    assert events.export_csv(str(events_csv)) > 0
    qtbot.waitUntil(lambda: events_csv.exists() and events_csv.stat().st_size > 0,
                    timeout=15000)
    assert PASSWORD.encode() not in events_csv.read_bytes()
    audit_csv = tmp_path / "commands.csv"
    commands.export_audit(str(audit_csv), needle="").join(15)
    data = audit_csv.read_bytes()
    assert b"P43" in data and PASSWORD.encode() not in data

    # one reveal, audited: then the password shows, and masked again when hidden
    assert ctx.reveal.reveal("test", ask=False)
    pushlog.table.selectRow(secret_rows[0])
    assert PASSWORD in all_texts(window)
    assert field.echoMode() == QLineEdit.EchoMode.Normal
    with Journal(rig.journal) as j:
        [row] = reveals.history(j.conn)
    assert (row.operator, row.place, row.until) == ("dispatcher7", "test", None)
    ctx.reveal.hide()
    assert not leaks(window)
    with Journal(rig.journal) as j:
        assert reveals.history(j.conn)[0].until is not None

    # and the headless export: masked unless asked for
    for args, shown in (((), False), (("--with-secrets",), True)):
        res = cli.run("export", "--journal", str(rig.journal), "--format", "csv", *args)
        assert res.returncode == 0 and lock in res.stdout
        assert (PASSWORD in res.stdout) is shown
