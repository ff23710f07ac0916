"""No test reaches the internet: a map shown with no tile server configured (as in a window
test) asks the loopback server tests/conftest.py put in place of tile.openstreetmap.org."""

from __future__ import annotations

from live_rig import opened

from app.ui.panels.map import widget as map_widget
from app.ui.panels.map.widget import SETTINGS_TILE_CACHE, SETTINGS_TILES, MapPanel


def test_the_default_tile_server_is_loopback(session, qtbot, tmp_path, _map_tiles_from_loopback):
    tiles = _map_tiles_from_loopback
    assert map_widget.DEFAULT_TILE_URL.startswith("http://127.0.0.1:")
    assert session.ctx.settings.value(SETTINGS_TILES) is None  # nothing configured
    session.ctx.settings.setValue(SETTINGS_TILE_CACHE, str(tmp_path / "tiles"))
    before = len(tiles.paths)
    with opened(qtbot, MapPanel(session.ctx), (800, 600), show=True) as panel:
        qtbot.waitUntil(lambda: len(tiles.paths) > before, timeout=20_000)
        qtbot.waitUntil(lambda: panel.status.text().startswith("map tiles from 127.0.0.1:"),
                        timeout=20_000)
