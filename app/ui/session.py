"""One running console: journal, fleet state, feed, connections and the window, wired once.

Two kinds: a *recording* window (its recording process connects to MQTT and writes the
journal) and a *desk* (issue 23: a window on a shared journal others write — its feed is the
journal's new pushes, its profiles only send commands; see `app/desk/`).
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from PySide6.QtCore import QSettings

from app.desk.recording import DeskRecording
from app.desk.tail import newest_push_id
from app.fleet.state import AlarmEntry, FleetState, Thresholds
from app.journal.url import is_journal_url, open_journal
from app.recording_process import RecordingProcess
from app.transport.settings import ConnectionSettings
from app.transport.state import Phase
from app.ui.bounds import UNACKNOWLEDGED
from app.ui.context import AppContext, Connections, Selection
from app.ui.feed import LiveFeed
from app.ui.operator import operator_name

log = logging.getLogger(__name__)

DEMO_KEY = "DEMO0ACCESS0KEY"
DEMO_CONNECT_TIMEOUT_S = 30.0


class Session:
    def __init__(self, journal_path: str | Path, settings: QSettings, *,
                 desk: bool | None = None, operator: str | None = None) -> None:
        """`desk`: a window fed by the journal (default: when the journal is a PostgreSQL
        URL); `operator`: who is at the desk for this run (else the saved name, else the OS
        user). Raises one of `JOURNAL_ERRORS` when a desk's journal cannot be read."""
        self.journal_path = str(journal_path)
        self.settings = settings
        self.desk = is_journal_url(self.journal_path) if desk is None else bool(desk)
        if self.desk:
            # The feed starts after the newest push now in the journal: what is older, the
            # panels load as history, as a recording window does at start.
            with open_journal(self.journal_path) as journal:
                newest = newest_push_id(journal)
            self.recording: RecordingProcess | DeskRecording = DeskRecording(
                self.journal_path, start_after=newest)
        else:
            # Connections, decoding and the journal run in the recording process; the
            # window's process only draws (no other thread in it competes for the GIL while
            # it paints).
            self.recording = RecordingProcess(self.journal_path)
        thresholds = Thresholds(
            quiet_after=float(settings.value("devices/quiet_after_s", 300)),
            offline_after=float(settings.value("devices/offline_after_s", 1800)),
        )
        # Unacknowledged alarms kept in memory: a bound the dispatcher sets (Settings › Alarms).
        self.fleet = FleetState(thresholds, max_unacknowledged=UNACKNOWLEDGED.value(settings))
        self._restore_alarms()
        self.feed = LiveFeed(self.fleet)
        self.recording.add_listener(self.feed.push)
        self.feed.want_more = self.recording.want_more
        if isinstance(self.recording, DeskRecording):
            self.recording.follow_feed(lambda: len(self.feed.backlog))
        self.connections = Connections(self.recording)
        self.selection = Selection()
        self.ctx = AppContext(
            fleet=self.fleet,
            feed=self.feed,
            connections=self.connections,
            selection=self.selection,
            journal_path=self.journal_path,
            settings=settings,
            operator=operator_name(settings, operator),
            desk=self.desk,
        )
        if isinstance(self.recording, DeskRecording):
            self.recording.add_change_listener(self.ctx.shared.table_changed)
            self.recording.add_state_listener(self.ctx.shared.connection_changed)
            from app.ui.desk_feeds import DeskFeeds  # journal lost ⇒ every device unknown

            self.desk_feeds = DeskFeeds(self.ctx.shared, self.fleet, self.ctx.feed_health)
        self.recording.start(wait=False)  # its listeners all in place
        self.window = None
        self.broker = None
        self.simulator = None
        self.webhook = None

    def _restore_alarms(self) -> None:
        with open_journal(self.journal_path) as journal:
            rows = journal.unacknowledged_alarms(limit=self.fleet.max_unacknowledged)
        self.fleet.restore_unacknowledged(
            [
                AlarmEntry(
                    push_id=r.id,
                    device_id=r.device or "",
                    received_at=r.received_at,
                    alarm_type=r.data.get("alarmType") if isinstance(
                        r.data.get("alarmType"), int) else None,
                    name=str(r.data.get("alarmName")
                             or f"Unknown alarm {r.data.get('alarmType', '')}".strip()),
                    data=r.data,
                )
                for r in rows
            ]
        )

    def open_window(self):
        from app.ui.main_window import MainWindow

        self.window = MainWindow(self.ctx)
        if self.desk:  # the journal connection, lost or not, in the status bar
            from app.desk.target import describe
            from app.ui.desk_status import attach_desk_status

            attach_desk_status(self.ctx.shared, self.window, describe(self.journal_path))
        else:
            from app.ui.journal_banner import attach_journal_banner  # journal stopped: say so
            attach_journal_banner(self.recording, self.window)
        return self.window

    # -- demo ----------------------------------------------------------------------------

    async def start_demo(self, *, devices: int = 30, rate: float = 40.0) -> ConnectionSettings:
        """Embedded amqtt broker and the simulated fleet, each on its own thread, and a profile."""
        from app.brokers import EmbeddedBroker
        from app.sim.runner import Simulator

        self.broker = EmbeddedBroker()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.broker.start_in_thread)
        sim_settings = ConnectionSettings.from_options(
            host=self.broker.host, port=self.broker.port, access_key=DEMO_KEY,
            qos=1, client_id="sealdesk-demo-fleet", clean_session=True, role="simulator",
        )
        self.simulator = Simulator(sim_settings, devices=devices, seed=7, rate=rate)
        await loop.run_in_executor(None, self.simulator.start)
        # Commands panel demo: one lock the platform reports offline, one that never answers.
        ids = self.simulator.fleet.device_ids
        self.demo_offline, self.demo_silent = ids[-1], ids[-2]
        self.simulator.fleet.devices[self.demo_offline].online = False
        self.simulator.fleet.devices[self.demo_silent].silent = True
        settings = ConnectionSettings.from_options(
            host=self.broker.host, port=self.broker.port, access_key=DEMO_KEY, qos=1,
            client_id="sealdesk-demo-console", clean_session=True, profile="Demo",
        )
        self.connections.connect_profile(settings)
        # Subscribed before the demo goes on: what the fleet publishes from now on is seen
        # (the recording process starts and connects on its own; a clean session keeps
        # nothing for a subscriber that is not there yet).
        deadline = loop.time() + DEMO_CONNECT_TIMEOUT_S
        while loop.time() < deadline:
            state = self.connections.states.get(settings.profile)
            if state is not None and state.phase is Phase.CONNECTED:
                break
            await asyncio.sleep(0.05)
        return settings

    # -- webhook -------------------------------------------------------------------------

    def start_webhook(self, config) -> None:
        """The webhook receiver runs on its own asyncio loop thread, not the GUI's qasync loop:
        an HTTP answer (sent after the journal commit) must never wait for a repaint, and a
        plain asyncio loop behaves the same on Windows (proactor), Linux and macOS."""
        from app.webhook import WebhookServer

        if self.webhook is not None:
            self.webhook.stop()
        self.webhook = WebhookServer(config, self.recording.submit).start_in_thread()
        self.ctx.webhook = self.webhook

    def connect_saved_profile(self, name: str) -> None:
        from app.ui.panels.connection.profiles import ProfileStore

        store = ProfileStore(self.settings)
        self.connections.connect_profile(store.connection_settings(name))

    async def close(self) -> None:
        self.feed.stop()
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self.ctx.acknowledgements.close)
        if self.webhook is not None:
            await loop.run_in_executor(None, self.webhook.stop)
        if self.simulator is not None:
            await loop.run_in_executor(None, lambda: self.simulator.stop(timeout=2.0))
        await loop.run_in_executor(None, self.recording.stop)
        if self.broker is not None:
            await loop.run_in_executor(None, self.broker.stop_thread)
