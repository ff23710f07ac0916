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

import contextlib
import logging
import ssl
import threading
import time
from collections.abc import Callable
from functools import partial

import paho.mqtt.client as mqtt
from paho.mqtt.enums import MQTTErrorCode

from app.protocol.push import GroupedAck, RawPush
from app.transport.backoff import MAX_RETRY_S, MIN_RETRY_S, Backoff
from app.transport.paho_client import make_client
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase

log = logging.getLogger(__name__)

Sink = Callable[[RawPush], None]
BatchSink = Callable[[list[RawPush]], None]
StateListener = Callable[[ConnectionState], None]

__all__ = ["MAX_RETRY_S", "MIN_RETRY_S", "Backoff", "MqttTransport"]


# What one read of the socket may take (a drain of a backlog reads the broker's whole window).
_READ_SIZE = 256 * 1024
_PUBLISH, _PUBACK_PACKET = 0x30, b"\x40\x02"
# PUBLISH (QoS 0 or 1; not 2, whose handshake paho keeps) — any DUP and RETAIN flags.
_FAST_COMMANDS = frozenset(c for c in range(0x30, 0x40) if (c >> 1) & 3 < 2)
_OK, _AGAIN = MQTTErrorCode.MQTT_ERR_SUCCESS, MQTTErrorCode.MQTT_ERR_AGAIN
_CONN_LOST, _PROTOCOL = MQTTErrorCode.MQTT_ERR_CONN_LOST, MQTTErrorCode.MQTT_ERR_PROTOCOL
# Where a message and its acknowledgement are in the tuple `on_publishes` receives.
Publish = tuple[bytes, bytes, int, int]  # (topic, payload, mid, qos)


class _Client(mqtt.Client):
    """paho's client with three mends.

    - paho swallows the OSError of a failed reconnect; it is kept to tell the user why.
    - paho hangs up ("keep alive timeout") when the answer to its ping comes a keepalive
      late, even while pushes keep arriving. Under a flood that outruns the journal the
      answer waits behind thousands of pushes (in the broker, the socket and our
      back-pressure) and comes 20-35 s late; a race in paho's keepalive check then closes
      the connection, and a clean session loses what the broker was holding (seen in the
      flood benchmark; paho issues #914, #923). Pushes arriving prove the broker alive:
      while they do, an outstanding ping counts as answered.
    - paho reads a packet with three `recv` calls and hands each push to `on_message` through
      an MQTTMessage, a topic match and two locks, and writes each acknowledgement as a
      packet of its own: ~26 µs of Python a push, as much as decoding it. With
      `on_publishes` set (MQTT 3.1.1, as the vendor's broker speaks), `loop_read` takes all
      the socket holds in one read and hands every PUBLISH of QoS 0 or 1 it completes to
      `on_publishes` as one list, in order; any other packet (CONNACK, SUBACK, PUBACK of our
      commands, PINGRESP, QoS 2) goes through paho's own handling, in its place in the
      stream. `ack_many` queues the PUBACKs of a whole commit as one write, from any
      thread; acknowledgements for a connection that has since ended are dropped (the
      broker sends those pushes again). `python main.py bench` measures it against paho.
    """

    last_error: OSError | None = None
    last_push_at = 0.0  # time.monotonic() of the last push taken off the socket
    backoff: Backoff | None = None  # the transport's schedule; paho's own when None
    # Takes the pushes of each read, on paho's thread; None: paho's own path (on_message).
    on_publishes: Callable[[list[Publish]], None] | None = None
    _rbuf = b""  # bytes of a packet not complete yet
    _rsock = None  # the socket _rbuf came from
    connection = 0  # counts connections: an acknowledgement names the one it belongs to

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._acks: list[int] = []  # mids to acknowledge, of connection `_acks_for`
        self._acks_for = 0
        self._acks_lock = threading.Lock()

    def ack_many(self, mids: tuple[int, ...] | list[int], connection: int) -> None:
        """Acknowledge QoS 1 pushes of `connection` (any thread): one write for them all."""
        with self._acks_lock:
            if connection != self.connection:
                return  # a connection since ended: the broker sends them again
            wake = not self._acks
            self._acks.extend(mids)
            self._acks_for = connection
        if wake:
            self._wake_loop()

    def ack(self, mid: int, qos: int) -> MQTTErrorCode:
        """paho's manual acknowledgement, joining the next write of `ack_many`."""
        if self._manual_ack and qos == 1:
            self.ack_many((mid,), self.connection)
            return _OK
        return super().ack(mid, qos)

    def _wake_loop(self) -> None:
        pair = self._sockpairW
        if pair is not None:
            # Full of wake-ups already (it is awake), or closing: nothing to do.
            with contextlib.suppress(BlockingIOError, OSError):
                pair.send(b"0")

    def loop_write(self) -> MQTTErrorCode:
        with self._acks_lock:
            mids, self._acks = self._acks, []
            current = self._acks_for == self.connection
        if mids and current and self._sock is not None:
            packet = b"".join([_PUBACK_PACKET + mid.to_bytes(2, "big") for mid in mids])
            self._out_packet.append({"command": 0x40, "mid": 0, "qos": 0, "pos": 0,
                                     "to_process": len(packet), "packet": packet,
                                     "info": None})
        return super().loop_write()

    def reconnect(self) -> mqtt.MQTTErrorCode:
        with self._acks_lock:
            self.connection += 1  # what was not acknowledged yet comes again
            self._acks = []
        self._rbuf, self._rsock = b"", None
        try:
            rc = super().reconnect()
        except OSError as exc:
            self.last_error = exc
            raise
        self.last_error = None
        return rc

    def loop_read(self, max_packets: int = 1) -> MQTTErrorCode:
        if self.on_publishes is None or self._protocol != mqtt.MQTTv311:
            return super().loop_read(max_packets)
        sock = self._sock
        if sock is None:
            return MQTTErrorCode.MQTT_ERR_NO_CONN
        try:
            data = self._sock_recv(_READ_SIZE)
        except BlockingIOError:
            return _OK
        except OSError as err:
            self._easy_log(mqtt.MQTT_LOG_ERR, "failed to receive on socket: %s", err)
            return self._loop_rc_handle(_CONN_LOST)
        if not data:
            return self._loop_rc_handle(_CONN_LOST)
        if self._rbuf and self._rsock is sock:
            data = self._rbuf + data
        rc = self._take_packets(data, sock)
        with self._msgtime_mutex:
            self._last_bytes_received = mqtt.time_func()
        return self._loop_rc_handle(rc) if rc else _OK

    def _take_packets(self, data: bytes, sock) -> MQTTErrorCode:
        """Every complete packet in `data`, in order; keeps the incomplete rest."""
        pushes: list[Publish] = []
        end_of_data = len(data)
        pos = 0
        fast = _FAST_COMMANDS
        while pos + 2 <= end_of_data:
            command = data[pos]
            # The remaining length: 1 to 4 bytes, 7 bits each, the last one below 128.
            length, shift, i, complete = 0, 0, pos + 1, False
            while i < end_of_data:
                byte = data[i]
                i += 1
                length |= (byte & 127) << shift
                if byte < 128:
                    complete = True
                    break
                shift += 7
                if shift > 21:
                    return _PROTOCOL
            if not complete:
                break  # the length itself is not all here yet
            end = i + length
            if end > end_of_data:
                break
            if command in fast:
                if length < 2:
                    return _PROTOCOL
                topic_end = i + 2 + ((data[i] << 8) | data[i + 1])
                if command & 6:  # QoS 1
                    if topic_end + 2 > end:
                        return _PROTOCOL
                    mid = (data[topic_end] << 8) | data[topic_end + 1]
                    pushes.append((data[i + 2:topic_end], data[topic_end + 2:end], mid, 1))
                else:
                    if topic_end > end:
                        return _PROTOCOL
                    pushes.append((data[i + 2:topic_end], data[topic_end:end], 0, 0))
            else:
                if pushes:  # what came before it, first
                    self._hand_over(pushes)
                    pushes = []
                rc = self._paho_packet(command, data[i:end])
                if rc or self._sock is not sock:
                    return rc
            pos = end
        self._rbuf, self._rsock = data[pos:], sock
        if pushes:
            self._hand_over(pushes)
        return _OK

    def _hand_over(self, pushes: list[Publish]) -> None:
        self.last_push_at = time.monotonic()
        handler = self.on_publishes
        with self._in_callback_mutex:
            try:
                handler(pushes)  # type: ignore[misc]
            except Exception as err:
                self._easy_log(mqtt.MQTT_LOG_ERR, "Caught exception in on_publishes: %s", err)
                if not self.suppress_exceptions:
                    raise
        if not self._manual_ack:  # as paho does once on_message returns
            mids = [mid for _, _, mid, qos in pushes if qos == 1]
            if mids:
                self.ack_many(mids, self.connection)

    def _paho_packet(self, command: int, body: bytes) -> MQTTErrorCode:
        """One packet through paho's own handling, as its `_packet_read` hands it over."""
        self._in_packet = {"command": command, "have_remaining": 1, "remaining_count": [],
                           "remaining_mult": 1, "remaining_length": len(body),
                           "packet": bytearray(body), "to_process": 0, "pos": 0}
        try:
            rc = self._packet_handle()
        except mqtt.MalformedPacket as exc:
            self._easy_log(mqtt.MQTT_LOG_DEBUG, "Received malformed packet: %s", exc)
            rc = _PROTOCOL
        self._in_packet = {"command": 0, "have_remaining": 0, "remaining_count": [],
                           "remaining_mult": 1, "remaining_length": 0,
                           "packet": bytearray(b""), "to_process": 0, "pos": 0}
        return rc

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
        sink_many: BatchSink | None = None,
    ) -> None:
        """`sink` takes each push; `sink_many`, when given, the pushes of each read at once."""
        self.settings = settings
        self.sink = sink
        self.sink_many = sink_many
        self._state_listeners: list[StateListener] = [on_state] if on_state else []
        self.manual_ack = settings.qos == 1 if manual_ack is None else manual_ack
        self.state = ConnectionState(Phase.DISCONNECTED)
        self.received = 0
        self.sessions = 0  # connections the broker accepted; more than one means it dropped us
        self._attempt = 0
        self.backoff = backoff or Backoff()  # the waits between attempts, and what is shown
        self._connected = threading.Event()
        self._stopping = False
        self._group: partial | None = None  # see _ack_group
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
        client.on_message = self._on_message  # what paho's own path delivers (MQTT 5)
        client.on_publishes = self._on_publishes
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

    def _on_publishes(self, pushes: list[Publish]) -> None:
        """The pushes of one read of the socket (paho's thread), in order."""
        now = time.time()
        profile = self.settings.profile
        manual = self.manual_ack
        group = self._ack_group()
        raws = []
        for topic, payload, mid, qos in pushes:
            try:
                text = topic.decode("utf-8")
            except UnicodeDecodeError:  # a broken broker; keep the push all the same
                text = topic.decode("utf-8", "replace")
            ack = GroupedAck(group, mid) if manual and qos == 1 else None
            raws.append(RawPush("mqtt", text, payload, now, profile, ack))
        self.received += len(raws)
        if self.sink_many is not None:
            self.sink_many(raws)
        else:
            for raw in raws:
                self.sink(raw)

    def _ack_group(self) -> Callable[[list[int]], object]:
        """The current connection's acknowledgement group (`GroupedAck`): one object per
        connection, so that the writer sends a commit's acknowledgements in one call; those
        of a connection that has since ended are dropped (the broker sends them again)."""
        client = self.client
        connection = client.connection
        group = self._group
        if group is None or group.keywords["connection"] != connection:
            group = self._group = partial(client.ack_many, connection=connection)
        return group

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
