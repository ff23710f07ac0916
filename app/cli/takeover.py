"""A stopped member's pushes taken over by the recorders still running (issue 23).

mosquitto 2.0 keeps a shared-subscription member's session when it stops — killed or not —
and goes on giving it its share of new pushes; neither they nor the ones it had not
acknowledged go to the other members (measured: tests/team/test_record_share.py). Left
alone they wait for that recorder to come back, and a broker that limits what it queues for a
client drops the share past the limit meanwhile.

So the recorders of a group on a shared journal watch each other there: each holds its
client id in the journal while it runs (`claim.py`, on a connection named after the group,
which the others see in `pg_stat_activity`). When a member's hold goes away and one of the
others can take it, that one connects *as the stopped member* (the same client id, its
persistent session): the broker delivers everything the session holds, which is journaled
and acknowledged as usual (a push the stopped member had committed but not acknowledged
comes twice: the journal keeps it once). At once it unsubscribes the session from the group,
so the broker hands all new pushes to the members still running; once the session is
drained it hangs up and lets the hold go. The stopped member rejoins the group when it starts
again (record subscribes at every connect), as late as it likes.

A member stopped before this recorder first saw it is not known to it, and is left for its
own return; so is one whose client id is longer than 40 characters (its connection's name
would be cut short). A member whose hold was lost while it runs (its connection to the journal cut)
takes its session back when the takeover connects: the takeover notices and leaves it.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import sys
import threading
import time
from dataclasses import replace

from app.journal.process_writer import connected_names
from app.pipeline import Recorder
from app.transport.settings import ConnectionSettings

log = logging.getLogger(__name__)

POLL_S = 1.0  # how often the members are looked at
IDLE_S = 1.5  # a taken-over session is drained once nothing came for this long
MAX_TAKEOVER_S = 600.0  # hang up anyway after this long (its rest waits for its return)


def group_tag(broker: str, group: str) -> str:
    """Names the group at its broker in a connection's application_name (63 bytes at most)."""
    return hashlib.sha256(f"{broker} {group}".encode()).hexdigest()[:8]


def member_name(tag: str, client_id: str) -> str:
    """The application_name of a member's hold (`claim.claim_client_id`)."""
    return f"sealdesk rec {tag} {client_id}"[:63]


def taking_over_name(client_id: str) -> str:
    """The application_name of the connection holding a member's id while it is taken over:
    a member starting again waits for it instead of being refused."""
    return f"sealdesk taking over {client_id}"[:63]


def hold_key(broker: str, client_id: str) -> str:
    """What the advisory lock of a client id at a broker is made from (`claim.py`)."""
    return f"sealdesk-recorder:{broker} {client_id}"


class Takeover:
    """Watches the other members of the group in the shared journal and takes over the
    session of one that stops (see the module)."""

    def __init__(self, url: str, recorder: Recorder, settings: ConnectionSettings,
                 group: str) -> None:
        self.url = url
        self.recorder = recorder
        self.settings = settings
        self.broker = f"{settings.host}:{settings.port}"
        self.tag = group_tag(self.broker, group)
        self.taken: dict[str, int] = {}  # member → pushes taken from its session
        self._seen: set[str] = set()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> Takeover:
        self._thread = threading.Thread(target=self._run, name="share-takeover", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(MAX_TAKEOVER_S)

    def _run(self) -> None:
        import psycopg

        conn = None
        while not self._stop.is_set():
            try:
                if conn is None or conn.closed:
                    conn = psycopg.connect(self.url, autocommit=True, connect_timeout=15,
                                           application_name="sealdesk takeover watch")
                    # Members seen before may have lost their holds with the server (a
                    # restart): only those seen on this connection count.
                    self._seen = set()
                for member in self._stopped_members(conn):
                    self._take_over(conn, member)
            except psycopg.Error as exc:  # the journal's server out of reach: try again
                log.warning("takeover watch: %s", exc)
                with contextlib.suppress(Exception):
                    conn.close()  # type: ignore[union-attr]
                conn = None
            except Exception:  # never silently: the watch goes on
                log.exception("takeover watch failed; watching on")
            self._stop.wait(POLL_S)
        if conn is not None:
            conn.close()

    def _stopped_members(self, conn) -> list[str]:
        """Members seen running before whose hold is gone now."""
        prefix = member_name(self.tag, "")
        # A name of 63 bytes may have been cut short (PostgreSQL's limit): not an id to use.
        running = {name[len(prefix):] for name in connected_names(conn, prefix)
                   if len(name.encode()) < 63}
        running.discard(self.settings.client_id)
        gone = sorted(self._seen - running)
        self._seen = (self._seen | running) - set(gone)  # looked at once each time it stops
        return gone

    def _take_over(self, conn, member: str) -> None:
        """Hold the member's id on a connection named for the takeover (a member starting
        again waits for it), take its session over, let the id go."""
        import psycopg

        from app.journal import pg_holds

        key = hold_key(self.broker, member)
        with psycopg.connect(self.url, autocommit=True, connect_timeout=15,
                             application_name=taking_over_name(member)) as holder:
            if not pg_holds.try_hold(holder, key):  # back already, or taken over by another
                return
            try:
                print(f"share: {member} stopped; taking over its session", file=sys.stderr,
                      flush=True)
                taken = self._drain(member)
                self.taken[member] = self.taken.get(member, 0) + taken
                print(f"share: took {taken} pushes from {member}'s session; the group has "
                      "its share until it starts again", file=sys.stderr, flush=True)
            finally:
                with contextlib.suppress(psycopg.Error):
                    pg_holds.let_go(holder, key)

    def _drain(self, member: str) -> int:
        """Connect as `member`, leave the group, journal what its session holds, hang up."""
        settings = replace(self.settings, client_id=member, topics=(),
                           profile=f"takeover {member}")
        left = threading.Event()
        transport = self.recorder.connect(settings)
        try:
            if not transport.wait_connected(30):
                return 0
            transport.client.on_unsubscribe = lambda *a: left.set()
            transport.client.unsubscribe(list(self.settings.topics))
            left.wait(30)
            deadline = time.monotonic() + MAX_TAKEOVER_S
            last, quiet_since = -1, time.monotonic()
            while time.monotonic() < deadline and not self._stop.is_set():
                if not transport.wait_connected(0) or transport.sessions > 1:
                    # The member is alive after all (only its hold was lost) and took its
                    # session back: leave it to it (it joins the group again at connect).
                    print(f"share: {member} is still connected; its session is left to it",
                          file=sys.stderr, flush=True)
                    break
                if transport.received != last:
                    last, quiet_since = transport.received, time.monotonic()
                elif (time.monotonic() - quiet_since >= IDLE_S
                      and self.recorder.writer.pending == 0):
                    break
                time.sleep(0.1)
            return transport.received
        finally:
            self.recorder.disconnect(settings.profile)  # acknowledges what it has, hangs up
