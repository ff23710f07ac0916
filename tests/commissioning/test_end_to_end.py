"""`python main.py commission …` against a real broker with the simulator streaming and answering.

The simulator performs the technician's part (a lock cycle) as soon as the command's first
query reaches it — i.e. once the command is connected and subscribed. No sleeps: every wait
is on an event or a process, with a timeout.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from app.commissioning.store import CommissioningStore
from app.sim.fleet import Fleet
from app.sim.runner import Simulator
from app.transport.settings import ConnectionSettings

KEY = "COMKEY"


def pdf_text(path: Path) -> str:
    """The PDF's text (pdftotext, when poppler-utils is installed) plus its XMP metadata."""
    data = path.read_bytes()
    found = re.findall(rb"<x:xmpmeta.*?</x:xmpmeta>", data, re.S)
    meta = b"".join(found).decode("utf-8", "replace")
    if shutil.which("pdftotext"):
        out = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True,
                             text=True, timeout=60, check=True).stdout
        return out + "\n" + meta
    return meta


class Field:
    """A simulated fleet on the broker; `act` runs the technician's part once the command
    has asked its first question."""

    def __init__(self, broker, devices: int = 10) -> None:
        self.fleet = Fleet(KEY, devices=devices, seed=21)
        for dev in self.fleet.devices.values():
            dev.battery, dev.charging, dev.cell_signal, dev.gnss_signal = 80, False, 25, 9
        settings = ConnectionSettings(host=broker.host, port=broker.port, access_key=KEY, qos=1)
        self.sim = Simulator(settings, self.fleet, rate=10.0).start()
        self.asked = threading.Event()
        respond = self.sim.responder.respond

        def spy(topic: str, payload: bytes):
            self.asked.set()
            return respond(topic, payload)

        self.sim.responder.respond = spy

    def model(self, model: str, n: int = 0) -> str:
        return [d.device_id for d in self.fleet.devices.values() if d.model == model][n]

    def technician_works(self, *devices: str) -> None:
        f = self.fleet
        pushes = []
        with f.lock:
            for d in devices:
                for _ in range(6):
                    pushes += f.location(d)
                for sl in f.devices[d].sublocks:
                    pushes += f.sublock_push(d, sl.sub_id)
                pushes += f.lock_cycle(d)
        self.sim.publish_now(pushes)

    def run(self, cli, broker, tmp_path: Path, devices: list[str], *extra: str,
            journal: str | None = None):
        args = ["commission", "--host", broker.host, "--port", str(broker.port),
                "--access-key", KEY, "--journal", journal or str(tmp_path / "journal.sqlite"),
                "--templates", str(tmp_path / "templates.json"), "--technician", "Ada Field"]
        for d in devices:
            args += ["--device", d]
        proc = cli.start(*args, *extra)
        try:
            assert self.asked.wait(30), "the command never sent its queries"
            self.technician_works(*devices)
            out, err = proc.communicate(timeout=120)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.asked.clear()
        return proc.returncode, out, err

    def stop(self) -> None:
        self.sim.stop(timeout=5)


@pytest.fixture
def field(broker):
    f = Field(broker)
    yield f
    f.stop()


def test_batch_with_a_device_without_fix_fails_and_reports(field, broker, cli, tmp_path,
                                                          journal_target):
    """On a journal file and on a shared journal's URL alike (the session, its audit and
    its report kept in either)."""
    good = field.model("JT709A-S")  # bound sub-locks: WLNET and sub-lock pushes exercised
    nofix = field.model("JT709A", 1)
    field.fleet.devices[nofix].has_fix = False
    pdf = tmp_path / "batch.pdf"
    code, out, err = field.run(cli, broker, tmp_path, [good, nofix],
                               "--timeout", "20", "--skip", "alarm_path", "--report", str(pdf),
                               journal=journal_target)
    assert code == 1, out + err
    assert f"{good}: PASS" in out, out + err
    assert f"{nofix}: FAIL" in out, out + err
    assert re.search(r"Position fix\s+failed\s+no fix: locType 0", out), out
    assert "skipped on the command line" in out
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF")
    text = pdf_text(pdf)
    assert f"{good}: PASS" in text and f"{nofix}: FAIL" in text and "overall FAIL" in text
    if shutil.which("pdftotext"):
        assert "Commissioning report" in text and "Ada Field" in text
        assert "no fix: locType 0" in text  # no "ﬁ" ligature in the text
        assert field.fleet.devices[good].firmware in text
        assert re.search(r"Page 1 of \d", text)
    # kept in the journal, with its report
    with CommissioningStore(journal_target) as store:
        [s] = store.sessions()
        assert s.verdicts == {good: "PASS", nofix: "FAIL"} and s.has_report
        stored = store.load(s.batch)
        assert stored.report_pdf == data and stored.technician == "Ada Field"
        assert stored.checklists[0].info["firmware"] == field.fleet.devices[good].firmware


def test_a_passing_run_exits_0(field, broker, cli, tmp_path):
    good = field.model("JT709A", 0)
    code, out, err = field.run(cli, broker, tmp_path, [good],
                               "--timeout", "60", "--skip", "alarm_path")
    assert code == 0, out + err
    assert f"{good}: PASS" in out
    assert re.search(r"Lock cycle\s+passed", out)


def test_offline_and_clock_off(field, broker, cli, tmp_path):
    offline = field.model("JT709A", 1)
    skewed = field.model("KS20A")
    field.fleet.devices[offline].online = False
    field.fleet.devices[skewed].clock_offset_s = 600
    code, out, err = field.run(cli, broker, tmp_path, [offline, skewed], "--timeout", "8",
                               "--skip", "lock_cycle,alarm_path", "--template", "KS20A")
    assert code == 1, out + err
    assert re.search(r"Firmware\s+failed\s+Device not online！", out), out
    assert re.search(r"Clock\s+failed\s+clock off by (599|600) s \(ahead\)", out), out


def test_bad_usage(cli, tmp_path):
    r = cli.run("commission", "--access-key", "K", "--device", "1", "--skip", "nonsense",
                "--journal", str(tmp_path / "j.sqlite"))
    assert r.returncode == 2 and "unknown check" in r.stderr
    r = cli.run("commission", "--access-key", "K", "--device", "1", "--template", "Nope",
                "--journal", str(tmp_path / "j.sqlite"), "--templates", str(tmp_path / "t.json"))
    assert r.returncode == 2 and "no template" in r.stderr
