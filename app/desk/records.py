"""A journal row back into the record the panels' listeners get from the recording process.

A desk never decodes: the recorder that stored the push already did, and the journal keeps
its kind, device, sub-lock, decoded data, errors and warnings. Rebuilding the record from
them costs a dict and two dataclasses; decoding the payload again would cost ~40 µs a push.
"""

from __future__ import annotations

from app.journal.store import JournalRow
from app.protocol.push import PushRecord, RawPush


def record_from_row(row: JournalRow) -> PushRecord:
    """The `PushRecord` a listener would have had from the recorder that stored `row`."""
    source = row.source if row.source in ("mqtt", "webhook") else "mqtt"
    raw = RawPush(source, row.topic, row.raw, row.received_at, row.profile or "")  # type: ignore[arg-type]
    return PushRecord(raw, row.kind, row.device, row.sublock, row.data,  # type: ignore[arg-type]
                      list(row.errors), warnings=list(row.warnings))
