"""The layers hold: dependencies point down (tenant_portal, billing -> tenants -> core), checked by import-linter
against the contracts in pyproject.toml ([tool.importlinter])."""

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
UPWARD_IMPORT = re.compile(r"^\s*(from|import)\s+(tenants|tenant_portal|billing)\b", re.MULTILINE)


def test_the_import_contracts_are_kept():
    lint_imports = Path(sys.executable).with_name("lint-imports")
    result = subprocess.run([str(lint_imports), "--config", str(ROOT / "pyproject.toml"), "--no-cache"],
                            cwd=ROOT, capture_output=True, text=True)
    _, found, broken = result.stdout.partition("Broken contracts")
    assert result.returncode == 0, (found + broken if found else result.stdout) + result.stderr


def test_core_imports_no_package_above_it_but_in_the_composition_root():
    upward = [f"{path.relative_to(ROOT)}: {match.group(0).strip()}"
              for path in sorted((ROOT / "core").rglob("*.py")) if path != ROOT / "core" / "app.py"
              for match in UPWARD_IMPORT.finditer(path.read_text())]
    assert upward == []
