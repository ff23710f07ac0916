"""The core has no Qt: protocol, transport, journal, fleet, commands, commissioning and
reports (the content of the PDF and CSV reports) run in the headless commands, the recording
process and the tests without PySide6.

Two checks, because each misses what the other sees:
- every `import` statement in those packages' source, at module level or inside a function
  (a lazy `from PySide6.QtGui import …` in a function is still a Qt dependency), names no Qt
  module and nothing of the window (`app.ui`) or Qt-backed helpers (`app.paths`);
- importing every module of a package in a fresh interpreter leaves no PySide6 module in
  `sys.modules` (an import through a third module, which the first check cannot follow).

The window's parts that the core used to hold live under `app/ui/` (the commissioning
report's PDF writer: `app/ui/commissioning_pdf.py`); a core function that needs a folder
is given it (`commissioning.templates.default_path(data_dir)`).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CORE = ("protocol", "transport", "journal", "fleet", "commands", "commissioning", "reports")
FORBIDDEN = ("PySide6", "PyQt5", "PyQt6", "shiboken6", "qasync", "pyqtgraph", "app.ui",
             "app.paths")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> list[tuple[int, str]]:
    """(line, module name) of every import in `source`, wherever it stands; relative imports
    resolved against `module` (the dotted name of the file)."""
    out = []
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            # `from app import ui` imports app.ui: the names may be modules too.
            out += [(node.lineno, base), *((node.lineno, f"{base}.{alias.name}")
                                           for alias in node.names)]
    return out


def forbidden(name: str) -> bool:
    return any(name == f or name.startswith(f + ".") for f in FORBIDDEN)


def qt_imports(package_dir: Path) -> list[str]:
    found = []
    for path in sorted(package_dir.rglob("*.py")):
        module = _module_name(path)
        source = path.read_text(encoding="utf-8")
        lines = set()
        for line, name in imported_modules(source, module, path.name == "__init__.py"):
            if forbidden(name) and line not in lines:  # one report per import statement
                lines.add(line)
                found.append(f"{path.relative_to(ROOT)}:{line}: imports {name}")
    return found


@pytest.mark.parametrize("package", CORE)
def test_no_qt_import_in_the_source(package):
    found = qt_imports(ROOT / "app" / package)
    assert not found, "Qt in the Qt-free core:\n" + "\n".join(found)


_IMPORT_ALL = """
import importlib, json, pkgutil, sys
package = importlib.import_module(sys.argv[1])
for info in pkgutil.walk_packages(package.__path__, package.__name__ + "."):
    importlib.import_module(info.name)
print(json.dumps(sorted(m for m in sys.modules
                        if m.split(".")[0] in ("PySide6", "shiboken6", "PyQt5", "PyQt6"))))
"""


@pytest.mark.parametrize("package", CORE)
def test_importing_the_package_loads_no_qt(package):
    done = subprocess.run([sys.executable, "-c", _IMPORT_ALL, f"app.{package}"], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert loaded == [], f"importing app.{package} loads {loaded}"


def test_the_guard_sees_a_qt_import_anywhere(tmp_path):
    """How the guard fails: a lazy Qt import inside a function, an alias, a relative import
    of the window all count."""
    package = tmp_path / "app" / "fleet"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("")
    (package / "state.py").write_text(
        "import json\n\n"
        "def beep():\n"
        "    from PySide6.QtWidgets import QApplication\n"
        "    QApplication.beep()\n")
    (package / "late.py").write_text(
        "import PySide6.QtCore as core\nfrom ..ui import feed\nfrom app import ui\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path
    try:
        found = qt_imports(package)
    finally:
        ROOT = saved
    assert found == [
        "app/fleet/late.py:1: imports PySide6.QtCore",
        "app/fleet/late.py:2: imports app.ui",
        "app/fleet/late.py:3: imports app.ui",
        "app/fleet/state.py:4: imports PySide6.QtWidgets",
    ]
