"""Which values are secret, and how they are masked in decoded data and raw bytes. No Qt."""

from __future__ import annotations

import json

import pytest

from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.protocol.redact import MASK, mask_data, mask_raw, mask_reply, secrets_of

PW = "98765432"
REPLY = json.dumps({"assetId": "795211666162", "commandType": "P43",
                    "content": json.dumps(["795211666162", "P43", PW])}).encode()
EVENT = json.dumps({"assetId": "795211666162", "eventType": 1, "unLockType": 2,
                    "card": "", "password": PW}).encode()


def test_the_reply_and_the_event_carry_the_password_and_lose_it():
    for topic, raw in (("upload/K/795211666162/cmd", REPLY),
                       ("upload/K/795211666162/event", EVENT)):
        rec = decode(RawPush("mqtt", topic, raw, 0.0))
        assert secrets_of(rec.kind, rec.data) == [PW]
        masked = mask_data(rec.kind, rec.data)
        assert PW not in json.dumps(masked) and MASK in json.dumps(masked, ensure_ascii=False)
        assert PW in json.dumps(rec.data)  # a copy: the record keeps it
        out = mask_raw(rec.raw.payload, secrets_of(rec.kind, rec.data))
        assert PW.encode() not in out and MASK.encode() in out
        json.loads(out)  # still JSON
    assert b'"commandType":"P43"' in mask_raw(REPLY).replace(b" ", b"")  # a value, not a list


@pytest.mark.parametrize("raw", [
    b'{"assetId":"1","password":"' + PW.encode() + b'"',  # cut short: not decodable
    b'{"x":"{\\"password\\":\\"' + PW.encode() + b'\\"}"}',  # escaped inside a string
    b'{"commandType":"P43","content":["1","P43","' + PW.encode() + b'"]}',  # an array
    b'{"commandType":"P43", "content": "[\\"1\\", \\"P43\\", \\"' + PW.encode() + b'\\"]"}',
])
def test_raw_bytes_lose_the_password_by_field_even_undecoded(raw):
    assert PW.encode() not in mask_raw(raw)


def test_nothing_secret_is_left_alone():
    data = {"assetId": "1", "password": "", "card": "123", "commandType": "BASE1",
            "content": ["1", "BASE", "1", PW]}
    assert secrets_of("event", data) == []
    assert mask_data("event", data) is data  # not even copied
    raw = json.dumps(data).encode()
    assert mask_raw(raw) == raw
    assert mask_reply("BASE1", ["1", PW]) == ["1", PW]
    assert mask_reply("P43", ["1", "P43", PW]) == ["1", "P43", MASK]
