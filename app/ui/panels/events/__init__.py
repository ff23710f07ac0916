"""Event table panel."""
