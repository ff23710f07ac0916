"""Glue: the device detail pane's "Command history" section, fed from the command audit.

Neither panel imports the other: the commands panel adds this provider to the context's
`detail_sections`, the detail pane shows what is there, and the audit table in the journal is
the shared truth.
"""

from __future__ import annotations

import time

from app.commands.builder import mask_secrets
from app.commands.replies import label_reply
from app.fleet.state import DeviceState, FleetState
from app.protocol.redact import MASK, mask_reply
from app.ui.format import date_time as local_time
from app.ui.panels.commands import history_for
from app.ui.sections import Row, Section

CACHE_S = 1.0  # the pane refreshes with every push of a busy device; the audit changes rarely


def make_provider(journal_path: str, limit: int = 10, shown_text=None, shown_reply=None):
    """`shown_text` / `shown_reply`: command text and reply content as shown (the context's
    reveal: unlock passwords masked unless revealed); masked when not given."""
    text_of = shown_text or (lambda text: mask_secrets(text, mask=MASK))
    reply_of = shown_reply or mask_reply

    cache: dict[str, tuple[float, list[dict]]] = {}

    def provider(device: DeviceState, fleet: FleetState) -> Section | None:
        now = time.monotonic()
        hit = cache.get(device.device_id)
        if hit is None or now - hit[0] > CACHE_S:
            try:
                rows = history_for(journal_path, device.device_id, limit=limit)
            except Exception:  # a journal without the audit table yet: no section
                rows = []
            hit = cache[device.device_id] = (now, rows)
        rows = hit[1]
        if not rows:
            return Section("commands", "Command history", "no command sent", [])
        items = []
        for r in rows:
            outcome = r.get("state_label") or r.get("state", "")
            if r.get("reason"):
                outcome += f" — {r['reason']}"
            elif r.get("answered_in_s") is not None:
                outcome += f" in {r['answered_in_s']:.1f} s"
            fields = (label_reply(r["name"], reply_of(r["name"], r.get("reply")))
                      if r.get("state") == "answered" else [])
            children = [Row(f"f{i}", label, str(value)) for i, (label, value) in enumerate(fields)]
            text = text_of(r["text"])
            items.append(Row(
                f"cmd{r['id']}", local_time(r.get("sent_at") or r.get("created_at")),
                f"{text} · {outcome} · {r.get('operator', '')}", children,
                tooltip=text, expanded=False,
                alert=r.get("state") in ("failed", "timed_out"),
            ))
        return Section("commands", "Command history", f"last {len(rows)}", items)

    return provider
