"""Answers commands the way the vendor platform and its devices do. Pure: no sockets.

A console under test needs every outcome a real command can have: an answer, a platform
error (`Device not online！`, `Device has not been registered！`), or silence (device asleep,
garbage command text, a repeated serial the platform drops to prevent double unlocking).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from app.sim.fleet import (
    NOT_ONLINE,
    NOT_REGISTERED,
    Device,
    Fleet,
    Push,
    compact_json,
    compact_time,
    iso_millis,
)

_P_RE = re.compile(r"^P\d{2}$")
_CMD_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_INDEX_RE = re.compile(r"^\d{1,3}$")


class CommandResponder:
    """Turns a command published on `download/{key}/{device}/cmd` into the replies it earns."""

    def __init__(self, fleet: Fleet) -> None:
        self.fleet = fleet
        self._last_serial: dict[str, str] = {}

    # ---- helpers ---------------------------------------------------------------------

    def _reply(self, device_id: str, command_type: str, content: str) -> Push:
        topic = f"upload/{self.fleet.access_key}/{device_id}/cmd"
        doc = {
            "assetId": device_id,
            "commandType": command_type,
            "content": content,
            "dateTime": iso_millis(self.fleet.now()),
        }
        return topic, compact_json(doc).encode()

    def _device_from_topic(self, topic: str) -> str | None:
        parts = topic.split("/")
        if len(parts) != 4 or parts[0] != "download" or parts[3] != "cmd":
            return None
        if parts[1] != self.fleet.access_key or not parts[2]:
            return None  # another rule's traffic is none of our business
        return parts[2]

    @staticmethod
    def _parse(payload: bytes) -> list[str] | None:
        """Split `(a,b,c)` into fields; None for anything that is not a command."""
        try:
            text = payload.decode("utf-8").strip()
        except UnicodeDecodeError:
            return None
        if len(text) < 3 or text[0] != "(" or text[-1] != ")":
            return None
        fields = [f.strip() for f in text[1:-1].split(",")]
        if any("(" in f or ")" in f for f in fields):
            return None
        return fields

    # ---- entry point -----------------------------------------------------------------

    def respond(self, topic: str, payload: bytes) -> list[Push]:
        """All pushes this command causes, in order; [] when nothing would ever come back."""
        try:
            with self.fleet.lock:
                return self._respond(topic, payload)
        except Exception:  # a simulator must never die of a bad command
            return []

    def _respond(self, topic: str, payload: bytes) -> list[Push]:
        device_id = self._device_from_topic(topic)
        if device_id is None:
            return []
        dev = self.fleet.devices.get(device_id)
        # The platform answers for the device before the device ever sees the text.
        if dev is None:
            return [self._reply(device_id, "MQTT_CMD", NOT_REGISTERED)]
        if not dev.online:
            return [self._reply(device_id, "MQTT_CMD", NOT_ONLINE)]
        fields = self._parse(payload)
        if fields is None:
            return []
        if len(fields) >= 1 and _P_RE.match(fields[0]):
            if dev.silent:
                return []
            return self._short(dev, fields)
        if len(fields) < 5:
            return []
        _, _version, serial, cmd, index = fields[:5]
        if not serial or not _CMD_RE.match(cmd) or not _INDEX_RE.match(index):
            return []
        if self._last_serial.get(device_id) == serial:
            return []  # the platform drops a repeated serial
        self._last_serial[device_id] = serial
        if dev.silent:
            return []
        return self._long(dev, serial, cmd, index, fields[5:])

    # ---- (deviceId,version,serial,CMD,index[,params]) --------------------------------

    def _long(
        self, dev: Device, serial: str, cmd: str, index: str, params: list[str]
    ) -> list[Push]:
        head = [dev.device_id, "8", serial, cmd, index]
        now = self.fleet.now()
        extra: list[Push] = []
        if cmd == "BASE" and index == "1":
            body = [
                dev.firmware,
                "0",
                "Jointech",
                dev.modem,
                dev.iccid,
                dev.imei,
                dev.mcc,
                dev.mnc,
                str(dev.cid),
                str(dev.lac),
            ]
        elif cmd == "BASE" and index == "2":
            if params and re.fullmatch(r"\d{14}", params[0]):
                # Setting the clock: the device now agrees with the platform's time.
                set_to = datetime.strptime(params[0], "%Y%m%d%H%M%S").replace(tzinfo=UTC)
                dev.clock_offset_s = set_to.timestamp() - now
            body = [compact_time(dev.device_time(now))]
        elif cmd == "WLNET" and index == "1":
            body, extra = self._wlnet_bind(dev, params)
        elif cmd == "WLNET" and index == "8":
            body = list(params)
            if len(params) >= 4 and params[0] == "1":
                extra = self.fleet.unlock_sublock(dev.device_id, params[3])
        else:
            body = list(params)  # everything else: an echo, as most setters answer
        content = compact_json(head + body)
        return [self._reply(dev.device_id, cmd + index, content), *extra]

    def _wlnet_bind(self, dev: Device, params: list[str]) -> tuple[list[str], list[Push]]:
        if not params or params[0] == "0":
            ids = [sl.sub_id for sl in dev.sublocks]
            return ["0", str(len(ids)), *ids], []
        if params[0] == "1" and len(params) >= 2 and params[1].isdigit():
            ids = [p for p in params[2:] if p][: int(params[1])]
            known = {sl.sub_id: sl for sl in dev.sublocks}
            dev.sublocks = [known.get(i) or self.fleet.new_sublock(i) for i in ids]
            self.fleet.sublocks_changed()
            return list(params), []
        return list(params), []

    # ---- old short form (P01), (P04,1,60,30) ... -------------------------------------

    def _short(self, dev: Device, fields: list[str]) -> list[Push]:
        cmd, params = fields[0], fields[1:]
        extra: list[Push] = []
        if cmd == "P01":
            body = [dev.firmware, str(dev.battery)]
        elif cmd == "P02":
            body = []
            extra = self.fleet.location(dev.device_id)
        elif cmd == "P43" and dev.is_lock:
            body = list(params)
            if dev.lock_status == 0:
                extra = self.fleet.unlock(dev.device_id, 2, params[0] if params else "")
        else:
            body = list(params)
        content = compact_json([dev.device_id, cmd, *body])
        return [self._reply(dev.device_id, cmd, content), *extra]
