"""Time series of one device's readings, from the journal and from live pushes. No Qt.

History comes from SQLite in one indexed query per kind, with `json_extract` pulling only
the numbers (decoding 600 000 JSON documents in Python would take seconds; SQLite's JSON1
does it in C). Columns land in numpy arrays; gaps — where the device was silent for longer
than `gap_threshold()` — become a NaN sample so the curve breaks there (`connect="finite"`).
Sentinels are already None in the decoded data; None becomes NaN and is never drawn.
Live records are appended to growable arrays; the widget calls `setData` from one timer.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from app.journal import readings
from app.journal.queries import oldest_push_at
from app.journal.readings import Column, ReadingRange

DEFAULT_CHART_POINTS = 50_000  # points per stream kept in memory (File › Settings › Charts)
MIN_GAP_S = 300.0  # a silence shorter than this is never a gap
GAP_FACTOR = 3.0  # ... and longer than this many median intervals is one


@dataclass(frozen=True)
class PlotSpec:
    key: str
    title: str
    unit: str
    default: bool = False  # shown until the dispatcher chooses otherwise


@dataclass(frozen=True)
class FieldSpec:
    key: str  # unique
    plot: str  # PlotSpec.key it is drawn in
    kind: str  # 'location' or 'sublock'
    path: tuple[str, ...]  # inside the decoded data
    suffix: str = ""  # added to the curve name (one plot, several curves per device)
    column: str = ""  # in the journal's `reading` table (defaults to the key)

    @property
    def reading_column(self) -> Column:
        """The `reading` column, and whether 0 there means "no reading"."""
        return self.column or self.key, self.key in ZERO_IS_MISSING


PLOTS: tuple[PlotSpec, ...] = (
    PlotSpec("battery", "Battery", "%", True),
    PlotSpec("voltage", "Voltage", "V", True),
    PlotSpec("temperature", "Temperature", "℃", True),
    PlotSpec("humidity", "Humidity", "%", False),
    PlotSpec("speed", "Speed", "km/h", True),
    PlotSpec("cell", "Cell signal", "", False),
    PlotSpec("gnss", "Satellite signal", "", False),
    PlotSpec("sub_temperature", "Sub-lock temperature", "℃", False),
    PlotSpec("sub_humidity", "Sub-lock humidity", "%", False),
    PlotSpec("sub_battery", "Sub-lock battery", "%", False),
    PlotSpec("sub_rssi", "Sub-lock RSSI", "", False),
    PlotSpec("led_voltage", "LED voltage", "V", False),
    PlotSpec("led_current", "LED current", "", False),
    PlotSpec("luminance", "Luminance", "", False),
    PlotSpec("vibration", "Vibration", "", False),
)
PLOT_BY_KEY = {p.key: p for p in PLOTS}

LOCATION_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("battery", "battery", "location", ("battery",)),
    FieldSpec("voltage", "voltage", "location", ("voltage",)),
    FieldSpec("temperature", "temperature", "location", ("expandInfo", "temperature")),
    FieldSpec("humidity", "humidity", "location", ("expandInfo", "humidity")),
    FieldSpec("speed", "speed", "location", ("speed",)),
    FieldSpec("cell", "cell", "location", ("cellSignal",), column="cell_signal"),
    FieldSpec("gnss", "gnss", "location", ("gnssSignal",), column="gnss_signal"),
    FieldSpec("led_voltage", "led_voltage", "location", ("ksInfo", "volValue")),
    FieldSpec("led_current", "led_current", "location", ("ksInfo", "eleValue")),
    *(
        FieldSpec(f"luminance{i}", "luminance", "location", ("ksInfo", f"luminance{i}"),
                  f" LED {i}", f"luminance{i}")
        for i in range(1, 5)
    ),
    FieldSpec("vibration", "vibration", "location", ("ksInfo", "vibrate")),
)
SUBLOCK_FIELDS: tuple[FieldSpec, ...] = (
    FieldSpec("sub_temperature", "sub_temperature", "sublock", ("temperature",),
              column="temperature"),
    FieldSpec("sub_humidity", "sub_humidity", "sublock", ("humidity",), column="humidity"),
    FieldSpec("sub_battery", "sub_battery", "sublock", ("battery",), column="battery"),
    FieldSpec("sub_rssi", "sub_rssi", "sublock", ("rssi",), column="rssi"),
)
FIELDS: tuple[FieldSpec, ...] = LOCATION_FIELDS + SUBLOCK_FIELDS
FIELD_BY_KEY = {f.key: f for f in FIELDS}


def number(value: Any) -> float:
    """A plottable float, or NaN for None, sentinels already nulled, text, bools and NaN."""
    if type(value) is int or type(value) is float:
        return float(value) if math.isfinite(value) else math.nan
    return math.nan


# Devices report voltage "0.0" now and then when they have no reading (a powered device
# cannot be at 0 V): drawn as a missing value, not as a dive to zero.
ZERO_IS_MISSING = frozenset({"voltage"})


def extract(data: dict[str, Any], fields: Sequence[FieldSpec]) -> list[float]:
    out = []
    for spec in fields:
        value: Any = data
        for part in spec.path:
            value = value.get(part) if isinstance(value, dict) else None
        x = number(value)
        out.append(math.nan if x == 0.0 and spec.key in ZERO_IS_MISSING else x)
    return out


def gap_threshold(t: np.ndarray) -> float:
    """Seconds of silence that make a gap: 3× the median interval, at least 5 minutes."""
    if len(t) < 2:
        return MIN_GAP_S
    median = float(np.median(np.diff(t)))
    return max(GAP_FACTOR * median, MIN_GAP_S)


def insert_gaps(t: np.ndarray, columns: np.ndarray, threshold: float) -> tuple[np.ndarray,
                                                                                np.ndarray]:
    """A NaN row half-way through every silence longer than `threshold` (columns: n × k)."""
    if len(t) < 2:
        return t, columns
    d = np.diff(t)
    at = np.nonzero(d > threshold)[0]
    if not len(at):
        return t, columns
    mid = t[at] + d[at] / 2
    t2 = np.insert(t, at + 1, mid)
    c2 = np.insert(columns, at + 1, np.nan, axis=0)
    return t2, c2


class Grow:
    """A float64 array that grows by doubling; `view()` is what to draw."""

    __slots__ = ("_a", "n")

    def __init__(self, initial: np.ndarray | None = None, capacity: int = 256) -> None:
        initial = np.empty(0) if initial is None else np.asarray(initial, dtype=float)
        self.n = len(initial)
        self._a = np.empty(max(capacity, self.n * 2 if self.n else capacity))
        self._a[: self.n] = initial

    def extend(self, values: Sequence[float] | np.ndarray) -> None:
        k = len(values)
        if self.n + k > len(self._a):
            bigger = np.empty(max(len(self._a) * 2, self.n + k))
            bigger[: self.n] = self._a[: self.n]
            self._a = bigger
        self._a[self.n : self.n + k] = values
        self.n += k

    def view(self) -> np.ndarray:
        return self._a[: self.n]

    def __len__(self) -> int:
        return self.n

    def last(self) -> float:
        return float(self._a[self.n - 1]) if self.n else math.nan


@dataclass
class Stream:
    """All fields of one stream (a device's locations, or one sub-lock) on one time base."""

    fields: tuple[FieldSpec, ...]
    t: Grow = field(default_factory=Grow)
    ys: list[Grow] = field(default_factory=list)
    threshold: float = MIN_GAP_S
    samples: int = 0  # real samples, not counting gap markers

    def __post_init__(self) -> None:
        if not self.ys:
            self.ys = [Grow() for _ in self.fields]

    @classmethod
    def from_arrays(cls, fields: tuple[FieldSpec, ...], t: np.ndarray, columns: np.ndarray,
                    threshold: float | None = None, samples: int | None = None) -> Stream:
        """History: t sorted, columns n × len(fields), NaN for missing."""
        threshold = gap_threshold(t) if threshold is None else threshold
        samples = len(t) if samples is None else samples
        t, columns = insert_gaps(t, columns.reshape(len(t), len(fields)), threshold)
        return cls(fields, Grow(t), [Grow(columns[:, i]) for i in range(len(fields))],
                   threshold, samples)

    def append(self, rows: Sequence[tuple[float, Sequence[float]]]) -> int:
        """Live samples in time order (older than the last one are dropped). Returns added."""
        ts: list[float] = []
        cols: list[list[float]] = [[] for _ in self.fields]
        last = self.t.last()
        added = 0
        for at, values in rows:
            if last == last and at < last:  # out of order: already drawn past it
                continue
            if last == last and at - last > self.threshold:
                ts.append(last + (at - last) / 2)
                for c in cols:
                    c.append(math.nan)
            ts.append(at)
            for c, v in zip(cols, values, strict=True):
                c.append(v)
            last = at
            added += 1
        if ts:
            self.t.extend(ts)
            for g, c in zip(self.ys, cols, strict=True):
                g.extend(c)
            self.samples += added
        return added

    def trim(self, max_points: int) -> float | None:
        """Past `max_points`, drop the oldest to three quarters of it (the next trim is a
        quarter away); returns the time of the oldest point kept, or None if nothing went."""
        n = len(self.t)
        if n <= max_points:
            return None
        cut = n - max(1, max_points * 3 // 4)
        dropped = self.t.view()[:cut]
        self.samples = max(0, self.samples - int(np.count_nonzero(
            ~np.all(np.isnan(np.column_stack([y.view()[:cut] for y in self.ys])), axis=1))
            if self.ys else len(dropped)))
        self.t = Grow(self.t.view()[cut:])
        self.ys = [Grow(y.view()[cut:]) for y in self.ys]
        return float(self.t.view()[0])

    @classmethod
    def concat(cls, older: Stream, newer: Stream) -> Stream:
        """`older` (an earlier stretch of history) followed by `newer`."""
        if not len(older.t):
            return newer
        if not len(newer.t):
            return older
        threshold = newer.threshold if newer.samples > 1 else older.threshold
        t_old, t_new = older.t.view(), newer.t.view()
        t_old = t_old[t_old < t_new[0]]
        k = len(t_old)
        parts_t = [t_old]
        gap = bool(k) and t_new[0] - t_old[-1] > threshold
        if gap:
            parts_t.append(np.array([(t_old[-1] + t_new[0]) / 2]))
        parts_t.append(t_new)
        ys = []
        for yo, yn in zip(older.ys, newer.ys, strict=True):
            parts = [yo.view()[:k]] + ([np.array([np.nan])] if gap else []) + [yn.view()]
            ys.append(Grow(np.concatenate(parts)))
        return cls(newer.fields, Grow(np.concatenate(parts_t)), ys, threshold,
                   older.samples + newer.samples)

    def series(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        i = next(i for i, f in enumerate(self.fields) if f.key == key)
        return self.t.view(), self.ys[i].view()

    def present(self) -> list[FieldSpec]:
        """Fields with at least one real value (a device without that sensor has none)."""
        return [f for f, y in zip(self.fields, self.ys, strict=True)
                if len(y) and not np.all(np.isnan(y.view()))]


@dataclass
class AlarmMark:
    at: float
    name: str
    code: int | None
    push_id: int


@dataclass
class DeviceSeries:
    """Everything charted for one device."""

    device: str
    location: Stream = field(default_factory=lambda: Stream(LOCATION_FIELDS))
    sublocks: dict[str, Stream] = field(default_factory=dict)
    alarms: list[AlarmMark] = field(default_factory=list)
    charging_starts: list[float] = field(default_factory=list)  # when charging began
    max_push_id: int = 0  # history covers ids up to here; live rows at or below are skipped
    rows: int = 0  # journal rows read
    _charging: bool = False
    # Points kept per stream (File › Settings › Charts); past it the oldest go and the
    # series is a window: before `window_from` only the journal has them (read on demand).
    limit: int = DEFAULT_CHART_POINTS
    window_from: float | None = None

    def trim(self) -> bool:
        """Keep each stream, the alarm marks and the charging marks within `limit`; True
        when anything went."""
        cut = -math.inf
        for stream in (self.location, *self.sublocks.values()):
            at = stream.trim(self.limit)
            if at is not None:
                cut = max(cut, at)
        if len(self.alarms) > self.limit:
            cut = max(cut, self.alarms[len(self.alarms) - self.limit * 3 // 4].at)
        if cut == -math.inf:
            return False
        self.alarms = [a for a in self.alarms if a.at >= cut]
        self.charging_starts = [c for c in self.charging_starts if c >= cut]
        self.window_from = max(cut, self.window_from or -math.inf)
        return True

    def held(self) -> int:
        """Points in memory, the most of any stream (each is bounded by `limit`)."""
        return max((len(st.t) for st in (self.location, *self.sublocks.values())), default=0)

    # -- live ---------------------------------------------------------------------

    def add_records(self, records: Iterable[tuple[int, Any]]) -> bool:
        """Live `(push_id, PushRecord)` of this device; True when anything was added."""
        loc: list[tuple[float, list[float]]] = []
        subs: dict[str, list[tuple[float, list[float]]]] = {}
        changed = False
        for push_id, record in records:
            if push_id <= self.max_push_id or record.device != self.device:
                continue
            at = record.raw.received_at
            data = record.data
            if record.kind == "location":
                loc.append((at, extract(data, LOCATION_FIELDS)))
                self._note_charging(at, data.get("charging"))
            elif record.kind == "sublock":
                sub = record.sublock or str(data.get("subAssetID") or "?")
                subs.setdefault(sub, []).append((at, extract(data, SUBLOCK_FIELDS)))
            elif record.kind == "alarm":
                code = data.get("alarmType")
                self.alarms.append(AlarmMark(at, alarm_name(data.get("alarmName"), code),
                                             code if isinstance(code, int) else None, push_id))
                changed = True
        if loc:
            changed |= self.location.append(loc) > 0
        for sub, rows in subs.items():
            stream = self.sublocks.get(sub)
            if stream is None:
                stream = self.sublocks[sub] = Stream(SUBLOCK_FIELDS)
            changed |= stream.append(rows) > 0
        if changed:
            self.trim()
        return changed

    def prepend(self, older: DeviceSeries) -> None:
        """Merge an older stretch of history loaded after this one (newest first)."""
        self.location = Stream.concat(older.location, self.location)
        for sub, stream in older.sublocks.items():
            mine = self.sublocks.get(sub)
            self.sublocks[sub] = stream if mine is None else Stream.concat(stream, mine)
        first = self.alarms[0].at if self.alarms else math.inf
        self.alarms[:0] = [a for a in older.alarms if a.at < first]
        first = self.charging_starts[0] if self.charging_starts else math.inf
        self.charging_starts[:0] = [c for c in older.charging_starts if c < first]
        self.rows += older.rows
        self.trim()

    def _note_charging(self, at: float, charging: Any) -> None:
        now = charging is True or charging == 1
        if now and not self._charging:
            self.charging_starts.append(at)
        self._charging = now

    # -- reading ---------------------------------------------------------------------

    def curves(self) -> list[tuple[FieldSpec, str, Stream]]:
        """(field, curve name, stream) for every field with data."""
        out = [(f, self.device + f.suffix, self.location) for f in self.location.present()]
        for sub, stream in sorted(self.sublocks.items()):
            out += [(f, f"{self.device}/{sub}", stream) for f in stream.present()]
        return out

    def time_span(self) -> tuple[float, float] | None:
        lo, hi = math.inf, -math.inf
        for stream in (self.location, *self.sublocks.values()):
            t = stream.t.view()
            if len(t):
                lo, hi = min(lo, t[0]), max(hi, t[-1])
        return (lo, hi) if lo <= hi else None


def alarm_name(name: Any, code: Any) -> str:
    return str(name) if name else f"Unknown alarm {code}"


# -- history from the journal ---------------------------------------------------------


def _floats(rows: list[tuple], width: int) -> np.ndarray:
    """rows → n × width float array; None and anything not a number → NaN."""
    if not rows:
        return np.empty((0, width))
    try:
        return np.array(rows, dtype=float).reshape(len(rows), width)
    except (TypeError, ValueError):  # a text value where a number belongs
        return np.array([[number(v) for v in row] for row in rows]).reshape(len(rows), width)


def _zero_is_missing(fields: Sequence[FieldSpec], data: np.ndarray) -> np.ndarray:
    for i, spec in enumerate(fields):
        if spec.key in ZERO_IS_MISSING and len(data):
            column = data[:, i]
            column[column == 0.0] = np.nan
    return data


DOWNSAMPLE_ROWS = 20_000  # a range with more readings than this is downsampled by SQLite
BUCKETS = 5_000  # ... into this many time buckets, each drawn as its min and its max


def _bucket(conn: sqlite3.Connection, rng: ReadingRange, buckets: int = BUCKETS
            ) -> tuple[float, float, int]:
    """(first reading's time, bucket width in s, newest reading's push id) for `buckets`
    buckets over the range."""
    found = readings.bounds(conn, rng)
    if found is None:
        return 0.0, 1.0, 0
    lo, hi, newest = found
    return lo, max((hi - lo) / buckets, 1e-3), newest


def downsampling_for(limit: int) -> tuple[int, int]:
    """(readings read as they are, buckets beyond) for one chunk of history, so that the
    two chunks a chart loads (its range, then all older) fit in `limit` points a stream."""
    downsample = max(200, min(DOWNSAMPLE_ROWS, limit // 2))
    return downsample, max(50, min(BUCKETS, downsample // 4))


def _peaks(rows: list[tuple], width: int, t0: float, bucket: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, float, int]:
    """Bucket rows (k, count, t_min, t_max, charging, min₁, max₁, …) → each bucket as two
    samples, (t_min, minima) and (t_max, maxima) — peak downsampling, so a spike survives —
    plus the charging flags, the gap threshold and the rows covered.

    A bucket without readings is absent, so its silence becomes a gap: the threshold is at
    least one bucket (and never below the usual minimum gap)."""
    a = _floats(rows, 5 + 2 * width)
    count = int(a[:, 1].sum())
    single = a[:, 2] == a[:, 3]
    t = np.column_stack((a[:, 2], a[:, 3])).ravel()
    values = np.stack((a[:, 5::2], a[:, 6::2]), axis=1).reshape(-1, width)
    charging = np.repeat(a[:, 4] == 1, 2)
    keep = ~np.column_stack((np.zeros(len(a), bool), single)).ravel()
    span = float(a[-1, 3] - a[0, 2]) if len(a) else 0.0
    interval = span / max(count - 1, 1)
    threshold = max(GAP_FACTOR * interval, MIN_GAP_S, bucket)
    return t[keep], values[keep], charging[keep], threshold, count


def _columns(fields: Sequence[FieldSpec], wanted: set[str] | None) -> list[Column]:
    return [f.reading_column if wanted is None or f.key in wanted else None for f in fields]


def load_history(
    conn: sqlite3.Connection,
    device: str,
    *,
    since: float | None = None,
    until: float | None = None,
    max_rows: int = 2_000_000,
    fields: set[str] | None = None,
    downsample: int = DOWNSAMPLE_ROWS,
    buckets: int = BUCKETS,
) -> DeviceSeries:
    """One device's series from the journal (run it in a worker, on its own connection).

    Readings come from the narrow `reading` table (no JSON). Up to `downsample` readings
    in the range are read as they are; more are grouped by SQLite into `buckets` time
    buckets, each kept as its min and max (spikes survive, empty buckets are gaps)."""
    out = DeviceSeries(device)

    # Locations (index reading_device_time).
    loc = ReadingRange(device, since, until)
    columns = _columns(LOCATION_FIELDS, fields)
    if readings.more_than(conn, loc, downsample):
        t0, bucket, newest = _bucket(conn, loc, buckets)
        rows = readings.location_buckets(conn, loc, columns, t0, bucket, buckets)
        if rows:
            t, data, charging, threshold, count = _peaks(rows, len(LOCATION_FIELDS), t0,
                                                         bucket)
            out.rows += count
            out.max_push_id = newest
            out.location = Stream.from_arrays(LOCATION_FIELDS, t, data, threshold, count)
            _charging_starts(out, t, charging)
    else:
        rows = readings.location_rows(conn, loc, columns, max_rows)
        out.rows += len(rows)
        if rows:
            a = _floats(rows, 3 + len(LOCATION_FIELDS))
            out.max_push_id = int(a[:, 0].max())
            out.location = Stream.from_arrays(LOCATION_FIELDS, a[:, 1], a[:, 3:])
            _charging_starts(out, a[:, 1], a[:, 2] == 1)

    # Sub-locks: one stream per sub-lock.
    sub = ReadingRange(device, since, until, sublocks=True)
    columns = _columns(SUBLOCK_FIELDS, None)
    by_sub: dict[str, list[tuple]] = {}
    if readings.more_than(conn, sub, downsample):
        t0, bucket, newest = _bucket(conn, sub, buckets)
        out.max_push_id = max(out.max_push_id, newest)
        for r in readings.sublock_buckets(conn, sub, columns, t0, bucket):
            by_sub.setdefault(r[0], []).append(r[1:])
        for name, sub_rows in by_sub.items():
            t, data, _, threshold, count = _peaks(sub_rows, len(SUBLOCK_FIELDS), t0, bucket)
            out.rows += count
            out.sublocks[name] = Stream.from_arrays(SUBLOCK_FIELDS, t, data, threshold, count)
    else:
        rows = readings.sublock_rows(conn, sub, columns, max_rows)
        out.rows += len(rows)
        for r in rows:
            by_sub.setdefault(r[2], []).append(r)
            out.max_push_id = max(out.max_push_id, r[0])
        for name, sub_rows in by_sub.items():
            t = np.array([r[1] for r in sub_rows], dtype=float)
            out.sublocks[name] = Stream.from_arrays(
                SUBLOCK_FIELDS, t, _floats([r[3:] for r in sub_rows], len(SUBLOCK_FIELDS)))

    # Alarms: markers on the time line.
    rows = readings.alarm_marks(conn, device, since, until)
    out.rows += len(rows)
    for push_id, at, name, code in rows:
        out.alarms.append(AlarmMark(at, alarm_name(name, code),
                                    code if isinstance(code, int) else None, push_id))
        out.max_push_id = max(out.max_push_id, push_id)
    return out


def _charging_starts(out: DeviceSeries, t: np.ndarray, charging: np.ndarray) -> None:
    if not len(t):
        return
    starts = np.nonzero(charging & ~np.concatenate(([False], charging[:-1])))[0]
    out.charging_starts = [float(t[i]) for i in starts]
    out._charging = bool(charging[-1])


def probe_fields(conn: sqlite3.Connection, device: str, sample: int = 30) -> set[str]:
    """Location fields this device reports at all (from its newest readings): the history
    query then reads only those."""
    counts = readings.reported(conn, device, _columns(LOCATION_FIELDS, None), sample)
    return {f.key for f, n in zip(LOCATION_FIELDS, counts, strict=True) if n}


def oldest(conn: sqlite3.Connection, device: str) -> float | None:
    return oldest_push_at(conn, device)


def series_from_rows(device: str, rows: Iterable[Any]) -> DeviceSeries:
    """The same series from `JournalRow`s (decoded dicts) — for tests and small exports."""
    loc_t: list[float] = []
    loc_v: list[list[float]] = []
    subs: dict[str, tuple[list[float], list[list[float]]]] = {}
    out = DeviceSeries(device)
    charging: list[bool] = []
    for row in sorted(rows, key=lambda r: (r.received_at, r.id)):
        if row.device != device:
            continue
        out.rows += 1
        out.max_push_id = max(out.max_push_id, row.id)
        if row.kind == "location":
            loc_t.append(row.received_at)
            loc_v.append(extract(row.data, LOCATION_FIELDS))
            charging.append(row.data.get("charging") is True)
        elif row.kind == "sublock":
            sub = row.sublock or str(row.data.get("subAssetID") or "?")
            ts, vs = subs.setdefault(sub, ([], []))
            ts.append(row.received_at)
            vs.append(extract(row.data, SUBLOCK_FIELDS))
        elif row.kind == "alarm":
            code = row.data.get("alarmType")
            out.alarms.append(AlarmMark(row.received_at, alarm_name(row.data.get("alarmName"),
                                        code), code if isinstance(code, int) else None, row.id))
    if loc_t:
        out.location = Stream.from_arrays(LOCATION_FIELDS, np.array(loc_t),
                                          np.array(loc_v, dtype=float))
        prev = False
        for at, ch in zip(loc_t, charging, strict=True):
            if ch and not prev:
                out.charging_starts.append(at)
            prev = ch
        out._charging = prev
    for sub, (ts, vs) in subs.items():
        out.sublocks[sub] = Stream.from_arrays(SUBLOCK_FIELDS, np.array(ts),
                                               np.array(vs, dtype=float))
    return out
