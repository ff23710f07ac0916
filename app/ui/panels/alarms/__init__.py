"""Alarm table panel."""
