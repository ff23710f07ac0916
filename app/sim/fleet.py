"""A deterministic fleet of simulated locks and trackers that speaks the vendor's push format.

Pure: no sockets, no threads. Every payload is shaped after the examples in the vendor's
push documentation (JSON documents carried as strings, the literal string "null",
temperature "-1000.0" for "no sensor", battery 255 for "charging", voltage as a string),
because the console must cope with exactly those quirks. Given a seed and a fixed clock the
stream of (topic, payload) pairs is reproducible, so tests can rely on it.
"""

from __future__ import annotations

import functools
import json
import math
import random
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

Push = tuple[str, bytes]
Model = Literal["JT709A", "JT709A-S", "KS20A", "GP"]

# (name, lat, lon, MCC, MNC) — homes are spread around these.
CITIES: tuple[tuple[str, float, float, str, str], ...] = (
    ("Shenzhen", 22.6700, 113.9229, "460", "0"),
    ("Dubai", 25.2048, 55.2708, "424", "2"),
    ("Rotterdam", 51.9244, 4.4777, "204", "8"),
    ("Santos", -23.9608, -46.3336, "724", "5"),
    ("Mombasa", -4.0435, 39.6682, "639", "2"),
)

LOCK_ALARMS: tuple[int, ...] = (40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 51, 194, 198)
VEHICLE_ALARMS: tuple[int, ...] = (1, 7, 8, 15, 26, 27, 29, 51, 52, 131, 132, 133)
# How often each code comes when alarms are paced per device: a lock reports vibration, low
# power, fences and a lost sub-lock far more often than a cut rope or an SOS.
LOCK_ALARM_WEIGHTS: tuple[int, ...] = (1, 6, 3, 1, 1, 6, 1, 2, 4, 4, 1, 2, 5)
VEHICLE_ALARM_WEIGHTS: tuple[int, ...] = (8, 3, 1, 1, 1, 1, 1, 1, 1, 5, 5, 4)

# Paced alarms (`Fleet(alarm_rate=…)`): alarms per device per hour, bursts included. Six
# make three a minute from the demo's 30 devices; the flood's 10 000 raise 16 a second.
DEFAULT_ALARM_RATE = 6.0
BURST_SHARE = 0.08  # of the moments an alarm is raised, a burst instead
BURST_OWN = (2, 4)  # a burst: this many alarms from one device in a row …
BURST_NEIGHBOURS = (0, 2)  # … and one each from this many devices of the same city
_MEAN_PER_MOMENT = (1 - BURST_SHARE) + BURST_SHARE * (sum(BURST_OWN) + sum(BURST_NEIGHBOURS)) / 2
ALARM_RESTART_S = 60.0  # a stream that paused longer than this does not catch up on alarms
UNLOCK_TYPES: tuple[int, ...] = (1, 1, 2, 2, 3, 5, 6)  # card and remote are the common ones
WAYBILL_EVENTS: tuple[int, ...] = (13, 14, 15, 16, 17, 18)
SUBLOCK_HEARTBEAT_EVENTS: tuple[int, ...] = (-1, 6, 6, 6, 5, 22, 7)

NOT_ONLINE = "Device not online！"
NOT_REGISTERED = "Device has not been registered！"


_ENCODER = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False)


def compact_json(obj: Any) -> str:
    """Compact JSON as the vendor's Java stack writes it (no spaces, non-ASCII kept)."""
    return _ENCODER.encode(obj)


@functools.lru_cache(maxsize=4096)
def _iso_whole(ts: int) -> str:
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_seconds(ts: float) -> str:
    """UTC ISO-8601 with Z and whole seconds: gpsTime, dateTime of alarms and events."""
    return _iso_whole(math.floor(ts)) + "Z"


def iso_millis(ts: float) -> str:
    """UTC ISO-8601 with Z and milliseconds: recvTime, dateTime of command responses."""
    whole = math.floor(ts)
    return f"{_iso_whole(whole)}.{min(999, int((ts - whole) * 1000)):03d}Z"


def compact_time(ts: float) -> str:
    """`yyyyMMddHHmmss` UTC, as BASE,2 reports the device clock."""
    return datetime.fromtimestamp(math.floor(ts), UTC).strftime("%Y%m%d%H%M%S")


@dataclass
class SubLock:
    """A slave lock bound to a host device (JT709 as sensorType 4, JT802 as 6)."""

    sub_id: str
    sensor_type: int = 4
    loc_status: int = 0  # 0 off (locked), 1 on (unlocked)
    loc_rope: int = 0
    battery: int = 80
    rssi: int = 50
    loc_times: int = 0
    temperature: float = -1000.0
    humidity: int = 0


@dataclass
class KsPeripheral:
    """A KS20A wireless peripheral reported inside ksInfo.subInfo."""

    sub_id: str
    temperature: float
    humidity: float
    lux: float = 0.0


@dataclass
class Device:
    """The live state of one simulated device; the knobs at the end are for tests and demos."""

    device_id: str
    model: Model
    city: str
    home_lat: float
    home_lon: float
    lat: float
    lon: float
    mcc: str
    mnc: str
    lac: int
    cid: int
    firmware: str
    modem: str
    iccid: str
    imei: str
    speed: int = 0
    direction: int = 0
    mileage: float = 0.0
    battery: int = 90
    charging: bool = False
    voltage: float = 3.9
    temperature: float | None = None  # None → "-1000.0" (no sensor)
    humidity: float | None = None
    lock_status: int = 0  # 0 locked, 1 unlocked
    lock_rope: int = 0  # 0 inserted, 1 pulled out, -1 none
    acc: int = -1
    door: int = -1
    engine: int = -1
    fuel_cut: int = -1
    cell_signal: int = 25
    gnss_signal: int = 10
    network_type: int = 4
    back_battery: str | None = None
    sublocks: list[SubLock] = field(default_factory=list)
    ks_lock_id: str = ""
    ks_peripherals: list[KsPeripheral] = field(default_factory=list)
    # knobs
    online: bool = True
    silent: bool = False
    has_fix: bool = True
    clock_offset_s: float = 0.0

    @property
    def is_lock(self) -> bool:
        return self.model != "GP"

    @property
    def cells(self) -> str:
        return f"{self.mcc},{self.mnc},{self.lac},{self.cid}"

    @property
    def reported_battery(self) -> int:
        return 255 if self.charging else self.battery

    def device_time(self, now: float) -> float:
        """The device's own clock, skewed by clock_offset_s."""
        return now + self.clock_offset_s


class Fleet:
    """A reproducible set of devices; `next_push()` yields the vendor's (topic, payload) pairs."""

    def __init__(
        self,
        access_key: str,
        devices: int = 20,
        seed: int | None = None,
        now: Callable[[], float] = time.time,
        alarm_rate: float | None = None,
    ) -> None:
        """`alarm_rate` None: alarms are a share of the stream (about 2.6 % of pushes: a
        corpus for tests and load tests, whatever the clock). A number: alarms per device per
        hour on the fleet's clock (`now`), bursts included, whatever the push rate — see
        `DEFAULT_ALARM_RATE`."""
        self.access_key = access_key
        self.now = now
        self.rng = random.Random(seed)
        self.alarm_rate = alarm_rate
        self._next_alarm_at: float | None = None
        # Shared by the publishing loop and the command responder, which run on two threads.
        self.lock = threading.RLock()
        self.devices: dict[str, Device] = {}
        self._pending: deque[Push] = deque()
        self._waybill: dict[str, tuple[str, str]] = {}
        for i in range(max(0, devices)):
            dev = self._make_device(i)
            self.devices[dev.device_id] = dev
        # The stream picks a device per push: O(fleet) lists rebuilt per push held a
        # 5 000-device simulator to half its rate.
        self._ids: list[str] = []
        self._with_subs: list[Device] | None = None

    # ---- construction ---------------------------------------------------------------

    @property
    def device_ids(self) -> list[str]:
        return list(self._id_list())

    def _id_list(self) -> list[str]:
        """The ids, cached (devices are only ever added)."""
        if len(self._ids) != len(self.devices):
            self._ids = list(self.devices)
        return self._ids

    def sublocks_changed(self) -> None:
        """A device's sub-locks were replaced (a bind command): forget the cached hosts."""
        self._with_subs = None

    def _unique_id(self, make: Callable[[], str]) -> str:
        while True:
            candidate = make()
            if candidate not in self.devices:
                return candidate

    def _model_for(self, i: int) -> Model:
        # A fixed pattern so that even a small fleet has every model.
        pattern: tuple[Model, ...] = (
            "JT709A", "JT709A-S", "KS20A", "JT709A", "GP",
            "JT709A-S", "JT709A", "KS20A", "JT709A", "GP",
        )  # fmt: skip
        return pattern[i % len(pattern)]

    def _make_device(self, i: int) -> Device:
        r = self.rng
        model = self._model_for(i)
        if model == "GP" or r.random() < 0.5:
            did = self._unique_id(lambda: f"80{r.randint(10000000, 99999999)}")
        else:
            did = self._unique_id(lambda: f"79{r.randint(4300000000, 5299999999)}")
        city, clat, clon, mcc, mnc = CITIES[i % len(CITIES)]
        home_lat = clat + r.uniform(-0.15, 0.15)
        home_lon = clon + r.uniform(-0.15, 0.15)
        fw_model = {"JT709A": "JT709A", "JT709A-S": "JT709A", "KS20A": "KS20A", "GP": "GP22"}
        dev = Device(
            device_id=did,
            model=model,
            city=city,
            home_lat=home_lat,
            home_lon=home_lon,
            lat=home_lat,
            lon=home_lon,
            mcc=mcc,
            mnc=mnc,
            lac=r.randint(9000, 12000),
            cid=r.randint(100_000_000, 230_000_000),
            firmware=f"{fw_model[model]}_2024{r.randint(1, 12):02d}{r.randint(1, 28):02d}"
            "_HW-V1.2_RFID_7600_V2_8",
            modem="LE20B05SIM7600M21-A_CUS_JT",
            iccid=f"898604B8{r.randint(10**11, 10**12 - 1)}",
            imei=f"86882204{r.randint(10**6, 10**7 - 1)}",
            mileage=float(r.randint(0, 5000)),
            battery=r.randint(20, 100),
            charging=r.random() < 0.15,
            cell_signal=r.randint(12, 31),
            gnss_signal=r.randint(4, 20),
            network_type=r.choice((2, 4, 4, 4)),
        )
        if r.random() < 0.5:
            dev.temperature = round(r.uniform(15.0, 35.0), 1)
            dev.humidity = round(r.uniform(30.0, 80.0))
        if r.random() < 0.3:
            dev.back_battery = f"{r.randint(40, 100)},{r.uniform(3.6, 4.1):.2f},0"
        if model == "GP":
            dev.voltage = round(r.uniform(12.2, 13.8), 2)
            dev.acc, dev.door, dev.engine, dev.fuel_cut = 1, 0, 1, 0
            dev.lock_rope = -1
        else:
            dev.voltage = round(3.5 + dev.battery * 0.007, 2)
        if model == "JT709A-S":
            for _ in range(r.randint(1, 3)):
                dev.sublocks.append(self._make_sublock(r.choice((4, 4, 6))))
        if model == "KS20A":
            dev.lock_rope = -1
            dev.ks_lock_id = f"0224{r.randint(10**7, 10**8 - 1)}"
            for _ in range(r.randint(1, 3)):
                dev.ks_peripherals.append(
                    KsPeripheral(
                        sub_id=f"1124{r.randint(10**7, 10**8 - 1)}",
                        temperature=round(r.uniform(18, 32), 1),
                        humidity=float(r.randint(35, 75)),
                    )
                )
        return dev

    def _make_sublock(self, sensor_type: int) -> SubLock:
        r = self.rng
        return SubLock(
            sub_id=f"E0{r.randint(0x100, 0xFFF):03X}E{r.randint(0, 9999):04d}",
            sensor_type=sensor_type,
            battery=r.randint(30, 100),
            rssi=r.randint(10, 70),
            loc_times=r.randint(0, 200),
        )

    def new_sublock(self, sub_id: str) -> SubLock:
        """A freshly bound sub-lock (WLNET bind), with plausible readings."""
        sl = self._make_sublock(4)
        sl.sub_id = sub_id
        return sl

    # ---- simulation step -------------------------------------------------------------

    def _topic(self, device_id: str, kind: str) -> str:
        return f"upload/{self.access_key}/{device_id}/{kind}"

    def _drift(self, dev: Device) -> None:
        """Move a little, drain or charge the battery, let the climate wander."""
        r = self.rng
        if dev.model == "GP":
            dev.speed = max(0, min(110, dev.speed + r.randint(-15, 15)))
            if dev.acc == 0:
                dev.speed = 0
        else:
            dev.speed = r.choice((0, 0, 0, r.randint(0, 60)))
        if dev.speed:
            dev.direction = (dev.direction + r.randint(-30, 30)) % 360
            step_km = dev.speed / 3600 * 30  # about 30 s between fixes
            rad = math.radians(dev.direction)
            dev.lat += step_km / 111.0 * math.cos(rad)
            dev.lon += step_km / (111.0 * max(0.2, math.cos(math.radians(dev.lat)))) * math.sin(rad)
            dev.mileage += step_km
            # stay within ~20 km of home
            if abs(dev.lat - dev.home_lat) > 0.2 or abs(dev.lon - dev.home_lon) > 0.2:
                dev.direction = (
                    int(math.degrees(math.atan2(dev.home_lon - dev.lon, dev.home_lat - dev.lat)))
                    % 360
                )
        if dev.charging:
            if r.random() < 0.2:
                dev.battery = min(100, dev.battery + 1)
            if dev.battery >= 100 and r.random() < 0.1:
                dev.charging = False
        else:
            if r.random() < 0.05:
                dev.battery = max(0, dev.battery - 1)
            if dev.battery < 15 and r.random() < 0.05:
                dev.charging = True
        if dev.model != "GP":
            dev.voltage = round(3.5 + dev.battery * 0.007, 2)
        if dev.temperature is not None:
            t = dev.temperature + r.uniform(-0.3, 0.3)
            dev.temperature = round(max(-30.0, min(70.0, t)), 1)
        if dev.humidity is not None:
            dev.humidity = max(5.0, min(99.0, dev.humidity + r.choice((-1, 0, 0, 1))))
        dev.cell_signal = max(0, min(31, dev.cell_signal + r.choice((-1, 0, 0, 1))))
        for sl in dev.sublocks:
            if r.random() < 0.02:
                sl.battery = max(0, sl.battery - 1)
            sl.rssi = max(0, min(99, sl.rssi + r.randint(-3, 3)))

    def _position(self, dev: Device) -> tuple[float, float]:
        if not dev.has_fix:
            return 0.0, 0.0
        return round(dev.lat, 6), round(dev.lon, 6)

    def _status_json(self, dev: Device) -> str:
        if dev.model == "GP":
            return compact_json(
                {"acc": dev.acc, "door": dev.door, "engine": dev.engine, "fuelCut": dev.fuel_cut}
            )
        rope = -1 if dev.model == "KS20A" else dev.lock_rope
        return compact_json({"lockBar": -1, "lockRope": rope, "lockStatus": dev.lock_status})

    def _expand_info(self, dev: Device, report_type: int) -> str:
        r = self.rng
        info: dict[str, str] = {
            "angle": "null" if dev.model != "GP" else str(dev.direction),
            "backBattery": dev.back_battery or "null",
            "fuels": "-1,-1,-1",
            "humidity": "0" if dev.humidity is None else str(int(dev.humidity)),
            "lux": r.choice(("0.0", "null")),
            "networkType": str(dev.network_type),
            "pressure": r.choice(("0.0", "null")),
            "reportType": str(report_type),
            "temperature": "-1000.0" if dev.temperature is None else f"{dev.temperature:.1f}",
        }
        if dev.model == "GP":
            info["fuels"] = f"{r.randint(20, 95)},-1,-1"
        if r.random() < 0.2:
            x, y = r.randint(-40, 40), r.randint(-40, 40)
            info["posture"] = f"x:{x};y:{y};z:-29{r.randint(0, 9)}0"
        return compact_json(dict(sorted(info.items())))

    def _ks_info(self, dev: Device, now: float) -> str:
        if dev.model != "KS20A":
            return ""
        r = self.rng
        sub_info: dict[str, dict[str, Any]] = {}
        for p in dev.ks_peripherals:
            p.temperature = round(p.temperature + r.uniform(-0.2, 0.2), 1)
            entry: dict[str, Any] = {
                "dateTime": iso_seconds(now - r.randint(0, 600)),
                "humidity": p.humidity,
                "lux": p.lux,
                "subId": p.sub_id,
                "temperature": p.temperature,
            }
            if r.random() < 0.3:
                entry["eventType"] = 1
            sub_info[p.sub_id] = dict(sorted(entry.items()))
        info = {
            "angVelocity": float(r.choice((0, 21000, 1500))),
            "eleStatus": 0,
            "eleValue": round(r.uniform(3.2, 3.6), 2),
            "humidity": 0 if dev.humidity is None else int(dev.humidity),
            "luminance1": 50,
            "luminance2": 50,
            "luminance3": 50,
            "luminance4": 50,
            "posture": f"x:{r.randint(-5, 5)};y:{r.randint(-5, 5)};z:230",
            "shakeStatus": int(dev.speed > 0),
            "subInfo": sub_info,
            "subLockId": dev.ks_lock_id,
            "temperature": -1000.0 if dev.temperature is None else dev.temperature,
            "vibrate": 0,
            "volStatus": 0,
            "volValue": round(r.uniform(23.0, 24.0), 1),
        }
        return compact_json(info)

    def _location_payload(self, dev: Device, report_type: int = 0) -> bytes:
        now = self.now()
        r = self.rng
        lat, lon = self._position(dev)
        if not dev.has_fix:
            loc_type, gnss = 0, 0
        else:
            loc_type, gnss = (1, dev.gnss_signal) if r.random() < 0.85 else (2, 0)
        gps_ts = dev.device_time(now) - r.randint(0, 40)
        doc: dict[str, Any] = {
            "assetId": dev.device_id,
            "longitude": lon,
            "latitude": lat,
            "speed": dev.speed if dev.has_fix else 0,
            "direction": dev.direction,
            "mileage": int(dev.mileage),
            "gpsTime": iso_seconds(gps_ts),
            "ksInfo": self._ks_info(dev, now),
            "recvTime": iso_millis(now),
            "locType": loc_type,
            "cellSignal": dev.cell_signal,
            "gnssSignal": gnss,
            "cells": dev.cells,
            "battery": dev.reported_battery,
            "voltage": f"{dev.voltage:.2f}" if r.random() < 0.9 else "0.0",
            "statusJson": self._status_json(dev),
            "expandInfo": self._expand_info(dev, report_type),
        }
        if dev.model != "KS20A" and r.random() < 0.5:
            # The MQTT example leaves ksInfo out; the webhook example sends "". Both happen.
            del doc["ksInfo"]
        return compact_json(doc).encode()

    def _alarm_payload(self, dev: Device, alarm_type: int, describe: str = "") -> bytes:
        now = dev.device_time(self.now())
        lat, lon = self._position(dev)
        doc = {
            "alarmType": alarm_type,
            "assetId": dev.device_id,
            "cells": dev.cells,
            "dateTime": iso_seconds(now),
            "describe": describe,
            "fileIndex": str(int(now)),
            "latitude": lat,
            "longitude": lon,
            "mileage": int(dev.mileage),
            "speed": dev.speed if dev.has_fix else 0,
        }
        return compact_json(doc).encode()

    def _event_payload(
        self,
        dev: Device,
        event_type: int,
        unlock_type: int = -1,
        *,
        card: str = "",
        password: str = "",
        describe: str = "",
        file_index: bool = False,
    ) -> bytes:
        now = dev.device_time(self.now())
        lat, lon = self._position(dev)
        doc: dict[str, Any] = {
            "assetId": dev.device_id,
            "card": card,
            "cells": dev.cells,
            "dateTime": iso_seconds(now),
            "describe": describe,
            "eventType": event_type,
            "latitude": lat,
            "longitude": lon,
            "mileage": int(dev.mileage),
            "password": password,
            "speed": dev.speed if dev.has_fix else 0,
            "unLockType": unlock_type,
        }
        if file_index:
            doc["fileIndex"] = str(int(now))
        return compact_json(doc).encode()

    def _sublock_payload(self, dev: Device, sl: SubLock, event_type: int) -> bytes:
        now = self.now()
        r = self.rng
        lat, lon = self._position(dev)
        if not dev.has_fix:
            lat, lon = -0.0, -0.0  # the seed's sub-lock example really says -0.0
        sub_ts = int(dev.device_time(now)) - r.randint(30, 120)
        if sl.sensor_type == 6:
            status = {
                "bottomDisassembly": 0,
                "emergencyKey": 0,
                "gateway": 0,
                "lockKnob": sl.loc_status,
                "lockMotor": sl.loc_status,
                "lockRope": sl.loc_rope,
                "lockValve": 0,
                "structuralDisassembly": 0,
            }
        else:
            status = {"lockRope": sl.loc_rope, "gateway": 0}
        doc: dict[str, Any] = {
            "assetId": dev.device_id,
            "battery": sl.battery,
            "direction": dev.direction,
            "eventType": event_type,
            "gpsTime": iso_seconds(dev.device_time(now) - r.randint(0, 60)),
            "humidity": sl.humidity,
            "latitude": lat,
            "locRope": sl.loc_rope,
            "locStatus": sl.loc_status,
            "locTimes": sl.loc_times,
            "longitude": lon,
            "recvTime": iso_millis(now),
            "rssi": sl.rssi,
            "sensorType": sl.sensor_type,
            "speed": dev.speed if dev.has_fix else 0,
            "statusJson": compact_json(status),
            "subAssetID": sl.sub_id,
            "subGpsTime": iso_seconds(sub_ts),
            "subGpsTimestamp": sub_ts * 1000,
            "temperature": sl.temperature,
            "voltage": f"{3.5 + sl.battery * 0.006:.2f}",
        }
        return compact_json(doc).encode()

    def _sublock_topic(self, dev: Device, sl: SubLock) -> str:
        return f"upload/{self.access_key}/{dev.device_id}/{sl.sub_id}/sublock"

    # ---- public API ------------------------------------------------------------------

    def next_push(self) -> Push:
        """The next push of the background stream: ~80% location, then sub-lock, event, and
        alarms — a share of the stream, or paced by the clock with `alarm_rate`."""
        if self._pending:
            return self._pending.popleft()
        if not self.devices:
            raise RuntimeError("the fleet has no devices")
        if self.alarm_rate is not None:
            due = self._due_alarms()
            if due:
                self._pending.extend(due[1:])
                return due[0]
        r = self.rng
        dev = self.devices[r.choice(self._id_list())]
        self._drift(dev)
        roll = r.random()
        if roll < 0.80:
            return self._topic(dev.device_id, "location"), self._location_payload(dev)
        if roll < 0.90:
            if self._with_subs is None:
                self._with_subs = [d for d in self.devices.values() if d.sublocks]
            with_subs = self._with_subs
            if with_subs:
                host = dev if dev.sublocks else r.choice(with_subs)
                sl = r.choice(host.sublocks)
                return self._sublock_topic(host, sl), self._sublock_payload(
                    host, sl, r.choice(SUBLOCK_HEARTBEAT_EVENTS)
                )
            return self._topic(dev.device_id, "location"), self._location_payload(dev)
        if roll < 0.97:
            pushes = self._random_event(dev)
            self._pending.extend(pushes[1:])
            return pushes[0]
        if self.alarm_rate is not None:  # alarms come by the clock (_due_alarms) instead
            return self._topic(dev.device_id, "location"), self._location_payload(dev)
        codes = VEHICLE_ALARMS if dev.model == "GP" else LOCK_ALARMS
        pushes = self.raise_alarm(dev.device_id, r.choice(codes))
        self._pending.extend(pushes[1:])
        return pushes[0]

    # ---- paced alarms ----------------------------------------------------------------

    def _alarm_gap(self) -> float:
        """Seconds to the next moment an alarm is raised somewhere in the fleet (Poisson)."""
        per_second = len(self.devices) * (self.alarm_rate or 0.0) / 3600 / _MEAN_PER_MOMENT
        return self.rng.expovariate(per_second) if per_second > 0 else math.inf

    def _due_alarms(self) -> list[Push]:
        """The alarm pushes due by the clock now (at most one moment per call: a stream that
        fell behind catches up push by push), else []."""
        now = self.now()
        due_at = self._next_alarm_at
        if due_at is None or now - due_at > ALARM_RESTART_S:
            # The first push, or the stream stood still (no pushes asked): start afresh
            # rather than raise every alarm the pause would have held at once.
            self._next_alarm_at = now + self._alarm_gap()
            return []
        if now < due_at:
            return []
        self._next_alarm_at = due_at + self._alarm_gap()
        return self._alarm_moment()

    def _paced_code(self, dev: Device) -> int:
        if dev.model == "GP":
            return self.rng.choices(VEHICLE_ALARMS, VEHICLE_ALARM_WEIGHTS)[0]
        return self.rng.choices(LOCK_ALARMS, LOCK_ALARM_WEIGHTS)[0]

    def _alarm_moment(self) -> list[Push]:
        """One alarm from one device; now and then (BURST_SHARE) a burst: the device raises
        several in a row and a neighbour or two in its city raise one each."""
        r = self.rng
        dev = self.devices[r.choice(self._id_list())]
        if r.random() >= BURST_SHARE:
            return self.raise_alarm(dev.device_id, self._paced_code(dev))
        out: list[Push] = []
        for _ in range(r.randint(*BURST_OWN)):
            out += self.raise_alarm(dev.device_id, self._paced_code(dev))
        neighbours = [d for d in self.devices.values() if d.city == dev.city and d is not dev]
        for other in r.sample(neighbours, min(len(neighbours), r.randint(*BURST_NEIGHBOURS))):
            out += self.raise_alarm(other.device_id, self._paced_code(other))
        return out

    def _random_event(self, dev: Device) -> list[Push]:
        r = self.rng
        if r.random() < 0.06:
            return self._waybill_event(dev)
        if dev.model == "GP":
            dev.door = 1 - dev.door if dev.door in (0, 1) else 0
            event = 5 if dev.door == 1 else 6
            return [
                (self._topic(dev.device_id, "event"), self._event_payload(dev, event)),
                (self._topic(dev.device_id, "location"), self._location_payload(dev)),
            ]
        if dev.lock_status == 0:
            return self._unlock(dev, r.choice(UNLOCK_TYPES))
        return self._lock(dev)

    def _waybill_event(self, dev: Device) -> list[Push]:
        r = self.rng
        if dev.device_id not in self._waybill or r.random() < 0.3:
            guid = str(uuid.UUID(int=r.getrandbits(128), version=4))
            self._waybill[dev.device_id] = (guid, str(r.randint(10_000_000, 99_999_999)))
        guid, number = self._waybill[dev.device_id]
        describe = compact_json({"waybillGUID": guid, "waybillNo": number})
        payload = self._event_payload(
            dev, r.choice(WAYBILL_EVENTS), describe=describe, file_index=True
        )
        return [(self._topic(dev.device_id, "event"), payload)]

    def _unlock(self, dev: Device, unlock_type: int, password: str = "") -> list[Push]:
        r = self.rng
        card = f"000{r.randint(1_000_000, 9_999_999)}" if unlock_type == 1 else ""
        dev.lock_status = 1
        out = [
            (
                self._topic(dev.device_id, "event"),
                self._event_payload(dev, 1, unlock_type, card=card, password=password),
            ),
            (self._topic(dev.device_id, "location"), self._location_payload(dev)),
        ]
        if dev.lock_rope != -1:
            dev.lock_rope = 1  # the rope comes out once the lock is open
            out.append(
                (self._topic(dev.device_id, "event"), self._event_payload(dev, 19)),
            )
            out.append((self._topic(dev.device_id, "location"), self._location_payload(dev)))
        return out

    def _lock(self, dev: Device) -> list[Push]:
        out: list[Push] = []
        if dev.lock_rope == 1:
            dev.lock_rope = 0  # rope back in, then the lock closes
            out.append((self._topic(dev.device_id, "location"), self._location_payload(dev)))
        dev.lock_status = 0
        out.append((self._topic(dev.device_id, "event"), self._event_payload(dev, 2, -1)))
        out.append((self._topic(dev.device_id, "location"), self._location_payload(dev)))
        return out

    def _device(self, device_id: str) -> Device:
        try:
            return self.devices[device_id]
        except KeyError:
            raise KeyError(f"device {device_id} is not in the fleet") from None

    def lock_cycle(self, device_id: str, unlock_type: int = 2) -> list[Push]:
        """Unlock then lock again, with the location pushes that show each state change."""
        dev = self._device(device_id)
        out: list[Push] = []
        if dev.lock_status == 1:
            out.extend(self._lock(dev))
        out.extend(self._unlock(dev, unlock_type))
        out.extend(self._lock(dev))
        return out

    def unlock(self, device_id: str, unlock_type: int = 2, password: str = "") -> list[Push]:
        """Only the unlock half, e.g. after a remote unlock command."""
        return self._unlock(self._device(device_id), unlock_type, password)

    def raise_alarm(self, device_id: str, alarm_type: int) -> list[Push]:
        """An alarm push followed by a location marked reportType 2 (alarm), as devices do."""
        dev = self._device(device_id)
        if alarm_type == 40 and dev.lock_rope != -1:
            dev.lock_rope = 1
        return [
            (self._topic(dev.device_id, "alarm"), self._alarm_payload(dev, alarm_type)),
            (self._topic(dev.device_id, "location"), self._location_payload(dev, report_type=2)),
        ]

    def location(self, device_id: str) -> list[Push]:
        """One location push for this device right now (P02, or a demo's 'where is it')."""
        dev = self._device(device_id)
        return [(self._topic(dev.device_id, "location"), self._location_payload(dev))]

    def sublock_push(self, device_id: str, sub_id: str, event_type: int = 6) -> list[Push]:
        """One sub-lock push for a bound sub-lock."""
        dev = self._device(device_id)
        for sl in dev.sublocks:
            if sl.sub_id == sub_id:
                return [(self._sublock_topic(dev, sl), self._sublock_payload(dev, sl, event_type))]
        raise KeyError(f"sub-lock {sub_id} is not bound to {device_id}")

    def unlock_sublock(self, device_id: str, sub_id: str) -> list[Push]:
        """A sub-lock opened over LoRa (WLNET,8): eventType 3, locStatus 1."""
        dev = self._device(device_id)
        for sl in dev.sublocks:
            if sl.sub_id == sub_id:
                sl.loc_status = 1
                sl.loc_times += 1
                return self.sublock_push(device_id, sub_id, 3)
        return []
