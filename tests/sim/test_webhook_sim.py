"""Issue 20: `simulate --webhook URL [--webhook-header K:V]` posts as the vendor's engine does.

The real command in a child process, a real receiver and journal in this one.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.journal.store import Journal
from app.journal.writer import JournalWriter
from app.sim.webhook import JAVA_PATHS, webhook_path
from app.webhook import WebhookConfig, WebhookServer


@pytest.fixture
def receiver(tmp_path: Path) -> Iterator[tuple[WebhookServer, JournalWriter, Path]]:
    path = tmp_path / "journal.sqlite"
    writer = JournalWriter(path).start()
    config = WebhookConfig(header_name="headerKey", header_value="rule-secret")
    server = WebhookServer(config, writer.submit).start_in_thread()
    yield server, writer, path
    server.stop()
    writer.stop()


def test_simulate_posts_to_the_java_sample_paths(cli, receiver) -> None:
    server, writer, path = receiver
    url = f"http://127.0.0.1:{server.port}"
    res = cli.run("simulate", "--webhook", url, "--webhook-header", "headerKey:rule-secret",
                  "--devices", "30", "--count", "400", "--rate", "0", "--seed", "5")
    assert res.returncode == 0, res.stderr
    assert f"posted 400 pushes to {url}" in res.stdout
    assert writer.flush(30)
    with Journal(path, readonly=True) as journal:
        rows = list(journal.rows())
    assert len(rows) == 400 == server.stats.accepted
    assert {row.topic for row in rows} <= set(JAVA_PATHS.values())
    kinds = Counter((row.topic, row.kind) for row in rows)
    # Sub-lock data goes to /receiveLocationData, as in the Java sample, and is a sub-lock.
    assert kinds[("/receiveLocationData", "sublock")] > 0
    assert kinds[("/receiveLocationData", "location")] > 0
    assert {kind for _, kind in kinds} >= {"location", "sublock", "event", "alarm"}
    for row in rows:
        assert row.errors == [], row.errors
        assert bool(row.warnings) == (row.kind == "sublock"), row.warnings
        if row.kind == "sublock":
            assert row.sublock and row.sublock == row.data["subAssetID"]


def test_simulate_says_so_when_the_header_is_refused(cli, receiver) -> None:
    server, _writer, _path = receiver
    res = cli.run("simulate", "--webhook", f"http://127.0.0.1:{server.port}",
                  "--webhook-header", "headerKey:wrong", "--count", "5")
    assert res.returncode == 1
    assert "answered 401 (wrong or missing header)" in res.stderr
    assert server.stats.accepted == 0


@pytest.mark.parametrize(("args", "message"), [
    (["--webhook", "ftp://x"], "webhook URL must be http://"),
    (["--webhook", "http://127.0.0.1:1", "--webhook-header", "nocolon"], "NAME:VALUE"),
    (["--count", "5"], "--access-key is required (or --webhook URL)"),
])
def test_simulate_webhook_bad_options(cli, args: list[str], message: str) -> None:
    res = cli.run("simulate", *args)
    assert res.returncode != 0
    assert message in res.stderr


def test_paths_of_topics() -> None:
    assert webhook_path("upload/K/D/location") == "/receiveLocationData"
    assert webhook_path("upload/K/D/E0/sublock") == "/receiveLocationData"
    assert webhook_path("upload/K/D/alarm") == "/receiveAlarmData"
    assert webhook_path("upload/K/D/event") == "/receiveEventData"
    assert webhook_path("upload/K/D/cmd") == "/receiveInsData"
