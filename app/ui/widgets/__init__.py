"""Small widgets and models shared by several panels (no panel imports another panel)."""
