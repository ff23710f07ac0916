"""The rights each kind of SealDesk connection needs on a shared journal (issue 23).

A database administrator runs what `grants` says once, after the owner's first start made
the schema (`pg.py`, "Roles"):

    python -m app.journal.pg_roles recorder sealdesk_recorder
    python -m app.journal.pg_roles desk sealdesk_desk

prints the GRANT statements to pipe into psql. Least rights: a recorder stores pushes and
reads them back (the "stored once" check) and cannot touch an acknowledgement; a desk reads
everything and writes only what people do (acknowledgements, the command audit,
commissioning, revealing secrets). A desk that also sends commands records their replies:
give its role both kinds.
"""

from __future__ import annotations

import re
import sys

KINDS = ("recorder", "desk")

_RECORDER = (
    "GRANT SELECT ON sealdesk_schema TO {role}",
    "GRANT SELECT, INSERT ON push, reading TO {role}",
    "GRANT USAGE ON SEQUENCE push_id_seq TO {role}",
)
_DESK = (
    "GRANT SELECT ON ALL TABLES IN SCHEMA public TO {role}",
    "GRANT INSERT, UPDATE, DELETE ON alarm_ack, command, commissioning, secret_reveal"
    " TO {role}",
    "GRANT USAGE ON SEQUENCE command_id_seq, commissioning_id_seq, secret_reveal_id_seq"
    " TO {role}",
)


def grants(kind: str, role: str) -> list[str]:
    """The statements that give `role` what a `kind` ("recorder" or "desk") needs."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {', '.join(KINDS)}: {kind!r}")
    if not re.fullmatch(r"[a-z_][a-z0-9_]*", role):
        raise ValueError(f"a role name of lower-case letters, digits and _: {role!r}")
    return [s.format(role=role) for s in (_RECORDER if kind == "recorder" else _DESK)]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m app.journal.pg_roles recorder|desk ROLE", file=sys.stderr)
        return 2
    try:
        statements = grants(argv[0], argv[1])
    except ValueError as exc:
        print(f"pg_roles: {exc}", file=sys.stderr)
        return 2
    print(";\n".join(statements) + ";")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
