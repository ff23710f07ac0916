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
# Retaken for issue 20: every sub-lock push now keeps its topic level as data["topicSubLock"];
# compared push by push with the decoder before it, nothing else changed (kind, device,
# sub-lock, errors and the rest of data identical for all 7 042 pushes of the corpus).
GOLDEN_SHA256 = "ea019f136959a6e9591d61bc209c18546294a50d7123f65b3a1f8f68a04ca6ea"
DAMAGED_SHA256 = "65b33e22e22d1659ebe20b5888396143507490a0eff615e1b10a1bc6cc98b549"


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


# Beside the digests, values written out by hand from the seed examples' payloads (tests/data/
# seed_examples.json), so that a wrong decoder cannot bless itself by retaking the digests.
HAND_WRITTEN = {
    "mqtt-alarm": ("alarm", "8454601010", None,
                   {"alarmType": 44, "latitude": 22.6766686619127, "mileage": 59}),
    "webhook-alarm": ("alarm", "875011000025", None, {"alarmType": 46, "describe": ""}),
    "mqtt-event-remote-unlock": ("event", "8454601010", None,
                                 {"eventType": 1, "unLockType": 2,
                                  "dateTime": "2025-02-07T06:54:52Z"}),
    "webhook-command-base2": ("command", "742207000010", None, {"commandType": "BASE2"}),
    "mqtt-command-device-not-online": ("command", "8294630003", None,
                                       {"commandType": "MQTT_CMD",
                                        "content": "Device not online！"}),
    "webhook-sublock": ("sublock", "8012600005", "E0171E0365",
                        {"battery": 71, "voltage": 3.93, "longitude": 113.92294}),
    "webhook-location": ("location", "8022300001", None,
                         {"mileage": 16, "cellSignal": 19, "gpsTime": "2022-09-01T08:59:56Z"}),
}


def test_hand_written_values_of_seed_examples():
    path = Path(__file__).parents[1] / "data" / "seed_examples.json"
    examples = {e["name"]: e for e in json.loads(path.read_text("utf-8"))}
    for name, (kind, device, sublock, fields) in HAND_WRITTEN.items():
        example = examples[name]
        record = decode(RawPush("mqtt", example["topic"], example["payload"].encode(),
                                RECEIVED_AT))
        assert (record.kind, record.device, record.sublock) == (kind, device, sublock), name
        assert record.errors == [], (name, record.errors)
        for key, value in fields.items():
            assert record.data[key] == value, (name, key, record.data.get(key))
