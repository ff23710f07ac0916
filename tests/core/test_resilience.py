"""Nothing lost at QoS 1, and recording resumes by itself after the broker comes back."""

from __future__ import annotations

from waiting import wait_for

from app.journal.store import Journal
from app.pipeline import Recorder
from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings
from app.transport.state import Phase


def test_simulate_into_record_at_qos1_loses_nothing(cli, broker, tmp_path):
    n = 20_000  # the 100 000 is quoted in the closing note; same code path
    journal = tmp_path / "j.sqlite"
    rec = cli.start(
        "record", "--host", broker.host, "--port", str(broker.port), "--access-key", "LOSS",
        "--journal", str(journal), "--count", str(n), "--duration", "240", "--qos", "1",
        "--client-id", "loss-recorder",
    )
    assert rec.stderr is not None
    for line in rec.stderr:
        if "connected" in line:
            break
    sim = cli.run(
        "simulate", "--host", broker.host, "--port", str(broker.port), "--access-key", "LOSS",
        "--devices", "200", "--rate", "0", "--count", str(n), "--qos", "1", "--seed", "3",
        "--client-id", "loss-sim", timeout=240,
    )
    assert sim.returncode == 0, sim.stderr
    assert f"published {n} messages" in sim.stdout
    out, err = rec.communicate(timeout=240)
    assert rec.returncode == 0, err
    assert f"recorded {n} messages" in out
    with Journal(journal) as j:
        assert j.count() == n
        assert j.count(kind="unknown") == 0


def test_recording_resumes_after_the_broker_restarts(broker, tmp_path):
    key = "RESUME"
    recorder = Recorder(tmp_path / "j.sqlite").start()
    phases: list[Phase] = []
    settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=key, qos=1, client_id="resume-rec",
    )
    transport = recorder.connect(settings, lambda st: phases.append(st.phase))
    assert transport.wait_connected(10)
    sim_settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=key, qos=1, client_id="",
        clean_session=True,
    )
    sim = Simulator(sim_settings, devices=10, seed=1, rate=200).start()
    try:
        stats = recorder.writer.stats
        wait_for(lambda: stats.written >= 100, 20, "the first pushes")
        broker.stop()
        wait_for(lambda: Phase.WAITING in phases, 20, "the recorder to notice")
        assert "retrying in" in transport.state.describe()
        before = stats.written
        broker.start()
        wait_for(lambda: transport.state.phase is Phase.CONNECTED, 60, "reconnection")
        wait_for(lambda: stats.written >= before + 100, 60, "pushes after the restart")
    finally:
        sim.stop(timeout=5)
        recorder.stop()
    assert phases.count(Phase.CONNECTED) >= 2
