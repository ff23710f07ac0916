"""MQTT over TLS against a real mosquitto (tests/conftest.py: tls_broker, certificates made for
the session): verified connections, a client certificate, and a certificate that must not be
trusted — self-signed, for another host, expired — each refused with one clear sentence, in
the transport's state and in `record`, and never a connection."""

from __future__ import annotations

import re
import threading

import pytest
from waiting import wait_for

from app.transport.mqtt import MqttTransport
from app.transport.settings import ConnectionSettings
from app.transport.state import ConnectionState, Phase

# What a dispatcher reads, per bad certificate (OpenSSL's words in the brackets).
UNTRUSTED = {
    "self_signed": "self-signed certificate",
    "wrong_host": "IP address mismatch, certificate is not valid for '127.0.0.1'.",
    "expired": "certificate has expired",
}


def tls_settings(tls_broker, listener: str, *, cafile: str | None = "ca", client: bool = False,
                 client_id: str = "tls-test") -> ConnectionSettings:
    return ConnectionSettings.from_options(
        host=tls_broker.host, port=tls_broker.ports[listener], access_key="TLSKEY", tls=True,
        cafile=tls_broker.ca if cafile == "ca" else cafile,
        certfile=tls_broker.client_cert if client else None,
        keyfile=tls_broker.client_key if client else None,
        client_id=f"{client_id}-{listener}", qos=1)


class Watched:
    """A real transport and every state it reported."""

    def __init__(self, settings: ConnectionSettings) -> None:
        self.states: list[ConnectionState] = []
        self.pushes: list = []
        self._lock = threading.Lock()
        self.transport = MqttTransport(settings, self._push, on_state=self._state)

    def _push(self, push) -> None:
        self.pushes.append(push)
        if push.ack_token:
            push.ack_token()

    def _state(self, state: ConnectionState) -> None:
        with self._lock:
            self.states.append(state)

    def first(self, phase: Phase) -> ConnectionState | None:
        with self._lock:
            return next((s for s in self.states if s.phase is phase), None)

    def __enter__(self) -> Watched:
        self.transport.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.transport.stop()


def test_verified_connection_carries_pushes(tls_broker):
    with Watched(tls_settings(tls_broker, "good")) as w:
        assert w.transport.wait_connected(30), [s.describe() for s in w.states]
        w.transport.publish("upload/TLSKEY/8052400203/location", b'{"ok":1}', qos=1)
        wait_for(lambda: w.pushes, 30, "a push over TLS")
    assert w.pushes[0].payload == b'{"ok":1}'
    assert w.first(Phase.WAITING) is None


def test_verification_is_on_without_our_ca_the_broker_is_not_trusted(tls_broker):
    """No cafile: the system's CAs do not know the session's CA — not connected."""
    with Watched(tls_settings(tls_broker, "good", cafile=None)) as w:
        wait_for(lambda: w.first(Phase.WAITING), 30, "the refusal")
    waiting = w.first(Phase.WAITING)
    assert waiting.untrusted
    assert re.search(r"not trusted \((unable to get local issuer certificate|"
                     r"self-signed certificate in certificate chain)\)$", waiting.reason)
    assert w.first(Phase.CONNECTED) is None


def test_client_certificate_gets_in(tls_broker):
    with Watched(tls_settings(tls_broker, "client_cert", client=True)) as w:
        assert w.transport.wait_connected(30), [s.describe() for s in w.states]
        w.transport.publish("upload/TLSKEY/8052400203/alarm", b"{}", qos=1)
        wait_for(lambda: w.pushes, 30, "a push over TLS with a client certificate")


def test_without_its_client_certificate_there_is_no_connection(tls_broker):
    with Watched(tls_settings(tls_broker, "client_cert")) as w:
        wait_for(lambda: w.first(Phase.WAITING), 30, "the refusal")
    assert w.first(Phase.CONNECTED) is None


@pytest.mark.parametrize("listener", sorted(UNTRUSTED))
def test_an_untrusted_certificate_is_one_clear_sentence_never_a_connection(tls_broker,
                                                                            listener):
    settings = tls_settings(tls_broker, listener, client=True)
    with Watched(settings) as w:
        wait_for(lambda: w.first(Phase.WAITING), 30, "the refusal")
    where = f"127.0.0.1:{settings.port}"
    waiting = w.first(Phase.WAITING)
    assert waiting.reason == f"TLS certificate of {where} not trusted ({UNTRUSTED[listener]})"
    assert re.fullmatch(r"TLS certificate of [^;]+ not trusted \(.+\); retrying in 1 s",
                        waiting.describe())
    assert waiting.untrusted and waiting.why() == waiting.reason  # `record` gives up on it
    assert w.first(Phase.CONNECTED) is None


def test_record_says_why_in_one_line(cli, tls_broker, tmp_path):
    """`record` over TLS: connects with a client certificate; a certificate that will never
    be trusted ends it at once (not at --connect-timeout: no retry can help) with exit 1 and
    one clean last line naming the reason — no "retrying in", which record would not do.
    The four run side by side."""
    common = ["--host", "127.0.0.1", "--tls", "--cafile", tls_broker.ca, "--access-key", "K"]
    good = cli.start("record", *common, "--port", str(tls_broker.ports["client_cert"]),
                     "--certfile", tls_broker.client_cert, "--keyfile", tls_broker.client_key,
                     "--journal", str(tmp_path / "good.sqlite"), "--duration", "0.5")
    # A timeout far beyond communicate()'s: a record that waited it out would never return.
    bad = {name: cli.start("record", *common, "--port", str(tls_broker.ports[name]),
                           "--journal", str(tmp_path / f"{name}.sqlite"),
                           "--connect-timeout", "3600")
           for name in UNTRUSTED}
    try:
        out, err = good.communicate(timeout=120)
        assert good.returncode == 0, err
        assert out.startswith("recorded 0 messages")
        for name, proc in bad.items():
            out, err = proc.communicate(timeout=120)
            port = tls_broker.ports[name]
            assert proc.returncode == 1, (name, out, err)
            errors = [line for line in err.splitlines() if line.startswith("sealdesk: error:")]
            assert len(errors) == 1, (name, err)
            expected = (f"sealdesk: error: could not connect to 127.0.0.1:{port} "
                        f"(TLS certificate of 127.0.0.1:{port} not trusted ({UNTRUSTED[name]}))")
            assert err.splitlines()[-1] == errors[0] == expected, (name, err)
            assert "retrying in" not in err and err.count("not trusted") == 1, (name, err)
            assert "Traceback" not in err and ": connected" not in err
    finally:  # a record still waiting (the promise broken) must not outlive the test
        for proc in (good, *bad.values()):
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
