"""Draw the SealDesk icon (a padlock on a rounded tile) with QPainter and write
resources/icons/sealdesk.png (256 px), sealdesk.ico (Windows) and sealdesk.icns (macOS).

    python packaging/make_icons.py

The .ico and .icns containers are written by hand (PNG-compressed entries, which Windows
Vista+ and macOS 10.7+ read), so no Pillow is needed. The outputs are committed; run this only
to change the icon.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QBuffer, QByteArray, QIODevice, QPointF, QRectF, Qt
from PySide6.QtGui import QBrush, QColor, QGuiApplication, QImage, QLinearGradient, QPainter, QPen

OUT = Path(__file__).resolve().parent.parent / "resources" / "icons"

TILE_TOP = QColor("#1f6feb")
TILE_BOTTOM = QColor("#0b3d91")
BODY = QColor("#f2c94c")
BODY_DARK = QColor("#c9971c")
SHACKLE = QColor("#e6e9ef")
KEYHOLE = QColor("#2b2b2b")


def draw(size: int) -> QImage:
    img = QImage(size, size, QImage.Format.Format_ARGB32)
    img.fill(Qt.GlobalColor.transparent)
    p = QPainter(img)
    p.setRenderHint(QPainter.RenderHint.Antialiasing)
    s = size / 256.0  # everything is laid out on a 256-unit grid

    # Rounded tile with a vertical gradient.
    grad = QLinearGradient(0, 0, 0, size)
    grad.setColorAt(0, TILE_TOP)
    grad.setColorAt(1, TILE_BOTTOM)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(grad))
    p.drawRoundedRect(QRectF(8 * s, 8 * s, 240 * s, 240 * s), 48 * s, 48 * s)

    # Shackle: a thick arc over the body.
    pen = QPen(SHACKLE, 26 * s, Qt.PenStyle.SolidLine, Qt.PenCapStyle.FlatCap)
    p.setPen(pen)
    p.setBrush(Qt.BrushStyle.NoBrush)
    p.drawArc(QRectF(76 * s, 40 * s, 104 * s, 112 * s), 0, 180 * 16)
    p.drawLine(QPointF(76 * s, 96 * s), QPointF(76 * s, 124 * s))
    p.drawLine(QPointF(180 * s, 96 * s), QPointF(180 * s, 124 * s))

    # Body.
    body = QLinearGradient(0, 118 * s, 0, 216 * s)
    body.setColorAt(0, BODY)
    body.setColorAt(1, BODY_DARK)
    p.setPen(Qt.PenStyle.NoPen)
    p.setBrush(QBrush(body))
    p.drawRoundedRect(QRectF(52 * s, 118 * s, 152 * s, 100 * s), 18 * s, 18 * s)

    # Keyhole.
    p.setBrush(KEYHOLE)
    p.drawEllipse(QPointF(128 * s, 157 * s), 14 * s, 14 * s)
    p.drawRoundedRect(QRectF(121 * s, 160 * s, 14 * s, 36 * s), 4 * s, 4 * s)
    p.end()
    return img


def png_bytes(img: QImage) -> bytes:
    data = QByteArray()
    buf = QBuffer(data)
    buf.open(QIODevice.OpenModeFlag.WriteOnly)
    img.save(buf, "PNG")
    buf.close()
    return bytes(data.data())


def write_ico(path: Path, sizes: list[int]) -> None:
    """ICONDIR + ICONDIRENTRY per size, each entry a whole PNG file."""
    images = [png_bytes(draw(n)) for n in sizes]
    header = struct.pack("<HHH", 0, 1, len(sizes))
    offset = 6 + 16 * len(sizes)
    entries = b""
    for n, data in zip(sizes, images, strict=True):
        dim = 0 if n >= 256 else n  # 0 means 256
        entries += struct.pack("<BBBBHHII", dim, dim, 0, 0, 1, 32, len(data), offset)
        offset += len(data)
    path.write_bytes(header + entries + b"".join(images))


def write_icns(path: Path) -> None:
    """'icns' + length, then (type, length, PNG) chunks."""
    types = {"icp4": 16, "icp5": 32, "icp6": 64, "ic07": 128, "ic08": 256, "ic09": 512,
             "ic10": 1024}
    chunks = b""
    for kind, n in types.items():
        data = png_bytes(draw(n))
        chunks += kind.encode("ascii") + struct.pack(">I", len(data) + 8) + data
    path.write_bytes(b"icns" + struct.pack(">I", len(chunks) + 8) + chunks)


def main() -> int:
    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])
    OUT.mkdir(parents=True, exist_ok=True)
    draw(256).save(str(OUT / "sealdesk.png"), "PNG")
    write_ico(OUT / "sealdesk.ico", [16, 24, 32, 48, 64, 128, 256])
    write_icns(OUT / "sealdesk.icns")
    for f in sorted(OUT.iterdir()):
        print(f"{f}  {f.stat().st_size:,} bytes")
    return 0


if __name__ == "__main__":
    sys.exit(main())
