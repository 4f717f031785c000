"""Build hook: the gettext catalogs are compiled into every wheel (and every wheel built from the
sdist), so an installed casebot speaks every language with nothing left to run by hand.

Everything else about the package is declared in ``pyproject.toml``.
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

CATALOGS = Path("bot") / "locales"


class BuildWithCatalogs(build_py):
    """``build_py``, then each ``bot/locales/<l>/LC_MESSAGES/*.po`` compiled to ``.mo`` beside
    the package's modules in the build folder (fuzzy entries left out, as ``make`` does)."""

    def run(self) -> None:
        super().run()
        sources = sorted(CATALOGS.glob("*/LC_MESSAGES/*.po"))
        if not sources:
            raise SystemExit(f"no catalogs under {CATALOGS}: the package would speak English only")
        for source in sources:
            target = Path(self.build_lib) / source.with_suffix(".mo")
            target.parent.mkdir(parents=True, exist_ok=True)
            with source.open("rb") as f:
                catalog = read_po(f)
            with target.open("wb") as f:
                write_mo(f, catalog, use_fuzzy=False)


setup(cmdclass={"build_py": BuildWithCatalogs})
