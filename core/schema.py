"""Bringing a database to the latest schema with the Alembic migrations shipped in the package."""

from __future__ import annotations

import logging
from typing import Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.engine import Connection

from core.db import Database

__all__ = ["current_revision", "head_revision", "upgrade"]

logger = logging.getLogger(__name__)

# Several workers may start at once on one PostgreSQL database: one migrates, the others wait.
_MIGRATION_LOCK_ID: Final = 0x0CA5EB07


def _config() -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "core:migrations")
    return cfg


def head_revision() -> str:
    """The newest revision the package ships."""
    head = ScriptDirectory.from_config(_config()).get_current_head()
    if head is None:
        raise RuntimeError("no migrations are shipped")
    return head


async def current_revision(db: Database) -> str | None:
    """The revision the database is at, or None for an empty database."""

    def _read(connection: Connection) -> str | None:
        return MigrationContext.configure(connection).get_current_revision()

    async with db.engine.connect() as connection:
        return await connection.run_sync(_read)


async def upgrade(db: Database) -> bool:
    """Migrate the database to the newest revision.

    Returns:
        True when the database was empty before (so the caller may load demo data).
    """
    cfg = _config()

    def _upgrade(connection: Connection) -> bool:
        was_empty = MigrationContext.configure(connection).get_current_revision() is None
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
        return was_empty

    async with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            await connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
        try:
            was_empty = await connection.run_sync(_upgrade)
            await connection.commit()
        finally:
            if db.dialect == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_ID}
                )
                await connection.commit()
    logger.info("database at schema %s", head_revision())
    return was_empty
