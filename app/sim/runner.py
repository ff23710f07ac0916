"""Puts a simulated fleet on a real broker with paho-mqtt 2.x.

Two shapes: `run_simulator()` blocks until a count or a duration is reached (the `simulate`
command), and `Simulator` runs in the background so that the demo and tests can keep a fleet
alive and inject scripted pushes with `publish_now()`. Both answer commands published on
`download/{key}/+/cmd` through the `CommandResponder`.

With QoS 1 nothing counts as delivered until the broker has acknowledged it: the simulator
waits for every PUBACK before it disconnects, so `--count 100000 --qos 1` means 100 000
messages on the broker.

One thread owns the paho client and drives it with `client.loop()` between bursts, instead of
paho's own network thread: no lock hand-offs per message, which more than doubles the rate.
Other threads talk to it only through `publish_now()`, which queues.
"""

from __future__ import annotations

import contextlib
import secrets
import ssl
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import paho.mqtt.client as mqtt

from app.sim.fleet import DEFAULT_ALARM_RATE, Fleet, Push
from app.sim.responder import CommandResponder
from app.transport.paho_client import make_client
from app.transport.settings import ConnectionSettings

BURST = 200  # messages generated per lock acquisition / pacing step
WINDOW = 20_000  # unacknowledged messages allowed before the pump waits (mids wrap at 65535)


class SimulatorError(RuntimeError):
    """A broker problem worth one clear line to the user, not a traceback."""


@dataclass
class SimStats:
    """What a run achieved. `published` includes replies; `replies` counts just those."""

    published: int = 0
    acknowledged: int = 0
    replies: int = 0
    commands: int = 0
    streamed: int = 0
    seconds: float = 0.0
    unacknowledged: int = 0  # left over when stop() gave up waiting

    @property
    def rate(self) -> float:
        return self.published / self.seconds if self.seconds > 0 else 0.0


class Simulator:
    """A fleet on a broker: background stream, command answers, and scripted injections."""

    def __init__(
        self,
        settings: ConnectionSettings,
        fleet: Fleet | None = None,
        *,
        devices: int = 20,
        seed: int | None = None,
        rate: float | None = 5.0,
        stream: bool = True,
        connect_timeout: float = 10.0,
        alarm_rate: float = DEFAULT_ALARM_RATE,
    ) -> None:
        """A fleet made here raises `alarm_rate` alarms per device per hour when paced
        (`rate`); flat out (rate None or 0, a load test) alarms stay a share of the pushes.
        A fleet given keeps its own setting."""
        self.settings = settings
        self.fleet = fleet or Fleet(settings.access_key, devices=devices, seed=seed,
                                    alarm_rate=alarm_rate if rate and rate > 0 else None)
        self.responder = CommandResponder(self.fleet)
        self.rate = rate
        self.stream = stream
        self.connect_timeout = connect_timeout
        self.stats = SimStats()  # written only by the thread that owns the client
        self._inbox: deque[Push] = deque()
        self._connected = False
        self._subscribed = False
        self._connect_rc: mqtt.ReasonCode | None = None
        self._retry_at = 0.0
        self._retry_delay = 1.0
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._t0 = 0.0
        self._client = self._make_client()

    # ---- connection ------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        s = self.settings
        client_id, clean = s.client_id, s.clean_session
        if not client_id:
            client_id, clean = f"sealdesk-sim-{secrets.token_hex(4)}", True
        client = make_client(s, client_id=client_id, clean_session=clean)
        client.max_inflight_messages_set(1000)
        client.max_queued_messages_set(0)  # 0 = unlimited: never drop a push client-side
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.ConnectFlags,
        rc: mqtt.ReasonCode,
        properties: mqtt.Properties | None,
    ) -> None:
        self._connect_rc = rc
        if not rc.is_failure:
            self._connected = True
            self._retry_delay = 1.0
            # (Re)subscribe on every connect: a reconnect may have lost the session.
            client.subscribe(f"download/{self.settings.access_key}/+/cmd", qos=self.settings.qos)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        reason_codes: list[mqtt.ReasonCode],
        properties: mqtt.Properties | None,
    ) -> None:
        self._subscribed = True

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: object,
        flags: mqtt.DisconnectFlags,
        rc: mqtt.ReasonCode,
        properties: mqtt.Properties | None,
    ) -> None:
        self._connected = False

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: object,
        mid: int,
        rc: mqtt.ReasonCode,
        properties: mqtt.Properties,
    ) -> None:
        self.stats.acknowledged += 1

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        self.stats.commands += 1
        for topic, payload in self.responder.respond(msg.topic, msg.payload):
            self._publish(topic, payload, reply=True)

    def connect(self) -> None:
        """Connect and subscribe (blocking until SUBACK, so no command is missed after this).

        Raises SimulatorError when the broker is unreachable, refuses us, or stays silent.
        """
        s = self.settings
        where = f"{s.host}:{s.port}"
        try:
            self._client.connect(s.host, s.port, keepalive=s.keepalive)
        except ssl.SSLError as exc:
            raise SimulatorError(f"TLS handshake with broker {where} failed: {exc}") from exc
        except (OSError, ValueError) as exc:
            reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
            raise SimulatorError(f"cannot reach broker {where}: {reason}") from exc
        deadline = time.monotonic() + self.connect_timeout
        while not (self._connected and self._subscribed):
            rc = self._client.loop(0.05)
            if self._connect_rc is not None and self._connect_rc.is_failure:
                self._close_client()
                raise SimulatorError(f"broker {where} refused the connection: {self._connect_rc}")
            if rc != mqtt.MQTT_ERR_SUCCESS:
                self._close_client()
                raise SimulatorError(f"broker {where} closed the connection ({rc.name})")
            if time.monotonic() > deadline:
                self._close_client()
                raise SimulatorError(f"broker {where} did not answer the MQTT connect")
        self._t0 = time.monotonic()

    def _close_client(self) -> None:
        """Send DISCONNECT and let it leave; never raises (used on every exit path)."""
        with contextlib.suppress(Exception):
            self._client.disconnect()
            for _ in range(5):
                if self._client.socket() is None:
                    break
                self._client.loop(0.02)

    def _service(self, timeout: float = 0.0) -> None:
        """Drive the network once; reconnect (backing off 1 s → 30 s) when the link is down."""
        if self._connected or self._client.socket() is not None:
            rc = self._client.loop(timeout)
            if rc == mqtt.MQTT_ERR_SUCCESS:
                return
            self._connected = False
            self._retry_at = time.monotonic() + self._retry_delay
        now = time.monotonic()
        if now < self._retry_at:
            time.sleep(min(timeout or 0.05, self._retry_at - now))
            return
        self._retry_delay = min(30.0, self._retry_delay * 2)
        self._retry_at = now + self._retry_delay
        with contextlib.suppress(OSError, ValueError, ssl.SSLError):
            self._client.reconnect()  # in-flight QoS 1 messages are sent again

    # ---- publishing ------------------------------------------------------------------

    def _publish(self, topic: str, payload: bytes, *, reply: bool = False) -> None:
        info = self._client.publish(topic, payload, qos=self.settings.qos)
        if info.rc != mqtt.MQTT_ERR_SUCCESS and self.settings.qos == 0:
            return  # QoS 0 while disconnected is dropped by paho and never acknowledged
        self.stats.published += 1
        if reply:
            self.stats.replies += 1

    def publish_now(self, pushes: Iterable[Push]) -> None:
        """Queue scripted pushes (lock_cycle, raise_alarm …); thread-safe, sent within ~50 ms."""
        self._inbox.extend(pushes)

    def _drain_inbox(self) -> None:
        while self._inbox:
            topic, payload = self._inbox.popleft()
            self._publish(topic, payload)

    def pump(
        self,
        *,
        duration: float | None = None,
        count: int | None = None,
        stop_event: threading.Event | None = None,
        on_progress: Callable[[SimStats], None] | None = None,
    ) -> SimStats:
        """Stream at `self.rate` (None/0 = flat out) until count, duration or stop_event.

        With `stream` False only injected pushes and command replies are sent.
        """
        rate = self.rate if self.rate and self.rate > 0 else None
        t0 = time.monotonic()
        next_progress = t0 + 1.0
        sent = 0
        while True:
            if stop_event is not None and stop_event.is_set():
                break
            if self.stream and count is not None and sent >= count:
                break
            now = time.monotonic()
            elapsed = now - t0
            if duration is not None and elapsed >= duration:
                break
            if on_progress is not None and now >= next_progress:
                next_progress = now + 1.0
                on_progress(self.snapshot())
            self._drain_inbox()
            backlog = self.stats.published - self.stats.acknowledged
            if not self.stream or not self._connected or (self.settings.qos and backlog > WINDOW):
                self._service(0.05 if backlog <= WINDOW else 0.01)
                continue
            burst = BURST
            if rate is not None:
                due = int(rate * elapsed) + 1 - sent
                if due <= 0:
                    wait = (sent + 1) / rate - elapsed
                    self._service(max(0.0, min(wait, 0.05)))
                    continue
                burst = min(burst, due)
            if count is not None:
                burst = min(burst, count - sent)
            with self.fleet.lock:
                pushes = [self.fleet.next_push() for _ in range(burst)]
            for topic, payload in pushes:
                self._publish(topic, payload)
            sent += burst
            self.stats.streamed += burst
            self._service(0.0)
        return self.snapshot()

    def snapshot(self) -> SimStats:
        s = self.stats
        published = s.published
        return SimStats(
            published=published,
            acknowledged=s.acknowledged,
            replies=s.replies,
            commands=s.commands,
            streamed=s.streamed,
            seconds=time.monotonic() - self._t0 if self._t0 else 0.0,
            unacknowledged=max(0, published - s.acknowledged),
        )

    def wait_acknowledged(self, timeout: float | None = 60.0) -> bool:
        """Drive the network until the broker has acknowledged everything published so far."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while True:
            self._drain_inbox()
            if self.stats.acknowledged >= self.stats.published:
                return True
            if deadline is not None and time.monotonic() >= deadline:
                return False
            self._service(0.01)

    # ---- background form -------------------------------------------------------------

    def start(self) -> Simulator:
        """Connect here (so errors surface to the caller), then run in a background thread."""
        self.connect()
        self._stop.clear()
        self._thread = threading.Thread(target=self._background, name="sealdesk-sim", daemon=True)
        self._thread.start()
        return self

    def _background(self) -> None:
        try:
            self.pump(stop_event=self._stop)
            self.wait_acknowledged(self._ack_timeout)
        finally:
            self._close_client()

    _ack_timeout = 30.0

    def stop(self, timeout: float = 30.0) -> SimStats:
        """Stop streaming, let outstanding acknowledgements arrive, disconnect."""
        self._ack_timeout = timeout
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout + 5.0)
            self._thread = None
        return self.snapshot()

    def __enter__(self) -> Simulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def run_simulator(
    settings: ConnectionSettings,
    *,
    devices: int = 20,
    rate: float | None = None,
    duration: float | None = None,
    count: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[SimStats], None] | None = None,
    stop_event: threading.Event | None = None,
    fleet: Fleet | None = None,
    ack_timeout: float = 60.0,
    alarm_rate: float = DEFAULT_ALARM_RATE,
) -> SimStats:
    """Publish until `count` messages or `duration` seconds (or stop_event/Ctrl-C); wait for acks.

    Raises SimulatorError if the broker cannot be reached or refuses the connection.
    """
    sim = Simulator(settings, fleet, devices=devices, seed=seed, rate=rate, stream=True,
                    alarm_rate=alarm_rate)
    sim.connect()
    try:
        with contextlib.suppress(KeyboardInterrupt):
            sim.pump(duration=duration, count=count, stop_event=stop_event, on_progress=on_progress)
        with contextlib.suppress(KeyboardInterrupt):
            sim.wait_acknowledged(ack_timeout)
        return sim.snapshot()
    finally:
        sim._close_client()
