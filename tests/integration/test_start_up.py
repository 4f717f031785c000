"""What start-up does to a database: the schema always, the demo data only when asked."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.app import App, Prepared, build_app
from bot.settings import Settings
from core.accounts.models import Account


def app_on(folder: Path, name: str = "casebot.sqlite3") -> App:
    url = f"sqlite+aiosqlite:///{folder / name}"
    return build_app(Settings(database_url=url, var_dir=folder))


async def accounts(app: App) -> int:
    async with app.uow_factory() as uow:
        return int(await uow.session.scalar(select(func.count()).select_from(Account)) or 0)


async def test_an_empty_database_gets_the_schema_and_no_account_unless_the_demo_is_asked(
    tmp_path: Path,
) -> None:
    app = app_on(tmp_path)
    try:
        assert await app.prepare_database(demo_if_empty=False) is Prepared.EMPTY
        assert await accounts(app) == 0
        # Still without records (a chat or a server ran without --demo): --demo loads it now.
        assert await app.prepare_database(demo_if_empty=True) is Prepared.DEMO
        assert await accounts(app) == 1
        assert await app.prepare_database(demo_if_empty=True) is Prepared.IN_USE
        assert await accounts(app) == 1
    finally:
        await app.close()
