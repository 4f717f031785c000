"""Browser fixtures: a real ``casebot serve`` and Debian's Chromium driven by Playwright.

The browser of Playwright's own download does not work here; the tests launch Debian's Chromium
(``/usr/bin/chromium``, installed by ``.ci/run``). Outside CI the tests are skipped with a message
when Chromium or the ``playwright`` package is missing; on CI (``CI=true``) that fails the run,
because these tests are required there (the same rule as PostgreSQL in ``tests/conftest.py``).
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import ON_CI
from tests.serve_support import serving

CHROMIUM = Path(os.environ.get("CASEBOT_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    # Without these Chromium keeps calling Google's hosts, which this closed network refuses.
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
REPO = Path(__file__).resolve().parents[2]


def _missing() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"Chromium is not at {CHROMIUM} (apt-get install chromium)"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    # Module scope, not session: Playwright's sync API keeps an event loop running in this
    # thread while it is open, and every asyncio test after it would find that loop running.
    problem = _missing()
    if problem is not None:
        if ON_CI:
            pytest.fail(f"browser tests: {problem}; they are required on CI", pytrace=False)
        pytest.skip(f"browser tests skipped: {problem}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """``casebot serve --demo`` on a free port, in a fresh folder: its default SQLite, demo data."""
    with serving(tmp_path_factory.mktemp("casebot-serve"), None, "--demo") as served:
        yield served.base


@pytest.fixture
def context(browser: Any) -> Iterator[Any]:
    """A fresh browser profile per test (its own sessionStorage), desktop-sized."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 800}, accept_downloads=True)
    ctx.set_default_timeout(15_000)
    yield ctx
    ctx.close()


@pytest.fixture
def page(context: Any) -> Any:
    return context.new_page()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
