"""A desk: a window on a shared journal, with no MQTT intake of its own (issue 23).

Recorders write the journal; a desk reads it. Its live feed is the journal's new pushes,
read in batches by id when the journal says there are some (PostgreSQL's LISTEN/NOTIFY; on
a SQLite journal, its files looked at), and what the other desks did — acknowledgements,
command audit, commissioning sessions — is read again when the journal says that table
changed. Only the journal's own API: no SQL here (tests/architecture/test_sql_boundary.py).
Nothing here imports Qt: `app/ui/desk_status.py` and `app/ui/session.py` wire it into the
window.
"""
