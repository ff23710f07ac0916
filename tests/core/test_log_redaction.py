"""The log file never holds a secret (app/logs.py), checked on the file's bytes.

The real logger (`logs.setup`, its rotating file and redacting formatter) at DEBUG, paho's own
debug log switched on, and the real code a secret passes through: a transport connecting with a
username and password MD5 (and being refused), a command published, a webhook receiver with a
required header taking right and wrong tokens. Beside them, the lines a careless change would
write at each place (settings' fields, a refusal's traceback, request headers, a command line
with --password) — the formatter must mask them all.
"""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path

import pytest
from waiting import wait_for

from app import logs
from app.commands.builder import CommandError, build, build_text, template
from app.transport.mqtt import MqttTransport
from app.transport.settings import ConnectionSettings, md5_hex
from app.webhook import WebhookServer
from app.webhook.config import WebhookConfig

WEB_PASSWORD = "Corr3ct-Horse-Battery"
MD5 = md5_hex(WEB_PASSWORD)
ACCESS_KEY = "AKsecret0123456789"
TOKEN = "whk-7f3a9c1e55d24b8e"
UNLOCK = "Op3nS3sam3"

log = logging.getLogger("sealdesk.test.redaction")


@pytest.fixture
def log_file(tmp_path) -> Iterator[Path]:
    logs.shutdown()
    logs.forget_secrets()  # a receiver of an earlier test registered its header value
    path = logs.setup(logging.DEBUG, directory=tmp_path)
    assert path == tmp_path / logs.LOG_NAME
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.DEBUG)
    try:
        yield path
    finally:
        root.setLevel(level)
        logs.shutdown()


def contents(path: Path) -> bytes:
    for handler in logging.getLogger().handlers:
        handler.flush()
    return path.read_bytes()


def assert_no_secret(data: bytes, *secrets: str) -> None:
    text = data.decode("utf-8")
    for secret in secrets:
        assert secret not in text, f"{secret!r} is in the log"
        assert secret.upper() not in text and secret.lower() not in text


def test_connect_and_refusal(log_file, broker):
    settings = ConnectionSettings.from_options(
        host=broker.host, port=broker.port, access_key=ACCESS_KEY, username="rule-account",
        password=WEB_PASSWORD, client_id="redaction-test")
    assert settings.password_md5 == MD5
    transport = MqttTransport(settings, lambda push: None)
    transport.client.enable_logger(logging.getLogger("paho"))  # paho's DEBUG lines too
    log.info("connecting %r", settings)
    log.debug("connecting with %s", asdict(settings))  # every field, the MD5 among them
    log.debug("argv: record --host h --access-key %s --password %s --password-md5 %s",
              ACCESS_KEY, WEB_PASSWORD, MD5)
    transport.start()
    try:
        assert transport.wait_connected(30)
    finally:
        transport.stop()
    try:  # a refusal, with the secret in the exception's text
        raise PermissionError(f"broker said no to username=rule-account password={MD5}")
    except PermissionError:
        log.exception("connection refused")
    log.warning("refused: mqtt://rule-account:%s@%s:%d", WEB_PASSWORD, broker.host, broker.port)
    data = contents(log_file)
    assert b"Sending CONNECT" in data  # paho's own lines did reach the file
    assert b"connection refused" in data and b"Traceback" in data
    assert_no_secret(data, WEB_PASSWORD, MD5)
    assert f"access_key='{ACCESS_KEY}'".encode() not in data
    assert f"--access-key {ACCESS_KEY}".encode() not in data


def test_command_send(log_file, broker):
    command = build(template("p43"), "8052400203", 12, password=UNLOCK)
    settings = ConnectionSettings.from_options(host=broker.host, port=broker.port,
                                               access_key="K", password_md5=MD5,
                                               username="u", client_id="redaction-cmd")
    transport = MqttTransport(settings, lambda push: None)
    transport.client.enable_logger(logging.getLogger("paho"))
    transport.start()
    try:
        assert transport.wait_connected(30)
        info = transport.publish(f"command/K/{command.device}", command.text.encode(), qos=1)
        info.wait_for_publish(30)
    finally:
        transport.stop()
    log.info("sent command to %s with password=%s", command.device, UNLOCK)
    data = contents(log_file)
    assert b"Sending PUBLISH" in data
    assert_no_secret(data, UNLOCK, MD5)


def test_a_logged_command_hides_its_unlock_password(log_file):
    """P43's password is a secret parameter (builder.SECRET_PARAMS, the field the Events panel
    hides): masked in a Command's repr, in its text written out, in typed free text, and
    never quoted by the error of a mistyped one."""
    command = build(template("p43"), "8052400203", 12, password=UNLOCK)
    typed = build_text(f"(P43,{UNLOCK})", "8052400203")
    log.info("publishing %r", command)
    log.info("publishing %s to %s", command.text, command.device)  # the wire text, as is
    log.info("typed %r", typed)
    log.info("history: %s", [command.text, typed.text])
    try:
        build(template("p43"), "8052400203", password=UNLOCK + "!")
    except CommandError as exc:
        log.warning("not sent: %s", exc)
    data = contents(log_file)
    assert_no_secret(data, UNLOCK)
    assert b"(P43,***)" in data and b"params=('***',)" in data
    assert b"not sent: Unlock password" in data and b"is not valid" in data


def test_commands_without_a_secret_are_logged_as_they_are(log_file):
    """The masking is the commands' notion, not every bracket: nothing else is hidden."""
    version = build(template("version"), "8052400203", 7)
    unlock = build(template("unlock_sublock"), "8052400203", 8, minutes=3, sublock="E0171E0365")
    log.info("publishing %r and %s", version, unlock.text)
    data = contents(log_file)
    assert b"text='(8052400203,1,007,BASE,1)'" in data
    assert b"(8052400203,1,008,WLNET,8,1,1,3,E0171E0365)" in data


def test_webhook_header(log_file):
    seen: list = []

    def submit(push, kind_hint) -> None:
        seen.append(push)
        if push.ack_token:
            push.ack_token()  # "committed"

    server = WebhookServer(WebhookConfig(port=0, header_name="headerKey", header_value=TOKEN),
                           submit).start_in_thread()
    try:
        body = json.dumps({"assetId": "8052400203", "speed": 1}).encode()
        for value in (TOKEN, TOKEN[:-1] + "x"):
            request = urllib.request.Request(server.url, data=body, method="POST",
                                             headers={"headerKey": value,
                                                      "Authorization": f"Bearer {TOKEN}",
                                                      "Content-Type": "application/json"})
            try:
                urllib.request.urlopen(request, timeout=30).read()
            except urllib.error.HTTPError as exc:
                assert exc.code == 401
            log.debug("webhook POST: Authorization: %s, token=%s",
                      request.headers["Authorization"], value)
        wait_for(lambda: seen, 30, "the accepted POST")
    finally:
        server.stop()
    data = contents(log_file)
    assert b"webhook receiver listening" in data
    assert_no_secret(data, TOKEN, TOKEN[:-1] + "x")


def test_without_the_formatter_the_same_lines_would_leak(tmp_path):
    """The tests above can fail: the plain formatter writes the MD5 as it is."""
    handler = logging.FileHandler(tmp_path / "plain.log", encoding="utf-8")
    handler.setFormatter(logging.Formatter(logs.FORMAT))
    log.addHandler(handler)
    try:
        log.warning("connecting with password_md5=%s", MD5)
    finally:
        log.removeHandler(handler)
        handler.close()
    assert MD5.encode() in (tmp_path / "plain.log").read_bytes()


@pytest.mark.parametrize("line", [
    {"headerKey": TOKEN, "Content-Type": "text/plain"},
    WebhookConfig(port=0, header_name="headerKey", header_value=TOKEN),
])
def test_logged_webhook_headers_and_config_hide_the_token(log_file, line):
    log.debug("webhook: %s", line)
    assert_no_secret(contents(log_file), TOKEN)


def test_a_receivers_header_value_is_masked_under_any_header_name(log_file):
    """The rule's header name is the user's choice: a receiver registers its value."""
    value = "d41c-77aa-5c1d0e"
    log.debug("before: %s", {"X-Rule-Check": value})  # no receiver yet: nothing says secret
    WebhookServer(WebhookConfig(port=0, header_name="X-Rule-Check", header_value=value),
                  lambda push, kind_hint: None)
    log.debug("webhook POST headers: %s", {"X-Rule-Check": value})
    log.debug("raw head: X-Rule-Check:%s", value)
    before, after = contents(log_file).split(b"webhook POST headers")
    assert value.encode() in before  # the rules alone do not know this header
    assert_no_secret(after, value)


def test_a_webhook_config_and_a_command_never_show_their_secret_in_a_repr():
    """The first line of defence, before any formatter: the objects' own repr."""
    config = WebhookConfig(port=0, header_name="headerKey", header_value=TOKEN)
    assert TOKEN not in repr(config) and "header_name='headerKey'" in repr(config)
    command = build(template("p43"), "8052400203", password=UNLOCK)
    assert UNLOCK not in repr(command) and command.text == f"(P43,{UNLOCK})"


def test_the_recording_process_masks_its_stderr(tmp_path, capfd):
    """The window's recording process has no log file: its lines go to stderr (here the
    test's, inherited by the spawned child), through the same redacting formatter. A request
    it cannot serve is logged with its name and traceback — here the name holds secrets."""
    from app.recording_process.client import RecordingProcess

    rp = RecordingProcess(tmp_path / "journal.sqlite").start()
    try:
        rp._send(f"publish (P43,{UNLOCK}) password_md5={MD5} headerKey: {TOKEN}")
        assert rp.stats()["written"] == 0  # answered after the request above: it is logged
    finally:
        rp.stop()
    err = capfd.readouterr().err
    assert "recording: ERROR request publish (P43,***) password_md5=***" in err, err
    assert "Traceback" in err and "KeyError" in err
    assert_no_secret(err.encode(), UNLOCK, MD5, TOKEN)
