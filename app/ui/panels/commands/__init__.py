"""Command console panel: compose, confirm, send, pair, audit, bulk.

`history_for(journal_path, device_id)` is the hook for the device detail pane: it reads the
audit table (its own short-lived read connection, any thread) and returns plain dicts, so the
caller needs nothing from this package but the function.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from app.commands.audit import AuditRow, device_history
from app.commands.replies import label_reply
from app.journal.queries import connect_readonly
from app.journal.url import JOURNAL_ERRORS, is_journal_url

STATE_LABELS = {
    "queued": "queued",
    "sent": "sent — waiting for reply",
    "answered": "answered",
    "failed": "failed",
    "timed_out": "timed out",
}


def row_to_dict(r: AuditRow) -> dict[str, Any]:
    answered_in = (
        r.answered_at - r.sent_at if r.answered_at is not None and r.sent_at is not None else None
    )
    return {
        "id": r.id,
        "device": r.device,
        "sublock": r.sublock,
        "profile": r.profile,
        "operator": r.operator,
        "text": r.text,
        "name": r.name,
        "serial": r.serial,
        "dangerous": r.dangerous,
        "created_at": r.created_at,
        "sent_at": r.sent_at,
        "answered_at": r.answered_at,
        "answered_in_s": answered_in,
        "state": r.state,
        "state_label": STATE_LABELS.get(r.state, r.state),
        "reason": r.reason or "",
        "reply": r.reply,
        "reply_fields": label_reply(r.name, r.reply) if r.state == "answered" else [],
    }


def history_for(journal_path: str | Path, device_id: str, limit: int = 200) -> list[dict]:
    """A device's commands, newest first, as dicts (see `row_to_dict` for the keys).

    Read-only; a journal without the command table yet (or no file) gives [].
    """
    shared = is_journal_url(journal_path)
    if not device_id or not (shared or Path(journal_path).exists()):
        return []
    conn = connect_readonly(journal_path)
    try:
        return [row_to_dict(r) for r in device_history(conn, device_id, limit)]
    except JOURNAL_ERRORS:  # no command table yet (or the shared journal is away)
        return []
    finally:
        conn.close()


__all__ = ["STATE_LABELS", "history_for", "row_to_dict"]
