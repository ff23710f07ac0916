"""Posts a simulated fleet's pushes to a webhook receiver, as the vendor's push engine does.

One JSON object per POST, to the Java sample's paths (the seed's "5、Slave Data" posts
sub-lock data to /receiveLocationData too), with the rule's message header if one is given.
Connections are kept alive, as an HTTP engine does. A 503 is retried after its Retry-After
(the platform resends what it was refused); anything else but 200 counts as failed.
"""

from __future__ import annotations

import contextlib
import http.client
import ssl
import threading
import time
from collections.abc import Callable
from typing import Final
from urllib.parse import urlsplit

from app.protocol.topics import parse_topic
from app.sim.fleet import DEFAULT_ALARM_RATE, Fleet
from app.sim.runner import SimStats, SimulatorError

# Kind → the Java sample's @PostMapping path.
JAVA_PATHS: Final[dict[str, str]] = {
    "location": "/receiveLocationData",
    "alarm": "/receiveAlarmData",
    "event": "/receiveEventData",
    "command": "/receiveInsData",
    "sublock": "/receiveLocationData",
}
_RETRIES: Final = 5
_MAX_RETRY_AFTER: Final = 10.0


def webhook_path(topic: str) -> str:
    """The path the Java sample receives the push of an MQTT topic on."""
    return JAVA_PATHS.get(parse_topic(topic).kind, "/receiveLocationData")


class WebhookPoster:
    """POSTs pushes to one base URL (`http[s]://host:port[/prefix]`) over a kept-alive
    connection, reconnecting when the receiver closes it."""

    def __init__(self, url: str, headers: dict[str, str] | None = None,
                 timeout: float = 10.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise SimulatorError(f"webhook URL must be http://HOST[:PORT][/PREFIX], got {url!r}")
        try:
            self._port = parts.port
        except ValueError as exc:
            raise SimulatorError(f"bad port in webhook URL {url!r}") from exc
        self._https = parts.scheme == "https"
        self._host = parts.hostname
        self._prefix = parts.path.rstrip("/")
        self._headers = {"Content-Type": "application/json", **(headers or {})}
        self._timeout = timeout
        self._conn: http.client.HTTPConnection | None = None
        self.url = url

    def _connection(self) -> http.client.HTTPConnection:
        if self._conn is None:
            if self._https:
                self._conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self._timeout,
                    context=ssl.create_default_context())
            else:
                self._conn = http.client.HTTPConnection(self._host, self._port,
                                                        timeout=self._timeout)
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def post(self, path: str, body: bytes) -> int:
        """POST one push; its final status (after retries of 503 and of a dropped
        connection). Raises SimulatorError when the receiver cannot be reached at all."""
        status = 0
        for attempt in range(_RETRIES):
            try:
                conn = self._connection()
                conn.request("POST", self._prefix + path, body=body, headers=self._headers)
                reply = conn.getresponse()
                reply.read()
                status = reply.status
                if reply.getheader("Connection", "").lower() == "close":
                    self.close()
            except (ConnectionError, http.client.HTTPException, TimeoutError) as exc:
                self.close()  # a kept-alive connection the receiver closed: once more
                if attempt == _RETRIES - 1:
                    raise SimulatorError(f"webhook {self.url}: {exc}") from exc
                continue
            except OSError as exc:
                self.close()
                raise SimulatorError(f"cannot reach webhook {self.url}: {exc}") from exc
            if status != 503:
                return status
            retry_after = reply.getheader("Retry-After", "1")
            with contextlib.suppress(ValueError):
                time.sleep(min(float(retry_after), _MAX_RETRY_AFTER))
        return status


def run_webhook_simulator(
    url: str,
    *,
    headers: dict[str, str] | None = None,
    access_key: str = "SIM",
    devices: int = 20,
    rate: float | None = None,
    duration: float | None = None,
    count: int | None = None,
    seed: int | None = None,
    on_progress: Callable[[SimStats], None] | None = None,
    stop_event: threading.Event | None = None,
    fleet: Fleet | None = None,
    alarm_rate: float = DEFAULT_ALARM_RATE,
) -> SimStats:
    """Post the fleet's stream until `count` pushes or `duration` seconds (or stop_event).

    `published` counts posts, `acknowledged` those answered 200, `unacknowledged` the rest.
    Raises SimulatorError on a bad URL or an unreachable receiver; a first post refused with
    401/404/405 stops the run at once (a wrong header or URL fails every post the same way).
    """
    poster = WebhookPoster(url, headers)
    rate = rate if rate and rate > 0 else None
    # Paced, alarms come at `alarm_rate` per device-hour; flat out, as a share of the posts.
    fleet = fleet or Fleet(access_key, devices=devices, seed=seed,
                           alarm_rate=alarm_rate if rate is not None else None)
    stats = SimStats()
    t0 = time.monotonic()
    next_progress = t0 + 1.0
    try:
        while True:
            if stop_event is not None and stop_event.is_set():
                break
            if count is not None and stats.published >= count:
                break
            now = time.monotonic()
            if duration is not None and now - t0 >= duration:
                break
            if rate is not None:  # pacing: the next push is due at published / rate
                wait = stats.published / rate - (now - t0)
                if wait > 0:
                    time.sleep(min(wait, 0.05))
                    continue
            with fleet.lock:
                topic, payload = fleet.next_push()
            status = poster.post(webhook_path(topic), payload)
            stats.published += 1
            if status == 200:
                stats.acknowledged += 1
            elif stats.acknowledged == 0 and status in (401, 404, 405):
                raise SimulatorError(f"webhook {url} answered {status} "
                                     f"({'wrong or missing header' if status == 401 else 'URL'})")
            stats.seconds = time.monotonic() - t0
            if on_progress is not None and now >= next_progress:
                next_progress = now + 1.0
                on_progress(stats)
    except KeyboardInterrupt:
        pass
    finally:
        poster.close()
    stats.seconds = time.monotonic() - t0
    stats.unacknowledged = stats.published - stats.acknowledged
    return stats
