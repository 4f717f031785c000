"""An office closes a day: the person is told in their language, and the notice's button books
again through the appointments flow, whatever the chat was doing (SQLite and PostgreSQL).

The fake clock starts on Monday 2026-03-02 at 15:00 UTC (8:00 in Phoenix).
"""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from bot.dialogs.links import book_link, open_link
from bot.dialogs.model import Reply
from bot.engine import Engine
from bot.notify.notifications import render_message
from core.admin.actions import close_day_as
from core.appointments.closures import OFFICE_CLOSED
from core.appointments.models import AppointmentStatus
from core.conversations import open_conversation
from core.outbox.models import OutboxMessage
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.test_appointments import (
    READY,
    THURSDAY,
    appointments,
    at,
    book_directly,
    sign_in,
    sign_in_through_the_flow,
)
from tests.fakes import FakeClock

WEDNESDAY = date(2026, 3, 4)
PHX_0730_THU = datetime(2026, 3, 5, 14, 30, tzinfo=UTC)


async def notices(uow_factory: UnitOfWorkFactory) -> list[Reply]:
    async with uow_factory() as uow:
        messages = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == OFFICE_CLOSED)
        )
        return [await render_message(uow, message) for message in messages]


async def test_the_notice_says_what_was_cancelled_and_its_button_books_the_same_case_again(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    code = await book_directly(uow_factory, await sign_in(uow_factory, chat.chat_id))
    await chat.send("hi")
    await chat.press("Check a case status")  # somewhere in the middle of another flow
    await close_day_as(uow_factory, "cli:olga", "PHX", WEDNESDAY, "water leak")
    [notice] = await notices(uow_factory)
    assert (
        "Phoenix Field Office is closed on March 4, 2026, so your biometrics appointment on "
        "Wednesday, March 4, 2026" in notice.text
    )
    assert at("7:30 AM") in notice.text
    assert f"confirmation code {code}" in notice.text
    [button] = notice.buttons
    assert (button.label, button.payload) == (
        "Book a new appointment",
        f"go:book:biometrics:{READY}",
    )
    [cancelled] = await appointments(uow_factory)
    assert cancelled.status is AppointmentStatus.CANCELLED

    await chat.press_payload(button.payload)
    assert f"Let's book a biometrics appointment for case {READY}." in chat.text
    assert "Which office would you like to go to?" in chat.text
    await chat.press("Phoenix Field Office")
    assert "March 4" not in " ".join(chat.buttons)  # the closed day is not offered
    await chat.press(THURSDAY)
    await chat.press(at("7:30 AM"))
    await chat.press("Confirm")
    assert "booked" in chat.text.lower()
    booked = [a for a in await appointments(uow_factory) if a.status is AppointmentStatus.BOOKED]
    assert [a.starts_at for a in booked] == [PHX_0730_THU]


async def test_the_notice_is_worded_in_the_chats_language_at_send_time(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await book_directly(uow_factory, await sign_in(uow_factory, chat.chat_id))
    await close_day_as(uow_factory, "cli:olga", "PHX", WEDNESDAY)
    async with uow_factory() as uow:
        conversation = await open_conversation(uow, "test", chat.chat_id)
        conversation.locale = "es"  # chosen after the notice was queued
        await uow.commit()
    [notice] = await notices(uow_factory)
    assert "4 de marzo de 2026" in notice.text


async def test_a_chat_that_is_not_signed_in_signs_in_first_then_books(
    engine: Engine, demo: None, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    # The button is the chat's very first message: Telegram tells the language with it.
    chat = FakeChat(engine, locale_hint="en")
    await chat.press_payload(book_link("biometrics", READY))
    assert "please sign in first" in chat.text
    await sign_in_through_the_flow(chat, clock)
    assert f"Let's book a biometrics appointment for case {READY}." in chat.text
    assert "Which office would you like to go to?" in chat.text


async def test_a_made_up_link_can_do_no_more_than_typing(
    chat: FakeChat, demo: None, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in(uow_factory, chat.chat_id)
    await chat.send("hi")
    await chat.press_payload("go:book:biometrics:EAC2190012345")  # not Ana's case
    assert "That case is not in your account." in chat.text
    assert "Which office" not in chat.text
    await chat.press_payload("go:book:tea")  # no such link: an out-of-date button
    assert "This menu has expired." in chat.text
    assert await appointments(uow_factory) == []


def test_links_round_trip_and_fit_in_telegrams_64_bytes() -> None:
    payload = book_link("biometrics", "IOE0912345679")
    assert len(payload.encode()) <= 64
    link = open_link(payload)
    assert link is not None
    assert (link.dialog, link.args) == ("appointments", {"kind": "biometrics", "case": READY})
    in_person = open_link(book_link("in_person"))
    assert in_person is not None
    assert in_person.args == {"kind": "in_person"}
    for bad in ("12:go:book:biometrics", "go:book", "go:book:tea", "go:book:biometrics:IOE1",
                "go:other:biometrics"):  # fmt: skip
        assert open_link(bad) is None
