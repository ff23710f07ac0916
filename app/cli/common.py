"""Connection options shared by every command that talks to a broker."""

from __future__ import annotations

import argparse
import sys

from app.transport.settings import ConnectionSettings


def add_connection_args(parser: argparse.ArgumentParser, *, need_key: bool = True) -> None:
    """The options of `record`, reused by simulate, send, commission and the window."""
    g = parser.add_argument_group("connection")
    g.add_argument("--host", default="127.0.0.1", help="broker host (default 127.0.0.1)")
    g.add_argument("--port", type=int, default=None, help="broker port (1883, or 8883 with --tls)")
    g.add_argument("--access-key", required=need_key, help="the rule's access key")
    g.add_argument("--username", default=None)
    pw = g.add_mutually_exclusive_group()
    pw.add_argument("--password", default=None, help="web password; its MD5 is sent")
    pw.add_argument("--password-md5", default=None, help="the MD5-32 of the web password")
    g.add_argument("--tls", action="store_true", help="connect with TLS (verified)")
    g.add_argument("--cafile", default=None, help="CA certificate file for TLS")
    g.add_argument("--certfile", default=None, help="client certificate for TLS")
    g.add_argument("--keyfile", default=None, help="client key for TLS")
    g.add_argument("--qos", type=int, choices=(0, 1), default=1)
    g.add_argument("--client-id", default=None)
    g.add_argument("--clean-session", action="store_true", help="start a clean session")


def settings_from_args(args: argparse.Namespace, *, role: str = "console") -> ConnectionSettings:
    """Turn parsed options into settings; exits with a clear message on bad values."""
    try:
        return ConnectionSettings.from_options(
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
