"""The cases of a signed-in account: the list, a case with its history, following it, adding
a paper-filed case with its Online Access Code (and every refusal), a representative's clients,
and signing in first when needed."""

from __future__ import annotations

import enum

import pytest
from sqlalchemy import select

from bot.dialogs.base import Dialog, End, Step, Transition
from bot.dialogs.cases.my_cases import my_cases_dialog
from bot.dialogs.context import Context, Services
from bot.dialogs.registry import all_dialogs
from bot.engine import Engine
from bot.wording.i18n import translator
from core.accounts.links import link_chat
from core.accounts.models import Account, AccountKind, RepresentativeGrant
from core.cases.models import AccessCodeFailures, Case, Subscription
from core.demo import DEMO_ACCESS_CODE, DEMO_EMAIL
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.conversation.test_case_status import followed, sign_in_ana, stored_stack
from tests.fakes import FakeClock, FakeMailer

pytestmark = pytest.mark.usefixtures("demo")

PAPER = "EAC2190012345"
WRONG_CODE = "ZZ12ZZ34ZZ56"
FIRST = "IOE0912345678 · I-765 · Case Was Received"
SECOND = "IOE0912345679 · I-485 · Fingerprint Fee Was Received"


async def to_list(chat: FakeChat) -> None:
    await chat.send("hi")
    await chat.press("My cases")


async def to_code(chat: FakeChat, receipt: str = PAPER) -> None:
    await to_list(chat)
    await chat.press("Add a paper-filed case")
    assert "receipt number of the case you filed on paper" in chat.text
    await chat.send(receipt)


async def paper_case(uow_factory: UnitOfWorkFactory) -> Case:
    async with uow_factory() as uow:
        case = await uow.session.scalar(select(Case).where(Case.receipt_number == PAPER))
        assert case is not None
        return case


async def wrong_codes(uow_factory: UnitOfWorkFactory) -> int:
    """Every account's wrong access codes for the paper case, added up."""
    async with uow_factory() as uow:
        counts = await uow.session.scalars(
            select(AccessCodeFailures.failures)
            .join(Case, Case.id == AccessCodeFailures.case_id)
            .where(Case.receipt_number == PAPER)
        )
        return sum(counts)


async def new_account(
    uow_factory: UnitOfWorkFactory, email: str, kind: AccountKind = AccountKind.APPLICANT
) -> int:
    async with uow_factory() as uow:
        account = Account(email=email, password_hash="x", kind=kind, email_verified=True)
        uow.session.add(account)
        await uow.flush()
        await uow.commit()
        return account.id


async def sign_in(uow_factory: UnitOfWorkFactory, chat: FakeChat, account_id: int) -> None:
    async with uow_factory() as uow:
        await link_chat(uow, account_id, chat.channel, chat.chat_id)
        await uow.commit()


# --- the list and one case -------------------------------------------------------------------


async def test_lists_the_cases_of_the_account_as_buttons(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_list(chat)
    assert "Here are the cases in your account" in chat.text
    assert chat.buttons[:3] == [FIRST, SECOND, "Add a paper-filed case"]


async def test_a_case_shows_its_dated_history_and_can_be_followed(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_list(chat)
    await chat.press(SECOND)
    assert "Case IOE0912345679 (I-485)" in chat.text
    assert "September 16, 2026: Fingerprint Fee Was Received" in chat.text
    assert "September 14, 2026: Case Was Received" in chat.text
    await chat.press("Get updates")
    assert await followed(uow_factory, chat) == ["IOE0912345679"]
    await chat.press("Stop updates")
    assert "You will no longer get updates about IOE0912345679 here" in chat.text
    assert "you still get news of your own cases" in chat.text
    assert await followed(uow_factory, chat) == []
    await chat.press("Back")
    assert FIRST in chat.buttons


async def test_a_representative_also_sees_the_cases_of_their_clients(
    engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    lawyer = await new_account(uow_factory, "lawyer@example.com", AccountKind.REPRESENTATIVE)
    async with uow_factory() as uow:
        ana = await uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert ana is not None
        uow.session.add(RepresentativeGrant(representative_id=lawyer, client_id=ana))
        await uow.commit()
    chat = FakeChat(engine, chat_id="lawyer-chat")
    await sign_in(uow_factory, chat, lawyer)
    await to_list(chat)
    assert "There are no cases in your account yet" in chat.text
    assert f"{DEMO_EMAIL}: {SECOND}" in chat.buttons
    await chat.press(f"{DEMO_EMAIL}: {SECOND}")
    assert "History:" in chat.text
    await chat.press("Get updates")
    await chat.press("Stop updates")
    # The representative's chat is not the owner's: no "you still get news" promise.
    assert "still get news" not in chat.text


async def test_a_button_from_an_old_list_has_expired(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_list(chat)
    old = chat.button(FIRST).payload
    await chat.press(SECOND)
    await chat.press_payload(old)
    assert "This menu has expired" in chat.text
    assert "Case IOE0912345679" in chat.text


async def test_changing_language_shows_the_case_again(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_list(chat)
    await chat.press(FIRST)
    await chat.send("language")
    await chat.press("Español")
    assert chat.turn.locale == "es"
    case = translator("es")._("Case {receipt} ({form})")
    assert case.format(receipt="IOE0912345678", form="I-765") in chat.text
    assert "Case IOE0912345678 (I-765)" not in chat.text


# --- signing in first ------------------------------------------------------------------------


class _SignIn(enum.Enum):
    ASK = "ask"


def _fake_sign_in() -> Dialog[_SignIn]:
    """Signs the chat in as Ana when told "ok", and ends as the real flow does."""

    async def handle(ctx: Context, value: str) -> Transition:
        ana = await ctx.uow.session.scalar(select(Account.id).where(Account.email == DEMO_EMAIL))
        assert ana is not None
        await link_chat(ctx.uow, ana, ctx.channel, ctx.chat_id)
        ctx.forget_account()
        return End(result={"account_id": ana})

    return Dialog(
        name="link_account",
        states=_SignIn,
        initial=_SignIn.ASK,
        steps={
            _SignIn.ASK: Step(
                prompt=lambda ctx: "Fake sign-in", parse=lambda ctx, text: text, handle=handle
            )
        },
    )


async def test_a_chat_not_signed_in_signs_in_first_and_comes_back_to_the_list(
    uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    dialogs = all_dialogs()
    dialogs["my_cases"] = my_cases_dialog({"link_account"})
    dialogs["link_account"] = _fake_sign_in()
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    chat = FakeChat(Engine(services, dialogs))
    await to_list(chat)
    assert "please sign in to your USCIS account first" in chat.text
    assert "Fake sign-in" in chat.text
    await chat.send("ok")
    assert "Here are the cases in your account" in chat.text
    assert FIRST in chat.buttons


async def test_the_real_sign_in_flow_is_started_when_it_is_registered(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    if "link_account" not in all_dialogs():
        pytest.skip("the link_account flow is not registered yet")
    await to_list(chat)
    stack = await stored_stack(uow_factory, chat)
    assert [frame["d"] for frame in stack] == ["menu", "my_cases", "link_account"]
    assert stack[1].get("then") == "list"


async def test_an_idle_account_flow_expires_sooner_and_signs_the_chat_out(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_list(chat)
    clock.advance(minutes=61)
    await chat.press(FIRST)
    assert "That conversation timed out" in chat.text
    assert "signed out" in chat.text


# --- adding a paper-filed case ---------------------------------------------------------------


async def test_a_paper_case_is_added_with_its_access_code_after_a_wrong_one(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    ana = await sign_in_ana(uow_factory, chat)
    await to_code(chat, "eac-219-001-2345")
    assert "Online Access Code of case EAC2190012345" in chat.text
    assert chat.asks_secret
    await chat.send(WRONG_CODE)
    assert chat.turn.input_was_secret
    assert "That code is not right. You have 4 more tries." in chat.text
    assert await wrong_codes(uow_factory) == 1  # the failure was kept
    await chat.send(DEMO_ACCESS_CODE.lower())
    assert "Done: case EAC2190012345 (I-130) is now in your account." in chat.text
    assert "EAC2190012345 · I-130 · Case Was Received" in chat.buttons
    case = await paper_case(uow_factory)
    assert case.owner_id == ana
    assert case.access_code_used_at is not None
    await chat.press("Back")  # a fresh list: back leaves, it never asks for the code again
    assert "What else can I help with?" in chat.text


async def test_a_used_access_code_is_refused_and_may_have_been_used_by_a_representative(
    chat: FakeChat, engine: Engine, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat)
    await chat.send(DEMO_ACCESS_CODE)
    ben = await new_account(uow_factory, "ben@example.com")
    other = FakeChat(engine, chat_id="ben-chat")
    await sign_in(uow_factory, other, ben)
    await to_code(other)
    await other.send(DEMO_ACCESS_CODE)
    assert "This Online Access Code was already used, maybe by your attorney" in other.text
    assert "Add a paper-filed case" in other.buttons
    assert (await paper_case(uow_factory)).owner_id != ben


async def test_a_case_already_in_the_account_is_said_so(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat, "IOE0912345678")
    assert "This case is already in your account." in chat.text
    assert "Case IOE0912345678 (I-765)" in chat.text


async def test_an_unknown_receipt_number_is_refused_before_the_code(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat, "EAC9999999999")
    assert "We could not find a case with that receipt number" in chat.text
    assert "receipt number of the case you filed on paper" in chat.text
    assert not chat.asks_secret


async def test_too_many_wrong_codes_lock_the_case_for_this_account_for_an_hour(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat)
    for left in (4, 3, 2, 1):
        await chat.send(WRONG_CODE)
        assert f"You have {left} more tr" in chat.text
    await chat.send(WRONG_CODE)
    assert "there are no more tries for now" in chat.text
    assert "1-800-375-5283" in chat.text
    assert not chat.asks_secret
    await chat.press("Add a paper-filed case")
    await chat.send(PAPER)
    await chat.send(DEMO_ACCESS_CODE)  # even the right code: the case is locked for this account
    assert "This case is locked for you after too many wrong codes" in chat.text
    assert "try again in 60 minutes" in chat.text
    assert "1-800-375-5283" in chat.text
    assert (await paper_case(uow_factory)).owner_id is None
    clock.advance(minutes=61)
    await chat.send("menu")  # the idle chat was signed out meanwhile
    await sign_in_ana(uow_factory, chat)
    await to_code(chat)
    await chat.send(DEMO_ACCESS_CODE)
    assert "Done: case EAC2190012345 (I-130) is now in your account." in chat.text


async def test_a_wrongly_shaped_code_is_explained_and_costs_no_try(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat)
    await chat.send(PAPER)
    assert "That is a receipt number. Now I need the Online Access Code" in chat.text
    await chat.send("1234")
    assert "An Online Access Code has 12 letters and numbers" in chat.text
    assert chat.asks_secret
    assert await wrong_codes(uow_factory) == 0


async def test_back_and_menu_work_at_the_code_step(
    chat: FakeChat, uow_factory: UnitOfWorkFactory
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat)
    await chat.press("Back")
    assert "receipt number of the case you filed on paper" in chat.text
    await chat.send(PAPER)
    await chat.send("menu")
    assert "What else can I help with?" in chat.text


async def test_a_restart_in_the_middle_continues_at_the_code_step(
    chat: FakeChat, uow_factory: UnitOfWorkFactory, mailer: FakeMailer, clock: FakeClock
) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_code(chat)
    services = Services(uow_factory=uow_factory, mailer=mailer, clock=clock)
    restarted = FakeChat(Engine(services, all_dialogs()), chat_id=chat.chat_id)
    await restarted.send(DEMO_ACCESS_CODE)
    assert "Done: case EAC2190012345 (I-130) is now in your account." in restarted.text


async def test_following_is_kept_per_chat(chat: FakeChat, uow_factory: UnitOfWorkFactory) -> None:
    await sign_in_ana(uow_factory, chat)
    await to_list(chat)
    await chat.press(FIRST)
    await chat.press("Get updates")
    async with uow_factory() as uow:
        rows = list(await uow.session.scalars(select(Subscription)))
    assert [(row.channel, row.chat_id) for row in rows] == [(chat.channel, chat.chat_id)]
