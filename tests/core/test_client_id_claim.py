"""A recorder's client id held on this machine (a SQLite journal): a second recorder with
the same id is refused, and the lock file goes when the hold is let go."""

from __future__ import annotations

import os

import pytest

from app.cli.claim import ClientIdInUse, claim_client_id_here


@pytest.fixture()
def runtime(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_RUNTIME_DIR", str(tmp_path))
    return tmp_path


def test_a_second_recorder_with_the_same_id_is_refused_until_the_first_lets_go(runtime):
    first = claim_client_id_here("rec-1", "127.0.0.1:1883")
    other_broker = claim_client_id_here("rec-1", "10.0.0.2:1883")  # another broker: no clash
    try:
        with pytest.raises(ClientIdInUse, match="client id 'rec-1'"):
            claim_client_id_here("rec-1", "127.0.0.1:1883")
        assert len(list(runtime.glob("sealdesk-recorder-*.lock"))) == 2
    finally:
        first.close()
        other_broker.close()
    assert list(runtime.glob("sealdesk-recorder-*.lock")) == []  # nothing left behind
    again = claim_client_id_here("rec-1", "127.0.0.1:1883")
    again.close()


@pytest.mark.skipif(os.name == "nt", reason="Windows cannot remove an open file")
def test_a_lock_file_removed_by_its_holder_is_not_held_by_a_late_opener(runtime):
    """One that opened the file before its holder removed it must not hold the removed
    file: it takes the new one, so two recorders never hold one id."""
    first = claim_client_id_here("rec-2")
    path = first.path
    late = open(path, "a+b")  # opened before the holder lets go  # noqa: SIM115
    try:
        first.close()
        second = claim_client_id_here("rec-2")
        try:
            import fcntl

            fcntl.flock(late.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)  # the old inode: free
            assert path.stat().st_ino != os.fstat(late.fileno()).st_ino
            with pytest.raises(ClientIdInUse):
                claim_client_id_here("rec-2")
        finally:
            second.close()
    finally:
        late.close()
