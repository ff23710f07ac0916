"""Secrets stay off the command line (issue 21): `ps` and /proc/*/cmdline show no password and
no access key when they come from a file, standard input or the environment."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
from pathlib import Path

import psutil

from app.brokers import free_port
from app.transport.settings import ConnectionSettings, hashed_client_id

ROOT = Path(__file__).resolve().parent.parent.parent
PASSWORD = "Correct-Horse-9f3"
KEY = "AKsecret0123456789"


def _start(args: list[str], env: dict[str, str], stdin=None) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(ROOT / "main.py"), *args], env=env, cwd=ROOT,
                            stdin=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def _every_command_line(proc: subprocess.Popen) -> str:
    me = psutil.Process(proc.pid)
    lines = []
    for p in [me, *me.children(recursive=True)]:
        with contextlib.suppress(OSError, psutil.Error):  # a child that just ended
            lines.append(Path(f"/proc/{p.pid}/cmdline").read_bytes().decode(errors="replace")
                         if Path("/proc").is_dir() else " ".join(p.cmdline()))
    return "\n".join(lines)


def _wait_connected(proc: subprocess.Popen) -> list[str]:
    seen = []
    for line in proc.stderr:
        seen.append(line)
        if "connected" in line:
            return seen
    raise AssertionError("".join(seen))


def _stop(proc: subprocess.Popen) -> str:
    proc.terminate()
    _out, err = proc.communicate(timeout=30)
    return err


def test_ps_shows_no_secret_from_a_password_file_or_the_environment(broker, tmp_path):
    pw_file = tmp_path / "pw"
    pw_file.write_text(PASSWORD + "\n")
    pw_file.chmod(0o600)
    env = dict(os.environ, SEALDESK_ACCESS_KEY=KEY, PYTHONUNBUFFERED="1")
    proc = _start(["record", "--host", broker.host, "--port", str(broker.port),
                   "--username", "acct", "--password-file", str(pw_file),
                   "--journal", str(tmp_path / "j.sqlite")], env)
    try:
        said = "".join(_wait_connected(proc))
        cmdlines = _every_command_line(proc)
        assert str(pw_file) in cmdlines  # we did read the right process
        assert PASSWORD not in cmdlines and KEY not in cmdlines
    finally:
        said += _stop(proc)
    assert "warning" not in said and PASSWORD not in said and KEY not in said


def test_password_from_standard_input_and_environment(broker, tmp_path):
    env = dict(os.environ, SEALDESK_ACCESS_KEY=KEY, SEALDESK_PASSWORD=PASSWORD,
               PYTHONUNBUFFERED="1")
    proc = _start(["record", "--host", broker.host, "--port", str(broker.port),
                   "--username", "acct", "--journal", str(tmp_path / "j.sqlite")], env)
    try:
        _wait_connected(proc)
        assert PASSWORD not in _every_command_line(proc)
    finally:
        _stop(proc)
    env.pop("SEALDESK_PASSWORD")
    proc = _start(["record", "--host", broker.host, "--port", str(broker.port),
                   "--username", "acct", "--password-stdin",
                   "--journal", str(tmp_path / "j.sqlite")], env, stdin=subprocess.PIPE)
    try:
        proc.stdin.write(PASSWORD + "\n")
        proc.stdin.flush()
        _wait_connected(proc)
    finally:
        _stop(proc)


def test_secrets_given_as_arguments_work_with_a_warning(cli, tmp_path):
    res = cli.run("record", "--port", str(free_port()), "--access-key", KEY, "--username", "a",
                  "--password", PASSWORD, "--journal", str(tmp_path / "j.sqlite"),
                  "--connect-timeout", "1")
    assert res.returncode == 1 and "could not connect" in res.stderr
    warnings = [x for x in res.stderr.splitlines() if x.startswith("sealdesk: warning")]
    assert any("--password on the command line" in w for w in warnings)
    assert any("--access-key on the command line" in w for w in warnings)
    assert PASSWORD not in res.stderr


def test_a_missing_access_key_names_the_environment_variable(cli):
    res = cli.run("send", "--device", "D1", "BASE,1")
    assert res.returncode == 2 and "SEALDESK_ACCESS_KEY" in res.stderr


def test_client_id_and_repr_hold_no_access_key_and_plain_remote_is_marked():
    settings = ConnectionSettings.from_options(host="broker.example.net", port=None,
                                               access_key=KEY, password=PASSWORD)
    assert KEY[:6] not in settings.client_id
    assert settings.client_id == hashed_client_id(KEY, "console")
    assert KEY not in repr(settings) and settings.password_md5 not in repr(settings)
    assert not settings.encrypted
    assert ConnectionSettings.from_options(host="127.0.0.1", port=None, access_key=KEY).encrypted
    assert ConnectionSettings.from_options(host="broker.example.net", port=None,
                                           access_key=KEY, tls=True).encrypted


def test_the_cli_says_when_a_connection_is_not_encrypted(cli, tmp_path):
    res = cli.run("record", "--host", "192.0.2.1", "--access-key", "K",
                  "--journal", str(tmp_path / "j.sqlite"), "--connect-timeout", "0.5")
    assert res.returncode == 1
    assert "not encrypted: 192.0.2.1" in res.stderr


def test_the_window_takes_the_webhook_header_from_the_environment(tmp_path):
    """`python main.py --webhook-port N` with $SEALDESK_WEBHOOK_HEADER: no secret in `ps` nor
    in the window's log, no warning, and the receiver wants the header all the same."""
    import urllib.error
    import urllib.request

    from app.brokers import wait_for_port

    name, token = "X-Rule-Token", "window-webhook-s3cret-77"
    port = free_port()
    state = tmp_path / "state"  # the window's log folder: this test's own
    env = dict(os.environ, SEALDESK_WEBHOOK_HEADER=f"{name}:{token}", XDG_STATE_HOME=str(state),
               PYTHONUNBUFFERED="1")
    proc = _start(["--settings-file", str(tmp_path / "s.ini"), "--journal",
                   str(tmp_path / "j.sqlite"), "--webhook-port", str(port), "--quit-after", "10"],
                  env)
    statuses = []
    try:
        assert wait_for_port("127.0.0.1", port, 60), "the window's webhook receiver never listened"
        cmdlines = _every_command_line(proc)
        assert "--webhook-port" in cmdlines and token not in cmdlines
        body = b'{"assetId": "8052400203", "speed": 1}'
        for headers in ({}, {name: token}):
            request = urllib.request.Request(
                f"http://127.0.0.1:{port}/", data=body, method="POST",
                headers={"Content-Type": "application/json", **headers})
            try:
                with urllib.request.urlopen(request, timeout=30) as answer:
                    statuses.append(answer.status)
            except urllib.error.HTTPError as exc:
                statuses.append(exc.code)
    finally:
        out, err = proc.communicate(timeout=120)  # --quit-after ends it
    assert proc.returncode == 0, err[-2000:]
    assert statuses == [401, 200]  # the header from the environment is required
    assert "warning: --webhook-header" not in err and token not in err + out
    logs = list(state.rglob("sealdesk.log"))
    assert logs, f"no log under {state}"
    text = logs[0].read_text(encoding="utf-8")
    assert "webhook receiver listening" in text and token not in text
