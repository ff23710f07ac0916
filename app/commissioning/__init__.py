"""Field commissioning: a checklist that proves a lock works, and a PDF report.

`checks` is the pure engine (evidence in, item states out), `templates` the named
checklists per device model, `session` drives a batch (sends the queries, feeds the
engine), `report` renders the PDF with Qt, `store` keeps sessions in the journal.
"""

from app.commissioning.checks import DeviceChecklist, Evidence, Item, State, Verdict
from app.commissioning.session import CommissioningSession
from app.commissioning.templates import BUILTIN, CHECKS, LABELS, Template, load_templates

__all__ = [
    "BUILTIN",
    "CHECKS",
    "LABELS",
    "CommissioningSession",
    "DeviceChecklist",
    "Evidence",
    "Item",
    "State",
    "Template",
    "Verdict",
    "load_templates",
]
