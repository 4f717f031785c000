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


async def test_the_migrations_leave_no_difference_from_the_models(db: Database) -> None:
    """A model changed without a new migration (scripts/new-migration) shows up here."""
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    import core.models  # noqa: F401  (every table registered on Base.metadata)

    def _diff(conn):  # type: ignore[no-untyped-def]
        return compare_metadata(MigrationContext.configure(conn), Base.metadata)

    async with db.engine.connect() as conn:
        differences = await conn.run_sync(_diff)
    assert differences == []
