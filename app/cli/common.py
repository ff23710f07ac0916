"""Connection options shared by every command that talks to a broker.

Secrets stay off the command line, where every local user reads them (`ps`,
/proc/*/cmdline): the password comes from --password-file, --password-stdin,
$SEALDESK_PASSWORD or a prompt on a terminal; the access key from $SEALDESK_ACCESS_KEY.
Given as arguments they still work, with a one-line warning.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys

from app.transport.settings import ConnectionSettings

ENV_PASSWORD = "SEALDESK_PASSWORD"
ENV_ACCESS_KEY = "SEALDESK_ACCESS_KEY"
ENV_WEBHOOK_HEADER = "SEALDESK_WEBHOOK_HEADER"

_WARNED: set[str] = set()


class _SecretArgument(argparse.Action):
    """Stores the value and notes that it came from the command line (for the warning)."""

    def __call__(self, parser, namespace, values, option_string=None) -> None:
        setattr(namespace, self.dest, values)
        seen = set(getattr(namespace, "_secrets_on_command_line", ()))
        seen.add(option_string or self.dest)
        namespace._secrets_on_command_line = seen


def warn_secret_argument(option: str, instead: str) -> None:
    if option in _WARNED:
        return
    _WARNED.add(option)
    print(f"sealdesk: warning: {option} on the command line can be read by every local user "
          f"(ps); use {instead} instead", file=sys.stderr)


def add_connection_args(parser: argparse.ArgumentParser, *, need_key: bool = True) -> None:
    """The options of `record`, reused by simulate, send, commission and the window."""
    g = parser.add_argument_group("connection")
    g.add_argument("--host", default="127.0.0.1", help="broker host (default 127.0.0.1)")
    g.add_argument("--port", type=int, default=None, help="broker port (1883, or 8883 with --tls)")
    g.add_argument("--access-key", action=_SecretArgument, default=None,
                   help=f"the rule's access key (better: ${ENV_ACCESS_KEY})"
                   + ("; required" if need_key else ""))
    g.add_argument("--username", default=None)
    pw = g.add_mutually_exclusive_group()
    pw.add_argument("--password", action=_SecretArgument, default=None,
                    help=f"web password; its MD5 is sent (better: --password-file, "
                    f"--password-stdin or ${ENV_PASSWORD}; prompted for on a terminal)")
    pw.add_argument("--password-md5", action=_SecretArgument, default=None,
                    help="the MD5-32 of the web password")
    pw.add_argument("--password-file", metavar="FILE", default=None,
                    help="read the web password from the first line of FILE")
    pw.add_argument("--password-stdin", action="store_true",
                    help="read the web password from the first line of standard input")
    g.add_argument("--tls", action="store_true", help="connect with TLS (verified)")
    g.add_argument("--cafile", default=None, help="CA certificate file for TLS")
    g.add_argument("--certfile", default=None, help="client certificate for TLS")
    g.add_argument("--keyfile", default=None, help="client key for TLS")
    g.add_argument("--qos", type=int, choices=(0, 1), default=1)
    g.add_argument("--client-id", default=None)
    g.add_argument("--clean-session", action="store_true", help="start a clean session")
    parser.set_defaults(_need_key=need_key)


def _fail(message: str, code: int = 2) -> None:
    print(f"sealdesk: error: {message}", file=sys.stderr)
    raise SystemExit(code)


def resolve_secrets(args: argparse.Namespace) -> argparse.Namespace:
    """Fill the access key and password from their safe sources; warn about those given as
    arguments. Idempotent; exits (2) with one line when a source cannot be read."""
    if getattr(args, "_secrets_resolved", False):
        return args
    args._secrets_resolved = True
    on_line = getattr(args, "_secrets_on_command_line", set())
    if "--access-key" in on_line:
        warn_secret_argument("--access-key", f"${ENV_ACCESS_KEY}")
    elif not args.access_key and os.environ.get(ENV_ACCESS_KEY):
        args.access_key = os.environ[ENV_ACCESS_KEY].strip()
    for option in ("--password", "--password-md5"):
        if option in on_line:
            warn_secret_argument(option, f"--password-file, --password-stdin or ${ENV_PASSWORD}")
    if getattr(args, "_need_key", False) and not args.access_key:
        _fail(f"the following arguments are required: --access-key (or ${ENV_ACCESS_KEY})")
    if args.password is None and args.password_md5 is None:
        args.password = _password(args)
    return args


def _first_line(text: str) -> str:
    return text.splitlines()[0] if text else ""


def _password(args: argparse.Namespace) -> str | None:
    if args.password_file:
        try:
            with open(args.password_file, encoding="utf-8") as f:
                return _first_line(f.read()) or None
        except OSError as exc:
            _fail(f"cannot read --password-file: {exc.strerror or exc}")
    if args.password_stdin:
        return _first_line(sys.stdin.readline()) or None
    if os.environ.get(ENV_PASSWORD):
        return os.environ[ENV_PASSWORD]
    if args.username and args.access_key and sys.stdin.isatty() and sys.stderr.isatty():
        try:
            return getpass.getpass(f"Web password for {args.username} at {args.host}: ") or None
        except (EOFError, KeyboardInterrupt):
            return None
    return None


def webhook_header_from_env(args: argparse.Namespace) -> None:
    """--webhook-header from $SEALDESK_WEBHOOK_HEADER when not given (then: warn)."""
    if getattr(args, "webhook_header", None) is not None:
        warn_secret_argument("--webhook-header", f"${ENV_WEBHOOK_HEADER}")
    elif os.environ.get(ENV_WEBHOOK_HEADER):
        args.webhook_header = os.environ[ENV_WEBHOOK_HEADER]


def settings_from_args(args: argparse.Namespace, *, role: str = "console") -> ConnectionSettings:
    """Turn parsed options into settings; exits with a clear message on bad values."""
    resolve_secrets(args)
    try:
        settings = ConnectionSettings.from_options(
            host=args.host,
            port=args.port,
            access_key=args.access_key or "",
            username=args.username,
            password=args.password,
            password_md5=args.password_md5,
            tls=args.tls,
            cafile=args.cafile,
            certfile=args.certfile,
            keyfile=args.keyfile,
            qos=args.qos,
            client_id=args.client_id,
            clean_session=args.clean_session,
            topics=list(getattr(args, "topic", None) or []),
            role=role,
        )
    except ValueError as exc:
        print(f"sealdesk: error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    if not settings.encrypted and "not-encrypted" not in _WARNED:
        _WARNED.add("not-encrypted")
        print(f"sealdesk: warning: not encrypted: {settings.host} is reached without TLS; "
              "the password's MD5 and every push cross the network in clear (use --tls)",
              file=sys.stderr)
    return settings
