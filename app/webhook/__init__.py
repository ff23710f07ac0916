"""The vendor's second push channel: webhook POSTs, journaled like MQTT pushes.

See `server` for the design; `WebhookConfig` holds the settings, `WebhookServer` runs them.
"""

from app.webhook.config import WebhookConfig, is_loopback, parse_header_option
from app.webhook.server import RequestLogEntry, WebhookServer, WebhookStats

__all__ = [
    "RequestLogEntry",
    "WebhookConfig",
    "WebhookServer",
    "WebhookStats",
    "is_loopback",
    "parse_header_option",
]
