"""Secrets shown only on purpose: unlock passwords masked in what is shown or exported. No Qt.

An unlock password reaches the console three ways: the `(P43,<password>)` command a
dispatcher sends, the command reply that echoes it (`content: ["<id>","P43","<password>"]`),
and the unlock event that reports it (`password`). The journal keeps every push's raw bytes
as they came (the record must stay complete); what a view shows, copies or exports goes
through here first, unless the operator revealed secrets on purpose (and that is audited).

`mask_data` masks a decoded document, `mask_raw` the raw bytes (by field as well as by
value, so a payload too damaged to decode loses its password too), `secrets_of` says which
values are secret. Command text is masked by `app.commands.builder.mask_secrets`.
"""

from __future__ import annotations

import copy
import re
from typing import Any

MASK = "••••"  # what the Events panel has always shown for a password
SECRET_FIELDS = frozenset({"password"})  # in any push (the unlock event's)
# Command replies whose content echoes a secret after the command's name: (P43,<password>).
SECRET_REPLIES = frozenset({"P43"})


def _reply_secrets(content: Any, command: str) -> list[int]:
    """Indices in a reply's content list of the values after `command`'s own name."""
    if not isinstance(content, list):
        return []
    for i, value in enumerate(content):
        if value == command:
            return list(range(i + 1, len(content)))
    return []


def secrets_of(kind: str, data: Any) -> list[str]:
    """The secret values a decoded push carries (empty strings are no secret)."""
    out: list[str] = []
    if not isinstance(data, dict):
        return out
    for name in SECRET_FIELDS:
        value = data.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            out.append(str(value))
    command = data.get("commandType")
    if command in SECRET_REPLIES:
        content = data.get("content")
        out += [str(content[i]) for i in _reply_secrets(content, command)
                if str(content[i])]
    return out


def has_secrets(kind: str, data: Any) -> bool:
    return bool(secrets_of(kind, data))


def mask_data(kind: str, data: Any, mask: str = MASK) -> Any:
    """A copy of a decoded document with its secrets masked (the same object when it has
    none: nothing is copied for the 99 % of pushes that carry no secret)."""
    if not has_secrets(kind, data):
        return data
    out = copy.deepcopy(data)
    for name in SECRET_FIELDS:
        value = out.get(name)
        if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
            out[name] = mask
    command = out.get("commandType")
    if command in SECRET_REPLIES:
        content = out.get("content")
        for i in _reply_secrets(content, command):
            content[i] = mask
    return out


# A password field in any JSON text, escaped or not: "password":"1234", \"password\":\"1234\".
_FIELD = re.compile(rb'((?:\\)?"(?:' + b"|".join(re.escape(f.encode()) for f in SECRET_FIELDS)
                    + rb')(?:\\)?"\s*:\s*(?:\\)?")((?:[^"\\]|\\(?!"))*)')
# What follows a secret reply's command name inside its content list (a string, escaped, or
# an array): \"P43\",\"1234\"]. The value must end an item (, or ] next), not be a key
# ("commandType":"P43","content":… is no list).
_REPLY = re.compile(rb'((?:\\)?"(?:' + b"|".join(re.escape(c.encode()) for c in SECRET_REPLIES)
                    + rb')(?:\\)?"\s*,\s*(?:\\)?")((?:[^"\\]|\\(?!"))*)'
                    + rb'(?=(?:\\)?"\s*[,\]])')


def mask_raw(raw: bytes, secrets: list[str] | tuple[str, ...] = (), mask: str = MASK) -> bytes:
    """The raw bytes with every secret masked: password fields and secret replies' values
    wherever they are (a damaged payload too), and any known secret value in quotes."""
    if not raw:
        return raw
    m = mask.encode("utf-8")
    out = _FIELD.sub(lambda g: g[1] + (m if g[2] else b""), raw)
    out = _REPLY.sub(lambda g: g[1] + (m if g[2] else b""), out)
    for value in secrets:
        v = value.encode("utf-8", "surrogateescape")
        if v:
            out = out.replace(b'"' + v + b'"', b'"' + m + b'"')
            out = out.replace(b'\\"' + v + b'\\"', b'\\"' + m + b'\\"')
    return out


def mask_reply(command: str | None, reply: Any, mask: str = MASK) -> Any:
    """A command reply's content (a list, as the audit keeps it) with an echoed secret
    masked."""
    if command not in SECRET_REPLIES or not isinstance(reply, list):
        return reply
    hidden = set(_reply_secrets(reply, command))
    return [mask if i in hidden else v for i, v in enumerate(reply)]
