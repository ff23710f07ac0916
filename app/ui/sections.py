"""The device detail pane's building blocks, shared so other panels can add a section to it
(the commands panel adds "Command history") without importing the detail panel."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from app.fleet.state import DeviceState, FleetState


@dataclass
class Row:
    key: str
    label: str
    value: str = ""
    children: list[Row] = field(default_factory=list)
    tooltip: str = ""
    expanded: bool = True
    alert: bool = False  # drawn in the alarm colour


@dataclass
class Section:
    key: str
    title: str
    summary: str  # shown next to the title (e.g. when the push was received)
    rows: list[Row]

    def as_row(self) -> Row:
        return Row(self.key, self.title, self.summary, self.rows)


# provider(device_state, fleet) -> Section | None, called on every refresh of the pane.
SectionProvider = Callable[[DeviceState, FleetState], "Section | None"]


class DetailSections:
    """Sections other panels add to the device detail pane, after its built-in ones.

    A service of the context rather than a module-level dict: two windows (or two tests) never
    see each other's sections, and neither panel imports the other.
    """

    def __init__(self) -> None:
        self._providers: dict[str, SectionProvider] = {}

    def add(self, key: str, provider: SectionProvider) -> None:
        """Add (or replace, by key) a section provider."""
        self._providers[key] = provider

    def remove(self, key: str) -> None:
        self._providers.pop(key, None)

    def providers(self) -> list[SectionProvider]:
        return list(self._providers.values())
