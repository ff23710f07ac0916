"""Issue 9 as a technician meets it: the demo, three locks, a verdict for each, a report."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings


@pytest.mark.timeout(240)
def test_three_demo_locks_reach_a_verdict_and_a_report(qapp, tmp_path):
    import qasync

    from app.ui.session import Session

    qapp.setQuitOnLastWindowClosed(False)
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    session = Session(tmp_path / "j.sqlite",
                      QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat))
    window = session.open_window()
    window.show()
    result: dict = {}

    async def run() -> None:
        try:
            await session.start_demo(devices=30, rate=40)
            fleet = session.simulator.fleet
            busy = {session.demo_offline, session.demo_silent}
            locks = [d for d in fleet.device_ids if d not in busy
                     and fleet.devices[d].model.startswith("JT709")][:3]
            with fleet.lock:  # freshly installed locks: charged, in the open, good signal
                for device in locks:
                    dev = fleet.devices[device]
                    dev.battery, dev.gnss_signal, dev.cell_signal = 80, 12, 20
            panel = window.panels["commissioning"]
            panel.add_devices("\n".join(locks))
            started = time.monotonic()
            panel.start()
            # the technician wakes each lock, opens and closes it, opens its back cover and
            # its sub-locks report
            for device in locks:
                with fleet.lock:
                    pushes = [p for _ in range(3) for p in fleet.location(device)]
                    pushes += fleet.lock_cycle(device) + fleet.raise_alarm(device, 46)
                    for sub in fleet.devices[device].sublocks:
                        pushes += fleet.sublock_push(device, sub.sub_id)
                session.simulator.publish_now(pushes)
            while time.monotonic() - started < 120:
                checklists = panel._checklists()
                if len(checklists) == 3 and all(c.done for c in checklists.values()):
                    break
                await asyncio.sleep(0.2)
            panel.finish()
            result["verdicts"] = {d: c.verdict.value for d, c in panel._checklists().items()}
            result["pdf"] = panel.write_report(tmp_path / "report.pdf")
        finally:
            window.close()
            await session.close()

    with loop:
        loop.run_until_complete(run())
    asyncio.set_event_loop(None)

    assert len(result["verdicts"]) == 3
    assert set(result["verdicts"].values()) == {"PASS"}, result["verdicts"]
    assert result["pdf"].startswith(b"%PDF")
    assert Path(tmp_path / "report.pdf").exists()
