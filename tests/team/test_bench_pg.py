"""bench's PostgreSQL intake figure (issue 23): beside SQLite's, or why it is missing."""

from __future__ import annotations

import contextlib

from app.bench import pg_server, run, throughput


def test_without_postgresql_the_figure_says_not_measured_and_why(monkeypatch):
    monkeypatch.delenv("SEALDESK_BENCH_PG", raising=False)
    monkeypatch.setattr(pg_server, "find_bindir", lambda: None)
    with contextlib.ExitStack() as stack:
        url, pid, why = throughput._pg_target(stack)
    assert (url, pid) == (None, None)
    assert why == "not measured: PostgreSQL is not installed (no initdb/pg_ctl)"
    name, figure, note = run._pg_row({"record_pg_not_measured": why})
    assert (name, figure, note) == ("drain: record into PostgreSQL", "n/a", why)


def test_the_figure_is_shown_beside_sqlites():
    drain = {"messages": 1000, "record": {"rate": 10_000.0},
             "record_pg": {"rate": 5_000.0, "ratio_to_sqlite": 0.5, "ratio_to_paho": 0.2,
                           "cpu_us_per_push": {"journal": 90.0, "postgres": 40.0},
                           "journaled": 1000}}
    _, figure, note = run._pg_row(drain)
    assert figure == "5,000 msg/s"
    assert note.startswith("0.50 x record into SQLite")
    assert "postgres 40" in note and "JOURNALED" not in note


def test_a_url_of_your_own_is_used_as_given(monkeypatch):
    monkeypatch.setenv("SEALDESK_BENCH_PG", "postgresql://me@db.example/bench")
    with contextlib.ExitStack() as stack:
        assert throughput._pg_target(stack) == ("postgresql://me@db.example/bench", None, "")


def test_pushes_alike_in_the_fill_are_counted_as_stored_once():
    drain = {"messages": 1000, "distinct": 997, "record": {"rate": 10_000.0},
             "record_pg": {"rate": 5_000.0, "ratio_to_sqlite": 0.5, "ratio_to_paho": 0.2,
                           "cpu_us_per_push": {}, "journaled": 997}}
    assert run._pg_row(drain)[2].endswith("; 3 pushes of the fill alike, each stored once")
    drain["record_pg"]["journaled"] = 990
    assert run._pg_row(drain)[2].endswith("; JOURNALED 990 of 997 distinct")
