"""Web chat sessions in the core: the token check, when a session counts as seen, and the
transcript's order."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.uow import UnitOfWorkFactory
from core.web_sessions import (
    SEEN_EVERY,
    WebSession,
    WebSessionExpired,
    WebSessionUnauthorized,
    add_message,
    authenticate_session,
    last_buttons,
    list_messages,
    start_session,
)
from tests.fakes import FakeClock


async def open_session(uow_factory: UnitOfWorkFactory) -> tuple[str, str]:
    async with uow_factory() as uow:
        opened = await start_session(uow, locale="es")
        await uow.commit()
    return opened


async def seen_at(uow_factory: UnitOfWorkFactory, session_id: str) -> object:
    async with uow_factory() as uow:
        return await uow.session.scalar(
            select(WebSession.last_seen_at).where(WebSession.id == session_id)
        )


async def authenticate(uow_factory: UnitOfWorkFactory, session_id: str, token: str) -> None:
    async with uow_factory() as uow:
        session = await authenticate_session(uow, session_id, token, idle_expiry=timedelta(hours=1))
        assert session.id == session_id
        assert session.locale == "es"
        await uow.commit()


async def test_a_session_is_marked_seen_at_most_once_a_minute(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    session_id, token = await open_session(uow_factory)
    opened = clock.now()
    clock.advance(SEEN_EVERY - timedelta(seconds=1))
    await authenticate(uow_factory, session_id, token)
    assert await seen_at(uow_factory, session_id) == opened  # not written again yet
    clock.advance(timedelta(seconds=1))
    await authenticate(uow_factory, session_id, token)
    assert await seen_at(uow_factory, session_id) == clock.now()


async def test_a_session_used_within_its_idle_time_stays_open_and_expires_after(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    session_id, token = await open_session(uow_factory)
    for _ in range(3):
        clock.advance(timedelta(minutes=59))
        await authenticate(uow_factory, session_id, token)
    last = clock.now()
    clock.advance(timedelta(hours=1, seconds=1))
    with pytest.raises(WebSessionExpired) as expired:
        await authenticate(uow_factory, session_id, token)
    assert expired.value.idle_since == last


async def test_a_wrong_token_is_refused_and_does_not_mark_the_session_seen(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    session_id, token = await open_session(uow_factory)
    opened = clock.now()
    clock.advance(timedelta(minutes=5))
    with pytest.raises(WebSessionUnauthorized):
        await authenticate(uow_factory, session_id, token[:-1] + ("A" if token[-1] != "A" else "B"))
    assert await seen_at(uow_factory, session_id) == opened


async def test_messages_keep_their_order_and_buttons(uow_factory: UnitOfWorkFactory) -> None:
    session_id, _ = await open_session(uow_factory)
    async with uow_factory() as uow:
        first = await add_message(uow, session_id, sender="user", text="hola")
        second = await add_message(
            uow, session_id, sender="bot", text="¿Qué desea?", buttons=[("Menú", "3:g:menu")]
        )
        third = await add_message(uow, session_id, sender="bot", text="ok", secret_input=True)
        await uow.commit()
    assert first.id < second.id < third.id
    async with uow_factory() as uow:
        stored = await list_messages(uow, session_id)
        assert await last_buttons(uow, session_id) == [("Menú", "3:g:menu")]
    assert [(m.id, m.sender, m.text, m.buttons, m.secret_input) for m in stored] == [
        (first.id, "user", "hola", [], False),
        (second.id, "bot", "¿Qué desea?", [["Menú", "3:g:menu"]], False),
        (third.id, "bot", "ok", [], True),
    ]
