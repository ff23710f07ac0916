"""What the team-mode tests run: commands in the background, a witness subscriber, the shared
journal's contents by push content (importable as `shared_rig`: tests/team is on sys.path)."""

from __future__ import annotations

import contextlib
import hashlib
import os
import signal
import subprocess
import sys
import threading
from collections import Counter
from pathlib import Path

import paho.mqtt.client as mqtt
from waiting import wait_for

ROOT = Path(__file__).resolve().parent.parent.parent
KEY = "TEAMKEY"


def content(topic: str | bytes, payload: bytes) -> bytes:
    if isinstance(topic, str):
        topic = topic.encode()
    return hashlib.sha256(topic + b"\0" + payload).digest()


def _sigint_default() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


class Proc:
    """A command in the background, its output read as it comes (never blocking it)."""

    def __init__(self, *args: str) -> None:
        self.lines: list[str] = []
        self.proc = subprocess.Popen(
            [sys.executable, str(ROOT / "main.py"), *args], stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, cwd=ROOT,
            env=dict(os.environ, PYTHONUNBUFFERED="1", SEALDESK_ACCESS_KEY=KEY),
            # Ctrl-C as in a terminal: a test run started in the background by a
            # non-interactive shell (CI) has SIGINT ignored, which its children inherit, and
            # Python then never raises KeyboardInterrupt — the recorders were killed unheard.
            preexec_fn=_sigint_default if os.name == "posix" else None)
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.extend(part.strip() for part in line.split("\r") if part.strip())

    def said(self, text: str) -> bool:
        return any(text in line for line in self.lines)

    @property
    def output(self) -> str:
        return "\n".join(self.lines)

    def children(self) -> list:
        import psutil

        with contextlib.suppress(psutil.Error):
            return psutil.Process(self.proc.pid).children(recursive=True)
        return []

    def stop(self, sig: int = signal.SIGINT, timeout: float = 30) -> None:
        """Stop it (and, if need be, what it started); nothing is left running. One that does
        not end in time is killed, and its output says so."""
        import psutil

        children = self.children()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.lines.append(f"(test: not stopped {timeout:g} s after signal {sig}: killed)")
                self.proc.kill()
                self.proc.wait()
        _, alive = psutil.wait_procs(children, timeout=timeout)
        for child in alive:
            child.kill()
        self._reader.join(5)


class Witness:
    """A plain subscriber beside the group: the content of every push the simulator
    published (QoS 1, connected before it starts, on a broker that never drops)."""

    def __init__(self, broker) -> None:
        self.seen: Counter[bytes] = Counter()
        self._lock = threading.Lock()
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="witness",
                                  clean_session=True, protocol=mqtt.MQTTv311)
        subscribed = threading.Event()
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: subscribed.set()
        self.client.on_connect = lambda c, *a: c.subscribe(f"upload/{KEY}/#", qos=1)
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        assert subscribed.wait(15), "the witness could not subscribe"

    def _on_message(self, client, userdata, message) -> None:
        with self._lock:
            self.seen[content(message._topic, message.payload)] += 1

    @property
    def count(self) -> int:
        with self._lock:
            return sum(self.seen.values())

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def journal_count(url: str) -> int:
    import psycopg

    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM push").fetchone()[0]


def journal_contents(url: str) -> Counter[bytes]:
    import psycopg

    with psycopg.connect(url) as conn:
        return Counter(content(topic, bytes(raw))
                       for topic, raw in conn.execute("SELECT topic, raw FROM push"))


def recorder(broker, journal: str, client_id: str, started: list[Proc], *extra: str) -> Proc:
    """`record` into `journal` as a member of group "team" (unless `extra` says otherwise),
    once it has subscribed."""
    share = () if "--no-share" in extra else ("--share", "team")
    extra = tuple(e for e in extra if e != "--no-share")
    rec = Proc("record", "--host", broker.host, "--port", str(broker.port), *share,
               "--client-id", client_id, "--journal", journal, *extra)
    started.append(rec)
    wait_for(lambda: rec.said("connected") or rec.proc.poll() is not None, 60,
             f"recorder {client_id} to subscribe")
    assert rec.proc.poll() is None, rec.output
    return rec
