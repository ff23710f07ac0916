"""The connection panel over TLS (real mosquitto, certificates of this session): a verified
profile with a client certificate connects; a self-signed, wrong-host or expired broker
certificate shows one clear sentence in the profile's state, and never "connected"."""

from __future__ import annotations

import pytest

from app.transport.state import Phase
from app.ui.panels.connection.profiles import Profile
from app.ui.panels.connection.widget import ConnectionPanel

WAIT_MS = 30_000
UNTRUSTED = {
    "self_signed": "self-signed certificate",
    "wrong_host": "IP address mismatch, certificate is not valid for '127.0.0.1'.",
    "expired": "certificate has expired",
}


@pytest.fixture
def panel(qtbot, session, fake_keyring):
    p = ConnectionPanel(session.ctx)
    qtbot.addWidget(p)
    yield p
    p.shutdown()


def state_text(panel: ConnectionPanel, name: str) -> str:
    return panel.model.data(panel.model.index(panel.model.row_of(name), 2))


def test_tls_profiles_connect_or_say_why_not(qtbot, panel, tls_broker):
    phases: dict[str, list[Phase]] = {}
    panel.ctx.connections.sig_state_changed.connect(
        lambda name, state: phases.setdefault(name, []).append(state.phase))
    panel.store.save(Profile(name="Verified", host="127.0.0.1",
                             port=tls_broker.ports["client_cert"], tls=True,
                             cafile=tls_broker.ca, certfile=tls_broker.client_cert,
                             keyfile=tls_broker.client_key, access_key="AK0001",
                             client_id="tls-panel-verified"))
    for name in UNTRUSTED:
        panel.store.save(Profile(name=name, host="127.0.0.1", port=tls_broker.ports[name],
                                 tls=True, cafile=tls_broker.ca, access_key="AK0001",
                                 client_id=f"tls-panel-{name}"))
    panel.refresh()
    for name in ("Verified", *UNTRUSTED):
        assert panel.connect_profile(name)
    qtbot.waitUntil(lambda: state_text(panel, "Verified") == "connected", timeout=WAIT_MS)
    r = panel.model.row_of("Verified")
    assert panel.model.data(panel.model.index(r, 1)).endswith(" TLS")
    for name, why in UNTRUSTED.items():
        where = f"127.0.0.1:{tls_broker.ports[name]}"
        sentence = f"TLS certificate of {where} not trusted ({why}); retrying in "
        qtbot.waitUntil(lambda name=name, sentence=sentence:
                        state_text(panel, name).startswith(sentence), timeout=WAIT_MS)
        assert state_text(panel, name).endswith(" s")
        assert panel.model.describe(name)[1] == "waiting"
        assert Phase.CONNECTED not in phases[name], phases[name]
