"""Bringing a database to the latest schema with the Alembic migrations shipped in the package.

Alembic runs at start-up only (and for ``casebot admin migrate``); a health check reads the
recorded revision with one plain query (:func:`stored_revision`).
"""

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

__all__ = ["current_revision", "head_revision", "stored_revision", "upgrade"]

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


async def stored_revision(db: Database) -> str | None:
    """The revision recorded in the database, read with one plain query and no Alembic run:
    cheap enough for every health check.

    Raises:
        sqlalchemy.exc.SQLAlchemyError: the database cannot be reached, or holds no schema.
    """
    async with db.engine.connect() as connection:
        revision = await connection.scalar(text("SELECT version_num FROM alembic_version"))
    return None if revision is None else str(revision)


async def upgrade(db: Database) -> bool:
    """Migrate the database to the newest revision.

    Returns:
        True when the database had no schema before.
    """
    cfg = _config()

    def _upgrade(connection: Connection) -> str | None:
        before = MigrationContext.configure(connection).get_current_revision()
        cfg.attributes["connection"] = connection
        command.upgrade(cfg, "head")
        return before

    async with db.engine.connect() as connection:
        if db.dialect == "postgresql":
            await connection.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_ID})
        try:
            before = await connection.run_sync(_upgrade)
            await connection.commit()
        finally:
            if db.dialect == "postgresql":
                await connection.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_ID}
                )
                await connection.commit()
    head = head_revision()
    # Alembic's own INFO lines are left out of the logs (see bot.cli): say what changed here.
    if before is None:
        logger.info("database schema created at %s", head)
    elif before != head:
        logger.info("database schema migrated from %s to %s", before, head)
    else:
        logger.debug("database at schema %s", head)
    return before is None
