"""Who sits at this desk: the name put on acknowledgements, notes, commands and sessions.

Set once per desk (File › Settings › General, kept in the settings), or for one run with
`--operator NAME`; until then the OS user name. On a shared journal (issue 23) it is what
tells the other desks who did what, so the title bar shows it.
"""

from __future__ import annotations

import getpass

from PySide6.QtCore import QSettings

from app import APP_NAME

SETTINGS_OPERATOR = "desk/operator"


def os_user() -> str:
    """The OS user; never fails (a service account may have no login name)."""
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def operator_name(settings: QSettings, given: str | None = None) -> str:
    """`given` (the command line), else the saved name, else the OS user."""
    for name in (given, settings.value(SETTINGS_OPERATOR, "")):
        if name and str(name).strip():
            return str(name).strip()
    return os_user()


def window_title(workspace: str, operator: str) -> str:
    """'SealDesk — Dispatch — alice'."""
    return f"{APP_NAME} — {workspace} — {operator}"
