"""Commissioning panel: checklists that prove a lock works, and the PDF report."""
