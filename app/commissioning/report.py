"""The commissioning report's content, per device or per batch: its HTML, its verdict and the
XMP metadata that carries the verdicts (dc:subject keywords), so a script can read them
without a text extractor. No Qt: `app/ui/commissioning_pdf.py` lays the HTML out on A4
pages with Qt's own PDF writer.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from app.commissioning.checks import DeviceChecklist, State, Verdict
from app.commissioning.templates import DESCRIPTIONS

COLOURS = {
    # state: (text, background)
    "passed": ("#155724", "#d4edda"),
    "failed": ("#721c24", "#f8d7da"),
    "waiting": ("#856404", "#fff3cd"),
    "not_applicable": ("#495057", "#e9ecef"),
    "PASS": ("#ffffff", "#1e7e34"),
    "FAIL": ("#ffffff", "#b02a37"),
    "IN PROGRESS": ("#212529", "#ffc107"),
}
STATE_WORDS = {
    "passed": "PASSED",
    "failed": "FAILED",
    "waiting": "WAITING",
    "not_applicable": "N/A",
}


@dataclass
class ReportInfo:
    batch: str
    technician: str
    notes: str = ""
    generated_at: float | None = None
    title: str = "Commissioning report"
    organisation: str = ""  # printed under the title when set


def utc_time(ts: float | None, fmt: str = "%Y-%m-%d %H:%M:%S") -> str:
    if ts is None:
        return "—"
    return datetime.fromtimestamp(ts, UTC).strftime(fmt) + " UTC"


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def overall(checklists: Sequence[DeviceChecklist]) -> Verdict:
    verdicts = {c.verdict for c in checklists}
    if verdicts == {Verdict.PASS}:
        return Verdict.PASS
    if Verdict.FAIL in verdicts:
        return Verdict.FAIL
    return Verdict.IN_PROGRESS


def _badge(word: str, key: str, size: str = "10pt") -> str:
    fg, bg = COLOURS[key]
    return (
        f'<td bgcolor="{bg}" align="center" style="color:{fg}; font-weight:bold;'
        f' font-size:{size};">{_e(word)}</td>'
    )


def _position(c: DeviceChecklist) -> str:
    if c.position is None:
        return "no GPS fix recorded"
    lat, lon = c.position
    url = f"https://www.openstreetmap.org/?mlat={lat:.6f}&amp;mlon={lon:.6f}#map=17/{lat:.6f}/{lon:.6f}"
    ns, ew = ("N" if lat >= 0 else "S"), ("E" if lon >= 0 else "W")
    return (
        f"{abs(lat):.6f}° {ns}, {abs(lon):.6f}° {ew} "
        f'<span style="color:#6c757d;">(at {utc_time(c.position_at, "%H:%M:%S")})</span><br/>'
        f'<a href="{url}" style="color:#0b5394;">{lat:.6f}, {lon:.6f} on OpenStreetMap</a>'
    )


def build_html(checklists: Sequence[DeviceChecklist], info: ReportInfo) -> str:
    generated = info.generated_at or datetime.now(UTC).timestamp()
    verdict = overall(checklists)
    templates = sorted({c.template.name for c in checklists})
    started = min((c.started_at for c in checklists), default=None)
    finished_all = [c.finished_at for c in checklists if c.finished_at]
    finished = max(finished_all) if len(finished_all) == len(checklists) and checklists else None
    passed = sum(1 for c in checklists if c.verdict is Verdict.PASS)

    css = """
    body { font-family: 'DejaVu Sans', 'Segoe UI', Arial, sans-serif; font-size: 9.5pt;
           color: #212529; }
    h1 { font-size: 20pt; color: #0b3d66; margin: 0; }
    h2 { font-size: 13pt; color: #0b3d66; margin-top: 14px; margin-bottom: 4px; }
    .sub { color: #6c757d; font-size: 9pt; }
    table.grid { border-collapse: collapse; }
    table.grid th { background-color: #0b3d66; color: #ffffff; font-weight: bold;
                    text-align: left; }
    td.k { background-color: #f1f4f8; font-weight: bold; color: #343a40; }
    .muted { color: #6c757d; }
    """
    out: list[str] = [f"<html><head><style>{css}</style></head><body>"]
    # --- title
    out.append(
        '<table width="100%" cellspacing="0" cellpadding="0"><tr>'
        f'<td><h1>{_e(info.title)}</h1>'
        f'<div class="sub">Electronic lock commissioning — SealDesk'
        f'{" — " + _e(info.organisation) if info.organisation else ""}</div></td>'
        '<td align="right" valign="middle" width="30%">'
        '<table cellspacing="0" cellpadding="8" style="border-collapse:collapse;"><tr>'
        f'{_badge(verdict.value, verdict.value, "18pt")}</tr></table></td></tr></table>'
    )
    out.append('<hr style="background-color:#0b3d66; height:2px; border:0;"/>')
    # --- header table
    rows = [
        ("Batch", info.batch),
        ("Devices", f"{len(checklists)} ({passed} passed)"),
        ("Technician", info.technician or "—"),
        ("Checklist template", ", ".join(templates) or "—"),
        ("Started", utc_time(started)),
        ("Finished", utc_time(finished) if finished else "not finished"),
        ("Report generated", utc_time(generated)),
    ]
    out.append('<table class="grid" width="100%" border="1" cellspacing="0" cellpadding="5"'
               ' style="border-color:#ced4da;">')
    for i in range(0, len(rows), 2):
        pair = rows[i : i + 2]
        out.append("<tr>")
        for k, v in pair:
            out.append(f'<td class="k" width="18%">{_e(k)}</td><td width="32%">{_e(v)}</td>')
        if len(pair) == 1:
            out.append('<td class="k"></td><td></td>')
        out.append("</tr>")
    out.append("</table>")
    # --- summary per device
    out.append("<h2>Summary</h2>")
    out.append('<table class="grid" width="100%" border="1" cellspacing="0" cellpadding="5"'
               ' style="border-color:#ced4da;">')
    out.append('<tr><th width="20%">Device</th><th width="13%">Template</th>'
               '<th width="29%">Firmware</th><th width="18%">Final position</th>'
               '<th width="10%">Checks</th><th width="10%">Verdict</th></tr>')
    for c in checklists:
        ok, total = c.progress()
        pos = f"{c.position[0]:.5f}, {c.position[1]:.5f}" if c.position else "no fix"
        out.append(
            f"<tr><td><b>{_e(c.device_id)}</b></td><td>{_e(c.template.name)}</td>"
            f"<td style=\"font-size:8pt;\">{_e(c.info.get('firmware', '—'))}</td>"
            f"<td>{_e(pos)}</td>"
            f'<td align="center">{ok} / {total}</td>{_badge(c.verdict.value, c.verdict.value)}</tr>'
        )
    out.append("</table>")
    if info.notes.strip():
        out.append("<h2>Notes</h2>")
        out.append(
            '<table width="100%" border="1" cellspacing="0" cellpadding="6"'
            ' style="border-collapse:collapse; border-color:#ced4da;"><tr><td>'
            + "<br/>".join(_e(line) for line in info.notes.strip().splitlines())
            + "</td></tr></table>"
        )
    # --- sign-off
    out.append(
        "<h2>Acceptance</h2>"
        '<p class="muted">Each check above was proven by a push received from the device '
        "(journal id and time shown). A device passes when every applicable check passed.</p>"
        '<table width="100%" cellspacing="0" cellpadding="6"><tr>'
        '<td width="48%"><br/><br/>______________________________________<br/>'
        f"Technician: {_e(info.technician or '')}</td><td width=\"4%\"></td>"
        '<td width="48%"><br/><br/>______________________________________<br/>'
        "Customer: name, date, signature</td></tr></table>"
    )
    # --- one section per device
    for c in checklists:
        out.append(_device_section(c))
    out.append("</body></html>")
    return "".join(out)


def _device_section(c: DeviceChecklist) -> str:
    out = [
        '<h2 style="page-break-before: always;">'
        f"Device {_e(c.device_id)}</h2>",
        '<table width="100%" cellspacing="0" cellpadding="0"><tr><td valign="top" width="78%">',
        '<table class="grid" width="100%" border="1" cellspacing="0" cellpadding="4"'
        ' style="border-color:#ced4da;">',
    ]
    info = [
        ("Template", c.template.name),
        ("Firmware", c.info.get("firmware", "not recorded")),
        ("Vendor / modem", " / ".join(v for v in (c.info.get("vendor"), c.info.get("modem")) if v)
         or "—"),
        ("IMEI / ICCID", " / ".join(v for v in (c.info.get("IMEI"), c.info.get("ICCID")) if v)
         or "—"),
        ("Device clock", (c.info.get("device clock", "—") + (
            f" (offset {c.info['clock offset']})" if "clock offset" in c.info else ""))),
        ("Session", f"{utc_time(c.started_at)} – "
                    f"{utc_time(c.finished_at) if c.finished_at else 'running'}"),
    ]
    for k, v in info:
        out.append(f'<tr><td class="k" width="22%">{_e(k)}</td><td>{_e(v)}</td></tr>')
    out.append(f'<tr><td class="k">Final position</td><td>{_position(c)}</td></tr>')
    out.append("</table></td><td width=\"2%\"></td><td valign=\"top\" width=\"20%\">")
    out.append('<table width="100%" cellspacing="0" cellpadding="10"'
               ' style="border-collapse:collapse;"><tr>')
    out.append(_badge(c.verdict.value, c.verdict.value, "16pt"))
    ok, total = c.progress()
    out.append(f'</tr><tr><td align="center" class="muted">{ok} of {total} checks passed</td>'
               "</tr></table></td></tr></table>")
    # checklist table
    out.append('<p></p><table class="grid" width="100%" border="1" cellspacing="0"'
               ' cellpadding="4" style="border-color:#ced4da;">')
    out.append('<tr><th width="22%">Check</th><th width="11%">Result</th>'
               '<th>Evidence (push in the journal, time received)</th></tr>')
    for item in c.items.values():
        state = item.state.value
        lines = []
        summaries = [e.summary for e in item.evidence]
        if item.state is not State.PASSED and item.reason and item.reason not in summaries:
            lines.append(f"<b>{_e(item.reason)}</b>")
        for e in item.evidence:
            ref = f"push #{e.push_id}" if e.push_id is not None else "no push"
            text = f"<b>{_e(e.summary)}</b>" if e.summary == item.reason else _e(e.summary)
            lines.append(
                f"{text} <span style=\"color:#6c757d; font-size:8pt;\">"
                f"— {ref}, {_e(utc_time(e.at, '%H:%M:%S'))}</span>"
            )
        if not lines:
            lines.append('<span class="muted">no evidence</span>')
        out.append(
            f"<tr><td><b>{_e(item.label)}</b><br/><span class=\"muted\" style=\"font-size:7.5pt;\">"
            f"{_e(DESCRIPTIONS.get(item.key, ''))}</span></td>"
            f"{_badge(STATE_WORDS[state], state, '9pt')}"
            f"<td>{'<br/>'.join(lines)}</td></tr>"
        )
    out.append("</table>")
    return "".join(out)


def keywords(checklists: Sequence[DeviceChecklist]) -> str:
    """'SealDesk commissioning; overall FAIL; 794…: PASS; 80…: FAIL' (PDF metadata)."""
    parts = ["SealDesk commissioning", f"overall {overall(checklists).value}"]
    parts += [f"{c.device_id}: {c.verdict.value}" for c in checklists]
    return "; ".join(parts)


def xmp_metadata(title: str, subject: str) -> bytes:
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF'
        ' xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
        '<rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:pdf="http://ns.adobe.com/pdf/1.3/">'
        f'<dc:title><rdf:Alt><rdf:li xml:lang="x-default">{_e(title)}</rdf:li></rdf:Alt></dc:title>'
        f'<dc:description><rdf:Alt><rdf:li xml:lang="x-default">{_e(subject)}</rdf:li>'
        "</rdf:Alt></dc:description>"
        f"<pdf:Keywords>{_e(subject)}</pdf:Keywords><pdf:Producer>SealDesk</pdf:Producer>"
        '</rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>'
    ).encode()
