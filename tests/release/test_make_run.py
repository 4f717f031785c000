"""``make run`` on a fresh machine installs what running needs and nothing more: the locked
runtime dependencies, not the dev extra's test and lint tools (pytest, Playwright,
schemathesis, mypy, ...), which made the first run take minutes. Read from ``make``'s dry run,
which prints the commands a fresh checkout would run and runs none of them."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from tests.conftest import ON_CI

ROOT = Path(__file__).resolve().parents[2]
DEV_TOOLS = {"pytest", "pytest-asyncio", "hypothesis", "ruff", "mypy", "playwright", "schemathesis"}


def dry_run(target: str, fresh: Path) -> list[str]:
    """The commands ``make TARGET`` would run with a new venv and tools folder under FRESH."""
    make = shutil.which("make")
    if make is None:
        if ON_CI:
            pytest.fail("make is not installed", pytrace=False)
        pytest.skip("make is not installed")
    done = subprocess.run(
        [make, "-n", "-B", target, f"VENV={fresh / 'venv'}", f"TOOLS={fresh / 'tools'}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.replace("\\\n", " ").splitlines()  # a recipe's continued lines as one


def name(requirement: str) -> str:
    found = re.match(r"[A-Za-z0-9_.-]+", requirement)
    assert found is not None, requirement
    return found.group(0).lower()


def syncs(commands: list[str]) -> list[str]:
    return [line for line in commands if "/uv sync " in line]


def test_make_run_installs_the_locked_runtime_dependencies_only(tmp_path: Path) -> None:
    commands = dry_run("run", tmp_path)
    assert any("casebot serve --demo" in line for line in commands)
    installs = syncs(commands)
    assert installs, commands
    for line in installs:
        assert "--frozen" in line  # from the lock, nothing resolved on the way
        assert "--extra" not in line
        assert "--all-extras" not in line
    # The only pip install is uv itself, pinned with hashes.
    pips = [line for line in commands if "pip" in line and " install " in line]
    assert all("--require-hashes -r requirements/uv.txt" in line for line in pips), pips


def test_make_test_does_install_the_dev_extra(tmp_path: Path) -> None:
    # The same reading tells the two apart: the checks need the tools that running does not.
    assert any("--extra dev" in line for line in syncs(dry_run("test", tmp_path)))


def test_no_test_or_lint_tool_is_a_runtime_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    runtime = {name(spec) for spec in project["dependencies"]}
    assert not runtime & DEV_TOOLS
    dev = {name(spec) for spec in project["optional-dependencies"]["dev"]}
    assert dev >= DEV_TOOLS
