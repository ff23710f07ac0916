"""What crosses the pipe between the window (`client.py`) and the recording process
(`child.py`): the kinds of message each side sends, and the decoded pushes.

Every message is a tuple whose first item is its kind, one of the constants below.

Pushes go as plain tuples, not `PushRecord`s: a transport's `RawPush` carries its acknowledgement
callable (which cannot be pickled), and tuples pickle several times faster than
dataclasses — thousands cross every second under a flood.
"""

from __future__ import annotations

from app.protocol.push import PushRecord, RawPush

# -- window → recording process (`RecordingProcess` sends, `_Child` serves) -------------------
# Requests marked "→ REPLY" carry a request number and are answered by one REPLY.
NEXT = "next"  # () the window wants the next batch
CONNECT = "connect"  # (settings, generation) open a profile's connection
HANG_UP = "hang_up"  # (profile name) close it
PUBLISH = "publish"  # (req, profile, topic, payload, qos) → REPLY (paho's rc)
SUBMIT = "submit"  # (seq, source, topic, payload, at, profile, hint, ack) a webhook push
FLUSH = "flush"  # (req, timeout) → REPLY (everything submitted before is committed)
REOPEN_JOURNAL = "reopen_journal"  # (req, fresh) → REPLY (the path it was moved to)
STATS = "stats"  # (req) → REPLY (the recorder's counters)
STOP = "stop"  # () flush, hang up and end

# -- recording process → window ----------------------------------------------------------
READY = "ready"  # () serving requests
BATCH = "batch"  # (packed records, ids, skipped, last) one batch per NEXT
STATE = "state"  # (profile name, generation, ConnectionState)
REPLY = "reply"  # (req, value, error) the answer to a request
ACKED = "acked"  # (seq) a SUBMITted push is committed
JOURNAL = "journal"  # (JournalHealth) the journal stopped, is retrying, or writes again
STOPPED = "stopped"  # () the last message

Packed = tuple


def pack(record: PushRecord) -> Packed:
    raw = record.raw
    return (raw.source, raw.topic, raw.payload, raw.received_at, raw.profile,
            record.kind, record.device, record.sublock, record.data, record.errors)


def unpack(t: Packed) -> PushRecord:
    source, topic, payload, received_at, profile, kind, device, sublock, data, errors = t
    return PushRecord(RawPush(source, topic, payload, received_at, profile),
                      kind, device, sublock, data, errors)
