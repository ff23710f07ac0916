"""Named checklist templates per device model: thresholds and which checks apply.

Built-in templates cover the common models; a technician edits them (or adds new ones) and
the result is saved as JSON in the user data directory. Saved templates override built-ins
of the same name. Pure data apart from `load_templates`/`save_templates`/`default_path`.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

# The checks, in the order a checklist shows them.
CHECKS: tuple[str, ...] = (
    "online",
    "position",
    "power",
    "lock_cycle",
    "alarm_path",
    "firmware",
    "clock",
    "sublocks",
)

LABELS: dict[str, str] = {
    "online": "Online",
    "position": "Position fix",
    "power": "Power",
    "lock_cycle": "Lock cycle",
    "alarm_path": "Alarm path",
    "firmware": "Firmware",
    "clock": "Clock",
    "sublocks": "Sub-locks",
}

DESCRIPTIONS: dict[str, str] = {
    "online": "a push received within the last minutes",
    "position": "GPS fix, plausible coordinates, enough satellites and cell signal",
    "power": "battery above the threshold (or charging), voltage in a plausible range",
    "lock_cycle": "an unlock, then a lock, observed during the session",
    "alarm_path": "an alarm received during the session (e.g. back cover opened)",
    "firmware": "BASE,1 answered; firmware recorded",
    "clock": "BASE,2 answered; device clock close to the workstation's",
    "sublocks": "WLNET,1,0 answered; every bound sub-lock reporting",
}


class TemplateError(ValueError):
    """A template file or value that cannot be used; the message says why."""


@dataclass(frozen=True)
class Template:
    name: str
    model: str = ""
    description: str = ""
    online_within_s: float = 600.0
    min_satellites: int = 4
    min_cell_signal: int = 10
    min_battery: int = 20
    voltage_min: float = 3.3
    voltage_max: float = 4.5
    clock_tolerance_s: float = 60.0
    command_timeout_s: float = 60.0
    # check key → applies; a check missing here applies.
    items: dict[str, bool] = field(default_factory=dict)
    builtin: bool = False

    def applies(self, key: str) -> bool:
        return bool(self.items.get(key, True))

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("builtin", None)
        d["items"] = {k: self.applies(k) for k in CHECKS}
        return d

    @classmethod
    def from_json(cls, d: dict[str, Any]) -> Template:
        if not isinstance(d, dict) or not str(d.get("name") or "").strip():
            raise TemplateError("a template needs a name")
        known = {f.name for f in fields(cls)} - {"builtin", "items"}
        kwargs: dict[str, Any] = {}
        defaults = cls(name="x")
        for key in known:
            if key not in d:
                continue
            want = type(getattr(defaults, key))
            try:
                kwargs[key] = want(d[key])
            except (TypeError, ValueError) as exc:
                what = f"template {d['name']!r}: {key} is not a {want.__name__}"
                raise TemplateError(what) from exc
        items = d.get("items") or {}
        if not isinstance(items, dict):
            raise TemplateError(f"template {d['name']!r}: items must be an object")
        kwargs["items"] = {k: bool(items.get(k, True)) for k in CHECKS}
        t = cls(**kwargs)
        t.validate()
        return t

    def validate(self) -> None:
        if self.voltage_min >= self.voltage_max:
            raise TemplateError(f"template {self.name!r}: voltage range is empty")
        for key in ("online_within_s", "clock_tolerance_s", "command_timeout_s"):
            if getattr(self, key) <= 0:
                raise TemplateError(f"template {self.name!r}: {key} must be positive")
        if not 0 <= self.min_battery <= 100:
            raise TemplateError(f"template {self.name!r}: min_battery must be 0–100")

    def with_items(self, **applies: bool) -> Template:
        items = {k: self.applies(k) for k in CHECKS}
        items.update(applies)
        return replace(self, items=items)


BUILTIN: tuple[Template, ...] = (
    Template(
        "JT709A lock",
        model="JT709A",
        description="Container / cargo e-lock with rope; sub-locks when bound (JT709A-S)",
        builtin=True,
    ),
    Template(
        "KS20A",
        model="KS20A",
        description="KS20A smart lock with wireless peripherals (no rope, no LoRa sub-locks)",
        items={"sublocks": False},
        builtin=True,
    ),
    Template(
        "Vehicle tracker",
        model="GP",
        description="Vehicle GPS tracker on 12/24 V: no lock, alarm path optional",
        voltage_min=9.0,
        voltage_max=32.0,
        min_battery=0,
        items={"lock_cycle": False, "alarm_path": False, "sublocks": False},
        builtin=True,
    ),
)

DEFAULT_TEMPLATE = BUILTIN[0].name


def default_path(data_dir: str | Path) -> Path:
    """commissioning_templates.json in `data_dir` (the window's own: `app.paths.data_dir()`),
    unless $SEALDESK_TEMPLATES names another file."""
    env = os.environ.get("SEALDESK_TEMPLATES")
    if env:
        return Path(env)
    return Path(data_dir) / "commissioning_templates.json"


def load_templates(path: str | Path | None) -> dict[str, Template]:
    """Built-ins, overridden and extended by the saved ones; an absent file is no error."""
    out = {t.name: t for t in BUILTIN}
    if path is None or not Path(path).exists():
        return out
    try:
        doc = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise TemplateError(f"cannot read templates {path}: {exc}") from exc
    entries = doc.get("templates") if isinstance(doc, dict) else doc
    if not isinstance(entries, list):
        raise TemplateError(f"{path}: expected a list of templates")
    for entry in entries:
        t = Template.from_json(entry)
        out[t.name] = t
    return out


def save_templates(path: str | Path, templates: dict[str, Template] | list[Template]) -> None:
    """Write every template (built-ins included, so edits to them persist), atomically."""
    items = list(templates.values()) if isinstance(templates, dict) else list(templates)
    for t in items:
        t.validate()
    doc = {"version": 1, "templates": [t.to_json() for t in items]}
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".templates-", dir=p.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(doc, fh, indent=2, ensure_ascii=False)
        os.replace(tmp, p)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def template_for_model(templates: dict[str, Template], model: str) -> Template | None:
    """The first template naming this model (e.g. "KS20A"), for a sensible default."""
    for t in templates.values():
        if t.model and model and model.upper().startswith(t.model.upper()):
            return t
    return None
