"""The live rig the UI tests share: a Recorder on a tmp journal, a LiveFeed and an AppContext,
wired as the Session wires them, plus ways to feed it simulated pushes.

Importable as `live_rig`: tests/ is on sys.path (tests/conftest.py sits in a folder with no
__init__.py, so pytest's default import mode puts that folder first on the path).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import QSettings

from app.fleet.state import FleetState
from app.pipeline import Recorder
from app.protocol.decode import decode
from app.protocol.push import PushRecord, RawPush
from app.ui.context import AppContext, Connections, Selection
from app.ui.feed import LiveFeed


def decoded(pushes, at: float | None = None, profile: str = "test") -> list[PushRecord]:
    """Simulated (topic, payload) pairs decoded as the journal writer decodes them."""
    at = time.time() if at is None else at
    return [decode(RawPush("mqtt", t, p, at, profile)) for t, p in pushes]


class LiveRig:
    """journal → live feed → AppContext on tmp_path (j.sqlite, settings.ini).

    listen=True: the journal writer hands each committed batch to the feed (submit/deliver);
    listen=False: the test hands decoded records to the feed itself (send).
    """

    profile = "test"  # the connection profile submitted pushes came through

    def __init__(self, tmp_path: Path, *, listen: bool = True,
                 operator: str = "dispatcher1") -> None:
        self.path = tmp_path / "j.sqlite"
        self.settings = QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat)
        self.recorder = Recorder(self.path).start()
        self.fleet = FleetState()
        self.feed = LiveFeed(self.fleet)
        if listen:
            self.recorder.add_listener(self.feed.push)
        self.connections = Connections(self.recorder)
        self.ctx = AppContext(
            fleet=self.fleet, feed=self.feed, connections=self.connections,
            selection=Selection(), journal_path=str(self.path), settings=self.settings,
            operator=operator,
        )
        self.next_id = 1

    def submit(self, pushes, at: float | None = None) -> None:
        """Raw pushes to the journal writer, as a transport hands them over."""
        for topic, payload in pushes:
            self.recorder.writer.submit(RawPush(
                "mqtt", topic, payload, time.time() if at is None else at, self.profile))

    def deliver(self) -> None:
        """With the feed's timer stopped: commit everything and hand it over as ONE batch."""
        assert self.recorder.writer.flush(10)
        self.feed.drain()

    def send(self, qtbot, pushes, at: float | None = None) -> None:
        """Decoded straight to the feed (no journal): one feed push → one batch, waited for."""
        records = decoded(pushes, at)
        fed(self.feed, qtbot, records, self.next_id)
        self.next_id += len(records)

    def close(self) -> None:
        self.ctx.acknowledgements.close()
        self.feed.stop()
        self.recorder.stop()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def fed(feed, qtbot, records, first_id: int = 1) -> None:
    """Decoded records straight into a feed as one batch (ids from first_id), waited for."""
    with qtbot.waitSignal(feed.sig_batch_delivered, timeout=5000):
        feed.push(records, list(range(first_id, first_id + len(records))))


@contextmanager
def opened(qtbot, panel, size: tuple[int, int] | None = None, *, show: bool = False,
           history: bool = False) -> Iterator:
    """A panel owned by qtbot, sized, shown and/or with its history loaded; shut down after."""
    qtbot.addWidget(panel)
    if size is not None:
        panel.resize(*size)
    if show:
        panel.show()
    if history:
        qtbot.waitUntil(lambda: panel.history_done)
    yield panel
    panel.shutdown()


def painted(qtbot, model):
    """A table view of `model`, shown and painted once (what a repaint test starts from)."""
    from PySide6.QtWidgets import QTableView

    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    view.resize(400, 300)
    view.show()
    qtbot.waitExposed(view)
    view.grab()
    return view


class AlarmRig(LiveRig):
    """A LiveRig with a simulated fleet that raises alarms (alarm pushes only)."""

    CODES = (40, 41, 44, 45, 46, 51, 198)  # a mix of critical, warning and repeated types

    def __init__(self, tmp_path: Path, key: str = "ALARMKEY") -> None:
        super().__init__(tmp_path)
        from app.sim.fleet import Fleet

        self.sim = Fleet(key, devices=8, seed=11)
        self.sent = 0

    def alarm(self, device: str, code: int, at: float | None = None) -> None:
        self.submit([p for p in self.sim.raise_alarm(device, code) if "/alarm" in p[0]], at)

    def one_alarm(self) -> None:
        """The next of a steady stream: devices and codes in turn."""
        ids = self.sim.device_ids
        self.alarm(ids[self.sent % len(ids)], self.CODES[self.sent % len(self.CODES)])
        self.sent += 1
