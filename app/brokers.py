"""Private brokers for the demo, the tests and the benchmark — never the vendor's.

mosquitto is preferred where installed (fast, the real thing); the embedded
amqtt broker (pure Python, a dependency) runs everywhere else, either inside
the window's own asyncio loop (the demo) or as a child process (tests).
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def free_port(host: str = "127.0.0.1") -> int:
    """A port free at this instant — released again, so anyone may take it before you do.
    Brokers and tests use `PortReservation`, which keeps the port bound instead."""
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class PortReservation:
    """A loopback port bound once (port 0, the kernel's choice) and held until `close()`.

    The holding socket never listens, so a client connecting meanwhile is refused (as when a
    broker is down). It is bound with SO_REUSEADDR, as mosquitto and asyncio bind their
    listeners: on POSIX the broker can then listen on the very same port while we keep
    holding it, so there is no moment at which the port is free for someone else to take —
    not at the first start and not across a restart. (Windows lets SO_REUSEADDR steal a
    port outright; there the hold ends just before the broker binds, the old behaviour.)
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._sock: socket.socket | None = socket.socket()
        if _HOLD_WHILE_SERVING:
            self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._sock.bind((host, port))
        except OSError:
            self._sock.close()
            raise
        self.port: int = self._sock.getsockname()[1]

    def before_serving(self) -> None:
        """Called just before a server binds this port."""
        if not _HOLD_WHILE_SERVING:
            self.close()

    def close(self) -> None:
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self) -> PortReservation:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_HOLD_WHILE_SERVING = os.name == "posix"


def wait_for_port(host: str, port: int, timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return True
        except OSError:
            time.sleep(0.05)
    return False


def find_mosquitto() -> str | None:
    places = (shutil.which("mosquitto"), "/usr/sbin/mosquitto", "/usr/local/sbin/mosquitto")
    for candidate in places:
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def amqtt_config(host: str, port: int) -> dict[str, Any]:
    return {
        "listeners": {"default": {"type": "tcp", "bind": f"{host}:{port}"}},
        "plugins": {"amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": True}},
    }


@dataclass
class BrokerProcess:
    """A private broker in a child process on a free loopback port; restartable."""

    kind: str = "auto"  # "mosquitto", "amqtt" or "auto"
    host: str = "127.0.0.1"
    port: int = 0  # 0: a port bound now and held until stop(); see PortReservation
    # mosquitto's windows: QoS 1 messages sent to a client before it acknowledges (the
    # broker's own default is 20), and messages queued for a client beyond those (its
    # default is 1000, past which it drops; 0 is no limit). None writes no line: the
    # broker's default. The test broker's: wide, and never dropping.
    max_inflight: int | None = 1000
    max_queued: int | None = 0
    _proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    _dir: str = field(default="", repr=False)
    _hold: PortReservation | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.kind == "auto":
            self.kind = "mosquitto" if find_mosquitto() else "amqtt"
        if not self.port:
            self._hold = PortReservation(self.host)
            self.port = self._hold.port

    def start(self, timeout: float = 15.0) -> BrokerProcess:
        if self.kind == "mosquitto":
            # Its config lives in a folder of its own, removed when the broker stops.
            self._dir = self._dir or tempfile.mkdtemp(prefix="sealdesk-broker-")
            conf = Path(self._dir, "mosquitto.conf")
            conf.write_text(
                f"listener {self.port} {self.host}\n"
                "allow_anonymous true\n"
                "persistence false\n"
                # A private test broker must not drop QoS 1 pushes for a slow subscriber.
                + ("" if self.max_queued is None else f"max_queued_messages {self.max_queued}\n")
                + ("" if self.max_inflight is None
                   else f"max_inflight_messages {self.max_inflight}\n")
                + "log_dest none\n"
            )
            cmd = [find_mosquitto() or "mosquitto", "-c", str(conf)]
        else:
            cmd = [sys.executable, "-m", "app.brokers", "--host", self.host,
                   "--port", str(self.port)]
        if self._hold is not None:
            self._hold.before_serving()
        self._proc = subprocess.Popen(
            cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL
        )
        if not wait_for_port(self.host, self.port, timeout):
            self.stop()
            raise RuntimeError(f"{self.kind} broker did not start on {self.host}:{self.port}")
        return self

    def stop(self) -> None:
        if self._proc and self._proc.poll() is None:
            self._proc.terminate()
            try:
                self._proc.wait(10)
            except subprocess.TimeoutExpired:
                self._proc.kill()
                self._proc.wait()
        self._proc = None
        if self._dir:
            shutil.rmtree(self._dir, ignore_errors=True)
            self._dir = ""

    def restart(self) -> None:
        self.stop()
        self.start()

    def release(self) -> None:
        """Stop, and give the port back (the end of the broker's life)."""
        self.stop()
        if self._hold is not None:
            self._hold.close()

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def __enter__(self) -> BrokerProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.release()


class EmbeddedBroker:
    """amqtt inside the current asyncio loop: the demo's broker, no install needed."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._hold = None if port else PortReservation(host)  # amqtt binds with SO_REUSEADDR
        self.port = port or self._hold.port  # type: ignore[union-attr]
        self._broker: Any = None

    async def start(self) -> None:
        from amqtt.broker import Broker

        logging.getLogger("amqtt").setLevel(logging.WARNING)
        self._broker = Broker(amqtt_config(self.host, self.port))
        if self._hold is not None:
            self._hold.before_serving()
        await self._broker.start()

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None
        if self._hold is not None:
            self._hold.close()

    # The demo runs the broker on its own loop thread: on the window's loop every repaint
    # would hold up the broker too (late PUBACKs, command replies timing out).

    def start_in_thread(self, timeout: float = 15.0) -> EmbeddedBroker:
        ready = threading.Event()
        failure: list[BaseException] = []

        def run() -> None:
            loop = asyncio.new_event_loop()
            self._loop = loop
            asyncio.set_event_loop(loop)
            try:
                loop.run_until_complete(self.start())
            except BaseException as exc:  # reported to the caller
                failure.append(exc)
                ready.set()
                return
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=run, name="embedded-broker", daemon=True)
        self._thread.start()
        if not ready.wait(timeout):
            raise RuntimeError("embedded broker did not start")
        if failure:
            raise failure[0]
        return self

    def stop_thread(self, timeout: float = 10.0) -> None:
        loop = getattr(self, "_loop", None)
        if loop is not None and loop.is_running():
            loop.call_soon_threadsafe(loop.stop)
            self._thread.join(timeout)


def _serve(host: str, port: int) -> None:
    async def run() -> None:
        broker = EmbeddedBroker(host, port)
        await broker.start()
        await asyncio.Event().wait()

    asyncio.run(run())


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description="Run the embedded amqtt broker")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=1883)
    ns = parser.parse_args()
    _serve(ns.host, ns.port)
