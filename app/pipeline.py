"""The headless pipeline: transports → journal writer (decode, commit, acknowledge) → listeners.

The window (in its recording process, `app/recording_process/`), `record`, the webhook
receiver and the benchmark all stand on this, so a push takes one way through whatever
channel it came by.
"""

from __future__ import annotations

import threading
from pathlib import Path

from app.journal.process_writer import ProcessJournalWriter
from app.journal.writer import BatchListener, HealthListener, JournalHealth, JournalWriter
from app.protocol.push import RawPush
from app.transport.mqtt import MqttTransport, StateListener
from app.transport.settings import ConnectionSettings


class Recorder:
    """One journal writer fed by any number of MQTT profiles (and webhooks)."""

    def __init__(
        self, journal_path: str | Path, *, in_process: bool = True, records: bool = True
    ) -> None:
        """in_process=False decodes and journals in a child process, so that taking pushes
        off the socket and decoding them use both cores; `records` sends the decoded batches
        back for listeners (the window needs them, `record` only counts)."""
        self.journal_path = str(journal_path)
        self._in_process, self._records = in_process, records
        self.writer: JournalWriter | ProcessJournalWriter = self._new_writer()
        self.transports: dict[str, MqttTransport] = {}
        self._listeners: list[BatchListener] = []
        self._health_listeners: list[HealthListener] = []

    @classmethod
    def for_record(cls, journal_path: str | Path) -> Recorder:
        """The pipeline of the `record` command (and of the benchmark that measures it):
        decoding beside the network thread, storing in a journal process — both cores."""
        return cls(journal_path, in_process=False, records=False)

    def _new_writer(self) -> JournalWriter | ProcessJournalWriter:
        if self._in_process:
            return JournalWriter(self.journal_path)
        return ProcessJournalWriter(self.journal_path, send_records=self._records)

    def start(self, wait: bool = True) -> Recorder:
        if isinstance(self.writer, ProcessJournalWriter):
            self.writer.start(wait=wait)
        else:
            self.writer.start()
        return self

    def add_listener(self, listener: BatchListener) -> None:
        self._listeners.append(listener)
        self.writer.add_listener(listener)

    def add_health_listener(self, listener: HealthListener) -> None:
        """Told of every change of the journal's health (`JournalHealth`): retrying, stopped."""
        self._health_listeners.append(listener)
        self.writer.add_health_listener(listener)

    @property
    def health(self) -> JournalHealth:
        return self.writer.health

    def reopen_journal(self) -> None:
        """After the journal stopped: a new writer on the (same or replaced) journal file, and
        every connection made again, so the broker sends what it held unacknowledged."""
        old = self.writer
        writer = self._new_writer()
        for listener in self._listeners:
            writer.add_listener(listener)
        for health_listener in self._health_listeners:
            writer.add_health_listener(health_listener)
        writer.start()  # raises when the journal cannot be opened; the old one stays
        self.writer = writer
        old.stop(timeout=2.0)
        for name, transport in list(self.transports.items()):
            listeners = transport._state_listeners
            transport.stop()
            self.transports.pop(name, None)
            self.connect(transport.settings, listeners[0] if listeners else None)
        for listener in self._health_listeners:
            listener(writer.health)

    def connect(
        self, settings: ConnectionSettings, on_state: StateListener | None = None
    ) -> MqttTransport:
        """Start (or restart) the transport of one profile."""
        name = settings.profile or settings.client_id
        if name in self.transports:
            self.transports.pop(name).stop()
        transport = MqttTransport(settings, self.submit, on_state=on_state,
                                  sink_many=self.submit_many)
        self.transports[name] = transport
        transport.start()
        return transport

    def detach(self, name: str) -> MqttTransport | None:
        """Forget a profile's transport without stopping it (the caller stops it)."""
        return self.transports.pop(name, None)

    def disconnect(self, name: str) -> None:
        transport = self.transports.pop(name, None)
        if transport:
            self.writer.flush(10)  # acknowledge what we have before we hang up
            transport.stop()

    def hang_up(self, name: str) -> None:
        """Returns at once; the transport acknowledges what it has, then hangs up, off-thread."""
        transport = self.detach(name)
        if transport is not None:
            writer = self.writer
            threading.Thread(
                target=lambda: (writer.flush(10), transport.stop()),
                name=f"disconnect-{name}", daemon=True,
            ).start()

    # -- what the window asks of whichever runs its connections (this or RecordingProcess) --

    def profiles(self) -> list[str]:
        return sorted(self.transports)

    def publish(self, profile: str, topic: str, payload: str | bytes, qos: int = 1):
        """Publish through a connected profile; the result has paho's `rc`."""
        transport = self.transports.get(profile)
        if transport is None:
            raise RuntimeError(f"profile {profile!r} is not connected")
        return transport.publish(topic, payload, qos)

    def submit(self, push: RawPush, kind_hint: str | None = None) -> None:
        self.writer.submit(push, kind_hint)

    def submit_many(self, pushes: list[RawPush]) -> None:
        """The pushes of one read of a transport's socket, at once."""
        self.writer.submit_many(pushes)

    def flush(self, timeout: float = 30.0) -> bool:
        return self.writer.flush(timeout)

    def stats(self) -> dict:
        s = self.writer.stats
        return {"written": s.written, "with_errors": s.with_errors, "by_kind": dict(s.by_kind),
                "pending": self.writer.pending,
                "received": {n: t.received for n, t in self.transports.items()},
                "sessions": {n: t.sessions for n, t in self.transports.items()}}

    def stop(self) -> None:
        self.writer.flush(30)
        for name in list(self.transports):
            self.transports.pop(name).stop()
        self.writer.stop()
