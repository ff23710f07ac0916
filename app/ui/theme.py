"""Light and dark themes that follow the system's colour scheme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication

# Status colours readable on both themes.
STATUS_COLOURS = {
    "online": QColor("#2e9d4f"),
    "quiet": QColor("#d29b00"),
    "offline": QColor("#8a8f98"),
    "unknown": QColor("#a7acb4"),  # feed down: a lighter grey, and a ring, not a dot
    "connected": QColor("#2e9d4f"),
    "connecting": QColor("#d29b00"),
    "waiting": QColor("#d97706"),
    "refused": QColor("#d03b3b"),
    "disconnected": QColor("#8a8f98"),
    "critical": QColor("#d03b3b"),
    "error": QColor("#d03b3b"),
}


def is_dark() -> bool:
    hints = QGuiApplication.styleHints()
    return hints.colorScheme() == Qt.ColorScheme.Dark


def _dark_palette() -> QPalette:
    p = QPalette()
    base, alt, text = QColor(37, 39, 43), QColor(45, 48, 53), QColor(228, 230, 235)
    window = QColor(32, 34, 37)
    p.setColor(QPalette.ColorRole.Window, window)
    p.setColor(QPalette.ColorRole.WindowText, text)
    p.setColor(QPalette.ColorRole.Base, base)
    p.setColor(QPalette.ColorRole.AlternateBase, alt)
    p.setColor(QPalette.ColorRole.ToolTipBase, alt)
    p.setColor(QPalette.ColorRole.ToolTipText, text)
    p.setColor(QPalette.ColorRole.Text, text)
    p.setColor(QPalette.ColorRole.Button, alt)
    p.setColor(QPalette.ColorRole.ButtonText, text)
    p.setColor(QPalette.ColorRole.Highlight, QColor(47, 111, 186))
    p.setColor(QPalette.ColorRole.HighlightedText, QColor(255, 255, 255))
    p.setColor(QPalette.ColorRole.PlaceholderText, QColor(140, 144, 150))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    return p


def apply_theme(app: QApplication, mode: str = "system") -> None:
    """mode: 'system', 'light' or 'dark'. Fusion renders both the same on every OS."""
    app.setStyle("Fusion")
    dark = is_dark() if mode == "system" else mode == "dark"
    app.setPalette(_dark_palette() if dark else app.style().standardPalette())


def follow_system(app: QApplication, mode_getter) -> None:
    """Re-apply the theme when the system switches between light and dark."""
    QGuiApplication.styleHints().colorSchemeChanged.connect(
        lambda *_: apply_theme(app, mode_getter())
    )
