"""Private brokers keep their port from the moment it is chosen: no release-then-rebind race."""

from __future__ import annotations

import os
import socket

import pytest

from app.brokers import BrokerProcess, PortReservation

pytestmark = pytest.mark.skipif(os.name != "posix", reason="the hold relies on POSIX SO_REUSEADDR")


def _someone_else_binds(port: int) -> None:
    """What another test, program or broker on the machine would do with a port it picked."""
    with socket.socket() as other:
        other.bind(("127.0.0.1", port))


def _refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
    except ConnectionRefusedError:
        return True
    return False


def test_a_reserved_port_is_held_and_refuses_connections():
    with PortReservation() as hold:
        assert hold.port > 0
        with pytest.raises(OSError) as info:
            _someone_else_binds(hold.port)
        assert info.value.errno == 98 or "in use" in str(info.value).lower()
        assert _refused(hold.port)


def test_a_broker_holds_its_port_before_start_while_down_and_until_released():
    b = BrokerProcess(os.environ.get("SEALDESK_TEST_BROKER", "auto"))
    try:
        with pytest.raises(OSError):  # chosen, not started: nobody else can take it…
            _someone_else_binds(b.port)
        assert _refused(b.port)
        b.start()
        assert b.running
        b.stop()
        with pytest.raises(OSError):  # …nor while it is down between a stop and a restart
            _someone_else_binds(b.port)
        b.start()  # and it comes back on the same port
        assert b.running
    finally:
        b.release()
    _someone_else_binds(b.port)  # released at the end: the port is free again
