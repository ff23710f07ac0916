"""Issue 18, item 5 in the window: the Shift report dialog writes the handover report of a
journal with known alarms (tests/shift_journal.py) as a CSV and a PDF, with the note typed in
it and the severities of the user's settings (a tmp QSettings ini); it opens nothing else."""

from __future__ import annotations

import shutil
import subprocess
import time
from types import SimpleNamespace

import pytest
from PySide6.QtCore import QDateTime, QSettings, Qt
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QWidget
from shift_journal import SINCE, build

from app.journal.store import Journal
from app.reports.shift import read_csv_blocks
from app.ui.shift_report_dialog import FORMAT_KEY, SEVERITIES_KEY, open_shift_report

NOTE = "SOS on the Dubai lock still open:\n=call the customer back at 15:00"


@pytest.fixture
def rig(tmp_path, qtbot, monkeypatch):
    journal = tmp_path / "journal.sqlite"
    expected = build(journal)
    settings = QSettings(str(tmp_path / "s.ini"), QSettings.Format.IniFormat)
    settings.setValue(SEVERITIES_KEY, "41=critical")  # vibration made critical in Settings
    ctx = SimpleNamespace(journal_path=str(journal), settings=settings, operator="Ada Lovelace")
    window = QWidget()
    qtbot.addWidget(window)
    window.show()
    opened: list = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url))
    return SimpleNamespace(ctx=ctx, window=window, journal=journal, expected=expected,
                           opened=opened, tmp=tmp_path, settings=settings)


def journal_counts(path, since: float, until: float) -> tuple[int, int]:
    """(raised, acknowledged) in [since, until), from the journal without the report."""
    from app.journal.queries import acknowledgements_between

    with Journal(path, readonly=True) as journal:
        rows = list(journal.rows(kind="alarm", since=since, until=until))
        acks = acknowledgements_between(journal, rows[0].id, rows[-1].id)
    return len(rows), sum(1 for r in rows if r.id in acks and acks[r.id][0] <= until)


def write(qtbot, dialog) -> list:
    with qtbot.waitSignal(dialog.sig_report_finished, timeout=30_000) as blocker:
        qtbot.mouseClick(dialog.write_button, Qt.MouseButton.LeftButton)
    return blocker.args


def test_the_dialog_writes_csv_and_pdf_with_the_journal_counts(rig, qtbot):
    dialog = open_shift_report(rig.ctx, rig.window)
    qtbot.waitExposed(dialog)
    assert open_shift_report(rig.ctx, rig.window) is dialog  # one dialog, raised again

    dialog.since_edit.setDateTime(QDateTime.fromSecsSinceEpoch(int(SINCE)))
    assert dialog.since_radio.isChecked()  # editing the time chose "since"
    dialog.note.setPlainText(NOTE)
    dialog.set_format("csv")
    dialog.path_edit.setText(str(rig.tmp / "handover"))  # no ending: the format's is added

    before = time.time()
    path, error = write(qtbot, dialog)
    after = time.time()
    assert error == "" and path == str(rig.tmp / "handover.csv")
    assert "Written to" in dialog.status.text() and not dialog.progress.isVisible()
    assert dialog.write_button.isEnabled()

    head, note, severity, _devices, _types, alarms = read_csv_blocks(
        (rig.tmp / "handover.csv").read_text(encoding="utf-8-sig"))
    facts = {row[0]: row[1] for row in head[1:]}
    # until is "now": the journal's counts as of a moment in the write
    counts = {journal_counts(rig.journal, SINCE, t) for t in (before, after)}
    assert (int(facts["alarms raised"]), int(facts["acknowledged"])) in counts
    assert int(facts["alarms raised"]) == 8  # the shift's six and two after it
    assert int(facts["still open"]) == int(facts["alarms raised"]) - int(facts["acknowledged"])
    assert facts["operator"] == "Ada Lovelace" and facts["journal"] == "journal.sqlite"
    assert facts["severities"] == "defaults, 1 changed (41=critical)"
    assert note[1] == ["SOS on the Dubai lock still open:\n=call the customer back at 15:00"]
    columns = alarms[0]
    rows = {int(r[0]): dict(zip(columns, r, strict=True)) for r in alarms[1:]}
    assert rows[rig.expected.in_shift["B2"]]["severity"] == "critical"  # the settings' rule
    assert sum(1 for r in severity[1:] for _ in range(int(r[1]))) == len(rows)
    assert rig.settings.value(FORMAT_KEY) == "csv"

    # the PDF of the same period: the ending follows the format
    dialog.set_format("pdf")
    assert dialog.path_edit.text().endswith("handover.pdf")
    path, error = write(qtbot, dialog)
    assert error == "" and path == str(rig.tmp / "handover.pdf")
    data = (rig.tmp / "handover.pdf").read_bytes()
    assert data.startswith(b"%PDF")
    assert f"raised {facts['alarms raised']};".encode() in data  # XMP metadata
    if shutil.which("pdftotext"):
        text = subprocess.run(["pdftotext", str(rig.tmp / "handover.pdf"), "-"],
                              capture_output=True, text=True, timeout=60, check=True).stdout
        assert "=call the customer back at 15:00" in text and "Ada Lovelace" in text

    # nothing else opened: no viewer, no other window
    assert rig.opened == []
    shown = [w for w in QApplication.topLevelWidgets() if w.isVisible()]
    assert set(shown) <= {rig.window, dialog}


def test_the_dialog_says_what_is_missing(rig, qtbot):
    dialog = open_shift_report(rig.ctx, rig.window)
    dialog.path_edit.setText("")
    assert dialog.write() is False
    assert "Choose the file" in dialog.status.text()
    dialog.since_edit.setDateTime(QDateTime.currentDateTime().addSecs(3600))
    dialog.path_edit.setText(str(rig.tmp / "r.pdf"))
    assert dialog.write() is False
    assert "starts in the future" in dialog.status.text()
    dialog.this_shift.setChecked(True)
    dialog.hours.setValue(12)
    since, until = dialog.period(now=1_000_000.0)
    assert (since, until) == (1_000_000.0 - 12 * 3600, 1_000_000.0)
    dialog.path_edit.setText(str(rig.tmp / "no such folder" / "r.pdf"))
    assert dialog.write() is False
    assert "There is no folder" in dialog.status.text()
    assert not (rig.tmp / "r.pdf").exists()


def test_a_journal_that_cannot_be_read_is_said(rig, qtbot):
    rig.ctx.journal_path = str(rig.tmp / "not-a-journal.sqlite")
    (rig.tmp / "not-a-journal.sqlite").write_bytes(b"this is not SQLite" * 100)
    dialog = open_shift_report(rig.ctx, rig.window)
    dialog.set_format("csv")
    dialog.path_edit.setText(str(rig.tmp / "r.csv"))
    _path, error = write(qtbot, dialog)
    assert error and "Cannot write the report" in dialog.status.text()
    assert dialog.write_button.isEnabled() and not dialog.progress.isVisible()
