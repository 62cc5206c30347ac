"""Builds the wheel with the message catalogs compiled (git keeps only the .po sources)."""

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py


class BuildWithCatalogs(build_py):
    """``build_py`` that also writes core/translations/<language>/LC_MESSAGES/messages.mo, fuzzy entries left out
    as ``pybabel compile`` does."""

    def run(self):
        super().run()
        from babel.messages.mofile import write_mo
        from babel.messages.pofile import read_po

        for po in sorted(Path("core/translations").glob("*/LC_MESSAGES/messages.po")):
            target = Path(self.build_lib) / po.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with po.open("rb") as source, target.open("wb") as compiled:
                write_mo(compiled, read_po(source, locale=po.parts[-3]))


setup(cmdclass={"build_py": BuildWithCatalogs})
