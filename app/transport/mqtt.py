"""MQTT transport on paho-mqtt 2.x, running paho's own network thread.

Why a thread and not asyncio: qasync's Windows loop is IOCP-based and has no
`add_reader()`, so paho-on-asyncio breaks on the dispatcher workstations we
ship to. paho's network thread works the same on Windows, Linux and macOS;
it hands each push to a sink (the journal writer's queue) and returns at once.
This is the only module that knows how the socket is driven.

QoS 1 pushes are acknowledged manually, after the journal commit, so a crash
never loses a push the broker already forgot.
"""

from __future__ import annotations

import logging
import ssl
import threading
import time
from collections.abc import Callable
from functools import partial

import paho.mqtt.client as mqtt

from app.protocol.push import RawPush
from app.transport.backoff import MAX_RETRY_S, MIN_RETRY_S, Backoff
from app.transport.paho_client import make_client
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase

log = logging.getLogger(__name__)

Sink = Callable[[RawPush], None]
StateListener = Callable[[ConnectionState], None]

__all__ = ["MAX_RETRY_S", "MIN_RETRY_S", "Backoff", "MqttTransport"]


class _Client(mqtt.Client):
    """paho's client with two mends.

    - paho swallows the OSError of a failed reconnect; it is kept to tell the user why.
    - paho hangs up ("keep alive timeout") when the answer to its ping comes a keepalive
      late, even while pushes keep arriving. Under a flood that outruns the journal the
      answer waits behind thousands of pushes (in the broker, the socket and our
      back-pressure) and comes 20-35 s late; a race in paho's keepalive check then closes
      the connection, and a clean session loses what the broker was holding (seen in the
      flood benchmark; paho issues #914, #923). Pushes arriving prove the broker alive:
      while they do, an outstanding ping counts as answered.
    """

    last_error: OSError | None = None
    last_push_at = 0.0  # time.monotonic() of the last push taken off the socket
    backoff: Backoff | None = None  # the transport's schedule; paho's own when None

    def _reconnect_wait(self) -> None:
        # paho's wait between attempts, on the transport's schedule: the delay the transport
        # reported ("retrying in N s") is the delay slept, by construction.
        if self.backoff is None:
            return super()._reconnect_wait()
        self.backoff.wait(lambda: self._thread_terminate or self._state in (
            mqtt._ConnectionState.MQTT_CS_DISCONNECTING,
            mqtt._ConnectionState.MQTT_CS_DISCONNECTED))

    def loop_misc(self) -> mqtt.MQTTErrorCode:
        keepalive = self.keepalive
        if self._ping_t and keepalive and time.monotonic() - self.last_push_at < keepalive:
            self._ping_t = 0  # paho's "waiting for PINGRESP since" (the same clock)
        return super().loop_misc()

    def reconnect(self) -> mqtt.MQTTErrorCode:
        try:
            rc = super().reconnect()
        except OSError as exc:
            self.last_error = exc
            raise
        self.last_error = None
        return rc


def _describe_os_error(exc: OSError | None, settings: ConnectionSettings) -> str:
    where = f"{settings.host}:{settings.port}"
    if exc is None:
        return f"cannot reach {where}"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"TLS certificate of {where} not trusted ({exc.verify_message})"
    if isinstance(exc, ssl.SSLError):
        return f"TLS handshake with {where} failed ({exc.reason or exc})"
    if isinstance(exc, ConnectionRefusedError):
        return f"nothing listening at {where} (connection refused)"
    if isinstance(exc, TimeoutError):
        return f"{where} did not answer (timed out)"
    if isinstance(exc, OSError) and exc.errno is None and "Name or service" in str(exc):
        return f"unknown host {settings.host}"
    text = exc.strerror or str(exc)
    return f"cannot reach {where}: {text}"


class MqttTransport:
    """Subscribes with one profile's settings; reconnects forever with capped backoff."""

    def __init__(
        self,
        settings: ConnectionSettings,
        sink: Sink,
        *,
        on_state: StateListener | None = None,
        manual_ack: bool | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.settings = settings
        self.sink = sink
        self._state_listeners: list[StateListener] = [on_state] if on_state else []
        self.manual_ack = settings.qos == 1 if manual_ack is None else manual_ack
        self.state = ConnectionState(Phase.DISCONNECTED)
        self.received = 0
        self.sessions = 0  # connections the broker accepted; more than one means it dropped us
        self._attempt = 0
        self.backoff = backoff or Backoff()  # the waits between attempts, and what is shown
        self._connected = threading.Event()
        self._stopping = False
        self.client = self._make_client()

    # -- public --------------------------------------------------------------

    def add_state_listener(self, listener: StateListener) -> None:
        self._state_listeners.append(listener)

    def start(self) -> None:
        """Connect in the background; state changes arrive through the listeners."""
        self._stopping = False
        self._set_state(ConnectionState(Phase.CONNECTING, attempt=1))
        self._attempt = 1
        self.client.connect_async(self.settings.host, self.settings.port, self.settings.keepalive)
        self.client.loop_start()

    def stop(self) -> None:
        self._stopping = True
        try:
            self.client.disconnect()
        finally:
            self.client.loop_stop()
        self._connected.clear()
        self._set_state(ConnectionState(Phase.DISCONNECTED, reason="by user"))

    def wait_connected(self, timeout: float) -> bool:
        return self._connected.wait(timeout)

    def publish(self, topic: str, payload: bytes | str, qos: int | None = None):
        """Publish (commands); returns paho's MQTTMessageInfo."""
        return self.client.publish(topic, payload, qos=self.settings.qos if qos is None else qos)

    # -- paho wiring -----------------------------------------------------------

    def _make_client(self) -> _Client:
        s = self.settings
        client = make_client(s, client_id=s.client_id, clean_session=s.clean_session,
                             manual_ack=self.manual_ack, cls=_Client)
        client.reconnect_delay_set(MIN_RETRY_S, MAX_RETRY_S)  # unused: backoff waits instead
        client.backoff = self.backoff
        # Commands must not pile up unseen while offline; pushes we receive are not limited.
        client.max_inflight_messages_set(100)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_connect_fail = self._on_connect_fail
        client.on_pre_connect = self._on_pre_connect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    def _on_pre_connect(self, client, userdata) -> None:
        self.backoff.attempted()
        # Keep showing a refusal while retrying: "connecting…" would hide why it failed.
        if not self.state.refused:
            self._set_state(ConnectionState(Phase.CONNECTING, attempt=self._attempt))

    def _on_connect(self, client, userdata, flags, reason_code, properties) -> None:
        if reason_code.is_failure:
            self._connected.clear()
            self._set_state(ConnectionState(Phase.REFUSED, reason=_refusal(reason_code)))
            return
        self._attempt = 0
        self.backoff.reset()
        self.sessions += 1
        if self.sessions > 1:
            log.warning("%s: connected again (session %d, broker kept it: %s)",
                        self.settings.profile or self.settings.client_id, self.sessions,
                        bool(flags.session_present))
        # Resubscribe on every connect: a persistent session may have been dropped.
        # "Connected" is reported once the broker confirms the subscription, so nothing
        # published after that moment can be missed.
        topics = [(t, self.settings.qos) for t in self.settings.topics]
        if topics:
            client.subscribe(topics)
        else:
            self._mark_connected()

    def _on_subscribe(self, client, userdata, mid, reason_codes, properties) -> None:
        failed = [rc for rc in reason_codes if rc.is_failure]
        if failed:
            log.warning("broker refused %d of %d topic filters", len(failed), len(reason_codes))
        self._mark_connected()

    def _mark_connected(self) -> None:
        self._connected.set()
        self._set_state(ConnectionState(Phase.CONNECTED))

    def _on_disconnect(self, client, userdata, flags, reason_code, properties) -> None:
        self._connected.clear()
        if self._stopping:
            return
        if self.state.phase is Phase.REFUSED or self.state.refused:
            self._schedule_retry(self.state.reason, refused=True)
            return
        reason = "connection lost" if reason_code.is_failure else "disconnected by broker"
        log.warning("%s: %s (%s) after %d pushes", self.settings.profile or
                    self.settings.client_id, reason, reason_code, self.received)
        self._schedule_retry(reason)

    def _on_connect_fail(self, client, userdata) -> None:
        self._connected.clear()
        if not self._stopping:
            error = self.client.last_error
            self._schedule_retry(_describe_os_error(error, self.settings),
                                 untrusted=isinstance(error, ssl.SSLCertVerificationError))

    def _schedule_retry(self, reason: str, *, refused: bool = False,
                        untrusted: bool = False) -> None:
        # The delay reported here is the one paho's thread then waits (_Client._reconnect_wait).
        delay = self.backoff.next()
        self._attempt += 1
        self._set_state(
            ConnectionState(
                Phase.WAITING, reason=reason, retry_in=delay, attempt=self._attempt,
                refused=refused, untrusted=untrusted,
            )
        )

    def _on_message(self, client, userdata, message: mqtt.MQTTMessage) -> None:
        ack = partial(client.ack, message.mid, 1) if self.manual_ack and message.qos == 1 else None
        self.received += 1
        client.last_push_at = time.monotonic()
        try:
            topic = message.topic
        except UnicodeDecodeError:  # a broken broker; keep the push all the same
            topic = message._topic.decode("utf-8", "replace")
        self.sink(
            RawPush(
                "mqtt",
                topic,
                message.payload,
                time.time(),
                self.settings.profile,
                ack,
            )
        )

    def _set_state(self, state: ConnectionState) -> None:
        self.state = state
        for listener in self._state_listeners:
            try:
                listener(state)
            except Exception:
                log.exception("state listener failed")


def _refusal(reason_code) -> str:
    text = str(reason_code)
    known = {
        "Bad user name or password": "bad username or password",
        "Not authorized": "not authorised (check the rule's account and access key)",
        "Client identifier not valid": "client id rejected by the broker",
        "Server unavailable": "broker unavailable",
        "Unsupported protocol version": "broker does not speak MQTT 3.1.1",
    }
    return known.get(text, text.lower())
