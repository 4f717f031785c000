"""Authorization through the real engine: a chat signed in as one account never sees or changes
another account's cases, appointments or subscriptions, whatever it types and whichever button
payload it forges; a representative sees only the clients who granted them access.

A button payload is only a string the client sends back (``<prompt number>:<value>``): these
tests forge them with the current prompt number (so the engine does not refuse them as
expired), with other accounts' receipt numbers and confirmation codes, with values of other
flows, and as link payloads (``go:book:...``). After each attack the stored appointments,
subscriptions, case owners and chat links are compared with what they were.

Already proven elsewhere (not repeated here): a case in another account is refused by the
access code without saying whose (tests/integration/test_cases.py and
tests/conversation/test_my_cases.py), the core's owner-only detail
(test_nobody_else_sees_the_detail), expired buttons (test_an_old_button_has_expired).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.engine import Engine
from core.accounts.links import link_chat
from core.accounts.models import Account, AccountKind, ChannelLink, RepresentativeGrant
from core.appointments import book_appointment, get_office
from core.appointments.models import Appointment
from core.cases.models import Case, Subscription
from core.cases.service import create_case
from core.cases.subscriptions import subscribe
from core.demo import DEMO_EMAIL
from core.uow import UnitOfWorkFactory
from tests.chat import FakeChat
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

ANA_READY = "IOE0912345679"  # Ana's, Fingerprint Fee Was Received (biometrics bookable)
ANA_OTHER = "IOE0912345678"  # Ana's, Case Was Received
BOB_CASE = "EAC2290012345"  # Bob's, Fingerprint Fee Was Received
PUBLIC = "WAC2212345678"
PHX_0730_WED = datetime(2026, 3, 4, 14, 30, tzinfo=UTC)


async def new_account(uow_factory: UnitOfWorkFactory, email: str, kind: AccountKind) -> int:
    async with uow_factory() as uow:
        account = Account(email=email, password_hash="x", kind=kind, email_verified=True)
        uow.session.add(account)
        await uow.flush()
        await uow.commit()
        return account.id


async def account_id(uow_factory: UnitOfWorkFactory, email: str) -> int:
    async with uow_factory() as uow:
        found = await uow.session.scalar(select(Account.id).where(Account.email == email))
    assert found is not None
    return found


async def book(uow_factory: UnitOfWorkFactory, owner: int, receipt: str) -> str:
    async with uow_factory() as uow:
        case_id = await uow.session.scalar(select(Case.id).where(Case.receipt_number == receipt))
        office = await get_office(uow, "PHX")
        appointment = await book_appointment(
            uow,
            account_id=owner,
            office_id=office.id,
            starts_at=PHX_0730_WED,
            kind="biometrics",
            case_id=case_id,
        )
        await uow.commit()
        return appointment.confirmation_code


class World:
    """Ana (the demo account) with a booked appointment and a followed case, Bob with a case of
    his own, and Rita, a representative whom Ana (not Bob) granted access."""

    def __init__(self, engine: Engine, uow_factory: UnitOfWorkFactory) -> None:
        self.engine = engine
        self.uow_factory = uow_factory
        self.ana = self.bob = self.rita = 0
        self.ana_code = ""

    async def build(self) -> World:
        self.ana = await account_id(self.uow_factory, DEMO_EMAIL)
        self.bob = await new_account(self.uow_factory, "bob@example.com", AccountKind.APPLICANT)
        self.rita = await new_account(
            self.uow_factory, "rita@example.com", AccountKind.REPRESENTATIVE
        )
        async with self.uow_factory() as uow:
            await create_case(
                uow,
                receipt_number=BOB_CASE,
                form_type="I-485",
                status="fingerprint_fee_received",
                owner_id=self.bob,
            )
            uow.session.add(RepresentativeGrant(representative_id=self.rita, client_id=self.ana))
            await link_chat(uow, self.ana, "test", "ana-chat")
            await subscribe(uow, PUBLIC, channel="test", chat_id="ana-chat")
            await subscribe(uow, ANA_READY, channel="test", chat_id="ana-chat")
            await uow.commit()
        self.ana_code = await book(self.uow_factory, self.ana, ANA_READY)
        return self

    async def chat_as(self, account: int | None, chat_id: str) -> FakeChat:
        if account is not None:
            async with self.uow_factory() as uow:
                await link_chat(uow, account, "test", chat_id)
                await uow.commit()
        return FakeChat(self.engine, chat_id=chat_id)

    async def snapshot(self) -> dict[str, Any]:
        """What an attack must not change."""
        async with self.uow_factory() as uow:
            appointments = (
                await uow.session.execute(
                    select(
                        Appointment.confirmation_code,
                        Appointment.account_id,
                        Appointment.case_id,
                        Appointment.status,
                        Appointment.starts_at,
                        Appointment.office_id,
                    ).order_by(Appointment.id)
                )
            ).all()
            subscriptions = (
                await uow.session.execute(
                    select(Subscription.case_id, Subscription.channel, Subscription.chat_id)
                )
            ).all()
            owners = (await uow.session.execute(select(Case.receipt_number, Case.owner_id))).all()
            links = (
                await uow.session.execute(
                    select(ChannelLink.channel, ChannelLink.chat_id, ChannelLink.account_id)
                )
            ).all()
        return {
            "appointments": [tuple(row) for row in appointments],
            "subscriptions": sorted(tuple(row) for row in subscriptions),
            "owners": sorted(tuple(row) for row in owners),
            "links": sorted(tuple(row) for row in links),
        }


@pytest.fixture
async def world(engine: Engine, uow_factory: UnitOfWorkFactory) -> World:
    return await World(engine, uow_factory).build()


def forge(chat: FakeChat, value: str) -> str:
    """A payload for ``value`` with the chat's current prompt number (not expired)."""
    for reply in reversed(chat.turn.replies):
        for button in reply.buttons:
            return f"{button.payload.partition(':')[0]}:{value}"
    raise AssertionError("the last turn had no buttons to take the prompt number from")


def shows_nothing_of_ana(chat: FakeChat, world: World) -> None:
    text = chat.text
    for secret in (ANA_READY, ANA_OTHER, world.ana_code, DEMO_EMAIL, "History:"):
        assert secret not in text, f"{secret!r} shown to another account: {text!r}"
    assert "went wrong" not in text


# --- cases -----------------------------------------------------------------------------------


async def test_a_forged_case_button_never_opens_another_accounts_case(world: World) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    before = await world.snapshot()
    await chat.send("hi")
    await chat.press("My cases")
    assert any(BOB_CASE in label for label in chat.buttons)
    for receipt in (ANA_READY, ANA_OTHER):
        await chat.press_payload(forge(chat, f"c:{receipt}"))
        shows_nothing_of_ana(chat, world)
        # A case action forged on top of the refusal acts on nothing of Ana's either.
        for action in ("sub", "unsub", "book"):
            await chat.press_payload(forge(chat, action))
            shows_nothing_of_ana(chat, world)
    assert await world.snapshot() == before


async def test_a_public_lookup_of_another_accounts_case_has_no_history_and_no_booking(
    world: World,
) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    await chat.send(ANA_READY)
    assert "Fingerprint Fee Was Received" in chat.text  # the public status: anyone may see it
    assert "History:" not in chat.text
    assert "Book biometrics" not in chat.buttons
    before = await world.snapshot()
    await chat.press_payload(forge(chat, "book"))
    assert "History:" not in chat.text
    assert await world.snapshot() == before


async def test_stopping_updates_stops_only_this_chats_updates(world: World) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    await chat.send(PUBLIC)
    await chat.press("Get updates")
    await chat.press("Stop updates")
    await chat.press_payload(forge(chat, "unsub"))
    async with world.uow_factory() as uow:
        followers = (
            await uow.session.scalars(
                select(Subscription.chat_id)
                .join(Case, Case.id == Subscription.case_id)
                .where(Case.receipt_number == PUBLIC)
            )
        ).all()
    assert list(followers) == ["ana-chat"]


# --- appointments ----------------------------------------------------------------------------


async def test_forged_appointment_buttons_cannot_cancel_or_move_another_accounts_one(
    world: World,
) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    before = await world.snapshot()
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("My appointments")
    assert "You have no upcoming appointments" in chat.text
    for value in (f"c:{world.ana_code}", f"r:{world.ana_code}", f"c:{world.ana_code.lower()}"):
        await chat.press_payload(forge(chat, value))
        assert "We could not find that appointment" in chat.text
        shows_nothing_of_ana(chat, world)
        await chat.press_payload(forge(chat, "yes"))  # the cancel confirmation, forged
        shows_nothing_of_ana(chat, world)
    assert await world.snapshot() == before


async def test_another_accounts_case_cannot_be_booked_by_typing_or_by_a_forged_link(
    world: World,
) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    before = await world.snapshot()
    await chat.send("hi")
    await chat.press("Appointments")
    await chat.press("Book an appointment")
    await chat.press("Biometrics (fingerprints and photo)")
    await chat.send(ANA_READY)
    shows_nothing_of_ana(chat, world)
    await chat.press_payload(f"go:book:biometrics:{ANA_READY}")
    shows_nothing_of_ana(chat, world)
    assert "Phoenix" not in chat.text  # never on to the office question for Ana's case
    assert await world.snapshot() == before


async def test_a_link_in_a_chat_not_signed_in_asks_for_the_sign_in_first(world: World) -> None:
    chat = await world.chat_as(None, "stranger-chat")
    before = await world.snapshot()
    await chat.press_payload(f"go:book:biometrics:{ANA_READY}")
    assert "please sign in first" in chat.text
    assert "email address" in chat.text
    shows_nothing_of_ana(chat, world)
    assert await world.snapshot() == before


@pytest.mark.parametrize(
    "value",
    [
        "c:IOE0912345679",
        "r:{code}",
        "c:{code}",
        "sub",
        "unsub",
        "book",
        "yes",
        "my_cases|IOE0912345679",
        "appointments|IOE0912345679",
        "sign_out",
        "g:switch",
        "g:setlang:../../etc",
        "",
        "x" * 500,
    ],
)
async def test_payloads_of_other_flows_do_nothing_at_the_menu(world: World, value: str) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    before = await world.snapshot()
    await chat.send("hi")
    await chat.press_payload(forge(chat, value.format(code=world.ana_code)))
    assert chat.replies  # always an answer
    shows_nothing_of_ana(chat, world)
    after = await world.snapshot()
    if value == "sign_out":  # Bob may sign his own chat out, and only that
        before["links"].remove(("test", "bob-chat", world.bob))
    assert after == before


async def test_a_stale_payload_has_expired_whatever_it_carries(world: World) -> None:
    chat = await world.chat_as(world.bob, "bob-chat")
    await chat.send("hi")
    stale = forge(chat, f"c:{world.ana_code}")
    await chat.send("hi")
    before = await world.snapshot()
    await chat.press_payload(stale)
    assert "This menu has expired" in chat.text
    await chat.press_payload(f"999999:c:{ANA_READY}")
    assert "This menu has expired" in chat.text
    shows_nothing_of_ana(chat, world)
    assert await world.snapshot() == before


# --- a representative --------------------------------------------------------------------------


async def test_a_representative_sees_the_granted_client_and_nobody_else(world: World) -> None:
    chat = await world.chat_as(world.rita, "rita-chat")
    await chat.send("hi")
    await chat.press("My cases")
    labels = " ".join(chat.buttons)
    assert ANA_READY in labels
    assert ANA_OTHER in labels
    assert BOB_CASE not in labels
    assert "bob@example.com" not in labels
    before = await world.snapshot()
    await chat.press_payload(forge(chat, f"c:{BOB_CASE}"))
    assert "not in your account" in chat.text
    assert "History:" not in chat.text
    await chat.send("menu")
    await chat.press("Appointments")
    await chat.press("Book an appointment")
    await chat.press("Biometrics (fingerprints and photo)")
    assert BOB_CASE not in " ".join(chat.buttons)
    await chat.send(BOB_CASE)
    assert "Phoenix" not in chat.text
    assert "History:" not in chat.text
    assert await world.snapshot() == before


async def test_a_representative_loses_the_client_when_the_grant_is_revoked(
    world: World,
) -> None:
    chat = await world.chat_as(world.rita, "rita-chat")
    await chat.send("hi")
    await chat.press("My cases")
    await chat.press_payload(forge(chat, f"c:{ANA_READY}"))
    assert "History:" in chat.text
    async with world.uow_factory() as uow:
        grant = await uow.session.get(RepresentativeGrant, (world.rita, world.ana))
        assert grant is not None
        await uow.session.delete(grant)
        await uow.commit()
    await chat.send("help")  # the same step shown again: it looks the case up anew
    assert "History:" not in chat.text
    assert "not in your account" in chat.text


# --- a case shown before the chat was signed out ----------------------------------------------


async def test_a_case_shown_while_signed_in_is_not_shown_again_after_the_sign_out(
    world: World, clock: FakeClock
) -> None:
    chat = FakeChat(world.engine, chat_id="ana-chat", channel="test")
    await chat.send(ANA_READY)
    assert "History:" in chat.text  # Ana's own case, with its history
    clock.advance(minutes=16)  # a signed-in web or terminal chat is signed out after 15
    await chat.send("help")
    assert "You were signed out" in chat.text
    assert "Fingerprint Fee Was Received" in chat.text  # the public status is anyone's
    assert "History:" not in chat.text
    assert "Book biometrics" not in chat.buttons
