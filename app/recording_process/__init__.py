"""The window's connections and journal, run in a child process (see child.py for why)."""

from app.recording_process.client import Published, RecordingProcess

__all__ = ["Published", "RecordingProcess"]
