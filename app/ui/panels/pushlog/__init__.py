"""Push log panel: every push, raw and decoded side by side, backed by the journal."""
