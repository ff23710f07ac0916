"""HTML to an A4 PDF with Qt's own PDF writer, for every report SealDesk prints (the
commissioning report, the shift handover report); their content is Qt-free HTML.

The HTML is laid out by QTextDocument and painted page by page onto a QPdfWriter, so every
page gets a footer (what the report is, when it was made, "Page n of m"). Works offscreen:
it needs a QGuiApplication, which `ensure_gui()` creates when the caller (a headless
command) has none. Call it on the GUI thread.
"""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from PySide6.QtCore import QByteArray, QMarginsF, QRectF, QSizeF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QGuiApplication,
    QPageLayout,
    QPageSize,
    QPainter,
    QPdfWriter,
    QPen,
    QTextDocument,
)


def ensure_gui() -> object:
    """A QGuiApplication for fonts and painting; offscreen when there is no display."""
    app = QGuiApplication.instance()
    if app is None:
        if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY"):
            os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
        app = QGuiApplication([])
    return app


def html_to_pdf(html: str, path: str | Path, *, title: str, footer: str,
                xmp: bytes | None = None, font_pt: float = 9.5) -> bytes:
    """Write `html` to `path` as A4 portrait pages, each with `footer` on the left and its
    page number on the right; returns the file's bytes."""
    ensure_gui()

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = QPdfWriter(str(path))
    writer.setResolution(300)
    writer.setPageLayout(
        QPageLayout(
            QPageSize(QPageSize.PageSizeId.A4),
            QPageLayout.Orientation.Portrait,
            QMarginsF(16, 14, 16, 12),
            QPageLayout.Unit.Millimeter,
        )
    )
    writer.setTitle(title)
    writer.setCreator("SealDesk")
    if xmp is not None:
        writer.setDocumentXmpMetadata(QByteArray(xmp))

    doc = QTextDocument()
    doc.documentLayout().setPaintDevice(writer)
    font = QFont("DejaVu Sans")
    font.setPointSizeF(font_pt)
    no_ligatures(font)
    doc.setDefaultFont(font)
    doc.setDocumentMargin(0)
    doc.setHtml(html)

    painter = QPainter()
    if not painter.begin(writer):
        raise OSError(f"cannot write {path}")
    try:
        dpi = writer.resolution()
        page = writer.pageLayout().paintRectPixels(dpi)
        footer_h = int(dpi * 0.35)  # ~9 mm for the footer
        body_h = page.height() - footer_h
        doc.setPageSize(QSizeF(page.width(), body_h))
        pages = max(1, doc.pageCount())
        foot_font = QFont("DejaVu Sans")
        foot_font.setPointSizeF(7.5)
        no_ligatures(foot_font)
        for n in range(pages):
            if n:
                writer.newPage()
            painter.save()
            painter.translate(0, -n * body_h)
            doc.drawContents(painter, QRectF(0, n * body_h, page.width(), body_h))
            painter.restore()
            # footer: a rule, what and when on the left, page numbers on the right
            y = body_h + footer_h * 0.25
            painter.setPen(QPen(QColor("#adb5bd"), max(1, dpi // 150)))
            painter.drawLine(0, int(y), page.width(), int(y))
            painter.setPen(QColor("#495057"))
            painter.setFont(foot_font)
            text_rect = QRectF(0, y + footer_h * 0.1, page.width(), footer_h * 0.6)
            painter.drawText(
                text_rect, int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter),
                footer,
            )
            painter.drawText(
                text_rect, int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter),
                f"Page {n + 1} of {pages}",
            )
    finally:
        painter.end()
    return path.read_bytes()


def no_ligatures(font: QFont) -> None:
    """'fi' stays two letters, so the PDF's text searches and copies as typed (Qt ≥ 6.7)."""
    with contextlib.suppress(AttributeError, TypeError):
        font.setFeature(QFont.Tag("liga"), 0)  # type: ignore[attr-defined]
