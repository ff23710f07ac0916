"""The status rule, Qt-free: a device is only as online as the feed that carries it.

A feed (one connection profile) that is down, or silent beyond its own quiet threshold,
makes its devices "unknown"; when it comes back, each device is known again from its next
push (or after a whole quiet threshold of feed-up time without one)."""

from __future__ import annotations

import json
from itertools import count

from app.fleet.feeds import Feeds
from app.fleet.state import FleetState, Status, Thresholds
from app.protocol.decode import decode
from app.protocol.push import RawPush
from app.protocol.topics import upload_topic

_ids = count(1)


def seen(fleet: FleetState, device: str, at: float, profile: str = "depot") -> None:
    payload = json.dumps({"assetId": device, "battery": 50}).encode()
    record = decode(RawPush("mqtt", upload_topic("K", device, "location"), payload, at, profile))
    fleet.apply([record], [next(_ids)])


def fleet_of(*devices: str, at: float = 1000.0, profile: str = "depot") -> FleetState:
    fleet = FleetState(Thresholds(quiet_after=300, offline_after=1800))
    fleet.feeds.went_up(profile, at - 10)
    for d in devices:
        seen(fleet, d, at, profile)
    return fleet


def test_a_profile_the_fleet_knows_nothing_of_is_trusted():
    fleet = FleetState(Thresholds(quiet_after=300, offline_after=1800))
    seen(fleet, "D1", 1000.0, profile="replay")
    assert fleet.status("D1", now=1010.0) is Status.ONLINE
    assert fleet.status("D1", now=1400.0) is Status.QUIET
    assert fleet.doubt("D1", now=1400.0) is None


def test_a_feed_that_goes_down_makes_its_devices_unknown_at_once_and_says_since_when():
    fleet = fleet_of("D1", "D2")
    fleet.feeds.went_down("depot", 1005.0, "connection lost")
    assert fleet.status("D1", now=1006.0) is Status.UNKNOWN
    doubt = fleet.doubt("D1", now=1006.0)
    assert (doubt.since, doubt.back_at, doubt.reason) == (1005.0, None, "connection lost")
    assert doubt.describe("10:42") == "feed down since 10:42"
    counts = fleet.status_counts(now=1006.0)
    assert counts == {Status.ONLINE: 0, Status.QUIET: 0, Status.OFFLINE: 0, Status.UNKNOWN: 2}


def test_a_failed_reconnect_does_not_restart_the_outage():
    fleet = fleet_of("D1")
    fleet.feeds.went_down("depot", 1005.0, "connection lost")
    fleet.feeds.went_down("depot", 1020.0, "connection refused")
    doubt = fleet.doubt("D1", now=1030.0)
    assert (doubt.since, doubt.reason) == (1005.0, "connection refused")


def test_only_the_devices_of_the_feed_that_is_down():
    fleet = fleet_of("D1")
    fleet.feeds.went_up("yard", 990.0)
    seen(fleet, "Y1", 1000.0, profile="yard")
    fleet.feeds.went_down("depot", 1005.0)
    assert fleet.status("D1", now=1010.0) is Status.UNKNOWN
    assert fleet.status("Y1", now=1010.0) is Status.ONLINE
    counts = fleet.status_counts(now=1010.0)
    assert (counts[Status.ONLINE], counts[Status.UNKNOWN]) == (1, 1)


def test_a_feed_silent_beyond_its_own_threshold_is_down_since_its_last_push():
    fleet = fleet_of("D1")
    fleet.feeds.set_quiet_after("depot", 60)  # a fleet that reports every few seconds
    assert fleet.status("D1", now=1050.0) is Status.ONLINE
    assert fleet.status("D1", now=1061.0) is Status.UNKNOWN
    assert fleet.doubt("D1", now=1061.0).since == 1000.0
    fleet.feeds.set_quiet_after("depot", None)  # back to the fleet's quiet threshold (300 s)
    assert fleet.status("D1", now=1061.0) is Status.ONLINE


def test_per_profile_thresholds_differ():
    fleet = fleet_of("D1")
    fleet.feeds.went_up("slow", 990.0)
    seen(fleet, "S1", 1000.0, profile="slow")
    fleet.feeds.set_quiet_after("depot", 30)
    fleet.feeds.set_quiet_after("slow", 900)
    assert fleet.status("D1", now=1100.0) is Status.UNKNOWN
    # The slow feed is trusted for 900 s; its device is quiet by its own age (> 300 s).
    assert fleet.status("S1", now=1400.0) is Status.QUIET


def test_when_the_feed_returns_devices_are_known_again_from_their_next_push():
    fleet = fleet_of("D1", "D2")
    fleet.feeds.went_down("depot", 1005.0)
    fleet.feeds.went_up("depot", 1100.0)
    # Back, but nothing from either since: unknown, "feed back at …".
    doubt = fleet.doubt("D1", now=1101.0)
    assert (doubt.since, doubt.back_at) == (1100.0, 1100.0)
    assert doubt.describe("10:47") == "feed back at 10:47, no push since"
    seen(fleet, "D1", 1102.0)  # the broker's queued backlog, or a fresh push
    assert fleet.status("D1", now=1103.0) is Status.ONLINE
    assert fleet.status("D2", now=1103.0) is Status.UNKNOWN
    assert fleet.status_counts(now=1103.0)[Status.UNKNOWN] == 1
    # A whole quiet threshold of feed-up time without a word: plain age decides again.
    assert fleet.status("D2", now=1100.0 + 300) is Status.QUIET


def test_a_feed_down_before_any_push_and_forgotten():
    feeds = Feeds()
    feeds.went_down("new", 50.0, "connection refused")
    assert feeds.down(now=60.0, default_quiet=300) == {"new": 50.0}
    feeds.forget("new")
    assert feeds.down(now=60.0, default_quiet=300) == {}


def test_changes_count_only_moves_when_a_feed_goes_up_or_down():
    feeds = Feeds()
    feeds.went_up("a", 1.0)
    feeds.went_up("a", 2.0)  # already up: no change, the time it came up is kept
    assert (feeds.changes, feeds.feeds["a"].since) == (1, 1.0)
    feeds.pushed("a", 3.0)
    feeds.went_down("a", 4.0)
    assert feeds.changes == 2
