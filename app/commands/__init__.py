"""Command console core: compose, number, pair, label and audit lock commands.

Qt-free on purpose: the `send` CLI and the window's command panel share it, and the
pairing logic is tested with an injected clock, not with a GUI or a broker.
"""

from app.commands.builder import (
    LIBRARY,
    Command,
    CommandError,
    CommandTemplate,
    Param,
    build,
    build_text,
    classify,
    load_templates,
    parse_command_text,
    save_templates,
    template,
)
from app.commands.replies import clock_difference, label_reply, parse_device_time
from app.commands.serials import SerialCounter
from app.commands.tracker import (
    CommandState,
    CommandTracker,
    ReplyMatch,
    TrackedCommand,
    UnsolicitedReply,
)

__all__ = [
    "LIBRARY",
    "Command",
    "CommandError",
    "CommandState",
    "CommandTemplate",
    "CommandTracker",
    "Param",
    "ReplyMatch",
    "SerialCounter",
    "TrackedCommand",
    "UnsolicitedReply",
    "build",
    "build_text",
    "classify",
    "clock_difference",
    "label_reply",
    "load_templates",
    "parse_command_text",
    "parse_device_time",
    "save_templates",
    "template",
]
