"""One package per panel. Panels never call each other: they share an AppContext."""
