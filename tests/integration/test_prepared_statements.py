"""Prepared statements (core/statements.py) run in the unit of work's transaction, with the
column types' conversions, beside the ORM session; and the turn they make cheap stays cheap."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import bindparam, delete, insert, select, text
from sqlalchemy.exc import IntegrityError

from bot.dialogs.context import Services
from bot.dialogs.model import Incoming
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from core.conversations import Conversation
from core.db import Database
from core.demo import load_demo
from core.outbox.models import RateLimitWindow
from core.statements import Prepared
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock, FakeMailer

_ADD = Prepared(
    insert(RateLimitWindow).values(
        key=bindparam("key"), window_start=bindparam("start"), count=bindparam("count")
    )
)
_READ = Prepared(
    select(RateLimitWindow.count, RateLimitWindow.window_start).where(
        RateLimitWindow.key == bindparam("key")
    )
)
_KEYS = Prepared(select(RateLimitWindow.key).order_by(RateLimitWindow.key))
_STATE = Prepared(
    select(Conversation.state, Conversation.updated_at).where(
        Conversation.chat_id == bindparam("chat_id")
    )
)
_REMOVE_ALL = Prepared(delete(RateLimitWindow))


async def keys(uow_factory: UnitOfWorkFactory) -> list[str]:
    async with uow_factory() as uow:
        return [key for (key,) in await uow.fetch_all(_KEYS)]


async def test_values_come_back_as_the_column_types_give_them(
    uow_factory: UnitOfWorkFactory,
) -> None:
    moment = datetime(2026, 3, 2, 10, 30, 15, 250_000, tzinfo=UTC)
    async with uow_factory() as uow:
        uow.session.add(
            Conversation(
                channel="t", chat_id="c1", state={"stack": [{"d": "menu", "s": "ñ 中"}]},
                created_at=moment, updated_at=moment,
            )
        )  # fmt: skip
        await uow.execute(_ADD, {"key": "k", "start": moment, "count": 3})
        count, start = await uow.fetch_one(_READ, {"key": "k"}) or (None, None)
        state, updated = await uow.fetch_one(_STATE, {"chat_id": "c1"}) or (None, None)
        await uow.commit()
    assert (count, start) == (3, moment)
    assert start is not None
    assert start.tzinfo is not None
    assert state == {"stack": [{"d": "menu", "s": "ñ 中"}]}
    assert updated == moment


async def test_they_are_rolled_back_with_the_unit_of_work(uow_factory: UnitOfWorkFactory) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "undone", "start": now, "count": 1})
        assert await uow.fetch_one(_READ, {"key": "undone"}) is not None
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "kept", "start": now, "count": 1})
        await uow.commit()
    assert await keys(uow_factory) == ["kept"]


async def test_they_see_the_sessions_pending_changes_and_the_session_sees_theirs(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        uow.session.add(RateLimitWindow(key="orm", window_start=now, count=7))
        assert await uow.fetch_one(_READ, {"key": "orm"}) == (7, now)  # flushed first
        await uow.execute(_ADD, {"key": "prepared", "start": now, "count": 2})
        seen = await uow.session.scalar(
            select(RateLimitWindow.count).where(RateLimitWindow.key == "prepared")
        )
        await uow.commit()
    assert seen == 2
    assert await keys(uow_factory) == ["orm", "prepared"]


async def test_a_broken_constraint_is_sqlalchemys_integrity_error(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "k", "start": now, "count": 1})
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(IntegrityError):
            await uow.execute(_ADD, {"key": "k", "start": now, "count": 1})


async def test_a_nested_unit_of_work_undoes_only_its_own_statements(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as outer:
        await outer.execute(_ADD, {"key": "outer", "start": now, "count": 1})
        async with uow_factory() as kept:
            assert kept.nested
            await kept.execute(_ADD, {"key": "kept", "start": now, "count": 1})
            await kept.commit()
        async with uow_factory() as undone:
            await undone.execute(_ADD, {"key": "undone", "start": now, "count": 1})
            # A session first needed inside the savepoint follows its rollback too.
            undone.session.add(RateLimitWindow(key="undone-orm", window_start=now, count=1))
            await undone.flush()
            undone.session.add(RateLimitWindow(key="undone-pending", window_start=now, count=1))
        assert [k for (k,) in await outer.fetch_all(_KEYS)] == ["kept", "outer"]
        assert await outer.session.get(RateLimitWindow, "undone-orm") is None
        await outer.commit()
    assert await keys(uow_factory) == ["kept", "outer"]


async def test_a_failed_nested_unit_of_work_leaves_the_outer_one_usable(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "k", "start": now, "count": 1})
        await uow.commit()

    async def add_new_then_a_duplicate() -> None:
        async with uow_factory() as inner:
            await inner.execute(_ADD, {"key": "new", "start": now, "count": 1})
            await inner.execute(_ADD, {"key": "k", "start": now, "count": 1})

    async with uow_factory() as outer:
        with pytest.raises(IntegrityError):
            await add_new_then_a_duplicate()
        await outer.execute(_ADD, {"key": "after", "start": now, "count": 1})
        await outer.commit()
    assert await keys(uow_factory) == ["after", "k"]


async def test_statements_after_a_commit_run_in_a_new_transaction(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "first", "start": now, "count": 1})
        await uow.commit()
        await uow.execute(_REMOVE_ALL)
        await uow.execute(_ADD, {"key": "second", "start": now, "count": 1})
    assert await keys(uow_factory) == ["first"]  # the second transaction was never committed


async def test_units_of_work_go_on_after_the_database_is_disposed(
    uow_factory: UnitOfWorkFactory, db: Database
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "before", "start": now, "count": 1})
        await uow.commit()
    await db.dispose()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "after", "start": now, "count": 1})
        await uow.commit()
    assert await keys(uow_factory) == ["after", "before"]


async def test_a_case_status_turn_runs_eight_statements_on_sqlite(sqlite_db: Database) -> None:
    # The cost of a turn is its statements and what runs them: this holds the count (BEGIN,
    # conversation, throttle, case, signed-in account, followed?, state, COMMIT), so a change
    # that adds a query to every turn is a decision, not an accident.
    clock = FakeClock()
    factory = UnitOfWorkFactory(sqlite_db, clock)
    await load_demo(factory)
    engine = Engine(Services(factory, FakeMailer(), clock), all_dialogs())
    await engine.handle(Incoming("test", "c", text="WAC2212345678"))
    statements: list[str] = []
    sqlite_db.on_statement(statements.append)
    clock.advance(timedelta(minutes=20))  # long enough for the sign-in check of an idle chat
    turn = await engine.handle(Incoming("test", "c", text="LIN2390001234"))
    assert any("Request for Evidence Was Sent" in reply.text for reply in turn.replies)
    assert statements[0] == "BEGIN IMMEDIATE"
    assert statements[-1] == "COMMIT"
    assert len(statements) == 8, statements


async def test_utc_times_keep_their_stored_text_on_sqlite_and_older_forms_still_read(
    sqlite_db: Database,
) -> None:
    # The stored text is compared in SQL (a rate-limit window against another), so it must not
    # change form: SQLAlchemy's SQLite DATETIME, naive UTC with microseconds. Older rows in
    # other ISO forms (an offset, no fraction, a bare day) still read as aware UTC times.
    factory = UnitOfWorkFactory(sqlite_db, FakeClock())
    summer = datetime(2026, 7, 1, 9, 5, 7, 42, tzinfo=timezone(timedelta(hours=-4)))
    async with factory() as uow:
        await uow.execute(_ADD, {"key": "new", "start": summer, "count": 1})
        uow.session.add(RateLimitWindow(key="orm", window_start=summer, count=1))
        await uow.commit()
    async with sqlite_db.engine.begin() as conn:
        await conn.execute(
            text(
                "INSERT INTO rate_limits (key, window_start, count) VALUES "
                "('offset', '2026-07-01 13:05:07.000042+00:00', 1), "
                "('east', '2026-07-01 15:05:07.000042+02:00', 1), "
                "('plain', '2026-07-01 13:05:07', 1), "
                "('day', '2026-07-01', 1)"
            )
        )
        stored = dict((await conn.execute(text("SELECT key, window_start FROM rate_limits"))).all())
    assert stored["new"] == stored["orm"] == "2026-07-01 13:05:07.000042"
    async with factory() as uow:
        read = {key: (await uow.fetch_one(_READ, {"key": key}) or (0, None))[1] for key in stored}
    assert read["new"] == read["orm"] == read["offset"] == read["east"] == summer
    assert read["plain"] == summer.replace(microsecond=0)
    assert read["day"] == datetime(2026, 7, 1, tzinfo=UTC)
    assert all(moment.tzinfo is UTC for moment in read.values())


async def test_a_nested_unit_of_work_opened_after_the_session_undoes_its_statements(
    uow_factory: UnitOfWorkFactory,
) -> None:
    now = uow_factory.clock.now()
    async with uow_factory() as outer:
        outer.session.add(RateLimitWindow(key="outer-orm", window_start=now, count=1))
        await outer.flush()  # the session holds the transaction before the savepoint
        async with uow_factory() as undone:
            await undone.execute(_ADD, {"key": "undone", "start": now, "count": 1})
        async with uow_factory() as kept:
            await kept.execute(_ADD, {"key": "kept", "start": now, "count": 1})
            await kept.commit()
        await outer.commit()
    assert await keys(uow_factory) == ["kept", "outer-orm"]


async def test_a_refused_flush_in_a_nested_unit_of_work_undoes_only_that_unit(
    uow_factory: UnitOfWorkFactory,
) -> None:
    # A service in its own (nested) unit of work meets a unique key at flush and turns it into
    # a refusal; the turn around it goes on and commits what it did before and after.
    now = uow_factory.clock.now()
    async with uow_factory() as uow:
        await uow.execute(_ADD, {"key": "taken", "start": now, "count": 1})
        await uow.commit()

    async def add_taken_with_the_orm() -> None:
        async with uow_factory() as inner:
            inner.session.add(RateLimitWindow(key="taken", window_start=now, count=9))
            await inner.flush()

    async with uow_factory() as outer:
        await outer.execute(_ADD, {"key": "before", "start": now, "count": 1})
        with pytest.raises(IntegrityError):
            await add_taken_with_the_orm()
        await outer.execute(_ADD, {"key": "after", "start": now, "count": 1})
        outer.session.add(RateLimitWindow(key="after-orm", window_start=now, count=1))
        await outer.commit()
    assert await keys(uow_factory) == ["after", "after-orm", "before", "taken"]


async def test_a_broken_shared_connection_is_replaced_on_sqlite(sqlite_db: Database) -> None:
    factory = UnitOfWorkFactory(sqlite_db, FakeClock())
    now = factory.clock.now()
    async with factory() as uow:
        await uow.execute(_ADD, {"key": "before", "start": now, "count": 1})
        await uow.commit()
    assert sqlite_db.write_lock is not None
    async with sqlite_db.write_lock:
        connection, _ = await sqlite_db.writer()
        await connection.invalidate()  # as SQLAlchemy does when the driver says it is gone
    async with factory() as uow:
        await uow.execute(_ADD, {"key": "after", "start": now, "count": 1})
        uow.session.add(RateLimitWindow(key="after-orm", window_start=now, count=1))
        await uow.commit()
    assert await keys(factory) == ["after", "after-orm", "before"]
