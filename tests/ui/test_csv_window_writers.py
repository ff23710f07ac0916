"""The window's CSV writers neutralise formula-leading cells (app/csvsafe.py): the live
tables' exporter (events, alarms), the charts' data and the bulk summary — each through its
real writer, read back with Python's csv. Numbers stay numbers (a negative one unquoted)."""

from __future__ import annotations

import csv
import math

import pytest

from app.commands.builder import build, template
from app.ui.panels.charts.export import write_csv as write_chart_csv
from app.ui.panels.charts.series import LOCATION_FIELDS, AlarmMark, DeviceSeries
from app.ui.panels.commands.bulk import CSV_HEADER as BULK_HEADER
from app.ui.panels.commands.bulk import BulkRow, write_summary
from app.ui.widgets.csv_export import CsvExporter

HAZARDS = [  # (device-supplied text, the cell a spreadsheet must get): = + - @ TAB CR
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),
    ("+31 20 555 0100", "'+31 20 555 0100"),
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),
    ("\r=1+1", "'\r=1+1"),
]


def read(path) -> list[list[str]]:
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


@pytest.mark.parametrize("text, cell", HAZARDS)
def test_live_table_export_neutralises_text_and_keeps_numbers(qtbot, tmp_path, text, cell):
    """CsvExporter writes the event and alarm panels' exports (their rows as they give them)."""
    exporter = CsvExporter()
    path = tmp_path / "rows.csv"
    rows = [(text, "8052400203", -33.8688, 151.2093, -5, "", None, "Depot north", text + "!")]
    with qtbot.waitSignal(exporter.sig_export_finished, timeout=10000) as sig:
        exporter.export(str(path), ("a", "device", "lat", "lon", "n", "e", "none", "ok", "b"),
                        rows)
    assert sig.args == [str(path), 1, ""]
    header, row = read(path)
    assert header == ["a", "device", "lat", "lon", "n", "e", "none", "ok", "b"]
    assert row == [cell, "8052400203", "-33.8688", "151.2093", "-5", "", "", "Depot north",
                   cell + "!"]


def test_chart_export_neutralises_device_text_and_keeps_numbers(tmp_path):
    """A device id and an alarm name are the device's text; readings stay numbers."""
    (device, device_cell), (alarm, alarm_cell) = HAZARDS[0], HAZARDS[3]
    series = DeviceSeries(device)
    temperature = [f.key for f in LOCATION_FIELDS].index("temperature")
    values = [math.nan] * len(LOCATION_FIELDS)
    values[temperature] = -12.5
    series.location.append([(1_700_000_000.0, values)])
    series.alarms.append(AlarmMark(1_700_000_030.0, alarm, 46, 7))
    path = tmp_path / "chart.csv"
    assert write_chart_csv(path, [series]) == 2
    header, reading, mark = read(path)
    assert header == ["device", "series", "quantity", "unit", "time_utc", "epoch_s", "value"]
    assert reading[0] == device_cell and reading[1].startswith(device_cell)
    assert reading[-1] == "-12.5" and reading[-2] == "1700000000.000"
    assert mark[0] == mark[1] == device_cell
    assert mark[2] == "alarm" and mark[-1] == alarm_cell


@pytest.mark.parametrize("text, cell", HAZARDS)
def test_bulk_summary_neutralises_what_devices_answer(tmp_path, text, cell):
    version = build(template("version"), "8052400203", 5)
    answered = BulkRow("8052400203", version, profile=text, state="answered",
                       reply=["8052400203", "8", "005", "BASE", "1", text, "x", "v", "m",
                              "89860", "8661"],
                       reply_type="BASE1", answered_in=1.25)
    failed = BulkRow("8052400204", None, profile="Depot", state="failed", reason=text)
    path = tmp_path / "bulk.csv"
    assert write_summary(str(path), [answered, failed]) == 2
    header, a, f = read(path)
    assert tuple(header) == BULK_HEADER
    got = dict(zip(header, a, strict=True))
    assert got["firmware"] == cell and got["profile"] == cell
    assert (got["ICCID"], got["IMEI"], got["answered_in_s"]) == ("89860", "8661", "1.250")
    assert got["text"] == "(8052400203,1,005,BASE,1)" and got["serial"] == "005"
    got = dict(zip(header, f, strict=True))
    assert got["outcome"] == cell and got["profile"] == "Depot" and got["text"] == ""
