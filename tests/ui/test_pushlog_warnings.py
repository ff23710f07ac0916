"""Issue 20: the push log shows a push's warnings (odd, not wrong) below its errors."""

from __future__ import annotations

from app.journal.store import JournalRow
from app.ui.panels.pushlog.details import DetailsPane


def _row(errors: list[str], warnings: list[str]) -> JournalRow:
    return JournalRow(1, 1_700_000_000.0, "webhook", "", "/receiveLocationData", "sublock",
                      "8012600005", "E0171E0365", b'{"assetId":"8012600005"}',
                      {"assetId": "8012600005"}, errors, warnings)


def test_warnings_are_listed_and_not_red(qtbot) -> None:
    pane = DetailsPane()
    qtbot.addWidget(pane)
    pane.show_row(_row([], ["path /receiveLocationData says location, but the content is sublock"]))
    items = [pane.errors.item(i).text() for i in range(pane.errors.count())]
    assert items == ["note: path /receiveLocationData says location, but the content is sublock"]
    assert not pane.errors.isHidden() and pane.errors.styleSheet() == ""
    pane.show_row(_row(["speed: expected an integer, got '12'"], ["odd"]))
    items = [pane.errors.item(i).text() for i in range(pane.errors.count())]
    assert items == ["⚠ speed: expected an integer, got '12'", "note: odd"]
    assert "color" in pane.errors.styleSheet()
    pane.show_row(_row([], []))
    assert pane.errors.isHidden()
