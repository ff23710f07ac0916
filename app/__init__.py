"""SealDesk: a desktop console for electronic locks and GPS trackers."""

__version__ = "0.1.0"
APP_NAME = "SealDesk"
