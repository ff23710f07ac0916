"""CSV that a spreadsheet opens as data, never as a formula: every CSV SealDesk writes goes
through here (tests/architecture/test_csv_boundary.py fails on a `csv.writer` anywhere else).

OWASP's advice against CSV injection: Excel and LibreOffice run a cell that begins with
= + - @ TAB or CR as a formula (a waybill text, a card number, a device name can be made to),
so such a cell gets a leading `'` and is shown as the text it is. Every other value comes back
from Python's csv reader exactly as it went in. Numbers stay numbers: a negative number is
not a formula, so pass numbers as numbers, not as text. Qt-free.
"""

from __future__ import annotations

import csv
import json
import numbers
from collections.abc import Collection, Iterable, Mapping
from typing import Any, TextIO

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_text(text: str) -> str:
    """Text any file can hold: lone surrogates (from a "\\ud800" in a payload) become the
    escape `\\ud800`, as undecodable bytes of a raw payload do; a NUL stays a NUL."""
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")
    return text


def text_cell(text: str) -> str:
    """Safe text that is never a formula: a leading ' when it starts with = + - @ TAB CR."""
    text = safe_text(text)
    if text.startswith(FORMULA_START):
        return "'" + text
    return text


def cell(value: Any) -> Any:
    """One CSV cell: None is empty, a dict or list its JSON, text `text_cell`; numbers and
    booleans as they are. Idempotent (a cell already made is left as it is)."""
    if value is None:
        return ""
    if isinstance(value, str):
        return text_cell(value)
    if isinstance(value, dict | list):
        return text_cell(json.dumps(value, ensure_ascii=False))
    if isinstance(value, numbers.Number):  # bool, numpy's scalars and Decimal too
        return value
    return text_cell(str(value))  # anything else is written as its text: check that too


class Writer:
    """`csv.writer` whose every cell goes through `cell`."""

    def __init__(self, out: TextIO, **fmt: Any) -> None:
        self._writer = csv.writer(out, **fmt)

    def writerow(self, row: Iterable[Any]) -> Any:
        return self._writer.writerow([cell(v) for v in row])

    def writerows(self, rows: Iterable[Iterable[Any]]) -> None:
        for row in rows:
            self.writerow(row)


class DictWriter:
    """`csv.DictWriter` whose every cell goes through `cell`; keys outside `fieldnames` are
    ignored, missing ones are empty."""

    def __init__(self, out: TextIO, fieldnames: Collection[str], **fmt: Any) -> None:
        self.fieldnames = list(fieldnames)
        self._writer = Writer(out, **fmt)

    def writeheader(self) -> Any:
        return self._writer.writerow(self.fieldnames)

    def writerow(self, row: Mapping[str, Any]) -> Any:
        return self._writer.writerow([row.get(k) for k in self.fieldnames])

    def writerows(self, rows: Iterable[Mapping[str, Any]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(out: TextIO, **fmt: Any) -> Writer:
    """A safe `csv.writer` on `out` (opened with newline="")."""
    return Writer(out, **fmt)


def dict_writer(out: TextIO, fieldnames: Collection[str], **fmt: Any) -> DictWriter:
    """A safe `csv.DictWriter` on `out` (opened with newline="")."""
    return DictWriter(out, fieldnames, **fmt)
