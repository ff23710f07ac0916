"""Build the standalone SealDesk program for this platform: `python packaging/build.py`.

Produces dist/SealDesk/ (one folder: the SealDesk executable and its _internal/ folder; on
macOS also dist/SealDesk.app). Installs PyInstaller (packaging/requirements-build.txt) when it
is missing. Prints the build time, the folder's size and the executable's path.

    --no-slim   keep every Qt part the hooks collect (to measure what the trimming saves)
    --clean     throw away PyInstaller's cache first
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGING = ROOT / "packaging"
SPEC = PACKAGING / "sealdesk.spec"
DIST = ROOT / "dist"
WORK = ROOT / "build" / "pyinstaller"
APP_NAME = "SealDesk"


def executable_path(dist: Path = DIST) -> Path:
    """The built program inside dist/ (the window; SealDesk-cli.exe is beside it on Windows)."""
    if sys.platform == "win32":
        return dist / APP_NAME / f"{APP_NAME}.exe"
    return dist / APP_NAME / APP_NAME


def folder_size(path: Path) -> int:
    total = 0
    for p in path.rglob("*"):
        if p.is_file() and not p.is_symlink():
            total += p.stat().st_size
    return total


def ensure_pyinstaller() -> None:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print("PyInstaller is missing: installing packaging/requirements-build.txt", flush=True)
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r",
                        str(PACKAGING / "requirements-build.txt")], check=True)


def build(*, slim: bool = True, clean: bool = False, dist: Path = DIST,
          work: Path = WORK) -> Path:
    ensure_pyinstaller()
    env = dict(os.environ, SEALDESK_SLIM="1" if slim else "0")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")  # the spec's module scan imports Qt
    cmd = [sys.executable, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
           "--distpath", str(dist), "--workpath", str(work), str(SPEC)]
    if clean:
        cmd.insert(3, "--clean")
    print("running:", " ".join(cmd), flush=True)
    subprocess.run(cmd, check=True, env=env, cwd=ROOT)
    return executable_path(dist)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-slim", action="store_true",
                        help="do not trim unused Qt parts (for measuring)")
    parser.add_argument("--clean", action="store_true", help="clear PyInstaller's cache first")
    parser.add_argument("--dist", type=Path, default=DIST, metavar="DIR",
                        help="where the program goes (default dist/ in the checkout)")
    parser.add_argument("--work", type=Path, default=WORK, metavar="DIR",
                        help="PyInstaller's work folder (default build/pyinstaller)")
    args = parser.parse_args(argv)

    started = time.monotonic()
    try:
        exe = build(slim=not args.no_slim, clean=args.clean, dist=args.dist, work=args.work)
    except subprocess.CalledProcessError as exc:
        print(f"build FAILED (exit {exc.returncode})", file=sys.stderr)
        return 1
    elapsed = time.monotonic() - started
    if not exe.exists():
        print(f"build FAILED: {exe} is missing", file=sys.stderr)
        return 1
    folder = exe.parent
    size = folder_size(folder)
    print(f"built in {elapsed:.0f} s{'' if not args.no_slim else ' (not slimmed)'}")
    print(f"folder:     {folder}  ({size / 2**20:.1f} MiB)")
    print(f"executable: {exe}")
    app_bundle = args.dist / f"{APP_NAME}.app"
    if sys.platform == "darwin" and app_bundle.exists():
        print(f"app bundle: {app_bundle}  ({folder_size(app_bundle) / 2**20:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
