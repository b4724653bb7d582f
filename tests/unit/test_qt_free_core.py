"""The core must import and work without PySide6 (napari-style enforced boundary)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CORE = ("kiosk", "forms", "devices", "printing")

# Runs in a fresh interpreter: a meta-path finder refuses PySide6 (and shiboken6), then
# every module of the core packages is imported.
PROBE = r"""
import importlib, pkgutil, sys

class BlockQt:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("PySide6", "shiboken6"):
            raise ImportError(f"{name} is blocked: the core must not import Qt")
        return None

sys.meta_path.insert(0, BlockQt())
failures = []
count = 0
for package in sys.argv[1:]:
    pkg = importlib.import_module(package)
    for info in pkgutil.walk_packages(pkg.__path__, package + "."):
        count += 1
        try:
            importlib.import_module(info.name)
        except ImportError as exc:
            failures.append(f"{info.name}: {exc}")
leaked = sorted(m for m in sys.modules if m.split(".")[0] in ("PySide6", "shiboken6"))
print(count)
if failures or leaked:
    print("\n".join(failures + leaked))
    sys.exit(1)
"""


def run_probe(*packages: str, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", PROBE, *packages],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_every_core_module_imports_without_pyside6() -> None:
    result = run_probe(*CORE)
    assert result.returncode == 0, result.stdout + result.stderr
    assert int(result.stdout.split()[0]) >= 25  # the walk really visited the modules


def test_the_check_fails_when_a_core_module_imports_pyside6(tmp_path: Path) -> None:
    # a copy of the tree with one offending import must make the probe fail
    pkg = tmp_path / "kiosk"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "offender.py").write_text("from PySide6.QtCore import QTimer\n")
    result = run_probe("kiosk", cwd=tmp_path)
    assert result.returncode == 1
    assert "kiosk.offender" in result.stdout


def test_no_pyside6_import_statement_in_core_sources() -> None:
    offenders = [
        str(path.relative_to(ROOT))
        for package in CORE
        for path in (ROOT / package).rglob("*.py")
        if any(
            line.lstrip().startswith(("from PySide6", "import PySide6"))
            for line in path.read_text(encoding="utf-8").splitlines()
        )
    ]
    assert offenders == []
