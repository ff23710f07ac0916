"""CSV export (app/journal/export.py) against CSV injection, and lossless otherwise.

OWASP's advice: a cell that starts with = + - @ TAB or CR is opened as a formula by Excel
and LibreOffice; prefix it with a single quote so it is shown as text. Every other value must
come back from Python's csv reader exactly as it went in. Expected cells are written out by
hand, one hazard per case.
"""

from __future__ import annotations

import csv
import io
import json

import pytest

from app.journal.export import CSV_FIELDS, write_csv
from app.journal.store import JournalRow


def row(data: dict | None = None, *, raw: bytes = b"{}", device: str | None = "8052400203",
        topic: str = "upload/KEY/8052400203/location", profile: str = "Depot",
        errors: list[str] | None = None) -> JournalRow:
    return JournalRow(id=7, received_at=1_700_000_000.0, source="mqtt", profile=profile,
                      topic=topic, kind="location", device=device, sublock=None, raw=raw,
                      data=data or {}, errors=errors or [])


def exported(*rows: JournalRow) -> list[dict[str, str]]:
    out = io.StringIO(newline="")
    assert write_csv(rows, out) == len(rows)
    text = out.getvalue()
    text.encode("utf-8")  # whatever the payload, the file is valid UTF-8
    back = list(csv.DictReader(io.StringIO(text, newline="")))
    assert len(back) == len(rows)
    assert list(back[0]) == CSV_FIELDS
    return back


@pytest.mark.parametrize("text, cell", [
    ("=HYPERLINK(\"http://x\",\"y\")", "'=HYPERLINK(\"http://x\",\"y\")"),  # formula
    ("+31 20 555 0100", "'+31 20 555 0100"),  # a phone number, a card number…
    ("-2+3", "'-2+3"),
    ("@SUM(A1:A9)", "'@SUM(A1:A9)"),
    ("\t=1+1", "'\t=1+1"),  # OWASP lists TAB and CR as well
    ("\r=1+1", "'\r=1+1"),
    ("=cmd|' /C calc'!A0", "'=cmd|' /C calc'!A0"),  # DDE
])
def test_formula_leading_text_gets_a_leading_quote(text, cell):
    """Device-supplied text (a waybill `content`, a name) in its column."""
    [r] = exported(row({"content": text, "alarmName": text}))
    assert r["content"] == cell
    assert r["name"] == cell
    assert r["content"][1:] == text  # nothing else changed


@pytest.mark.parametrize("column, kwargs", [
    ("device", {"device": "=1+1"}),
    ("topic", {"topic": "@upload/KEY/x"}),
    ("profile", {"profile": "+Depot"}),
    ("errors", {"errors": ["-bad field"]}),
])
def test_columns_not_from_data_are_neutralised_too(column, kwargs):
    [r] = exported(row(**kwargs))
    value = next(iter(kwargs.values()))
    value = value[0] if isinstance(value, list) else value
    assert r[column] == "'" + value


def test_harmless_text_is_untouched():
    for text in ("Depot north", "12 = twelve", "a-b", "mail@example.com", "'quoted", ""):
        [r] = exported(row({"content": text}))
        assert r["content"] == text


def test_numbers_stay_numbers():
    """A negative number is a number to a spreadsheet, not a formula: no quote."""
    [r] = exported(row({"speed": -5, "latitude": -33.8688, "battery": 0, "charging": True}))
    assert (r["speed"], r["latitude"], r["battery"], r["charging"]) == ("-5", "-33.8688", "0",
                                                                         "True")


def test_json_in_cells_round_trips():
    data = {"content": {"waybill": "=A1", "items": [1, 2]}, "note": "x"}
    [r] = exported(row(data))
    assert json.loads(r["data"]) == data  # starts with {, never a formula
    assert json.loads(r["content"]) == {"waybill": "=A1", "items": [1, 2]}


def test_quotes_commas_and_newlines_round_trip():
    text = 'he said "open", then\nclosed;\r\nagain'
    [r] = exported(row({"content": text}))
    assert r["content"] == text
    assert json.loads(r["data"])["content"] == text


def test_non_utf8_raw_bytes_stay_readable_and_the_file_is_utf8():
    raw = b'\xff\xfe{"assetId": "=1"}\x00'
    [r] = exported(row(raw=raw))
    assert r["raw"] == '\\xff\\xfe{"assetId": "=1"}\x00'
    [r] = exported(row(raw=b'=1+1\xff'))  # a formula in raw bytes is neutralised too
    assert r["raw"] == "'=1+1\\xff"


def test_a_lone_surrogate_in_text_is_escaped_not_fatal():
    [r] = exported(row({"content": "a\ud800b"}))
    assert r["content"] == "a\\ud800b"


def test_several_rows_keep_their_order_and_ids():
    rows = [row({"content": f"={i}"}) for i in range(3)]
    assert [r["content"] for r in exported(*rows)] == ["'=0", "'=1", "'=2"]
