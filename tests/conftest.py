"""Shared fixtures: a fake clock, and a migrated database on SQLite and on PostgreSQL.

PostgreSQL tests run against ``CASEBOT_TEST_POSTGRES_URL`` (default: the local server, database
``test``). Outside CI they are skipped with a message when no server answers; on CI (``CI=true``)
a missing server fails the run instead, because those tests are required there.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import uuid
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp.test_utils import TestClient
from hypothesis import HealthCheck, settings
from sqlalchemy import text

import core.models  # noqa: F401
from bot.channels.web.chat import WebChatConfig
from bot.dialogs.context import Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.settings import Settings
from core.db import Base, Database
from core.demo import load_demo
from core.schema import upgrade
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer
from tests.integration.webchat_support import web_app_for
from tests.secret_logs import SecretLogWatch, loaded_conftests

POSTGRES_URL = os.environ.get(
    "CASEBOT_TEST_POSTGRES_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
)
T = TypeVar("T")
ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

# Hypothesis: its defaults in `make test`, derandomized on CI (a run there cannot flake on a
# case found by chance: local runs and `make fuzz` explore); many more examples and no deadline
# in `make fuzz` (HYPOTHESIS_PROFILE=fuzz; tests/fuzzing.py scales the targets that set their
# own count).
settings.register_profile("ci", derandomize=True, database=None)
settings.register_profile(
    "fuzz",
    max_examples=int(os.environ.get("CASEBOT_FUZZ_EXAMPLES", "2000")),
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if ON_CI else "default"))


def run_in_own_loop(coro: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh loop in a thread (session fixtures are set up
    from inside a test's running loop, where asyncio.run() is not allowed)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, coro).result()


@pytest.fixture(autouse=True)
def no_secrets_in_logs(request: pytest.FixtureRequest) -> Iterator[SecretLogWatch]:
    """Every test: the log records it caused (at DEBUG) hold no password, code, token or full
    receipt number (see tests/secret_logs.py); a test that logs one fails at teardown."""
    watch = SecretLogWatch()
    watch.add_module_constants(getattr(request, "module", None))
    for module in loaded_conftests():
        watch.add_module_constants(module)
    with watch.installed():
        yield watch
    watch.add_fixture_values(getattr(request.node, "funcargs", {}).values())
    leaks = watch.leaks()
    if leaks:
        pytest.fail("secrets in the logs:\n" + "\n".join(sorted(set(leaks))), pytrace=False)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


# --- SQLite: migrate once, copy the file for each test ---------------------------------------


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sqlite-template") / "template.sqlite3"

    async def _make() -> None:
        db = Database(f"sqlite+aiosqlite:///{path}")
        await upgrade(db)
        await db.dispose()

    run_in_own_loop(_make())
    return path


@pytest.fixture
async def sqlite_db(sqlite_template: Path, tmp_path: Path) -> AsyncIterator[Database]:
    path = tmp_path / "casebot.sqlite3"
    shutil.copyfile(sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    yield db
    await db.dispose()


# --- PostgreSQL: one scratch database per test session, emptied between tests ----------------


def _admin_url() -> str:
    return POSTGRES_URL


async def _pg_reachable() -> str | None:
    import asyncpg  # type: ignore[import-untyped]

    dsn = POSTGRES_URL.replace("postgresql+asyncpg://", "postgresql://")
    try:
        conn = await asyncio.wait_for(asyncpg.connect(dsn), timeout=5)
    except Exception as exc:  # any failure to connect means "no server here"
        return f"{type(exc).__name__}: {exc}"
    await conn.close()
    return None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    problem = run_in_own_loop(_pg_reachable())
    if problem is not None:
        message = f"PostgreSQL at {POSTGRES_URL} is not reachable ({problem})"
        if ON_CI:
            pytest.fail(message + "; it is required on CI", pytrace=False)
        pytest.skip(message + "; set CASEBOT_TEST_POSTGRES_URL to run these tests")
    name = f"casebot_test_{uuid.uuid4().hex[:10]}"
    base, _, _ = POSTGRES_URL.rpartition("/")
    url = f"{base}/{name}"

    async def _create() -> None:
        admin = Database(POSTGRES_URL)
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
        await admin.dispose()
        db = Database(url)
        await upgrade(db)
        await db.dispose()

    async def _drop() -> None:
        admin = Database(POSTGRES_URL)
        async with admin.engine.connect() as conn:
            conn = await conn.execution_options(isolation_level="AUTOCOMMIT")
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        await admin.dispose()

    run_in_own_loop(_create())
    yield url
    run_in_own_loop(_drop())


@pytest.fixture
async def postgres_db(postgres_url: str) -> AsyncIterator[Database]:
    db = Database(postgres_url)
    tables = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    async with db.engine.begin() as conn:
        await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    yield db
    await db.dispose()


# --- either backend --------------------------------------------------------------------------


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db(request: pytest.FixtureRequest) -> Database:
    """A migrated, empty database: each test using it runs on SQLite and on PostgreSQL."""
    name = "sqlite_db" if request.param == "sqlite" else "postgres_db"
    database: Database = request.getfixturevalue(name)
    return database


@pytest.fixture
def uow_factory(db: Database, clock: FakeClock) -> UnitOfWorkFactory:
    return UnitOfWorkFactory(db, clock)


# --- the conversation layer ------------------------------------------------------------------


@pytest.fixture
def mailer() -> FakeMailer:
    return FakeMailer()


@pytest.fixture
def engine(uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock) -> Engine:
    """The engine with every dialog, on the `db` fixture (SQLite and PostgreSQL)."""
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    return Engine(services, all_dialogs())


@pytest.fixture
async def demo(uow_factory: UnitOfWorkFactory) -> None:
    """The demo data of the contract (Ana, her cases, the offices)."""
    await load_demo(uow_factory)


@pytest.fixture
def chat(engine: Engine) -> FakeChat:
    return FakeChat(engine)


@pytest.fixture
def chat_config() -> WebChatConfig | None:
    """The web chat's limits for ``client`` (None: the defaults); a module overrides it."""
    return None


@pytest.fixture
def web_settings() -> Settings:
    """The settings of ``client``'s app (the admin API off); a module overrides it."""
    return Settings()


@pytest.fixture
async def client(
    aiohttp_client: Any,
    db: Database,
    uow_factory: UnitOfWorkFactory,
    engine: Engine,
    clock: FakeClock,
    chat_config: WebChatConfig | None,
    web_settings: Settings,
) -> TestClient[Any, Any]:
    """A client of the web app (chat API, widget, admin API) on the test's engine, with
    ``chat_config`` and ``web_settings``."""
    client: TestClient[Any, Any] = await aiohttp_client(
        web_app_for(db, uow_factory, engine, clock, chat_config, web_settings)
    )
    return client
