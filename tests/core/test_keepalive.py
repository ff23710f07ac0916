"""A ping answered late does not end a connection that pushes keep arriving on.

Under a flood that outruns the journal, the broker's answer to paho's ping waits behind
thousands of pushes; the flood benchmark saw it come 20-35 s late and, once in a few runs,
paho hung up ("keep alive timeout"), losing what a clean session's broker held. Here the
real client on a real broker is put in the state that race leaves it in: a ping unanswered
for longer than the keepalive, and paho's own "last sent" clock just reset.
"""

from __future__ import annotations

import time

import paho.mqtt.client as mqtt
import pytest
from waiting import wait_for

from app.transport.mqtt import MqttTransport
from app.transport.settings import ConnectionSettings
from app.transport.state import Phase

KEY = "KEEPALIVE"


@pytest.fixture
def link(broker):
    """A transport subscribed on the broker, and a publisher to send it pushes."""
    received: list = []
    phases: list[Phase] = []
    settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=KEY, qos=1, client_id="keepalive-rec",
        clean_session=True,
    )
    transport = MqttTransport(settings, received.append,
                              on_state=lambda st: phases.append(st.phase))
    transport.start()
    assert transport.wait_connected(10)
    publisher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="keepalive-pub")
    publisher.connect(broker.host, broker.port)
    publisher.loop_start()

    def push() -> None:
        before = len(received)
        publisher.publish(f"upload/{KEY}/location", b'{"deviceId":"D1"}', qos=1).wait_for_publish(5)
        wait_for(lambda: len(received) > before, 10, "the push")
        for raw in received[before:]:
            if raw.ack_token is not None:
                raw.ack_token()

    try:
        yield transport, push, phases
    finally:
        publisher.loop_stop()
        publisher.disconnect()
        transport.stop()


def _ping_unanswered_for_a_keepalive(client) -> None:
    now = time.monotonic()
    with client._msgtime_mutex:
        client._ping_t = now - client.keepalive - 1.0  # asked a keepalive ago, no answer yet
        client._last_msg_out = now  # paho's check ran just before its ping's own time


def test_a_late_ping_answer_does_not_hang_up_while_pushes_arrive(link):
    transport, push, phases = link
    push()
    _ping_unanswered_for_a_keepalive(transport.client)
    push()  # the network thread has been round its loop (and its keepalive check) since
    push()
    assert Phase.WAITING not in phases
    assert transport.state.phase is Phase.CONNECTED and transport.sessions == 1


def test_a_broker_that_stops_answering_and_sending_is_still_noticed(link):
    transport, push, phases = link
    push()
    transport.client.last_push_at = time.monotonic() - transport.client.keepalive - 1.0
    _ping_unanswered_for_a_keepalive(transport.client)
    wait_for(lambda: Phase.WAITING in phases, 10, "the dead connection to be noticed")
    assert "connection lost" in (transport.state.reason or "")
