"""SealDesk: `python main.py` opens the window; `python main.py COMMAND` runs headless."""

import multiprocessing
import sys

from app.cli import main

if __name__ == "__main__":
    multiprocessing.freeze_support()  # the journal process, in a packaged build
    sys.exit(main())
