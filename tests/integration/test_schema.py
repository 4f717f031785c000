from __future__ import annotations

from sqlalchemy import inspect

from core.db import Base, Database
from core.schema import current_revision, head_revision


async def test_migrations_bring_the_database_to_the_models(db: Database) -> None:
    assert await current_revision(db) == head_revision()

    def _tables(conn):  # type: ignore[no-untyped-def]
        return set(inspect(conn).get_table_names())

    async with db.engine.connect() as conn:
        tables = await conn.run_sync(_tables)
    assert set(Base.metadata.tables) <= tables
