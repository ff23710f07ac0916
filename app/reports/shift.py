"""The shift handover report's content: HTML for the PDF and a CSV, from a `ShiftSummary`
(`app/journal/shift.py`). No Qt: `app/ui/pdf.py` lays the HTML out on A4 pages.

What the next shift reads first comes first: how many alarms are still open and how
urgent, the outgoing operator's note, then the open alarms one by one, then what was done
(per severity, per device, per alarm type, each acknowledgement with its reason and note).
The PDF lists at most `PDF_ROWS` alarms of each kind (a flood would make it a book); the
CSV has every one. Times are UTC, as in the commissioning report and the `export` command.
"""

from __future__ import annotations

import csv
import html
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TextIO

from app import csvsafe
from app.commissioning.report import utc_time
from app.fleet.severity import Severity, SeverityTable
from app.journal.export import iso_utc
from app.journal.shift import ACKNOWLEDGED_LATER, ShiftAlarm, ShiftSummary, Tally

PDF_ROWS = 200  # open alarms, acknowledged alarms and devices listed in the PDF, each
PDF_TYPES = 40

TITLE = "Shift handover report"
SEVERITY_COLOURS = {  # text, background — with the mark and the word, never colour alone
    Severity.CRITICAL: ("#842029", "#f8d7da"),
    Severity.WARNING: ("#664d03", "#fff3cd"),
    Severity.INFO: ("#055160", "#cff4fc"),
}
NAVY = "#0b3d66"


@dataclass
class ShiftReportInfo:
    operator: str = ""
    note: str = ""
    journal: str = ""  # the journal's file name, for the reader to find it again
    severities: str = "defaults"  # "defaults", or how many codes the user re-ranked
    generated_at: float = field(default_factory=lambda: datetime.now(UTC).timestamp())


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def duration(seconds: float | None) -> str:
    """'45 s', '4 min 10 s', '13 min', '2 h 05 min', '3 d 4 h'; '—' for none."""
    if seconds is None:
        return "—"
    s = round(seconds)
    if s < 60:
        return f"{s} s"
    if s < 600:
        return f"{s // 60} min {s % 60:02d} s"
    if s < 3600:
        return f"{s // 60} min"
    if s < 86400:
        return f"{s // 3600} h {s % 3600 // 60:02d} min"
    return f"{s // 86400} d {s % 86400 // 3600} h"


def minutes(seconds: float | None) -> float | str:
    return "" if seconds is None else round(seconds / 60, 1)


def period_text(summary: ShiftSummary) -> str:
    """'2025-02-07 06:00 – 14:00 UTC', or with both dates when the period spans days."""
    start = datetime.fromtimestamp(summary.since, UTC)
    end = datetime.fromtimestamp(summary.until, UTC)
    if start.date() == end.date():
        return f"{start:%Y-%m-%d %H:%M} – {end:%H:%M} UTC"
    return f"{start:%Y-%m-%d %H:%M} – {end:%Y-%m-%d %H:%M} UTC"


def title(summary: ShiftSummary) -> str:
    return f"{TITLE} {period_text(summary)}"


def severities_text(table: SeverityTable) -> str:
    """How the report says which severities it used: 'defaults', or the codes changed."""
    n = len(table.overrides)
    if not n:
        return "defaults"
    return f"defaults, {n} changed ({table.to_text().replace(',', ', ')})"


def headline(summary: ShiftSummary) -> str:
    """One line: '12 alarms raised, 9 acknowledged, 3 still open (1 critical); 5 open from
    before' — the command prints it, the dialog shows it."""
    t = summary.total
    text = (f"{t.raised} alarm{'s' if t.raised != 1 else ''} raised, {t.acknowledged} "
            f"acknowledged, {t.open} still open")
    if t.critical_open:
        text += f" ({t.critical_open} critical)"
    if summary.open_before_total:
        text += f"; {summary.open_before_total} open from before"
    return text


def keywords(summary: ShiftSummary) -> str:
    """The counts in the PDF's metadata, for a script without a text extractor:
    'SealDesk shift report; raised 12; acknowledged 9; open 3; critical open 1; …'."""
    t = summary.total
    parts = ["SealDesk shift report", f"raised {t.raised}", f"acknowledged {t.acknowledged}",
             f"open {t.open}", f"critical open {t.critical_open}",
             f"open before {summary.open_before_total}"]
    parts += [f"{s.value} {tally.raised}/{tally.acknowledged}/{tally.open}"
              for s, tally in summary.by_severity.items()]
    return "; ".join(parts)


# ---- HTML ----------------------------------------------------------------------------------

_CSS = f"""
body {{ font-family: 'DejaVu Sans', 'Segoe UI', Arial, sans-serif; font-size: 9pt;
       color: #212529; }}
h1 {{ font-size: 19pt; color: {NAVY}; margin: 0; }}
h2 {{ font-size: 12.5pt; color: {NAVY}; margin-top: 14px; margin-bottom: 4px; }}
.sub {{ color: #6c757d; font-size: 9pt; }}
table.grid th {{ background-color: {NAVY}; color: #ffffff; font-weight: bold;
                 text-align: left; }}
td.k {{ background-color: #f1f4f8; font-weight: bold; color: #343a40; }}
td.n {{ text-align: right; }}
.muted {{ color: #6c757d; }}
.big {{ font-size: 17pt; font-weight: bold; }}
"""

_GRID = ('<table class="grid" width="100%" border="1" cellspacing="0" cellpadding="4"'
         ' style="border-collapse:collapse; border-color:#ced4da;">')


def _severity_cell(severity: Severity, size: str = "8.5pt") -> str:
    fg, bg = SEVERITY_COLOURS[severity]
    return (f'<td bgcolor="{bg}" style="color:{fg}; font-weight:bold; font-size:{size};">'
            f"{_e(severity.label)}</td>")


def _n(value: object) -> str:
    return f'<td class="n">{_e(value)}</td>'


def _more(shown: int, total: int, what: str) -> str:
    if total <= shown:
        return ""
    return (f'<p class="muted">… and {total - shown} more {what}: the CSV report lists '
            "every one.</p>")


def _figure(label: str, value: object, colour: str = NAVY, size: str = "17pt") -> str:
    return (f'<td align="center" width="20%"><span class="big" style="color:{colour};'
            f' font-size:{size};">{_e(value)}</span><br/><span class="muted">{_e(label)}'
            "</span></td>")


def _head(*columns: tuple[str, str]) -> str:
    """A table's header row, repeated on every page the table runs onto."""
    cells = "".join(f'<th width="{w}">{_e(c)}</th>' if w else f"<th>{_e(c)}</th>"
                    for c, w in columns)
    return f"<thead><tr>{cells}</tr></thead>"


def _when(ts: float | None, summary: ShiftSummary) -> str:
    """The time of day, with the date when the period spans more than one day."""
    if ts is None:
        return "—"
    same_day = (datetime.fromtimestamp(summary.since, UTC).date()
                == datetime.fromtimestamp(summary.until, UTC).date())
    return utc_time(ts, "%H:%M:%S" if same_day else "%m-%d %H:%M").removesuffix(" UTC")


def build_html(summary: ShiftSummary, info: ShiftReportInfo) -> str:
    t = summary.total
    out = [f"<html><head><style>{_CSS}</style></head><body>"]
    # -- title and the one figure that matters most
    if t.critical_open:
        badge = (f"{t.critical_open} CRITICAL OPEN", "#ffffff", "#b02a37")
    elif t.open:
        badge = (f"{t.open} OPEN", "#212529", "#ffc107")
    else:
        badge = ("NOTHING OPEN", "#ffffff", "#1e7e34")
    out.append(
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f"<td><h1>{_e(TITLE)}</h1>"
        f'<div class="sub">Alarms of {_e(period_text(summary))} — SealDesk</div></td>'
        '<td align="right" valign="middle" width="34%">'
        '<table cellspacing="0" cellpadding="8" style="border-collapse:collapse;"><tr>'
        f'<td bgcolor="{badge[2]}" align="center" style="color:{badge[1]}; font-weight:bold;'
        f' font-size:14pt;">{_e(badge[0])}</td></tr></table></td></tr></table>'
    )
    out.append(f'<hr style="background-color:{NAVY}; height:2px; border:0;"/>')
    rows = [
        ("From", utc_time(summary.since)),
        ("Until", utc_time(summary.until)),
        ("Operator", info.operator or "—"),
        ("Report generated", utc_time(info.generated_at)),
        ("Journal", info.journal or "—"),
        ("Severities", info.severities),
    ]
    out.append(_GRID)
    for i in range(0, len(rows), 2):
        out.append("<tr>" + "".join(f'<td class="k" width="20%">{_e(k)}</td>'
                                    f'<td width="30%">{_e(v)}</td>' for k, v in rows[i:i + 2])
                   + "</tr>")
    out.append("</table>")
    # -- the figures
    out.append('<p></p><table width="100%" cellspacing="0" cellpadding="6"'
               ' style="border-collapse:collapse;"><tr>')
    out.append(_figure("raised", t.raised))
    out.append(_figure("acknowledged", t.acknowledged, "#1e7e34"))
    out.append(_figure("still open", t.open, "#b02a37" if t.open else NAVY))
    out.append(_figure("open from before", summary.open_before_total,
                       "#b02a37" if summary.open_before_total else NAVY))
    out.append(_figure("median time to acknowledge", duration(t.median_ack_s), size="13pt"))
    out.append("</tr></table>")
    # -- the note
    out.append("<h2>Handover note</h2>")
    note = info.note.strip()
    body = ("<br/>".join(_e(line) for line in note.splitlines()) if note
            else '<span class="muted">No handover note.</span>')
    out.append('<table width="100%" border="1" cellspacing="0" cellpadding="8"'
               ' style="border-collapse:collapse; border-color:#e0c56e;">'
               f'<tr><td bgcolor="#fffbea">{body}</td></tr></table>')
    # -- per severity
    out.append("<h2>By severity</h2>")
    out.append(_GRID)
    out.append(_head(("Severity", "14%"), ("Raised", "9%"), ("Acknowledged", "17%"),
                     ("Still open", "12%"), ("Median to acknowledge", "16%"),
                     ("Longest to acknowledge", "16%"), ("Open from before", "16%")))
    for severity, tally in summary.by_severity.items():
        out.append(f"<tr>{_severity_cell(severity)}{_n(tally.raised)}{_n(tally.acknowledged)}"
                   f"{_n(tally.open)}{_n(duration(tally.median_ack_s))}"
                   f"{_n(duration(tally.longest_ack_s))}"
                   f"{_n(summary.open_before.get(severity, 0))}</tr>")
    out.append(f'<tr><td class="k">All</td>{_n(t.raised)}{_n(t.acknowledged)}{_n(t.open)}'
               f"{_n(duration(t.median_ack_s))}{_n(duration(t.longest_ack_s))}"
               f"{_n(summary.open_before_total)}</tr></table>")
    # -- still open, one by one
    open_alarms = summary.open_alarms()
    out.append(f"<h2>Still open at the end of the period ({len(open_alarms)})</h2>")
    if open_alarms:
        out.append(_GRID)
        out.append(_head(("Raised", "11%"), ("Device", "19%"), ("Alarm", ""),
                         ("Severity", "13%"), ("Open for", "13%"), ("Journal id", "11%")))
        for a in open_alarms[:PDF_ROWS]:
            later = (f'<br/><span class="muted">acknowledged later, '
                     f"{_e(utc_time(a.acked_at))}</span>" if a.state == ACKNOWLEDGED_LATER
                     else "")
            out.append(f"<tr><td>{_e(_when(a.raised_at, summary))}</td>"
                       f"<td><b>{_e(a.device)}</b>{_sub(a)}</td><td>{_e(a.name)}{later}</td>"
                       f"{_severity_cell(a.severity)}"
                       f"<td>{_e(duration(summary.until - a.raised_at))}</td>"
                       f"{_n(a.push_id)}</tr>")
        out.append("</table>")
        out.append(_more(PDF_ROWS, len(open_alarms), "open alarms"))
    else:
        out.append('<p class="muted">Every alarm of the period was acknowledged.</p>')
    if summary.open_before_total:
        parts = ", ".join(f"{n} {s.value}" for s, n in summary.open_before.items() if n)
        out.append(f"<p><b>{summary.open_before_total} alarm"
                   f"{'s' if summary.open_before_total != 1 else ''} raised before the period "
                   f"{'are' if summary.open_before_total != 1 else 'is'} still open</b> "
                   f"({_e(parts)}).</p>")
    # -- per device
    devices = list(summary.by_device.items())
    out.append(f"<h2>By device ({len(devices)})</h2>")
    if devices:
        out.append(_GRID)
        out.append(_head(("Device", "22%"), ("Raised", "10%"), ("Acknowledged", "18%"),
                         ("Still open", "13%"), ("Critical open", "15%"),
                         ("Median to acknowledge", "22%")))
        for device, tally in devices[:PDF_ROWS]:
            out.append(f"<tr><td><b>{_e(device or '—')}</b></td>{_tally_cells(tally)}</tr>")
        out.append("</table>")
        out.append(_more(PDF_ROWS, len(devices), "devices"))
    else:
        out.append('<p class="muted">No alarm in the period.</p>')
    # -- per alarm type
    types = list(summary.by_type.items())
    if types:
        out.append(f"<h2>By alarm type ({len(types)})</h2>")
        out.append(_GRID)
        out.append(_head(("Code", "7%"), ("Alarm", ""), ("Severity", "14%"),
                         ("Raised", "10%"), ("Acknowledged", "17%"), ("Still open", "12%")))
        severity_of = {(a.code, a.name): a.severity for a in summary.alarms}
        for (code, name), tally in types[:PDF_TYPES]:
            severity = severity_of[(code, name)]
            out.append(f"<tr>{_n('' if code is None else code)}<td>{_e(name)}</td>"
                       f"{_severity_cell(severity)}{_n(tally.raised)}"
                       f"{_n(tally.acknowledged)}{_n(tally.open)}</tr>")
        out.append("</table>")
        out.append(_more(PDF_TYPES, len(types), "alarm types"))
    # -- what was done
    acked = summary.acknowledged_alarms()
    out.append(f"<h2>Acknowledged ({len(acked)})</h2>")
    if acked:
        shown, left_out = _worth_reading(acked)
        out.append(_GRID)
        out.append(_head(("Raised → acknowledged", "17%"), ("Device", "16%"), ("Alarm", "19%"),
                         ("Severity", "12%"), ("By", "9%"), ("Reason and note", "27%")))
        for a in shown:
            why = _e(a.reason) if a.reason else '<span class="muted">no reason</span>'
            if a.note:
                why += "<br/><i>" + "<br/>".join(_e(x) for x in a.note.splitlines()) + "</i>"
            out.append(f"<tr><td>{_e(_when(a.raised_at, summary))} → "
                       f"{_e(_when(a.acked_at, summary))}<br/><span class=\"muted\">after "
                       f"{_e(duration(a.seconds_to_acknowledge))}</span></td>"
                       f"<td>{_e(a.device)}{_sub(a)}</td><td>{_e(a.name)}</td>"
                       f"{_severity_cell(a.severity)}<td>{_e(a.operator or '—')}</td>"
                       f"<td>{why}</td></tr>")
        out.append("</table>")
        if left_out:
            critical = sum(1 for a in left_out if a.severity is Severity.CRITICAL)
            noted = sum(1 for a in left_out if a.note)
            which = ("none of them critical or with a note" if not (critical or noted) else
                     f"{critical} of them critical, {noted} with a note")
            out.append(f'<p class="muted">… and {len(left_out)} more acknowledged alarms '
                       f"({which}): the CSV report lists every one.</p>")
    else:
        out.append('<p class="muted">No alarm of the period was acknowledged.</p>')
    out.append("</body></html>")
    return "".join(out)


def _worth_reading(acked: list[ShiftAlarm]) -> tuple[list[ShiftAlarm], list[ShiftAlarm]]:
    """At most PDF_ROWS acknowledgements for the PDF, in time order: the critical ones and
    those with a note first, then the newest; and those left out."""
    if len(acked) <= PDF_ROWS:
        return acked, []
    ranked = sorted(acked, key=lambda a: (not (a.severity is Severity.CRITICAL or a.note),
                                          -a.raised_at, -a.push_id))
    keep = {a.push_id for a in ranked[:PDF_ROWS]}
    return ([a for a in acked if a.push_id in keep], [a for a in acked if a.push_id not in keep])


def _sub(a: ShiftAlarm) -> str:
    return f'<br/><span class="muted">sub-lock {_e(a.sublock)}</span>' if a.sublock else ""


def _tally_cells(tally: Tally) -> str:
    return (f"{_n(tally.raised)}{_n(tally.acknowledged)}{_n(tally.open)}"
            f"{_n(tally.critical_open)}{_n(duration(tally.median_ack_s))}")


# ---- CSV -----------------------------------------------------------------------------------

ALARM_COLUMNS = [
    "alarm id", "raised at", "device", "sub-lock", "alarm type", "alarm", "severity", "state",
    "acknowledged at", "acknowledged by", "reason", "note", "minutes to acknowledge",
]


def write_csv(summary: ShiftSummary, info: ShiftReportInfo, out: TextIO) -> int:
    """Blocks separated by an empty line, each with a first row naming its columns: the
    report, the handover note, per severity, per device, per alarm type, then every alarm
    of the period. Every text cell is neutralised (`app.csvsafe`: never a formula). Returns
    the alarms written."""
    w = csvsafe.writer(out)

    def put(*values: object) -> None:
        w.writerow(values)

    t = summary.total
    put("SealDesk shift report", "")
    for key, value in (
        ("period from", iso_utc(summary.since)),
        ("period until", iso_utc(summary.until)),
        ("generated", iso_utc(info.generated_at)),
        ("operator", info.operator),
        ("journal", info.journal),
        ("severities", info.severities),
        ("alarms raised", t.raised),
        ("acknowledged", t.acknowledged),
        ("still open", t.open),
        ("critical still open", t.critical_open),
        ("open from before the period", summary.open_before_total),
        ("median minutes to acknowledge", minutes(t.median_ack_s)),
    ):
        put(key, value)
    put()
    put("handover note")
    put(info.note.strip())
    put()
    put("severity", "raised", "acknowledged", "still open", "median minutes to acknowledge",
        "longest minutes to acknowledge", "open from before the period")
    for severity, tally in summary.by_severity.items():
        put(severity.value, tally.raised, tally.acknowledged, tally.open,
            minutes(tally.median_ack_s), minutes(tally.longest_ack_s),
            summary.open_before.get(severity, 0))
    put()
    put("device", "raised", "acknowledged", "still open", "critical still open",
        "median minutes to acknowledge")
    for device, tally in summary.by_device.items():
        put(device, tally.raised, tally.acknowledged, tally.open, tally.critical_open,
            minutes(tally.median_ack_s))
    put()
    put("alarm type", "alarm", "raised", "acknowledged", "still open")
    for (code, name), tally in summary.by_type.items():
        put("" if code is None else code, name, tally.raised, tally.acknowledged, tally.open)
    put()
    put(*ALARM_COLUMNS)
    for a in summary.alarms:
        put(
            a.push_id, iso_utc(a.raised_at), a.device, a.sublock,
            "" if a.code is None else a.code, a.name, a.severity.value, a.state,
            "" if a.acked_at is None else iso_utc(a.acked_at), a.operator, a.reason, a.note,
            minutes(a.seconds_to_acknowledge),
        )
    return len(summary.alarms)


def read_csv_blocks(text: str) -> list[list[list[str]]]:
    """The blocks of a report written by `write_csv` (for tests and scripts): lists of rows,
    split at the empty rows."""
    blocks: list[list[list[str]]] = [[]]
    for row in csv.reader(text.splitlines(keepends=True)):
        if not row:
            if blocks[-1]:
                blocks.append([])
            continue
        blocks[-1].append(row)
    return [b for b in blocks if b]
