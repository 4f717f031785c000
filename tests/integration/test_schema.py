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


async def test_the_upgrade_forgets_what_sent_replies_and_handled_updates_said(
    db: Database,
) -> None:
    """Rows kept in full before ``mark_sent``, ``park`` and ``mark_handled`` emptied them."""
    from alembic import command
    from sqlalchemy import select

    from core.inbox import InboxUpdate
    from core.outbox.models import OutboxMessage, OutboxStatus
    from core.schema import _config, upgrade

    def _downgrade(conn):  # type: ignore[no-untyped-def]
        cfg = _config()
        cfg.attributes["connection"] = conn
        command.downgrade(cfg, "0006")

    async with db.engine.begin() as conn:
        await conn.run_sync(_downgrade)
    said = {"text": "Your NEW backup code is: 7K3Q-9WXM-2PLD"}
    async with db.sessionmaker() as session:
        for n, status in enumerate(OutboxStatus):
            session.add(
                OutboxMessage(
                    kind="reply", channel="telegram", address="1", payload=said,
                    dedupe_key=f"k{n}", status=status,
                )
            )  # fmt: skip
        session.add(InboxUpdate(channel="telegram", update_id=1, chat_id="1", payload={"m": said}))
        await session.commit()

    await upgrade(db)

    assert await current_revision(db) == head_revision()
    async with db.sessionmaker() as session:
        kept = {m.status: m.payload for m in await session.scalars(select(OutboxMessage))}
        inbox = (await session.scalars(select(InboxUpdate))).one()
    assert kept == {"pending": said, "sent": {}, "parked": {}}
    assert inbox.payload == {"m": said}  # not handled yet: it is still to be handled
