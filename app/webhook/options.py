"""The webhook receiver's command-line options, shared by `record` and the window."""

from __future__ import annotations

import argparse

from app.webhook import WebhookConfig, parse_header_option
from app.webhook.config import (
    DEFAULT_BIND,
    DEFAULT_MAX_BODY,
    DEFAULT_MAX_CONNECTIONS,
    default_paths,
    parse_path_option,
)


def add_webhook_args(p: argparse.ArgumentParser) -> None:
    w = p.add_argument_group("webhook", "receive the platform's webhook POSTs too (or only, "
                             "without --access-key)")
    w.add_argument("--webhook-port", type=int, default=None, metavar="PORT",
                   help="listen for webhook POSTs on this port (0: any free port)")
    w.add_argument("--webhook-bind", default=DEFAULT_BIND, metavar="ADDR",
                   help="address to listen on (default 127.0.0.1; 0.0.0.0 or :: for every "
                   "interface)")
    w.add_argument("--webhook-header", default=None, metavar="NAME:VALUE",
                   help="require this message header, as set in the vendor's rule")
    w.add_argument("--webhook-max-body", type=int, default=DEFAULT_MAX_BODY, metavar="BYTES",
                   help=f"largest body accepted (default {DEFAULT_MAX_BODY}); larger gets 413")
    w.add_argument("--webhook-path", action="append", default=[], metavar="/PATH=KIND",
                   help="the kind a path of yours receives (location, alarm, event, command, "
                   "sublock), e.g. /lock/alarm=alarm; repeatable. Every POST path is accepted "
                   "anyway and the content decides the kind: the path is a hint")
    w.add_argument("--webhook-max-connections", type=int, default=DEFAULT_MAX_CONNECTIONS,
                   metavar="N", help="connections open at once (default "
                   f"{DEFAULT_MAX_CONNECTIONS}); beyond it, 503 with Retry-After")
    w.add_argument("--webhook-cert", default=None, metavar="FILE", help="HTTPS certificate")
    w.add_argument("--webhook-key", default=None, metavar="FILE", help="HTTPS private key")


def webhook_config(args: argparse.Namespace) -> WebhookConfig:
    """The receiver's settings from the options; raises ValueError with a user message."""
    name = value = None
    if args.webhook_header is not None:
        name, value = parse_header_option(args.webhook_header)
    paths = default_paths()
    for text in getattr(args, "webhook_path", None) or []:
        path, kind = parse_path_option(text)
        paths[path] = kind
    return WebhookConfig(
        port=args.webhook_port,
        paths=paths,
        max_connections=args.webhook_max_connections,
        bind=args.webhook_bind,
        header_name=name,
        header_value=value,
        max_body=args.webhook_max_body,
        certfile=args.webhook_cert,
        keyfile=args.webhook_key,
        profile="webhook",
    )
