"""One step from a device to the next question: "show this device in that panel".

A panel that offers the step (the device tree, a table row, a map marker) asks the
navigator; it never names or touches the target panel. The navigator selects the device
(every panel follows the selection, as ever), asks the window to bring the target panel to
the front (`sig_show_panel_requested`, which the window connects to `show_panel` without
knowing which panels exist), then tells the target what was asked
(`sig_show_device_requested`), so it can do its part: centre the map, filter the push log,
add the lock to the commissioning batch…
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal


class Navigator(QObject):
    sig_show_panel_requested = Signal(str)
    """Bring this panel (its KEY) to the front."""
    sig_show_device_requested = Signal(str, str)
    """Panel KEY, device id: that panel should show this device (after the selection moved)."""

    def __init__(self, selection, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.selection = selection
        self.last: tuple[str, str] | None = None  # the last request (what a test reads)

    def show_device(self, panel_key: str, device_id: str) -> None:
        if device_id and device_id not in self.selection.device_ids:
            self.selection.select(device_id)  # one of several selected stays with the others
        self.last = (panel_key, device_id)
        self.sig_show_panel_requested.emit(panel_key)
        self.sig_show_device_requested.emit(panel_key, device_id)
