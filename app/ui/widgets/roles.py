"""Answer all the roles of a cell in one call from Qt (`multiData`), for views that repaint live.

Qt 6's item delegate asks a cell for about seven roles through `multiData`; a Python model
without it is entered once per role, and each entry from C++ costs a Python call and a GIL
acquisition: one entry per cell instead of seven cuts a repaint's Python time several-fold.
`QSortFilterProxyModel` does not forward `multiData`, so proxies over these models use
`ForwardRoles`.
"""

from __future__ import annotations

from typing import Any


class BatchedRoles:
    """Mixin for a Python item model (before the Qt base): `multiData` through `data`."""

    def multiData(self, index: Any, span: Any) -> None:  # Qt's name
        data = self.data  # type: ignore[attr-defined]
        for role_data in span:
            role_data.setData(data(index, role_data.role()))


class ForwardRoles:
    """Mixin for a proxy over a `BatchedRoles` model: one call through to the source."""

    def multiData(self, index: Any, span: Any) -> None:  # Qt's name
        source = self.sourceModel()  # type: ignore[attr-defined]
        source_index = self.mapToSource(index)  # type: ignore[attr-defined]
        if isinstance(source, BatchedRoles):
            source.multiData(source_index, span)
            return
        for role_data in span:
            role_data.setData(source_index.data(role_data.role()))
