"""Where SealDesk keeps its files (the platform's usual places, via QStandardPaths) and resources.

- journal, data_dir(): ~/.local/share/SealDesk/SealDesk (Linux),
  %APPDATA%\\SealDesk\\SealDesk (Windows), ~/Library/Application Support/SealDesk/SealDesk (macOS)
- logs, log_dir(): ~/.local/state/SealDesk/SealDesk/logs (Linux),
  %LOCALAPPDATA%\\SealDesk\\SealDesk\\logs (Windows), ~/Library/Logs/SealDesk (macOS)
- settings (QSettings): ~/.config/SealDesk/SealDesk.conf (Linux), the registry key
  HKCU\\Software\\SealDesk\\SealDesk (Windows), ~/Library/Preferences/com.sealdesk.SealDesk.plist

The XDG_* variables move the Linux folders as usual. Resources (icons) are found in the source
tree when run from source and inside the bundle (sys._MEIPASS) when frozen.
"""

from __future__ import annotations

import sys
from pathlib import Path

from app import APP_NAME

ORGANIZATION = APP_NAME  # QSettings and QStandardPaths use organisation/application
ORGANIZATION_DOMAIN = "sealdesk.com"  # macOS settings file name: com.sealdesk.SealDesk.plist


def frozen() -> bool:
    """True inside the packaged (PyInstaller) program."""
    return bool(getattr(sys, "frozen", False))


def resource_root() -> Path:
    """The folder holding resources/: the bundle when frozen, the repository otherwise."""
    if frozen():
        return Path(getattr(sys, "_MEIPASS", Path(sys.executable).parent))
    return Path(__file__).resolve().parent.parent


def resource_path(name: str) -> Path:
    """A bundled resource by its name under resources/, e.g. resource_path('icons/sealdesk.png')."""
    return resource_root() / "resources" / name


def set_identity() -> None:
    """Name the application for Qt (QSettings, QStandardPaths) even before a QApplication exists."""
    from PySide6.QtCore import QCoreApplication

    if not QCoreApplication.organizationName():
        QCoreApplication.setOrganizationName(ORGANIZATION)
    if not QCoreApplication.organizationDomain():
        QCoreApplication.setOrganizationDomain(ORGANIZATION_DOMAIN)
    if not QCoreApplication.applicationName():
        QCoreApplication.setApplicationName(APP_NAME)


def _location(kind_name: str) -> Path | None:
    from PySide6.QtCore import QStandardPaths

    set_identity()
    kind = getattr(QStandardPaths.StandardLocation, kind_name, None)
    if kind is None:  # e.g. StateLocation before Qt 6.7
        return None
    base = QStandardPaths.writableLocation(kind)
    return Path(base) if base else None


def _ensure(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path


def data_dir() -> Path:
    """Roaming user data: the journal lives here."""
    return _ensure(_location("AppDataLocation") or Path.home() / f".{APP_NAME.lower()}")


def cache_dir() -> Path:
    """Throw-away data that speeds things up (map tiles): safe to delete."""
    return _ensure(_location("CacheLocation") or data_dir() / "cache")


def journal_path() -> Path:
    """The default journal (the demo uses a throw-away one instead)."""
    return data_dir() / "journal.sqlite"


def log_dir() -> Path:
    """Rotating log files: ~/Library/Logs on macOS, the XDG state folder on Linux, local app data
    on Windows."""
    if sys.platform == "darwin":
        return _ensure(Path.home() / "Library" / "Logs" / APP_NAME)
    if sys.platform.startswith("linux"):
        state = _location("StateLocation")
        if state is not None:
            return _ensure(state / "logs")
    local = _location("AppLocalDataLocation") or data_dir()
    return _ensure(local / "logs")


def settings_file() -> str:
    """Where QSettings keeps the settings (a file, or a registry key on Windows)."""
    from PySide6.QtCore import QSettings

    set_identity()
    return QSettings().fileName()
