"""Command templates, validation and the exact text that goes on the wire.

Two wire forms exist (PROTOCOL.md, "Commands"):
  long  `(deviceId,1,serial,CMD,index[,params…])` — the reply's commandType is CMD+index;
  short `(P01)`, `(P04,1,60,30)` of the older JT701 family — the reply's commandType is P01.
Everything here is pure so that the window can show the exact text before anything is sent,
and so that free text gets the same checks (expected reply type, danger) as a template.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, replace
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any, Literal

PROTOCOL_VERSION = "1"  # the platform always sends version 1

_DEVICE_RE = re.compile(r"^[0-9A-Za-z]{1,32}$")  # also keeps / + # out of the MQTT topic
_SUBLOCK_RE = re.compile(r"^[0-9A-Za-z]{4,20}$")  # seed: E0171E0365
_CMD_RE = re.compile(r"^[A-Z][A-Z0-9_]*$")
_SHORT_RE = re.compile(r"^P\d{2}$")
_INDEX_RE = re.compile(r"^\d{1,3}$")
_SERIAL_RE = re.compile(r"^\d{1,3}$")
_FIELD_FORBIDDEN = re.compile(r"[(),\s]")


# Parameters whose value is a secret, by name: "password", the same field the Events panel
# hides in a push. A Command never shows them in its repr, a CommandError never quotes them,
# and the log masks them (app/logs.py, through `mask_secrets`).
SECRET_PARAMS: frozenset[str] = frozenset({"password"})
MASK = "***"


class CommandError(ValueError):
    """A command that must not be sent; `param` names the offending parameter, if any."""

    def __init__(self, message: str, param: str | None = None) -> None:
        super().__init__(message)
        self.param = param


ParamKind = Literal["int", "text", "ids"]


@dataclass(frozen=True)
class Param:
    """One named parameter. kind "ids" renders as `n,id1,…,idn` (n computed, never typed)."""

    name: str
    label: str
    kind: ParamKind = "int"
    min: int | None = None
    max: int | None = None
    regex: str | None = None
    default: Any = None
    help: str = ""

    @property
    def secret(self) -> bool:
        """The value is a secret (an unlock password): never shown, never logged."""
        return self.name in SECRET_PARAMS

    def render(self, value: Any) -> list[str]:
        """Validate `value` and return the wire fields it becomes."""
        if value is None or (isinstance(value, str) and not value.strip()):
            raise CommandError(f"{self.label} ({self.name}) is required", self.name)
        if self.kind == "int":
            return [str(self._int(value))]
        if self.kind == "ids":
            ids = self._ids(value)
            return [str(len(ids)), *ids]
        return [self._text(value)]

    def _int(self, value: Any) -> int:
        if isinstance(value, bool):
            raise CommandError(f"{self.label} ({self.name}) must be a whole number", self.name)
        if isinstance(value, int):
            n = value
        else:
            s = str(value).strip()
            if not re.fullmatch(r"\d+", s):
                raise CommandError(
                    f"{self.label} ({self.name}) must be a whole number, not {s!r}", self.name
                )
            n = int(s)
        lo, hi = self.min, self.max
        if (lo is not None and n < lo) or (hi is not None and n > hi):
            rng = f"{lo if lo is not None else '…'}–{hi if hi is not None else '…'}"
            raise CommandError(f"{self.label} ({self.name}) must be in {rng}, not {n}", self.name)
        return n

    def _text(self, value: Any) -> str:
        s = str(value).strip()
        if _FIELD_FORBIDDEN.search(s):
            raise CommandError(
                f"{self.label} ({self.name}) must not contain commas, brackets or spaces", self.name
            )
        if self.regex and not re.fullmatch(self.regex, s):
            hint = f" ({self.help})" if self.help else ""
            shown = "" if self.secret else f" {s!r}"  # a mistyped password is nearly the password
            raise CommandError(f"{self.label} ({self.name}){shown} is not valid{hint}", self.name)
        return s

    def _ids(self, value: Any) -> list[str]:
        raw = re.split(r"[\s,;]+", value.strip()) if isinstance(value, str) else list(value)
        ids = [str(v).strip() for v in raw if str(v).strip()]
        if not ids:
            raise CommandError(f"{self.label} ({self.name}): give at least one id", self.name)
        pattern = re.compile(self.regex) if self.regex else _SUBLOCK_RE
        for i in ids:
            if not pattern.fullmatch(i):
                raise CommandError(
                    f"{self.label} ({self.name}): {i!r} is not a sub-lock id"
                    f" (4–20 letters or digits, e.g. E0171E0365)",
                    self.name,
                )
        dupes = sorted({i for i in ids if ids.count(i) > 1})
        if dupes:
            raise CommandError(
                f"{self.label} ({self.name}): listed twice: {', '.join(dupes)}", self.name
            )
        if self.max is not None and len(ids) > self.max:
            raise CommandError(
                f"{self.label} ({self.name}): at most {self.max} ids, not {len(ids)}", self.name
            )
        return ids


@dataclass(frozen=True)
class CommandTemplate:
    """A named command. `fixed` are sub-command fields sent before the params (WLNET,1,0)."""

    name: str
    label: str
    cmd: str
    index: str | None = None  # None: the short P-form
    params: tuple[Param, ...] = ()
    dangerous: bool = False
    reason: str = ""
    fixed: tuple[str, ...] = ()
    user: bool = False  # saved by a user, not built in

    @property
    def short(self) -> bool:
        return self.index is None

    @property
    def reply_type(self) -> str:
        """The commandType the reply will carry."""
        return self.cmd if self.index is None else f"{self.cmd}{self.index}"

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)


@dataclass(frozen=True, repr=False)
class Command:
    """A composed command. `text` is exactly what is published; `name` the reply's type.

    `secret_params`: the indices in `params` of secret values (a P43 unlock password); its
    repr shows `MASK` in their place, in `params` and `text` alike.
    """

    device: str
    text: str
    name: str
    cmd: str
    index: str | None
    params: tuple[str, ...]
    serial: str | None  # None for the short form, which carries none
    dangerous: bool = False
    reason: str = ""
    sublock: str | None = None
    template: str | None = None
    version: str = PROTOCOL_VERSION
    secret_params: tuple[int, ...] = ()

    @property
    def short(self) -> bool:
        return self.index is None

    @property
    def masked_text(self) -> str:
        """`text` with every secret parameter replaced by `MASK` (what may be shown or logged)."""
        if not self.secret_params:
            return self.text
        params = _masked(self.params, self.secret_params)
        if self.short:
            return _short_text(self.cmd, params)
        return _long_text(self.device, self.version, self.serial or "", self.cmd,
                          self.index or "", params)

    def __repr__(self) -> str:
        shown = {"text": self.masked_text, "params": _masked(self.params, self.secret_params)}
        inner = ", ".join(f"{f.name}={shown.get(f.name, getattr(self, f.name))!r}"
                          for f in dataclass_fields(self))
        return f"{type(self).__name__}({inner})"

    def topic(self, access_key: str) -> str:
        return f"download/{access_key}/{self.device}/cmd"

    def with_serial(self, serial: int | str) -> Command:
        """The same command under a new serial (retry); the short form has no serial."""
        if self.short:
            return self
        s = format_serial(serial)
        return replace(
            self,
            serial=s,
            text=_long_text(self.device, self.version, s, self.cmd, self.index or "", self.params),
        )


# ---- the library ---------------------------------------------------------------------

_MINUTES = Param(
    "minutes",
    "Unlock duration (minutes)",
    "int",
    1,
    255,
    default=1,
    help="how long the sub-lock stays open; range not given by the vendor docs",
)
_SUBLOCK = Param(
    "sublock",
    "Sub-lock id",
    "text",
    regex=_SUBLOCK_RE.pattern,
    help="4–20 letters or digits, e.g. E0171E0365",
)

LIBRARY: tuple[CommandTemplate, ...] = (
    CommandTemplate("version", "Version query", "BASE", "1"),
    CommandTemplate("time", "Time query", "BASE", "2"),
    CommandTemplate("sublocks", "List bound sub-locks", "WLNET", "1", fixed=("0",)),
    CommandTemplate(
        "bind",
        "Bind sub-locks",
        "WLNET",
        "1",
        fixed=("1",),
        params=(Param("ids", "Sub-lock ids", "ids", max=32, help="replaces the whole bound list"),),
        dangerous=True,
        reason="bind replaces the whole list of bound sub-locks",
    ),
    CommandTemplate(
        "unlock_sublock",
        "Unlock a sub-lock",
        "WLNET",
        "8",
        fixed=("1", "1"),
        params=(_MINUTES, _SUBLOCK),
        dangerous=True,
        reason="unlocks a sub-lock",
    ),
    CommandTemplate("p01", "Version and battery (old family)", "P01"),
    CommandTemplate("p02", "Position now (old family)", "P02"),
    CommandTemplate(
        "p04",
        "Report intervals (old family)",
        "P04",
        fixed=("1",),
        params=(
            Param("awake_s", "Interval while awake (s)", "int", 10, 86400, default=60),
            Param("sleep_min", "Interval while asleep (min)", "int", 1, 1440, default=30),
        ),
    ),
    CommandTemplate(
        "p15", "Restart (old family)", "P15", dangerous=True, reason="restarts the device"
    ),
    CommandTemplate(
        "p43",
        "Unlock with password (old family)",
        "P43",
        params=(
            Param(
                "password",
                "Unlock password",
                "text",
                regex=r"[0-9A-Za-z]{1,16}",
                help="1–16 letters or digits",
            ),
        ),
        dangerous=True,
        reason="unlocks the lock",
    ),
)


def template(name: str, extra: Iterable[CommandTemplate] = ()) -> CommandTemplate:
    """Look a template up by name among the library and `extra` (user templates)."""
    for t in (*LIBRARY, *extra):
        if t.name == name:
            return t
    raise CommandError(f"no template named {name!r}")


def classify(cmd: str, index: str | None, params: Sequence[str]) -> tuple[bool, str]:
    """Whether a command needs typed confirmation, and why. Applies to free text too."""
    if cmd == "WLNET" and index == "8":
        return True, "unlocks a sub-lock"
    if cmd == "WLNET" and index == "1" and (not params or params[0] != "0"):
        return True, "bind replaces the whole list of bound sub-locks"
    if cmd == "P43" and index is None:
        return True, "unlocks the lock"
    if cmd == "P15" and index is None:
        return True, "restarts the device"
    return False, ""


# ---- text ------------------------------------------------------------------------------


def format_serial(serial: int | str) -> str:
    """3 digits, zero-padded: 7 → "007"."""
    s = str(serial).strip()
    if not _SERIAL_RE.fullmatch(s):
        raise CommandError(f"serial must be 0–999, not {serial!r}", "serial")
    return f"{int(s):03d}"


def check_device(device_id: str) -> str:
    d = (device_id or "").strip()
    if not _DEVICE_RE.fullmatch(d):
        raise CommandError(f"device id {device_id!r} must be 1–32 letters or digits", "device")
    return d


def _long_text(
    device: str, version: str, serial: str, cmd: str, index: str, params: Sequence[str]
) -> str:
    return "(" + ",".join([device, version, serial, cmd, index, *params]) + ")"


def _short_text(cmd: str, params: Sequence[str]) -> str:
    return "(" + ",".join([cmd, *params]) + ")"


def _masked(params: Sequence[str], secret: Iterable[int]) -> tuple[str, ...]:
    hidden = set(secret)
    return tuple(MASK if i in hidden else p for i, p in enumerate(params))


def _secret_positions(tpl: CommandTemplate, params: Sequence[str]) -> tuple[int, ...]:
    """The indices in `params` (fixed fields first, then the template's parameters, as sent)
    that hold a secret parameter's value. Reads unchecked text too (what a log line holds)."""
    out: list[int] = []
    i = len(tpl.fixed)
    for p in tpl.params:
        if i >= len(params):
            break
        width = 1
        if p.kind == "ids":
            n = params[i]
            width = 1 + int(n) if n.isdigit() else len(params) - i
        if p.secret:
            out.extend(range(i, min(i + width, len(params))))
        i += width
    return tuple(out)


def mask_secrets(text: str, templates: Iterable[CommandTemplate] = LIBRARY,
                 mask: str = MASK) -> str:
    """Command text as sent ("(P43,1234)") with its secret parameters masked ("(P43,***)"),
    the template found as free text finds it; text that is no known command is returned as it
    is. For lines written without a Command at hand (app/logs.py)."""
    try:
        parsed = parse_command_text(text)
    except CommandError:
        return text
    tpl = _match_template(parsed, templates)
    secret = _secret_positions(tpl, parsed.params) if tpl is not None else ()
    if not secret:
        return text
    s = text.strip()
    inner = s[1:-1] if s.startswith("(") else s
    words = inner.split(",")
    first = len(words) - len(parsed.params)  # the params are the last fields, in every form
    for i in secret:
        words[first + i] = mask
    joined = ",".join(words)
    return f"({joined})" if s.startswith("(") else joined


def _sublock_of(cmd: str, index: str | None, params: Sequence[str]) -> str | None:
    if cmd == "WLNET" and index == "8" and len(params) >= 4:
        return params[3]
    return None


def _make(
    device: str,
    cmd: str,
    index: str | None,
    params: Sequence[str],
    serial: str | None,
    *,
    template_name: str | None = None,
    dangerous: bool = False,
    reason: str = "",
    version: str = PROTOCOL_VERSION,
    secret_params: tuple[int, ...] = (),
) -> Command:
    danger, why = classify(cmd, index, params)
    if index is None:
        text, name, serial = _short_text(cmd, params), cmd, None
    else:
        if serial is None:
            raise CommandError("the long form needs a serial", "serial")
        text, name = _long_text(device, version, serial, cmd, index, params), cmd + index
    return Command(
        device=device,
        text=text,
        name=name,
        cmd=cmd,
        index=index,
        params=tuple(params),
        serial=serial,
        dangerous=dangerous or danger,
        reason=reason or why,
        sublock=_sublock_of(cmd, index, params),
        template=template_name,
        version=version,
        secret_params=secret_params,
    )


def build(
    tpl: CommandTemplate, device_id: str, serial: int | str | None = None, **params: Any
) -> Command:
    """Validate the parameters and compose the exact text. Raises CommandError."""
    device = check_device(device_id)
    known = {p.name for p in tpl.params}
    unknown = sorted(set(params) - known)
    if unknown:
        raise CommandError(f"{tpl.label}: unknown parameter {unknown[0]!r}", unknown[0])
    fields = list(tpl.fixed)
    for p in tpl.params:
        fields += p.render(params.get(p.name, p.default))
    s = None if tpl.short or serial is None else format_serial(serial)
    return _make(
        device,
        tpl.cmd,
        tpl.index,
        fields,
        s,
        template_name=tpl.name,
        dangerous=tpl.dangerous,
        reason=tpl.reason,
        secret_params=_secret_positions(tpl, fields),
    )


@dataclass(frozen=True)
class ParsedText:
    """What free text says; device/serial/version only when the full form was typed."""

    cmd: str
    index: str | None
    params: tuple[str, ...]
    device: str | None = None
    serial: str | None = None
    version: str | None = None

    @property
    def name(self) -> str:
        return self.cmd if self.index is None else self.cmd + self.index

    @property
    def dangerous(self) -> bool:
        return classify(self.cmd, self.index, self.params)[0]

    @property
    def reason(self) -> str:
        return classify(self.cmd, self.index, self.params)[1]


def parse_command_text(text: str) -> ParsedText:
    """Understand "BASE,1", "P01", "(P04,1,60,30)" or "(794308010642,1,001,BASE,1)"."""
    s = (text or "").strip()
    if s.startswith("(") != s.endswith(")") or (s.startswith("(") and len(s) < 2):
        raise CommandError(f"unbalanced brackets in {text!r}", "text")
    if s.startswith("("):
        s = s[1:-1]
    fields = [f.strip() for f in s.split(",")]
    if not s.strip() or any(not f for f in fields):
        raise CommandError(f"empty field in {text!r}", "text")
    bad = [f for f in fields if _FIELD_FORBIDDEN.search(f)]
    if bad:
        raise CommandError(f"field {bad[0]!r} must not contain brackets or spaces", "text")
    head = fields[0]
    full = (
        len(fields) >= 5
        and fields[1].isdigit()
        and _SERIAL_RE.fullmatch(fields[2])
        and _CMD_RE.fullmatch(fields[3]) is not None
        and _INDEX_RE.fullmatch(fields[4])
    )
    if not full and _SHORT_RE.fullmatch(head.upper()):
        return ParsedText(head.upper(), None, tuple(fields[1:]))
    if not full and _CMD_RE.fullmatch(head.upper()) and not head.isdigit():
        if len(fields) < 2 or not _INDEX_RE.fullmatch(fields[1]):
            raise CommandError(
                f"{head.upper()} needs a numeric index, e.g. {head.upper()},1", "text"
            )
        return ParsedText(head.upper(), fields[1], tuple(fields[2:]))
    # the full long form, as typed: deviceId,version,serial,CMD,index[,params]
    if len(fields) < 5:
        raise CommandError(
            f"cannot read {text!r}: expected CMD,index (BASE,1), a P-command (P01) "
            f"or (deviceId,1,serial,CMD,index,…)",
            "text",
        )
    device, version, serial, cmd, index = fields[:5]
    check_device(device)
    if not version.isdigit():
        raise CommandError(f"version {version!r} must be a number", "text")
    if not _CMD_RE.fullmatch(cmd):
        raise CommandError(f"command word {cmd!r} must be upper case, e.g. BASE", "text")
    if not _INDEX_RE.fullmatch(index):
        raise CommandError(f"index {index!r} must be a number", "text")
    return ParsedText(cmd, index, tuple(fields[5:]), device, format_serial(serial), version)


def _match_template(
    parsed: ParsedText, templates: Iterable[CommandTemplate]
) -> CommandTemplate | None:
    for t in templates:
        if (
            t.cmd == parsed.cmd
            and t.index == parsed.index
            and parsed.params[: len(t.fixed)] == t.fixed
        ):
            return t
    return None


def _check_against(tpl: CommandTemplate, params: Sequence[str]) -> None:
    """Free text that is a known command gets the template's parameter checks."""
    if not tpl.params:
        return  # nothing known about extra fields (BASE,2,<time> sets the clock, say)
    rest = list(params[len(tpl.fixed) :])
    for p in tpl.params:
        if not rest:
            raise CommandError(f"{tpl.label}: {p.label} ({p.name}) is missing", p.name)
        if p.kind == "ids":
            n = rest.pop(0)
            if not n.isdigit() or int(n) != len(rest):
                raise CommandError(
                    f"{tpl.label}: the count {n!r} does not match the {len(rest)} ids that follow",
                    p.name,
                )
            p.render(rest)
            rest = []
        else:
            p.render(rest.pop(0))
    if rest:
        raise CommandError(f"{tpl.label}: unexpected extra fields {','.join(rest)}", "text")


def build_text(
    text: str,
    device_id: str,
    serial: int | str | None = None,
    templates: Iterable[CommandTemplate] = LIBRARY,
) -> Command:
    """Compose free text for `device_id`. A typed full form keeps its own serial."""
    device = check_device(device_id)
    parsed = parse_command_text(text)
    if parsed.device is not None and parsed.device != device:
        raise CommandError(
            f"the text is addressed to {parsed.device}, not to the target device {device}", "device"
        )
    tpl = _match_template(parsed, templates)
    if tpl is not None:
        _check_against(tpl, parsed.params)
    if parsed.index is None:
        s = None
    elif parsed.serial is not None:
        s = parsed.serial
    else:
        if serial is None:
            raise CommandError("the long form needs a serial", "serial")
        s = format_serial(serial)
    return _make(
        device,
        parsed.cmd,
        parsed.index,
        parsed.params,
        s,
        template_name=tpl.name if tpl else None,
        version=parsed.version or PROTOCOL_VERSION,
        secret_params=_secret_positions(tpl, parsed.params) if tpl else (),
    )


# ---- user templates --------------------------------------------------------------------


def _template_to_json(t: CommandTemplate) -> dict[str, Any]:
    d = asdict(t)
    d.pop("user", None)
    return d


def _template_from_json(d: Mapping[str, Any]) -> CommandTemplate:
    try:
        params = tuple(Param(**p) for p in d.get("params", ()))
        cmd = str(d["cmd"])
        index = None if d.get("index") in (None, "") else str(d["index"])
        fixed = tuple(str(f) for f in d.get("fixed", ()))
        name = str(d["name"])
    except (KeyError, TypeError) as exc:
        raise CommandError(f"template is malformed: {exc}") from exc
    if not _CMD_RE.fullmatch(cmd) or (index is not None and not _INDEX_RE.fullmatch(index)):
        raise CommandError(f"template {name!r}: bad command {cmd},{index}")
    if index is None and not _SHORT_RE.fullmatch(cmd):
        raise CommandError(f"template {name!r}: only P-commands have no index")
    if any(_FIELD_FORBIDDEN.search(f) or not f for f in fixed):
        raise CommandError(f"template {name!r}: bad fixed field")
    # A saved template can never hide the danger of what it sends.
    danger, why = classify(cmd, index, fixed)
    return CommandTemplate(
        name=name,
        label=str(d.get("label") or name),
        cmd=cmd,
        index=index,
        params=params,
        dangerous=bool(d.get("dangerous")) or danger,
        reason=str(d.get("reason") or why),
        fixed=fixed,
        user=True,
    )


def save_templates(path: str | Path, templates: Iterable[CommandTemplate]) -> None:
    """Write user templates as JSON, atomically (a crash never leaves half a file)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    doc = {"version": 1, "templates": [_template_to_json(t) for t in templates]}
    tmp = p.with_name(p.name + ".tmp")
    tmp.write_text(json.dumps(doc, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, p)


def load_templates(path: str | Path) -> list[CommandTemplate]:
    """Read user templates; a missing file is an empty list, a broken one a CommandError."""
    p = Path(path)
    if not p.exists():
        return []
    try:
        doc = json.loads(p.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CommandError(f"cannot read templates from {p}: {exc}") from exc
    items = doc.get("templates", []) if isinstance(doc, dict) else doc
    if not isinstance(items, list):
        raise CommandError(f"{p}: 'templates' must be a list")
    names = {t.name for t in LIBRARY}
    out = []
    for item in items:
        t = _template_from_json(item)
        if t.name in names:
            raise CommandError(f"{p}: template name {t.name!r} is used twice or is built in")
        names.add(t.name)
        out.append(t)
    return out


__all__ = [
    "LIBRARY",
    "SECRET_PARAMS",
    "Command",
    "CommandError",
    "CommandTemplate",
    "Param",
    "ParsedText",
    "build",
    "build_text",
    "check_device",
    "classify",
    "format_serial",
    "load_templates",
    "mask_secrets",
    "parse_command_text",
    "save_templates",
    "template",
]
