"""Whether the feed that carries a device can be trusted right now. No Qt.

A device's status (online / quiet / offline) is read off the age of its last push, and that
age only means something while pushes can reach us. When the connection profile that carries
a device is down — disconnected, retrying, refused — or has delivered nothing at all for
longer than its own quiet threshold, silence says nothing about the device: its status is
*unknown*, "feed down since 10:42", never the green "online" it last earned.

When the feed comes back, a device becomes known again from what arrives (the broker's
queued backlog first): until one of its pushes arrives, or a whole quiet threshold of
feed-up time has passed without one, it stays unknown ("feed back at 10:47, nothing from it
since"). Only then does plain age decide again (quiet, offline).

`Feeds` holds one `Feed` per profile the window has a connection state for. A profile it
knows nothing of (tests feeding decoded pushes straight in, a journal replay) is trusted:
plain age decides, as before.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(slots=True)
class Feed:
    """One connection profile's feed, as its transport reported it."""

    profile: str
    up: bool = False
    since: float = 0.0  # when it last went up (up) or down (not up)
    last_push: float = 0.0  # arrival time of the newest push through it
    reason: str = ""  # why it is down, in the transport's words
    by_user: bool = False  # down because the dispatcher disconnected it
    ever_up: bool = False  # it has been connected at least once

    def heard_at(self) -> float:
        """The last sign of life while up: its newest push, or when it came up."""
        return max(self.last_push, self.since)

    def down_since(self, now: float, quiet_after: float) -> float | None:
        """Since when this feed cannot be trusted (down, or silent for `quiet_after` s);
        None while it can."""
        if not self.up:
            return self.since
        heard = self.heard_at()
        if now - heard >= quiet_after:
            return heard
        return None


@dataclass(frozen=True, slots=True)
class Doubt:
    """Why a device's status is unknown: its feed is down (`back_at` None) since `since`,
    or it came back at `back_at` and nothing has arrived from the device since."""

    profile: str
    since: float
    back_at: float | None = None
    reason: str = ""

    def describe(self, clock: str) -> str:
        """'feed down since 10:42' / 'feed back at 10:47, no push since'; `clock` is the
        time as the caller shows it (the core does not know the local time format)."""
        if self.back_at is None:
            return f"feed down since {clock}"
        return f"feed back at {clock}, no push since"


class Feeds:
    """Every known profile's feed, and the per-profile "feed quiet after" thresholds."""

    def __init__(self) -> None:
        self.feeds: dict[str, Feed] = {}
        self.quiet_after: dict[str, float] = {}  # profile → seconds (else the fleet's own)
        self.changes = 0  # counts every change of up/down: views compare it to redraw

    # -- what the transports say ----------------------------------------------------------

    def went_up(self, profile: str, at: float) -> None:
        feed = self.feeds.get(profile)
        if feed is None:
            feed = self.feeds[profile] = Feed(profile)
        if feed.up:
            return
        feed.up, feed.since, feed.reason, feed.by_user = True, at, "", False
        feed.ever_up = True
        self.changes += 1

    def went_down(self, profile: str, at: float, reason: str = "", *,
                  by_user: bool = False) -> None:
        """A feed that is down already keeps the time it went down (a reconnect attempt that
        fails does not restart the outage); its reason follows the latest report."""
        feed = self.feeds.get(profile)
        if feed is None:
            feed = self.feeds[profile] = Feed(profile, up=False, since=at)
            self.changes += 1
        elif feed.up:
            feed.up, feed.since = False, at
            self.changes += 1
        feed.reason = reason
        feed.by_user = by_user

    def pushed(self, profile: str, at: float) -> None:
        """A push arrived through `profile` (called for every push the fleet applies)."""
        feed = self.feeds.get(profile)
        if feed is not None and at > feed.last_push:
            feed.last_push = at

    def forget(self, profile: str) -> None:
        if self.feeds.pop(profile, None) is not None:
            self.changes += 1

    def set_quiet_after(self, profile: str, seconds: float | None) -> None:
        """This profile's "feed quiet after" (None or <= 0: the fleet's quiet threshold)."""
        if seconds is None or seconds <= 0:
            self.quiet_after.pop(profile, None)
        else:
            self.quiet_after[profile] = float(seconds)

    # -- reading ------------------------------------------------------------------------

    def quiet_after_of(self, profile: str, default: float) -> float:
        return self.quiet_after.get(profile, default)

    def down(self, now: float, default_quiet: float) -> dict[str, float]:
        """Profiles whose feed cannot be trusted now → since when."""
        out = {}
        for name, feed in self.feeds.items():
            since = feed.down_since(now, self.quiet_after.get(name, default_quiet))
            if since is not None:
                out[name] = since
        return out

    def doubt(self, profile: str, last_seen: float, now: float,
              default_quiet: float) -> Doubt | None:
        """Why the status of something last heard at `last_seen` through `profile` is unknown
        now, or None when its age can be trusted. `default_quiet` is the fleet's quiet
        threshold: a device that came back into view must have had that long to speak."""
        feed = self.feeds.get(profile)
        if feed is None:
            return None
        since = feed.down_since(now, self.quiet_after.get(profile, default_quiet))
        if since is not None:
            return Doubt(profile, since, None, feed.reason or "no push")
        if last_seen < feed.since and now - feed.since < default_quiet:
            return Doubt(profile, feed.since, feed.since)
        return None
