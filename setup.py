"""Builds the wheel. The migrations and message catalogs live at the top of the repository (migrations/,
translations/); the wheel carries them inside the core package (core/migrations, core/translations, the catalogs
compiled), where core.config.data_directory finds them when the app runs installed."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

MIGRATION_FILES = ["alembic.ini", "script.py.mako", "*.py", "versions/*.py"]


class BuildWithData(build_py):
    """``build_py`` that also copies migrations/ into the build's core/migrations and compiles translations/ into
    core/translations/<language>/LC_MESSAGES/messages.mo, fuzzy entries left out as ``pybabel compile`` does."""

    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        core = Path(self.build_lib) / "core"
        for pattern in MIGRATION_FILES:
            for source in sorted(Path("migrations").glob(pattern)):
                (core / source).parent.mkdir(parents=True, exist_ok=True)
                self.copy_file(str(source), str(core / source))
        for po in sorted(Path("translations").glob("*/LC_MESSAGES/messages.po")):
            target = core / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source, target.open("wb") as compiled:
                write_mo(compiled, read_po(source, locale=po.parts[-3]))


setup(cmdclass={"build_py": BuildWithData})
