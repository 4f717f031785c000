"""Checking a case status by receipt number: public and owner views, formats, throttling,
following a case, and what the engine does around the step (expired buttons, menu, back,
language, idle expiry, restarts)."""

from __future__ import annotations

import enum
from typing import Any

import pytest
from sqlalchemy import select

from bot.dialogs.base import Dialog, Step
from bot.dialogs.cases.case_status import case_status_dialog
from bot.dialogs.context import Context, Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.wording.i18n import translator
from core.accounts.links import link_chat
from core.accounts.models import Account
from core.cases.models import Case, Subscription
from core.cases.throttle import LOOKUPS_PER_MINUTE
from core.conversations import Conversation
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

ASK = "Please type your receipt number"


async def sign_in_ana(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> int:
    """Sign the chat in as the demo account directly (the sign-in flow is tested on its own)."""
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert ana is not None
        await link_chat(uow, ana, chat.channel, chat.chat_id)
        await uow.commit()
    return ana


async def followed(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> list[str]:
    async with uow_factory() as uow:
        rows = await uow.session.scalars(
            select(Case.receipt_number)
            .join(Subscription, Subscription.case_id == Case.id)
            .where(Subscription.channel == chat.channel, Subscription.chat_id == chat.chat_id)
        )
        return list(rows)


async def stored_stack(uow_factory: UnitOfWorkFactory, chat: FakeChat) -> list[dict[str, Any]]:
    async with uow_factory() as uow:
        conversation = await uow.session.scalar(
            select(Conversation).where(Conversation.chat_id == chat.chat_id)
        )
        assert conversation is not None
        return list(conversation.state["stack"])


async def to_question(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.press("Check a case status")
    assert ASK in chat.text


async def look_up(chat: FakeChat, receipt: str) -> None:
    await to_question(chat)
    await chat.send(receipt)


# --- what is shown ---------------------------------------------------------------------------


async def test_shows_a_public_case_in_plain_words_without_its_history(chat: FakeChat) -> None:
    await look_up(chat, "WAC2212345678")
    assert "Case WAC2212345678 (I-765)" in chat.text
    assert "Status: Case Was Approved" in chat.text
    assert "Good news: USCIS approved your case." in chat.text
    assert "Last update: October 28, 2026" in chat.text
    assert "What usually happens next:" in chat.text
    assert "History" not in chat.text
    assert chat.buttons == ["Get updates", "Check another case", "Back", "Menu"]


async def test_a_receipt_number_in_the_first_message_is_looked_up_without_asking(
    chat: FakeChat,
) -> None:
    await chat.send("what is the status of lin-239-000-1234?")
    assert ASK not in chat.text
    assert "Status: Request for Evidence Was Sent" in chat.text
    assert "before its deadline" in chat.text


async def test_an_unknown_receipt_number_from_the_first_message_is_explained(
    chat: FakeChat,
) -> None:
    await chat.send("check my case EAC9999999999")
    assert "We could not find a case with that receipt number" in chat.text
    assert ASK in chat.text


async def test_receipt_numbers_with_spaces_dashes_or_lower_case_are_accepted(
    chat: FakeChat,
) -> None:
    await to_question(chat)
    for typed in ("ioe-091 234 5678", "IOE 0912345678", "#ioe0912345678"):
        await chat.send(typed)
        assert "Case IOE0912345678 (I-765)" in chat.text
        assert "Status: Case Was Received" in chat.text


async def test_wrong_formats_are_explained_with_an_example(chat: FakeChat) -> None:
    await to_question(chat)
    for typed, reason in [
        ("A123456789", "That looks like an A-Number"),
        ("123456789012", "That looks like your USCIS online account number"),
        ("IOE12345", "missing digits: after IOE come 10 digits, and it has 5"),
        ("12345", "That is not a receipt number. It has 3 letters and 10 digits"),
        ("ABC1234567890", "does not start with a known code"),
    ]:
        await chat.send(typed)
        assert reason in chat.text, typed
        assert "like IOE0912345678" in chat.text
        assert "For example" not in chat.text  # not a second time after the reason
        if "1-800-375-5283" not in chat.text:  # the third try also offers a way out
            assert ASK not in chat.text  # told once, not the whole question again


async def test_three_wrong_formats_offer_help_and_the_contact_center(chat: FakeChat) -> None:
    await to_question(chat)
    for typed in ("A123456789", "IOE12345", "A12345678"):
        await chat.send(typed)
    assert "1-800-375-5283" in chat.text
    assert "Help" in chat.buttons


async def test_an_unknown_receipt_number_is_not_found_and_asked_again(chat: FakeChat) -> None:
    await look_up(chat, "EAC9999999999")
    assert "We could not find a case with that receipt number" in chat.text
    assert ASK in chat.text


async def test_another_receipt_number_can_be_typed_where_a_case_is_shown(chat: FakeChat) -> None:
    await look_up(chat, "WAC2212345678")
    await chat.send("MSC2091234567")
    assert "Status: Card Was Mailed To Me" in chat.text
    await chat.press("Check another case")
    assert ASK in chat.text
    assert "Card Was Mailed" not in chat.text


async def test_lookups_are_throttled_per_chat(
    chat: FakeChat, engine: Engine, clock: FakeClock
) -> None:
    await to_question(chat)
    for _ in range(LOOKUPS_PER_MINUTE):
        await chat.send("EAC9999999999")  # unknown ones count too
    await chat.send("WAC2212345678")
    assert "You have done that many times. Please wait 1 minute" in chat.text
    assert "Case Was Approved" not in chat.text
    other = FakeChat(engine, chat_id="chat-2")
    await look_up(other, "WAC2212345678")
    assert "Status: Case Was Approved" in other.text
    clock.advance(minutes=1)
    await chat.send("WAC2212345678")
    assert "Status: Case Was Approved" in chat.text


# --- the owner -------------------------------------------------------------------------------


async def test_the_owner_sees_the_dated_history_and_others_do_not(
    chat: FakeChat, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await look_up(chat, "IOE0912345679")
    assert "Status: Fingerprint Fee Was Received" in chat.text
    assert "History:" in chat.text
    assert "September 16, 2026: Fingerprint Fee Was Received" in chat.text
    assert "September 14, 2026: Case Was Received" in chat.text
    assert ("Book biometrics" in chat.buttons) == ("appointments" in all_dialogs())

    stranger = FakeChat(engine, chat_id="chat-2")
    await look_up(stranger, "IOE0912345679")
    assert "Status: Fingerprint Fee Was Received" in stranger.text
    assert "History" not in stranger.text
    assert "Book biometrics" not in stranger.buttons


class _Booking(enum.Enum):
    START = "start"


def _fake_appointments() -> Dialog[_Booking]:
    def prompt(ctx: Context) -> str:
        return f"Booking {ctx.data.get('kind')} for {ctx.data.get('case')}"

    return Dialog(
        name="appointments",
        states=_Booking,
        initial=_Booking.START,
        steps={_Booking.START: Step(prompt=prompt)},
    )


async def test_the_owner_of_a_case_ready_for_biometrics_can_go_and_book_them(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    dialogs = all_dialogs()
    dialogs["case_status"] = case_status_dialog({"appointments"})
    dialogs["appointments"] = _fake_appointments()
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    chat = FakeChat(Engine(services, dialogs))
    await sign_in_ana(uow_factory, chat)
    await look_up(chat, "IOE0912345678")  # only received: nothing to book yet
    assert "Book biometrics" not in chat.buttons
    await chat.send("IOE0912345679")
    await chat.press("Book biometrics")
    assert "Booking biometrics for IOE0912345679" in chat.text


# --- following a case ------------------------------------------------------------------------


async def test_anyone_can_get_updates_then_stop_them(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await look_up(chat, "LIN2390001234")
    await chat.press("Get updates")
    assert "I will send you a message here when the status of LIN2390001234 changes" in chat.text
    assert await followed(uow_factory, chat) == ["LIN2390001234"]
    assert "Stop updates" in chat.buttons
    assert "Get updates" not in chat.buttons
    await chat.press("Stop updates")
    assert "You will no longer get updates about LIN2390001234 here" in chat.text
    assert await followed(uow_factory, chat) == []
    assert "Get updates" in chat.buttons


async def test_a_button_from_an_old_message_has_expired(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await look_up(chat, "WAC2212345678")
    old = chat.button("Get updates").payload
    await chat.send("MSC2091234567")
    await chat.press_payload(old)
    assert "This menu has expired" in chat.text
    assert "Status: Card Was Mailed To Me" in chat.text
    assert await followed(uow_factory, chat) == []


# --- around the step -------------------------------------------------------------------------


async def test_back_and_menu_leave_the_flow_at_any_time(chat: FakeChat) -> None:
    await look_up(chat, "WAC2212345678")
    await chat.press("Back")
    assert "What else can I help with?" in chat.text
    await to_question(chat)
    await chat.send("menu")
    assert "What else can I help with?" in chat.text


async def test_changing_language_shows_the_case_again(chat: FakeChat) -> None:
    await look_up(chat, "WAC2212345678")
    await chat.send("language")
    await chat.press("Español")
    assert chat.turn.locale == "es"
    # The same step, shown again in Spanish.
    es = translator("es")
    assert es._("Status: {title}").format(title=es._("Case Was Approved")) in chat.text
    assert es._("Get updates") in chat.buttons
    assert "Get updates" not in chat.buttons


async def test_an_idle_conversation_starts_again(
    chat: FakeChat, clock: FakeClock, uow_factory: UnitOfWorkFactory
) -> None:
    await look_up(chat, "WAC2212345678")
    clock.advance(minutes=61)
    await chat.send("Get updates")
    assert "That conversation timed out" in chat.text
    assert "What else can I help with?" in chat.text
    assert await followed(uow_factory, chat) == []


async def test_a_restart_continues_at_the_same_step(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    await look_up(chat, "WAC2212345678")
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    restarted = FakeChat(Engine(services, all_dialogs()), chat_id=chat.chat_id)
    await restarted.send("Get updates")
    assert "when the status of WAC2212345678 changes" in restarted.text
    assert await followed(uow_factory, chat) == ["WAC2212345678"]
    stack = await stored_stack(uow_factory, chat)
    assert stack[-1]["d"] == "case_status"
