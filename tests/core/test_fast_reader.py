"""The transport's own reading of PUBLISH packets (issue 22): every packet in order, whatever
the reads cut them into; anything but a PUBLISH of QoS 0 or 1 goes through paho; QoS 1 pushes
are acknowledged only when their token is called, and a token of an ended connection is not
sent on the next one (the broker sends that push again)."""

from __future__ import annotations

import socket

import paho.mqtt.client as mqtt
import pytest
from waiting import wait_for

from app.transport.mqtt import MqttTransport, _Client
from app.transport.settings import ConnectionSettings


def _length(n: int) -> bytes:
    out = bytearray()
    while True:
        byte, n = n % 128, n // 128
        out.append(byte | (128 if n else 0))
        if not n:
            return bytes(out)


def publish(topic: bytes, payload: bytes, qos: int, mid: int = 0, flags: int = 0) -> bytes:
    body = len(topic).to_bytes(2, "big") + topic
    if qos:
        body += mid.to_bytes(2, "big")
    body += payload
    return bytes([0x30 | qos << 1 | flags]) + _length(len(body)) + body


def packet(command: int, body: bytes) -> bytes:
    return bytes([command]) + _length(len(body)) + body


STREAM = [  # (bytes, what the reader should make of them)
    (packet(0x20, b"\x00\x00"), ("paho", 0x20, b"\x00\x00")),  # CONNACK
    (publish(b"upload/K/D1/location", b'{"speed":1}', 1, mid=7),
     ("push", b"upload/K/D1/location", b'{"speed":1}', 7, 1)),
    (publish(b"upload/K/D2/alarm", b"", 0), ("push", b"upload/K/D2/alarm", b"", 0, 0)),
    (packet(0x90, b"\x00\x01\x01"), ("paho", 0x90, b"\x00\x01\x01")),  # SUBACK
    (publish(b"t", b"x" * 200, 1, mid=65535, flags=0x08 | 0x01),  # DUP, RETAIN; 2-byte length
     ("push", b"t", b"x" * 200, 65535, 1)),
    (publish(b"q2", b"two", 2, mid=9), ("paho", 0x34, b"\x00\x02q2\x00\x09two")),  # QoS 2
    (publish("upload/K/Dé/event".encode(), b"y" * 20_000, 1, mid=8),  # 3-byte length
     ("push", "upload/K/Dé/event".encode(), b"y" * 20_000, 8, 1)),
    (packet(0xD0, b""), ("paho", 0xD0, b"")),  # PINGRESP
]


class _Socket:
    def close(self) -> None:
        pass


class _Reader(_Client):
    """The reader without a socket: what it hands to paho is written down instead."""

    def __init__(self) -> None:
        super().__init__(mqtt.CallbackAPIVersion.VERSION2, client_id="reader",
                         protocol=mqtt.MQTTv311, manual_ack=True)
        self.seen: list[tuple] = []
        self.on_publishes = lambda pushes: self.seen.extend(("push", *p) for p in pushes)

    def _paho_packet(self, command: int, body: bytes):
        self.seen.append(("paho", command, bytes(body)))
        return mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS

    def feed(self, data: bytes, sock: object) -> mqtt.MQTTErrorCode:
        self._sock = sock  # what paho's socket is while this is read
        if self._rbuf and self._rsock is sock:
            data = self._rbuf + data
        return self._take_packets(data, sock)


@pytest.mark.parametrize("size", [1, 2, 3, 5, 64, 4096, 10**6])
def test_every_packet_in_order_however_the_reads_cut_them(size):
    stream = b"".join(raw for raw, _ in STREAM)
    reader, sock = _Reader(), _Socket()
    for i in range(0, len(stream), size):
        assert reader.feed(stream[i:i + size], sock) == mqtt.MQTTErrorCode.MQTT_ERR_SUCCESS
    assert reader.seen == [want for _, want in STREAM]
    assert reader._rbuf == b""


def test_a_remaining_length_longer_than_four_bytes_is_a_protocol_error():
    assert _Reader().feed(b"\x30\xff\xff\xff\xff\x01", _Socket()) == \
        mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL


def test_a_publish_shorter_than_its_topic_is_a_protocol_error():
    assert _Reader().feed(b"\x32\x04\x00\x09ab", _Socket()) == \
        mqtt.MQTTErrorCode.MQTT_ERR_PROTOCOL


def test_what_is_left_of_another_socket_is_not_joined_to_a_new_one():
    reader = _Reader()
    first = publish(b"a", b"1", 0)
    reader.feed(first[:3], _Socket())  # a packet cut short when the connection ended
    reader.feed(publish(b"b", b"2", 0), _Socket())  # the next connection's first bytes
    assert reader.seen == [("push", b"b", b"2", 0, 0)]


def test_an_unacknowledged_push_comes_again_and_a_stale_token_is_not_sent(broker):
    if broker.kind != "mosquitto":
        pytest.skip("amqtt does not send a session's unacknowledged pushes again (paho's own "
                    "client sees the same)")
    key = "FASTREAD"
    settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=key, qos=1, client_id="fast-reader",
        clean_session=False)
    received: list = []
    transport = MqttTransport(settings, None, sink_many=received.extend)
    transport.start()
    assert transport.wait_connected(10)
    client = transport.client
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="fast-reader-pub")
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()
    try:
        for i in range(10):
            publisher.publish(f"upload/{key}/D{i}/location", b'{"i":%d}' % i, qos=1)
        wait_for(lambda: len(received) == 10, 10, "the ten pushes")
        assert [r.payload for r in received] == [b'{"i":%d}' % i for i in range(10)]
        for raw in received[:6]:  # committed: acknowledged
            raw.ack_token()
        wait_for(lambda: not client._acks, 10, "the acknowledgements to go out")
        publisher.publish(f"upload/{key}/D0/location", b'{"i":10}', qos=1)
        wait_for(lambda: len(received) == 11, 10, "a push after the acknowledgements")

        client._sock.shutdown(socket.SHUT_RDWR)  # the connection is lost; paho reconnects
        wait_for(lambda: transport.sessions == 2 and len(received) >= 16, 30,
                 "the five unacknowledged pushes again")
        assert [r.payload for r in received[11:]] == [b'{"i":%d}' % i for i in range(6, 11)]
        received[6].ack_token()  # of the first connection: not sent on the second one
        assert client._acks == []
        for raw in received[11:]:
            raw.ack_token()
        wait_for(lambda: not client._acks, 10, "the acknowledgements to go out")
    finally:
        transport.stop()

    again: list = []
    transport = MqttTransport(settings, None, sink_many=again.extend)
    transport.start()
    try:
        assert transport.wait_connected(10)
        publisher.publish(f"upload/{key}/D0/location", b'{"i":99}', qos=1)
        wait_for(lambda: again, 10, "a new push")
        assert [r.payload for r in again] == [b'{"i":99}']  # nothing came a third time
    finally:
        transport.stop()
        publisher.loop_stop()
        publisher.disconnect()
