"""Issue 18, item 5: `python main.py report` — the shift handover report, as a CSV and a PDF,
from a journal with known alarms and acknowledgements; its counts are the journal's.

The journal is written with the real `Journal` (tests/shift_journal.py), the command runs
as a user runs it (the `cli` fixture) — on a journal file and on a shared journal's
PostgreSQL URL alike (`shift` is parametrised), but for the test of an old SQLite schema.
The PDF is read back with poppler (pdftotext, pdftoppm) when it is installed; its counts
are in its XMP metadata either way.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from shift_journal import FORMULA_NOTE, SINCE, SINCE_ISO, UNTIL, UNTIL_ISO, Expected, build

from app.fleet.severity import Severity, SeverityTable
from app.journal.queries import acknowledgements_between
from app.journal.schema import MIGRATIONS
from app.journal.shift import read_shift
from app.journal.store import Journal
from app.journal.url import open_journal
from app.reports.shift import duration, read_csv_blocks


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def shift(request, tmp_path_factory) -> Iterator[tuple[Path | str, Expected]]:
    """The shift in a journal file, then in a PostgreSQL database (dropped after the module)."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("shift") / "journal.sqlite"
        yield path, build(path)
        return
    server = request.getfixturevalue("pg_server")
    url = server.new_database()
    try:
        yield url, build(url)
    finally:
        server.drop_database(url)


def journal_counts(path: Path | str) -> dict[str, int]:
    """What the journal itself says about the shift, asked without the report's code."""
    with open_journal(path, readonly=True) as journal:
        rows = list(journal.rows(kind="alarm", since=SINCE, until=UNTIL))
        acks = acknowledgements_between(journal, rows[0].id, rows[-1].id)
    acked = [r for r in rows if r.id in acks and acks[r.id][0] <= UNTIL]
    return {"raised": len(rows), "acknowledged": len(acked), "open": len(rows) - len(acked),
            "devices": len({r.device for r in rows})}


def report(cli, path: Path | str, out: Path, *extra: str):
    return cli.run("report", "--journal", str(path), "--since", SINCE_ISO, "--until",
                   UNTIL_ISO, "--out", str(out), "--operator", "Ada Lovelace", *extra)


def test_csv_report_counts_equal_the_journal(cli, shift, tmp_path):
    path, expected = shift
    out = tmp_path / "shift.csv"
    done = report(cli, path, out, "--note", "Rope cut at the yard: guard on site.\n" + "=1+1")
    assert done.returncode == 0, done.stderr
    assert "6 alarms raised, 3 acknowledged, 3 still open (2 critical); 2 open from before" \
        in done.stdout

    text = out.read_text(encoding="utf-8-sig")
    head, note, severity, devices, types, alarms = read_csv_blocks(text)
    facts = {row[0]: row[1] for row in head[1:]}
    counts = journal_counts(path)
    assert counts == {"raised": 6, "acknowledged": 3, "open": 3, "devices": 3}
    assert int(facts["alarms raised"]) == counts["raised"] == expected.raised
    assert int(facts["acknowledged"]) == counts["acknowledged"] == expected.acknowledged
    assert int(facts["still open"]) == counts["open"] == expected.open
    assert int(facts["critical still open"]) == expected.critical_open
    assert int(facts["open from before the period"]) == expected.open_before
    assert float(facts["median minutes to acknowledge"]) == expected.median_minutes
    assert facts["period from"] == "2025-02-07T06:00:00.000Z"
    assert facts["operator"] == "Ada Lovelace"
    # the handover note, whole, and never a formula
    assert note == [["handover note"], ["Rope cut at the yard: guard on site.\n=1+1"]]

    assert severity[0][:4] == ["severity", "raised", "acknowledged", "still open"]
    got = {row[0]: tuple(int(x) for x in row[1:4]) for row in severity[1:]}
    assert got == expected.by_severity
    assert sum(r[0] for r in got.values()) == counts["raised"]
    assert {row[0]: int(row[6]) for row in severity[1:]} == {"critical": 1, "warning": 1,
                                                             "info": 0}

    a, b, c = expected.devices
    per_device = {row[0]: tuple(int(x) for x in row[1:5]) for row in devices[1:]}
    assert per_device == {a: (2, 2, 0, 0), b: (2, 1, 1, 1), c: (2, 0, 2, 1)}
    assert len(per_device) == counts["devices"]
    assert sum(int(row[2]) for row in types[1:]) == counts["raised"]

    columns = alarms[0]
    rows = {int(r[0]): dict(zip(columns, r, strict=True)) for r in alarms[1:]}
    ids = expected.in_shift
    assert sorted(rows) == sorted(ids.values())
    b1, b2, b5 = rows[ids["B1"]], rows[ids["B2"]], rows[ids["B5"]]
    assert (b1["state"], b1["acknowledged by"], b1["reason"], b1["note"]) == (
        "acknowledged", "ada", "handled on site", "guard sent\nall fine")
    assert float(b1["minutes to acknowledge"]) == 5.0
    assert b1["severity"] == "critical" and b1["alarm"] == "Back cover opened"
    assert b2["note"] == "'" + FORMULA_NOTE  # CSV injection: shown as text, never run
    assert b5["state"] == "acknowledged later" and b5["minutes to acknowledge"] == ""
    assert rows[ids["B3"]]["state"] == "open" and rows[ids["B3"]]["acknowledged by"] == ""
    assert not any(cell.startswith(("=", "+", "-", "@")) for row in alarms + note
                   for cell in row)


def test_pdf_report_has_the_journal_counts_and_reads_back(cli, shift, tmp_path):
    path, expected = shift
    out = tmp_path / "shift.pdf"
    note = "Handover: SOS on the Dubai lock still open, customer called twice."
    note_file = tmp_path / "note.txt"
    note_file.write_text(note, encoding="utf-8")
    done = report(cli, path, out, "--note-file", str(note_file))
    assert done.returncode == 0, done.stderr
    data = out.read_bytes()
    assert data.startswith(b"%PDF")
    # the counts ride in the XMP metadata: readable without a text extractor
    meta = b"".join(re.findall(rb"<x:xmpmeta.*?</x:xmpmeta>", data, re.S)).decode()
    counts = journal_counts(path)
    assert (f"raised {counts['raised']}; acknowledged {counts['acknowledged']}; "
            f"open {counts['open']}; critical open {expected.critical_open}; "
            f"open before {expected.open_before}") in meta
    assert "critical 3/1/2; warning 2/1/1; info 1/1/0" in meta

    if not (shutil.which("pdftotext") and shutil.which("pdftoppm")):
        pytest.skip("poppler-utils (pdftotext, pdftoppm) not installed: the PDF's text and "
                    "pages were not read back")
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True,
                          text=True, timeout=60, check=True).stdout
    flat = " ".join(text.split())
    assert "Shift handover report" in flat
    assert "2025-02-07 06:00 – 14:00 UTC" in flat
    assert note in flat
    assert "Ada Lovelace" in flat
    assert f"Still open at the end of the period ({counts['open']})" in flat
    assert f"Acknowledged ({counts['acknowledged']})" in flat
    assert f"By device ({counts['devices']})" in flat
    for device in expected.devices:
        assert device in flat
    assert "guard sent" in flat and "handled on site" in flat
    assert "acknowledged later" in flat
    subprocess.run(["pdftoppm", "-png", "-r", "30", "-f", "1", "-l", "1", str(out),
                    str(tmp_path / "page")], check=True, timeout=60)
    pages = list(tmp_path.glob("page*.png"))
    assert len(pages) == 1 and pages[0].stat().st_size > 2000


@pytest.mark.parametrize(("args", "code", "message"), [
    (["--out", "shift.txt"], 2, "--out must end in .pdf or .csv"),
    (["--out", "x.csv", "--until", "2025-02-07T05:00"], 2, "--since must be before --until"),
    (["--out", "x.csv", "--severities", "51=urgent"], 2, "not CODE=critical|warning|info"),
    (["--out", "x.csv", "--until", "yesterday"], 2, "not an ISO-8601 time"),
    (["--out", "x.csv", "--note-file", "missing.txt"], 2, "cannot read --note-file"),
])
def test_bad_arguments_say_so_in_one_line(cli, shift, tmp_path, args, code, message):
    path, _ = shift
    args = [str(tmp_path / a) if a in ("shift.txt", "x.csv", "missing.txt") else a
            for a in args]
    done = cli.run("report", "--journal", str(path), "--since", SINCE_ISO, *args)
    assert done.returncode == code, done.stderr
    lines = done.stderr.strip().splitlines()
    assert message in lines[-1]  # one line says what is wrong (argparse puts usage above it)
    assert sum("error" in line for line in lines) == 1 and "Traceback" not in done.stderr
    assert not (tmp_path / "x.csv").exists()


def test_no_journal_is_an_error(cli, tmp_path):
    done = cli.run("report", "--journal", str(tmp_path / "none.sqlite"), "--since", SINCE_ISO,
                   "--out", str(tmp_path / "r.csv"))
    assert done.returncode == 1
    assert "no journal at" in done.stderr


def test_severity_changes_move_alarms_between_severities(shift):
    path, _ = shift
    table = SeverityTable().with_overrides({41: Severity.CRITICAL, 50: Severity.WARNING})
    with open_journal(path, readonly=True) as journal:
        summary = read_shift(journal.conn, SINCE, UNTIL, table)
    got = {s.value: (t.raised, t.acknowledged, t.open) for s, t in summary.by_severity.items()}
    assert got == {"critical": (4, 2, 2), "warning": (2, 1, 1), "info": (0, 0, 0)}


# SQLite only: a journal of an older SQLite schema, read without migrating it.
def test_a_journal_from_before_reasons_and_notes_still_reports(tmp_path):
    """A journal read read-only is not migrated: one of schema 7 has no reason or note."""
    path = tmp_path / "old.sqlite"
    conn = sqlite3.connect(path)
    for migration in MIGRATIONS[:7]:
        if callable(migration):
            migration(conn)
        else:
            conn.executescript(migration)
    conn.execute("INSERT INTO push (id, received_at, source, topic, kind, device, raw, data)"
                 " VALUES (1, ?, 'mqtt', 't', 'alarm', 'D1', x'', '{\"alarmType\": 51}')",
                 (SINCE + 5,))
    conn.execute("INSERT INTO alarm_ack VALUES (1, ?, 'ada')", (SINCE + 65,))
    conn.commit()
    conn.close()
    with Journal(path, readonly=True) as journal:
        summary = read_shift(journal.conn, SINCE, UNTIL)
    (alarm,) = summary.alarms
    assert (alarm.name, alarm.severity, alarm.state, alarm.operator, alarm.reason) == (
        "Unknown alarm 51", Severity.CRITICAL, "acknowledged", "ada", "")
    assert alarm.seconds_to_acknowledge == 60


def test_durations_read_as_a_person_says_them():
    assert [duration(s) for s in (None, 42, 250, 1500, 7500, 200_000)] == [
        "—", "42 s", "4 min 10 s", "25 min", "2 h 05 min", "2 d 7 h"]
