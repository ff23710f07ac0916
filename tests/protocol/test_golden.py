"""Golden output of the decoder: performance work must not change a single byte of it.

The digests were taken with the decoder as it was before it was optimised. The corpus is
5 000 pushes of the simulated fleet (seed 1, 500 devices, a fixed clock), every seed
example (over MQTT and as a webhook), and damaged copies of some fleet pushes (cut short,
bytes flipped, values swapped for sentinels) so that the error paths are pinned too.

If `FLEET_INPUT_SHA256` fails, the simulator changed, not the decoder: regenerate both
digests with the decoder of a commit known to be right (see `_digest`).
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.sim.fleet import Fleet

RECEIVED_AT = 1_700_000_000.0
FLEET_INPUT_SHA256 = "02ef2e6525b966e6e2a06cdd83c15184b12653dce14c6873baeebd1be4009844"
GOLDEN_SHA256 = "7f94c02bce5fbaa6c9f425f978acb09ec0dfde9b83d69ef8a43941e91e8c5635"
DAMAGED_SHA256 = "c3908c7c57342f357a6393fe776cfea8278da5e9857daba5dcf244c3df5198e9"


def _fleet_pushes() -> list[tuple[str, bytes]]:
    clock = iter(RECEIVED_AT + 0.25 * i for i in range(10**7))
    fleet = Fleet("K", devices=500, seed=1, now=lambda: next(clock))
    return [fleet.next_push() for _ in range(5000)]


def _seed_raws() -> list[tuple[RawPush, str | None]]:
    path = Path(__file__).parents[1] / "data" / "seed_examples.json"
    out: list[tuple[RawPush, str | None]] = []
    for example in json.loads(path.read_text("utf-8")):
        payload = example["payload"].encode("utf-8")
        out.append((RawPush("mqtt", example["topic"], payload, RECEIVED_AT), None))
        out.append((RawPush("webhook", "/hook", payload, RECEIVED_AT), example["kind"]))
        out.append((RawPush("webhook", "/hook", payload, RECEIVED_AT), None))
    return out


def _damaged(pushes: list[tuple[str, bytes]]) -> list[RawPush]:
    swaps = [b'"null"', b'""', b"NaN", b"-Infinity", b'"-1000.0"', b"255", b'"x"', b"1e400"]
    out = []
    for i, (topic, payload) in enumerate(pushes[::10]):
        out.append(RawPush("mqtt", topic, payload[: (i * 7) % max(1, len(payload))], 0.0))
        flipped = bytearray(payload)
        if flipped:
            flipped[(i * 13) % len(flipped)] ^= 0x20
        out.append(RawPush("mqtt", topic, bytes(flipped), 0.0))
        swap = swaps[i % len(swaps)]
        out.append(RawPush("mqtt", topic, payload.replace(b":0,", b":" + swap + b",", 2), 0.0))
        out.append(RawPush("mqtt", topic, payload.replace(b'\\"0\\"', b'\\"null\\"'), 0.0))
    return out


def _digest(items: list[tuple[RawPush, str | None]]) -> str:
    sha = hashlib.sha256()
    for raw, hint in items:
        record = decode(raw, hint)
        line = json.dumps(
            (record.kind, record.device, record.sublock, record.data, record.errors),
            sort_keys=True,
            default=repr,
        )
        sha.update(line.encode("utf-8"))
        sha.update(b"\n")
    return sha.hexdigest()


def test_fleet_input_is_the_same() -> None:
    sha = hashlib.sha256()
    for topic, payload in _fleet_pushes():
        sha.update(topic.encode() + b"\0" + payload + b"\n")
    assert sha.hexdigest() == FLEET_INPUT_SHA256, "the simulator changed: regenerate"


def test_decoder_output_is_unchanged() -> None:
    items = [(RawPush("mqtt", t, p, RECEIVED_AT), None) for t, p in _fleet_pushes()]
    assert _digest(items + _seed_raws()) == GOLDEN_SHA256


def test_damaged_pushes_decode_as_before() -> None:
    assert _digest([(raw, None) for raw in _damaged(_fleet_pushes())]) == DAMAGED_SHA256
