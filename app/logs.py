"""The log file: rotating, in the user's log folder (app.paths.log_dir), never a secret in it.

`setup()` is called once at the start of the window. Passwords, their MD5, access keys and
tokens are masked in every line, whatever the code that logged them wrote: the formatter
rewrites the finished line (message, arguments and traceback alike). That covers a command's
secret parameters (a P43 unlock password: the commands' own notion, `app.commands.builder`)
and the webhook's required header value (the vendor's `headerKey`, or whatever name the rule
uses: a running receiver registers its value with `add_secret`).

A process without the log file (the window's recording process) writes to stderr through
the same formatter: `setup_stderr()`.
"""

from __future__ import annotations

import logging
import logging.handlers
import re
import sys
import threading
from pathlib import Path

from app.commands.builder import mask_secrets

LOG_NAME = "sealdesk.log"
MAX_BYTES = 2 * 1024 * 1024
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)-7s %(threadName)s %(name)s: %(message)s"

MASK = "***"

# key=value, key: value, "key": "value", --key value — for every key that names a secret.
# headerKey: the vendor's name for the webhook header whose value is the rule's token.
_SECRET_KEYS = r"(?:password(?:[_-]?md5)?|passwd|pwd|secret|token|api[_-]?key|access[_-]?key|" \
               r"authorization|credentials?|header[_-]?key|header[_-]?value)"
_KEY_VALUE = re.compile(
    rf"""(?P<key>["']?(?:--)?{_SECRET_KEYS}["']?\s*(?:=|:|\s)\s*)(?P<quote>["']?)(?P<value>(?:(?:bearer|basic)\s+)?[^\s"',;&}}\])]+)""",
    re.IGNORECASE,
)
# A bare 32-hex-digit string is what the vendor wants as a password: an MD5.
_MD5 = re.compile(r"(?<![0-9A-Fa-f])[0-9A-Fa-f]{32}(?![0-9A-Fa-f])")
# Credentials inside URLs: scheme://user:password@host
_URL_USERINFO = re.compile(r"(?P<head>[a-z][a-z0-9+.-]*://[^/\s:@]+:)[^@\s/]+@", re.IGNORECASE)
# A command as sent, "(P43,1234)": which of its fields are secret is the commands' business.
_COMMAND = re.compile(r"\([^()\s,]+(?:,[^()\s,]*)+\)")
# Values known to be secret wherever they appear (add_secret); shorter ones would mask words.
MIN_SECRET_LEN = 6

_lock = threading.Lock()
_handler: logging.Handler | None = None
_extra: list[logging.Handler] = []
_secrets: set[str] = set()
_secrets_re: re.Pattern[str] | None = None


def add_secret(value: str | None) -> None:
    """Mask `value` in every line from now on, whatever precedes it (a webhook header's value
    under a header name of the user's choosing). Values under MIN_SECRET_LEN characters are
    left to the key=value rules: masking them everywhere would blank ordinary words."""
    global _secrets_re
    if not value or len(value) < MIN_SECRET_LEN:
        return
    with _lock:
        if value in _secrets:
            return
        _secrets.add(value)
        longest_first = sorted(_secrets, key=len, reverse=True)
        _secrets_re = re.compile("|".join(re.escape(v) for v in longest_first))


def forget_secrets() -> None:
    """Drop what `add_secret` registered (tests: each starts with only the rules)."""
    global _secrets_re
    with _lock:
        _secrets.clear()
        _secrets_re = None


def redact(text: str) -> str:
    """`text` with every secret masked."""
    known = _secrets_re
    if known is not None:
        text = known.sub(MASK, text)
    if "(" in text:
        text = _COMMAND.sub(lambda m: mask_secrets(m[0], mask=MASK), text)
    text = _KEY_VALUE.sub(lambda m: f"{m['key']}{m['quote']}{MASK}", text)
    text = _URL_USERINFO.sub(lambda m: f"{m['head']}{MASK}@", text)
    return _MD5.sub(MASK, text)


class RedactingFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def log_file() -> Path:
    from app.paths import log_dir

    return log_dir() / LOG_NAME


def setup(level: int = logging.INFO, *, directory: Path | None = None) -> Path | None:
    """Send the root logger to a rotating file; idempotent. Returns the file, or None when the
    log folder cannot be written (the program runs on without a log rather than not at all)."""
    global _handler
    with _lock:
        if _handler is not None:
            name = getattr(_handler, "baseFilename", "")
            return Path(name) if name else None
        try:
            path = (directory / LOG_NAME) if directory else log_file()
            path.parent.mkdir(parents=True, exist_ok=True)
            handler = logging.handlers.RotatingFileHandler(
                path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8", delay=True
            )
        except OSError as exc:
            print(f"SealDesk: no log file ({exc})", file=sys.stderr)
            return None
        handler.setFormatter(RedactingFormatter(FORMAT))
        handler.setLevel(level)
        root = logging.getLogger()
        root.addHandler(handler)
        if sys.stderr is not None:  # warnings stay visible on a console, as before (lastResort)
            console = logging.StreamHandler(sys.stderr)
            console.setLevel(logging.WARNING)
            console.setFormatter(RedactingFormatter("%(levelname)s %(name)s: %(message)s"))
            root.addHandler(console)
            _extra.append(console)
        if root.level == logging.NOTSET or root.level > level:
            root.setLevel(level)
        _handler = handler
        for chatty in ("transitions", "amqtt", "asyncio"):  # state-machine chatter at INFO
            if logging.getLogger(chatty).level == logging.NOTSET:
                logging.getLogger(chatty).setLevel(logging.WARNING)
        _install_excepthook()
        return path


def setup_stderr(
    level: int = logging.WARNING, fmt: str = "%(levelname)s %(name)s: %(message)s"
) -> logging.Handler | None:
    """For a process with no log file of its own (the window's recording process): the root
    logger writes to stderr, every line masked as in the file. Returns the handler, or None
    without a stderr (a windowed program)."""
    if sys.stderr is None:
        return None
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter(fmt))
    root = logging.getLogger()
    root.addHandler(handler)
    root.setLevel(level)
    return handler


def shutdown() -> None:
    """Detach and close the file handler (tests; the interpreter does it at exit anyway)."""
    global _handler
    with _lock:
        if _handler is not None:
            for h in [_handler, *_extra]:
                logging.getLogger().removeHandler(h)
                h.close()
            _extra.clear()
            _handler = None


def _install_excepthook() -> None:
    """Uncaught exceptions go to the log too: a windowed program has no console to show them."""
    previous = sys.excepthook

    def hook(exc_type, exc, tb):  # type: ignore[no-untyped-def]
        if not issubclass(exc_type, KeyboardInterrupt):
            logging.getLogger("sealdesk").critical("uncaught exception",
                                                   exc_info=(exc_type, exc, tb))
        previous(exc_type, exc, tb)

    sys.excepthook = hook
