"""What the map shows, without any drawing: markers, no-fix devices, selection, a track.

Both map views (QtLocation and the plain fallback) draw from this, so the rules live in one
place: a device is drawn at its last fix, coloured by its status; a device without a fix
(0,0 or locType 0) is never drawn — it is listed under "no fix"; the selected device is
highlighted; its track comes from the journal (fixes only) with its alarms placed on it.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from app.fleet.state import FleetState, Status
from app.journal.queries import track_rows
from app.ui.bounds import TRACK_POINTS
from app.ui.theme import STATUS_COLOURS

TRACK_RANGES: dict[str, float] = {"1 h": 3600.0, "24 h": 86400.0, "7 d": 7 * 86400.0}
MAX_TRACK_ROWS = 2_000_000  # journal rows read for one track (each is thinned as it comes)
DEFAULT_TRACK_POINTS = TRACK_POINTS.default  # points kept per track (File › Settings › Map)


def has_fix(lat: Any, lon: Any, loc_type: Any = None) -> bool:
    if not isinstance(lat, int | float) or not isinstance(lon, int | float):
        return False
    if isinstance(lat, bool) or isinstance(lon, bool):
        return False
    if not (math.isfinite(lat) and math.isfinite(lon)):
        return False
    if loc_type == 0 or (abs(lat) < 1e-9 and abs(lon) < 1e-9):
        return False
    return -90.0 <= lat <= 90.0 and -180.0 <= lon <= 180.0


@dataclass
class Marker:
    device_id: str
    lat: float
    lon: float
    status: Status
    colour: str  # "#rrggbb"
    selected: bool = False


@dataclass
class TrackPoint:
    at: float
    lat: float
    lon: float


@dataclass
class AlarmPoint:
    at: float
    lat: float
    lon: float
    name: str
    approximate: bool = False  # the alarm had no fix: placed at the last fix before it


@dataclass
class Track:
    """The selected device's fixes since `since`, at most `limit` points in memory: past the
    bound the track keeps every 2nd, then every 4th… fix (its stride doubles), so it stays
    the same line, evenly drawn from fewer points, plus the newest fix; every fix stays in
    the journal. At most `limit` alarms too, the newest."""

    device_id: str
    since: float
    points: list[TrackPoint] = field(default_factory=list)
    alarms: list[AlarmPoint] = field(default_factory=list)
    limit: int = DEFAULT_TRACK_POINTS
    fixes: int = 0  # fixes taken, kept or thinned away
    alarms_dropped: int = 0
    stride: int = 1  # points[k] is fix k × stride (the last may be the newest fix instead)
    _tail: bool = False  # points[-1] is the newest fix, off the stride

    def add(self, point: TrackPoint) -> None:
        if self._tail:
            self.points.pop()
        index, self.fixes = self.fixes, self.fixes + 1
        self.points.append(point)
        self._tail = index % self.stride != 0
        if not self._tail and len(self.points) >= self.limit:
            self._halve()

    def _halve(self) -> None:
        """Every other point on the stride (the stride doubles); the newest fix stays."""
        tail = self.points.pop() if self._tail else None
        while len(self.points) >= self.limit:
            self.stride *= 2
            self.points = self.points[::2]
        if tail is not None:
            self.points.append(tail)

    def add_alarm(self, alarm: AlarmPoint) -> None:
        self.alarms.append(alarm)
        if len(self.alarms) > self.limit:
            extra = len(self.alarms) - self.limit
            del self.alarms[:extra]
            self.alarms_dropped += extra

    def set_limit(self, limit: int) -> None:
        self.limit = max(2, int(limit))
        if len(self.points) > self.limit:
            self._halve()
        if len(self.alarms) > self.limit:
            self.alarms_dropped += len(self.alarms) - self.limit
            del self.alarms[:-self.limit]

    @property
    def thinned(self) -> bool:
        """Fewer points in memory than fixes taken (the view says so)."""
        return self.fixes > len(self.points) or self.alarms_dropped > 0

    def describe(self) -> str:
        """'1,234 fixes' or '20,000 of 123,456 fixes (thinned; every fix is in the journal)'."""
        if not self.thinned:
            return f"{self.fixes:,} fix{'es' if self.fixes != 1 else ''}"
        return (f"{len(self.points):,} of {self.fixes:,} fixes (thinned to the bound in "
                "Settings › Map; every fix is in the journal)")

    def bounds(self) -> tuple[float, float, float, float] | None:
        """(lat_min, lat_max, lon_min, lon_max)"""
        pts = [(p.lat, p.lon) for p in self.points] + [(a.lat, a.lon) for a in self.alarms]
        if not pts:
            return None
        lats, lons = [p[0] for p in pts], [p[1] for p in pts]
        return min(lats), max(lats), min(lons), max(lons)


class MapModel:
    """Markers and the no-fix list, refreshed from the fleet state per batch."""

    def __init__(self, fleet: FleetState) -> None:
        self.fleet = fleet
        self.markers: dict[str, Marker] = {}  # insertion order is stable: views index by it
        self.no_fix: set[str] = set()
        self.selected = ""
        self.track: Track | None = None

    def update(self, device_ids: Any = None, now: float | None = None) -> set[str]:
        """Refresh these devices (all when None); returns the ids whose marker changed."""
        ids = self.fleet.devices.keys() if device_ids is None else device_ids
        changed: set[str] = set()
        for device_id in ids:
            dev = self.fleet.devices.get(device_id)
            if dev is None:
                continue
            pos = dev.position
            if pos is None or not has_fix(pos[0], pos[1]):
                self.no_fix.add(device_id)
                if self.markers.pop(device_id, None) is not None:
                    changed.add(device_id)
                continue
            self.no_fix.discard(device_id)
            status = self.fleet.status(device_id, now)
            marker = self.markers.get(device_id)
            if marker is None:
                self.markers[device_id] = Marker(
                    device_id, pos[0], pos[1], status, STATUS_COLOURS[status.value].name(),
                    device_id == self.selected)
                changed.add(device_id)
            elif (marker.lat, marker.lon, marker.status) != (pos[0], pos[1], status):
                marker.lat, marker.lon, marker.status = pos[0], pos[1], status
                marker.colour = STATUS_COLOURS[status.value].name()
                changed.add(device_id)
        return changed

    def refresh_status(self, now: float | None = None) -> set[str]:
        """Online → quiet → offline happens with no push at all: recolour on a timer."""
        changed = set()
        for device_id, marker in self.markers.items():
            status = self.fleet.status(device_id, now)
            if status is not marker.status:
                marker.status = status
                marker.colour = STATUS_COLOURS[status.value].name()
                changed.add(device_id)
        return changed

    def select(self, device_id: str) -> set[str]:
        """Highlight this device (selection from anywhere); returns the markers to repaint."""
        changed = set()
        if self.selected == device_id:
            return changed
        for d in (self.selected, device_id):
            marker = self.markers.get(d)
            if marker is not None:
                marker.selected = d == device_id
                changed.add(d)
        self.selected = device_id
        if self.track is not None and self.track.device_id != device_id:
            self.track = None
        return changed

    def no_fix_ids(self) -> list[str]:
        return sorted(self.no_fix)

    def no_fix_text(self) -> str:
        n = len(self.no_fix)
        return f"no fix: {n} device{'s' if n != 1 else ''}"

    def selected_position(self) -> tuple[float, float] | None:
        marker = self.markers.get(self.selected)
        return (marker.lat, marker.lon) if marker else None

    def nearest(self, lat: float, lon: float, max_deg: float) -> str | None:
        """The marker nearest a clicked point, within max_deg (plain view picking)."""
        best, best_d = None, max_deg
        for marker in self.markers.values():
            d = math.hypot(marker.lat - lat, (marker.lon - lon) * math.cos(math.radians(lat)))
            if d <= best_d:
                best, best_d = marker.device_id, d
        return best


# -- tracks from the journal (worker thread, its own connection) ---------------------------


def track_from_rows(device_id: str, since: float, rows: Iterable[tuple],
                    limit: int = DEFAULT_TRACK_POINTS) -> Track:
    """rows: (received_at, kind, latitude, longitude, locType, alarmName, alarmType) in
    time order. Fixes only; alarms without a fix go to the last fix before them. At most
    `limit` points (thinned as they come, see `Track`)."""
    track = Track(device_id, since, limit=max(2, limit))
    last: TrackPoint | None = None
    for at, kind, lat, lon, loc_type, name, code in rows:
        fix = has_fix(lat, lon, loc_type if kind == "location" else None)
        if kind == "alarm":
            label = str(name) if name else f"Unknown alarm {code}"
            if fix:
                track.add_alarm(AlarmPoint(at, float(lat), float(lon), label))
            elif last is not None:
                track.add_alarm(AlarmPoint(at, last.lat, last.lon, label, approximate=True))
            continue
        if fix:
            last = TrackPoint(at, float(lat), float(lon))
            track.add(last)
    return track


def load_track(conn: sqlite3.Connection, device_id: str, since: float,
               limit: int = DEFAULT_TRACK_POINTS) -> Track:
    return track_from_rows(device_id, since, track_rows(conn, device_id, since, MAX_TRACK_ROWS),
                           limit)


def thin(points: list[TrackPoint], limit: int) -> list[TrackPoint]:
    """At most `limit` points, first and last kept (for the QML polyline)."""
    if len(points) <= limit or limit < 2:
        return points
    step = (len(points) - 1) / (limit - 1)
    return [points[round(i * step)] for i in range(limit)]


# -- Web Mercator, for the plain view (the same projection as the tiles) ---------------------


def mercator_y(lat: float) -> float:
    """Latitude → Mercator y in 'degrees' (so x = longitude keeps aspect 1)."""
    lat = max(-85.0, min(85.0, lat))
    return math.degrees(math.log(math.tan(math.pi / 4 + math.radians(lat) / 2)))


def mercator_lat(y: float) -> float:
    return math.degrees(2 * math.atan(math.exp(math.radians(y))) - math.pi / 2)
