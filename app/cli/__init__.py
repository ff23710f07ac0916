"""Command line: `python main.py <command>`; with no command the window opens."""

from __future__ import annotations

import argparse
import importlib
import sys

# Each headless command lives in its own module exposing add_parser() and run().
COMMANDS = ("record", "export", "salvage", "simulate", "send", "bench", "commission",
            "report")


def build_parser() -> argparse.ArgumentParser:
    from app import __version__

    parser = argparse.ArgumentParser(
        prog="sealdesk",
        description="SealDesk — console for electronic locks and GPS trackers. "
        "Without a command the window opens.",
    )
    parser.add_argument("--version", action="version", version=f"SealDesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"app.cli.{name}").add_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or (argv[0] not in COMMANDS and argv[0] not in ("-h", "--help", "--version")):
        # The bare command (or window options such as --demo) is the window.
        from app.ui.launch import main as window_main

        return window_main(argv)
    args = build_parser().parse_args(argv)
    module = importlib.import_module(f"app.cli.{args.command}")
    try:
        return int(module.run(args) or 0)
    except KeyboardInterrupt:
        return 130
