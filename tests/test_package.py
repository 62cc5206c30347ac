"""The installable package: every imported library is declared, and a wheel built from the checkout serves the app
on its own (installed in a new virtual environment, run from elsewhere, the checkout out of reach)."""

from __future__ import annotations

import ast
import importlib.metadata
import json
import os
import subprocess
import sys
import sysconfig
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
APP_CODE = ["core", "tenants", "tenant_portal", "billing", "operator_console", "scripts", "wsgi.py"]
#: Developers' tools among the scripts, run with the test extras installed (``make screenshots``).
DEVELOPER_SCRIPTS = ["scripts/screenshots.py"]
FIRST_PARTY = {"core", "tenants", "tenant_portal", "billing", "operator_console", "wsgi", "tests", "bench", "scripts"}


def _declared(requirements: list[str]) -> set[str]:
    return {canonicalize_name(Requirement(requirement).name) for requirement in requirements}


def _third_party_imports(paths: list[Path]) -> dict[str, set[str]]:
    """Top-level names imported (absolutely) by the files, with the files that import each."""
    found: dict[str, set[str]] = {}
    for path in paths:
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in sys.stdlib_module_names and top not in FIRST_PARTY:
                    found.setdefault(top, set()).add(str(path.relative_to(ROOT)))
    return found


def _python_files(*names: str) -> list[Path]:
    return [path for name in names for path in ([ROOT / name] if name.endswith(".py") else (ROOT / name).rglob("*.py"))]


def _undeclared(paths: list[Path], declared: set[str]) -> dict[str, list[str]]:
    distributions = importlib.metadata.packages_distributions()
    return {f"{module} ({', '.join(distributions.get(module, ['no installed distribution']))})": sorted(files)
            for module, files in sorted(_third_party_imports(paths).items())
            if not {canonicalize_name(name) for name in distributions.get(module, [])} & declared}


def test_the_app_declares_every_library_it_imports():
    app_files = [path for path in _python_files(*APP_CODE)
                 if str(path.relative_to(ROOT)) not in DEVELOPER_SCRIPTS]
    assert _undeclared(app_files, _declared(PROJECT["dependencies"])) == {}


def test_the_tests_and_benchmarks_declare_every_library_they_import():
    declared = _declared(PROJECT["dependencies"] + PROJECT["optional-dependencies"]["test"])
    assert _undeclared(_python_files("tests", "bench", *DEVELOPER_SCRIPTS), declared) == {}


SERVE = """
import importlib.metadata, json, sys
from pathlib import Path

from packaging.requirements import Requirement

import core
from core.app import create_app
from core.config import MIGRATIONS, TRANSLATIONS

# The code and data come from the installed wheel, never from the checkout.
assert Path(core.__file__).is_relative_to(sys.prefix), core.__file__
assert not any(Path(entry or ".").resolve() == Path(sys.argv[1]) for entry in sys.path), sys.path
# The migrations and catalogs too: the copies the wheel put inside core.
installed = Path(core.__file__).resolve().parent
assert (MIGRATIONS, TRANSLATIONS) == (installed / "migrations", installed / "translations"), (MIGRATIONS, TRANSLATIONS)
# Every dependency the wheel declares is installed, in a version it accepts.
for requirement in map(Requirement, importlib.metadata.requires("heforshe-commitments")):
    if requirement.marker is None or requirement.marker.evaluate({"extra": ""}):
        version = importlib.metadata.version(requirement.name)
        assert requirement.specifier.contains(version, prereleases=True), (requirement, version)

client = create_app({"TESTING": True}).test_client()
stats = client.get("/stats.json")
french = client.get("/", headers={"Accept-Language": "fr"})
print(json.dumps({"stats": [stats.status_code, stats.get_json()],
                  "page": [french.status_code, french.get_data(as_text=True)]}))
"""


@pytest.mark.long
def test_a_wheel_built_from_the_checkout_serves_the_app(tmp_path):
    # Offline: with this environment's build backend (the test extra's setuptools), no index. The source
    # distribution first, then the wheel from it, as an installer does (and nothing is built inside the checkout).
    build = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(tmp_path / "dist"),
                            str(ROOT)], capture_output=True, text=True)
    assert build.returncode == 0, build.stdout + build.stderr
    (wheel,) = (tmp_path / "dist").glob("*.whl")
    contents = set(zipfile.ZipFile(wheel).namelist())
    # The top-level migrations/ and translations/ are installed inside core, never as top-level packages.
    for data in ("core/migrations/env.py", "core/migrations/alembic.ini", "core/migrations/script.py.mako",
                 "core/migrations/versions/0001_foundation.py", "core/translations/fr/LC_MESSAGES/messages.mo",
                 "core/templates/core/base.html", "core/static/app.css", "tenants/sso/templates", "tenant_portal/units",
                 "operator_console/templates/operator_console/join.html"):
        assert any(name.startswith(data) for name in contents), f"{data} is not in the wheel"
    assert not [name for name in contents if name.startswith(("migrations/", "translations/"))]
    assert not [name for name in contents if "__pycache__" in name or name.endswith((".po", ".pot"))]

    # A new environment; its dependencies are this one's (a .pth file), so that no index is needed: the test above
    # and the requirement check in SERVE keep them honest.
    environment = tmp_path / "venv"
    venv.create(environment, with_pip=False)
    site_packages = Path(sysconfig.get_path("purelib", vars={"base": str(environment)}))
    (site_packages / "dependencies.pth").write_text(sysconfig.get_path("purelib") + "\n")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(environment / "bin" / "python"), "install",
                    "--quiet", "--no-deps", "--no-index", str(wheel)], check=True, capture_output=True)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PYTHON", "FLASK_", "DATABASE_"))}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'heforshe.sqlite3'}"
    python = str(environment / "bin" / "python")
    run = lambda *args: subprocess.run([python, *args], cwd=elsewhere, env=env, check=True, capture_output=True, text=True)
    run("-m", "flask", "--app", "core.app", "db", "upgrade")
    served = json.loads(run("-c", SERVE, str(ROOT)).stdout.splitlines()[-1])

    status, stats = served["stats"]
    assert status == 200 and stats["total"] == 0
    status, page = served["page"]
    assert status == 200
    assert '<html lang="fr"' in page and "Des hommes et des garçons mobilisés" in page
    assert not list(elsewhere.iterdir())  # nothing written where it runs: the database is where DATABASE_URL says
