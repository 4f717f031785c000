"""The architecture's dependency rule, checked on the source tree."""

from __future__ import annotations

import ast
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
