"""The shift handover report as an A4 PDF: `app/reports/shift.py`'s HTML on the PDF writer
every report shares (`app/ui/pdf.py`), the counts in its XMP metadata too."""

from __future__ import annotations

from pathlib import Path

from app.commissioning.report import utc_time, xmp_metadata
from app.journal.shift import ShiftSummary
from app.reports.shift import ShiftReportInfo, build_html, keywords, period_text, title
from app.ui.pdf import html_to_pdf


def write_shift_pdf(summary: ShiftSummary, info: ShiftReportInfo, path: str | Path) -> bytes:
    """Write the report to `path` (on the GUI thread); returns its bytes."""
    name = title(summary)
    return html_to_pdf(
        build_html(summary, info), path, title=name, font_pt=9.0,
        footer=f"SealDesk shift report · {period_text(summary)} · "
               f"generated {utc_time(info.generated_at)}",
        xmp=xmp_metadata(name, keywords(summary)),
    )
