"""The architecture's dependency rule, checked on the source tree."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _imports(folder: Path) -> list[tuple[str, str]]:
    """Every (file, imported module) below a folder, including imports inside functions."""
    found = []
    for path in sorted(folder.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(path.name, alias.name) for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.append((path.name, node.module))
    return found


@pytest.mark.parametrize(
    ("folder", "forbidden"),
    [
        ("core", {"bot", "telegram", "aiohttp", "babel", "gettext"}),
        ("bot/dialogs", {"telegram", "aiohttp"}),
    ],
)
def test_dependencies_point_inward(folder: str, forbidden: set[str]) -> None:
    if not (ROOT / folder).is_dir():
        pytest.skip(f"{folder}/ does not exist yet")
    offending = [
        (path, module)
        for path, module in _imports(ROOT / folder)
        if module.split(".")[0] in forbidden
    ]
    assert offending == []


def test_the_import_scanner_sees_imports_hidden_in_functions(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_text(
        "import os\ndef f():\n    from aiohttp import web\n    import telegram.ext\n"
    )
    assert {module for _, module in _imports(tmp_path)} == {"os", "aiohttp", "telegram.ext"}


def _orm_imports(folder: Path, root: Path = ROOT) -> list[tuple[str, str]]:
    """Every (file, name) below a folder that imports SQLAlchemy or an ORM mapped class
    (an enum or a view from a models module is fine: it is not a row)."""
    from core.db import Base

    found = []
    for path in sorted(folder.rglob("*.py")):
        where = path.relative_to(root).as_posix()
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [
                    (where, alias.name)
                    for alias in node.names
                    if alias.name.split(".")[0] == "sqlalchemy"
                ]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                if node.module.split(".")[0] == "sqlalchemy":
                    found.append((where, "sqlalchemy"))
                elif node.module.split(".")[0] == "core":
                    module = importlib.import_module(node.module)
                    for alias in node.names:
                        value = getattr(module, alias.name, None)
                        if isinstance(value, type) and issubclass(value, Base):
                            found.append((where, f"{node.module}.{alias.name}"))
    return found


def test_the_bot_reaches_the_database_only_through_core_services() -> None:
    assert _orm_imports(ROOT / "bot") == []


def test_the_orm_scanner_sees_sqlalchemy_and_mapped_classes_but_not_enums(
    tmp_path: Path,
) -> None:
    (tmp_path / "m.py").write_text(
        "from sqlalchemy import select\n"
        "def f():\n"
        "    from core.appointments.models import AppointmentKind, Office\n"
        "    import sqlalchemy.orm\n"
    )
    assert {name for _, name in _orm_imports(tmp_path, tmp_path)} == {
        "sqlalchemy",
        "sqlalchemy.orm",
        "core.appointments.models.Office",
    }
