"""One way to make a paho client from ConnectionSettings: credentials and verified TLS."""

from __future__ import annotations

import ssl
from typing import TypeVar

import paho.mqtt.client as mqtt

from app.transport.settings import ConnectionSettings

C = TypeVar("C", bound=mqtt.Client)


def make_client(
    settings: ConnectionSettings,
    *,
    client_id: str,
    clean_session: bool,
    manual_ack: bool = False,
    cls: type[C] = mqtt.Client,  # type: ignore[assignment]
) -> C:
    """MQTT 3.1.1 (the vendor's broker), username + password MD5, TLS verified by default."""
    client = cls(
        mqtt.CallbackAPIVersion.VERSION2,
        client_id=client_id,
        clean_session=clean_session,
        protocol=mqtt.MQTTv311,
        manual_ack=manual_ack,
    )
    if settings.username or settings.password_md5:
        client.username_pw_set(settings.username or "", settings.password_md5)
    if settings.tls:
        client.tls_set(
            ca_certs=settings.cafile,
            certfile=settings.certfile,
            keyfile=settings.keyfile,
            cert_reqs=ssl.CERT_REQUIRED,
        )
        if settings.tls_insecure:  # only ever an explicit, warned-about user choice
            client.tls_insecure_set(True)
    return client
