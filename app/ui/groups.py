"""Saved device groups: a named list of ids (a customer's locks, a depot's trackers).

A context service (`AppContext.groups`), so any panel can offer them as a filter; the
device list does (its group box), the others can follow without knowing the list. Kept in
the settings as one JSON document under "groups/all", saved as it changes.
"""

from __future__ import annotations

import json

from PySide6.QtCore import QObject, QSettings, Signal

KEY = "groups/all"


class DeviceGroups(QObject):
    sig_groups_changed = Signal()
    """A group was saved, changed or deleted: offer the new list."""

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.settings = settings
        try:
            loaded = json.loads(str(settings.value(KEY, "{}") or "{}"))
        except ValueError:
            loaded = {}
        self._groups: dict[str, list[str]] = {
            str(name): [str(i) for i in ids] for name, ids in loaded.items()
            if isinstance(ids, list)} if isinstance(loaded, dict) else {}

    def names(self) -> list[str]:
        return sorted(self._groups, key=str.casefold)

    def ids(self, name: str) -> frozenset[str]:
        return frozenset(self._groups.get(name, ()))

    def save(self, name: str, ids: list[str]) -> None:
        name = name.strip()
        if not name:
            raise ValueError("a group needs a name")
        self._groups[name] = list(dict.fromkeys(i for i in ids if i))
        self._store()

    def delete(self, name: str) -> None:
        if self._groups.pop(name, None) is not None:
            self._store()

    def _store(self) -> None:
        self.settings.setValue(KEY, json.dumps(self._groups, ensure_ascii=False))
        self.sig_groups_changed.emit()
