"""The commissioning report as an A4 PDF (the content is `app/commissioning/report.py`'s,
which has no Qt), laid out by the PDF writer every report shares, `app/ui/pdf.py`: a footer
on every page with the batch, the generation time and "Page n of m".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from app.commissioning.checks import DeviceChecklist
from app.commissioning.report import ReportInfo, build_html, keywords, utc_time, xmp_metadata
from app.ui.pdf import ensure_gui, html_to_pdf

__all__ = ["ensure_gui", "render_pdf"]


def render_pdf(
    checklists: Sequence[DeviceChecklist], info: ReportInfo, path: str | Path
) -> bytes:
    """Write the report to `path` and return its bytes."""
    generated = info.generated_at or datetime.now(UTC).timestamp()
    info.generated_at = generated
    title = f"{info.title} {info.batch}"
    return html_to_pdf(
        build_html(checklists, info), path, title=title,
        footer=f"SealDesk commissioning report · {info.batch} · generated {utc_time(generated)}",
        xmp=xmp_metadata(title, keywords(checklists)),
    )
