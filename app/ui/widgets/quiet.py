"""Change a Qt object with its signals held back, then announce the change once yourself.

The item models fill or refill many cells at a time: announced one by one, each would reach
the proxies and the views (a Python call or a repaint each).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from PySide6.QtCore import QObject


@contextlib.contextmanager
def signals_blocked(obj: QObject) -> Iterator[None]:
    """`obj` emits nothing inside the block; as it was (blocked or not) after."""
    was = obj.blockSignals(True)
    try:
        yield
    finally:
        obj.blockSignals(was)
