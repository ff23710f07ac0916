"""SealDesk entry point: `python main.py` opens the window, `python main.py COMMAND` runs headless."""

import sys

from app.cli import main

if __name__ == "__main__":
    sys.exit(main())
