"""Read something from the journal again, off the GUI thread, when told it changed.

On a desk (issue 23) a shared table changes whenever another desk does something, and the
journal may be across the network: the read must not hold the window. `Reload.request()`
runs `read` on a thread of its own and hands the result to `done` on the GUI thread; a
request while a read runs means one more read after it (a burst of changes is one or two
reads, never a queue of them).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)


class Reload(QObject):
    sig_result_read = Signal(object)
    """(read thread → GUI thread) what `read` returned."""

    def __init__(self, read: Callable[[], Any], done: Callable[[Any], None],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.read = read
        self.running = False
        self.again = False
        self.sig_result_read.connect(self._done)
        self._on_done = done

    def request(self) -> None:
        """Read again (now, or once the read under way is over)."""
        if self.running:
            self.again = True
            return
        self.running = True
        threading.Thread(target=self._run, name="journal-reload", daemon=True).start()

    def _run(self) -> None:
        try:
            result = self.read()
        except Exception:
            log.exception("reading the journal again failed")
            result = None
        with contextlib.suppress(RuntimeError):  # the panel is gone
            self.sig_result_read.emit(result)

    def _done(self, result: Any) -> None:
        self.running = False
        if result is not None:
            self._on_done(result)
        if self.again:
            self.again = False
            self.request()
