"""Serials roll 000–999 per device and never repeat back to back, across restarts too."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from app.commands.serials import SerialCounter


def test_rolls_per_device_and_wraps() -> None:
    c = SerialCounter(first=998)
    assert [c.next("A") for _ in range(3)] == ["998", "999", "000"]
    assert c.next("B") == "998"
    assert c.last("A") == "000"


def test_seeded_from_history_continues_after_it() -> None:
    history = {"A": "041", "B": "999"}
    c = SerialCounter(seed=history.get, first=0)
    assert c.next("A") == "042"
    assert c.next("B") == "000"
    assert c.next("C") == "000"  # no history: `first`


def test_unseeded_start_is_random_but_valid() -> None:
    c = SerialCounter(rng=random.Random(1))
    s = c.next("A")
    assert len(s) == 3 and s.isdigit()


def test_observe_and_would_repeat() -> None:
    c = SerialCounter(first=0)
    c.observe("A", "123")
    assert c.would_repeat("A", 123)
    assert not c.would_repeat("A", "124")
    assert c.next("A") == "124"
    assert not c.would_repeat("Z", 0)


ops = st.lists(
    st.tuples(
        st.sampled_from(["A", "B", "C"]),
        st.one_of(st.none(), st.integers(min_value=0, max_value=999)),
    ),
    min_size=1,
    max_size=300,
)


@given(
    ops,
    st.one_of(st.none(), st.integers(0, 999)),
    st.dictionaries(
        st.sampled_from(["A", "B", "C"]), st.integers(0, 999).map(lambda n: f"{n:03d}")
    ),
)
def test_never_the_same_serial_back_to_back(steps, first, history) -> None:
    """Whatever mix of generated and observed serials, and whatever the seed history,
    a generated serial differs from the device's previous one."""
    c = SerialCounter(seed=history.get, first=first)
    previous: dict[str, str | None] = {d: history.get(d) for d in "ABC"}
    for device, observed in steps:
        if observed is not None:
            c.observe(device, observed)
            previous[device] = f"{observed:03d}"
            continue
        s = c.next(device)
        assert len(s) == 3 and 0 <= int(s) <= 999
        assert s != previous[device]
        previous[device] = s


def test_a_restart_seeded_from_the_last_serial_does_not_repeat() -> None:
    first_run = SerialCounter(first=999)
    last = first_run.next("A")
    second_run = SerialCounter(seed={"A": last}.get, first=999)
    assert second_run.next("A") != last
