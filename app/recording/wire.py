"""How a decoded push crosses the pipe between the recording process and the window.

Plain tuples, not `PushRecord`s: a transport's `RawPush` carries its acknowledgement
callable (which cannot be pickled), and tuples pickle several times faster than
dataclasses — thousands cross every second under a flood.
"""

from __future__ import annotations

from app.protocol.push import PushRecord, RawPush

Packed = tuple


def pack(record: PushRecord) -> Packed:
    raw = record.raw
    return (raw.source, raw.topic, raw.payload, raw.received_at, raw.profile,
            record.kind, record.device, record.sublock, record.data, record.errors)


def unpack(t: Packed) -> PushRecord:
    source, topic, payload, received_at, profile, kind, device, sublock, data, errors = t
    return PushRecord(RawPush(source, topic, payload, received_at, profile),
                      kind, device, sublock, data, errors)
