"""Contact points: a US mobile number or an email, confirmed by a code sent through the
outbox (double opt-in), hearing of status changes, and unsubscribed by their link."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from core.cases import service as cases
from core.cases.receipt import ReceiptNumber
from core.cases.repository import find_case
from core.contacts.models import ContactCode, ContactPoint
from core.contacts.phone import parse_us_mobile, zone_of_number
from core.contacts.service import (
    CODE_EMAIL,
    CODE_SMS,
    CODES_PER_HOUR,
    Choice,
    account_recipients,
    confirm_contact,
    contacts_of_account,
    request_contact,
    set_wants,
    unsubscribe,
    unsubscribe_token,
)
from core.errors import (
    CodeExpired,
    CodeReused,
    InvalidCode,
    InvalidEmail,
    InvalidPhoneNumber,
    RateLimited,
    TooManyAttempts,
    UnsubscribeLinkInvalid,
)
from core.outbox.models import OutboxMessage
from core.outbox.service import pending_notifications
from core.uow import UnitOfWorkFactory
from tests.fakes import FakeClock

pytestmark = pytest.mark.usefixtures("demo")

APPROVED = "WAC2212345678"  # a public demo case
OWNED = "IOE0912345678"  # the demo account's


@pytest.mark.parametrize(
    ("typed", "e164"),
    [
        ("(202) 555-0123", "+12025550123"),
        ("202.555.0123", "+12025550123"),
        ("+1 415 555 2671", "+14155552671"),
        ("1-202-555-0199", "+12025550199"),
    ],
)
def test_us_numbers_are_kept_in_e164(typed: str, e164: str) -> None:
    assert parse_us_mobile(typed) == e164


def test_a_numbers_area_code_gives_a_default_time_zone() -> None:
    assert zone_of_number("+12025550123") == "America/New_York"
    assert zone_of_number("+16025550123") == "America/Phoenix"
    assert zone_of_number("+18085550123") == "Pacific/Honolulu"
    assert zone_of_number("not a number") is None


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("12345", "not_a_number"),
        ("call me", "not_a_number"),
        ("+44 20 7946 0958", "not_us"),
        ("+1 787 555 0123", "not_us"),  # Puerto Rico: another region of the plan
        ("1 800 555 0123", "not_mobile"),  # toll-free
        ("900 555 1234", "not_mobile"),  # premium rate
        ("9" * 60, "not_a_number"),
    ],
)
def test_numbers_that_cannot_get_texts_are_refused_with_a_reason(typed: str, reason: str) -> None:
    with pytest.raises(InvalidPhoneNumber) as refused:
        parse_us_mobile(typed)
    assert refused.value.reason == reason


async def _code_of(uow_factory: UnitOfWorkFactory, kind: str) -> str:
    async with uow_factory() as uow:
        rows = [m for m in await pending_notifications(uow) if m.kind == kind]
    return str(rows[-1].payload["code"])


async def test_a_number_is_confirmed_by_a_code_sent_as_an_sms_row(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        await request_contact(uow, "sms", "(202) 555-0123", locale="es")
        await uow.commit()
    async with uow_factory() as uow:
        [row] = await pending_notifications(uow)
    assert (row.kind, row.channel, row.address) == (CODE_SMS, "sms", "+12025550123")
    assert row.payload["locale"] == "es"
    assert len(row.payload["code"]) == 6
    async with uow_factory() as uow:
        contact = await confirm_contact(
            uow,
            "sms",
            "(202) 555-0123",
            row.payload["code"],
            Choice(locale="es", receipt_number=APPROVED),
        )
        assert contact.active
        assert contact.address == "+12025550123"
        await uow.commit()


async def test_a_bad_address_writes_nothing(uow_factory: UnitOfWorkFactory) -> None:
    async with uow_factory() as uow:
        with pytest.raises(InvalidEmail):
            await request_contact(uow, "email", "not an email", locale="en")
        with pytest.raises(InvalidPhoneNumber):
            await request_contact(uow, "sms", "1 800 555 0123", locale="en")
        assert await pending_notifications(uow) == []


async def test_codes_follow_the_sign_in_code_rules(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        await request_contact(uow, "email", "sam@example.com", locale="en")
        await uow.commit()
    code = await _code_of(uow_factory, CODE_EMAIL)
    async with uow_factory() as uow:  # again at once: too soon
        with pytest.raises(RateLimited):
            await request_contact(uow, "email", "sam@example.com", locale="en")
    wrong = "000000" if code != "000000" else "111111"
    for left in (4, 3, 2, 1, 0):
        async with uow_factory() as uow:
            with pytest.raises(InvalidCode) as refused:
                await confirm_contact(uow, "email", "sam@example.com", wrong, Choice(locale="en"))
            await uow.commit()  # the engine commits a refused turn: the try counts
        assert refused.value.attempts_left == left
    async with uow_factory() as uow:
        with pytest.raises(TooManyAttempts):
            await confirm_contact(uow, "email", "sam@example.com", code, Choice(locale="en"))
    # A new code, after the cooldown; it expires after 10 minutes.
    clock.advance(seconds=61)
    async with uow_factory() as uow:
        await request_contact(uow, "email", "sam@example.com", locale="en")
        await uow.commit()
    code = await _code_of(uow_factory, CODE_EMAIL)
    clock.advance(timedelta(minutes=10))
    async with uow_factory() as uow:
        with pytest.raises(CodeExpired):
            await confirm_contact(uow, "email", "sam@example.com", code, Choice(locale="en"))
    clock.advance(seconds=61)
    async with uow_factory() as uow:
        await request_contact(uow, "email", "sam@example.com", locale="en")
        await uow.commit()
    code = await _code_of(uow_factory, CODE_EMAIL)
    async with uow_factory() as uow:
        await confirm_contact(uow, "email", "sam@example.com", code, Choice(locale="en"))
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(CodeReused):
            await confirm_contact(uow, "email", "sam@example.com", code, Choice(locale="en"))
        stored = list(await uow.session.scalars(select(ContactCode.code_hash)))
    assert all(code not in h for h in stored)  # kept hashed


async def _confirmed(
    uow_factory: UnitOfWorkFactory, channel: str, address: str, choice: Choice
) -> int:
    async with uow_factory() as uow:
        contact_id = await request_contact(uow, channel, address, locale=choice.locale)
        await uow.commit()
    code = await _code_of(uow_factory, CODE_EMAIL if channel == "email" else CODE_SMS)
    async with uow_factory() as uow:
        await confirm_contact(uow, channel, address, code, choice)
        await uow.commit()
    return contact_id


async def test_a_status_change_queues_a_row_per_confirmed_contact_point(
    uow_factory: UnitOfWorkFactory,
) -> None:
    await _confirmed(uow_factory, "email", "sam@example.com", Choice("fr", receipt_number=APPROVED))
    await _confirmed(
        uow_factory, "sms", "2025550123", Choice("vi", "America/Chicago", receipt_number=APPROVED)
    )
    async with uow_factory() as uow:  # asked for a code, never confirmed: gets nothing
        await request_contact(uow, "email", "lee@example.com", locale="en")
        await uow.commit()
    async with uow_factory() as uow:
        await cases.update_status(uow, APPROVED, "Card Was Mailed To Me")
        await uow.commit()
    async with uow_factory() as uow:
        rows = [m for m in await pending_notifications(uow) if m.kind == cases.STATUS_CHANGED]
    by_channel = {(m.channel, m.address): m.payload for m in rows}
    assert set(by_channel) == {("email", "sam@example.com"), ("sms", "+12025550123")}
    assert by_channel[("email", "sam@example.com")]["locale"] == "fr"
    assert by_channel[("sms", "+12025550123")]["time_zone"] == "America/Chicago"  # chosen
    assert by_channel[("email", "sam@example.com")]["time_zone"] is None
    assert by_channel[("sms", "+12025550123")]["receipt_number"] == APPROVED


async def test_an_accounts_contact_points_hear_of_its_own_cases_as_they_chose(
    uow_factory: UnitOfWorkFactory,
) -> None:
    async with uow_factory() as uow:
        case = await find_case(uow, ReceiptNumber.parse(OWNED))
        assert case is not None
        owner = case.owner_id
    assert owner is not None
    contact_id = await _confirmed(
        uow_factory, "email", "ana.updates@example.com", Choice("en", account_id=owner)
    )
    async with uow_factory() as uow:
        [contact] = await contacts_of_account(uow, owner)
        assert contact.id == contact_id
        assert await set_wants(uow, owner, contact_id, "status", False) is not None
        assert await set_wants(uow, owner + 1, contact_id, "status", True) is None  # not theirs
        assert await set_wants(uow, owner, contact_id, "agent_replies", False) is not None
        assert [c.id for c in await account_recipients(uow, owner, "appointments")] == [contact_id]
        assert await account_recipients(uow, owner, "agent_replies") == []
        await cases.update_status(uow, OWNED, "Case Was Approved")
        await uow.commit()
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.channel == "email")
        )
        assert [m.kind for m in rows] == [CODE_EMAIL]  # status changes are off


async def test_the_unsubscribe_link_turns_updates_off_once_and_forgeries_change_nothing(
    uow_factory: UnitOfWorkFactory,
) -> None:
    contact_id = await _confirmed(
        uow_factory, "email", "sam@example.com", Choice("en", receipt_number=APPROVED)
    )
    async with uow_factory() as uow:
        contact = await uow.session.get(ContactPoint, contact_id)
        assert contact is not None
        token = unsubscribe_token(uow, contact)
        assert token is not None
        assert len(token) >= 40
        assert contact.token_hash is not None
        assert token not in (contact.token_sealed or "")
    async with uow_factory() as uow:
        with pytest.raises(UnsubscribeLinkInvalid) as forged:
            await unsubscribe(uow, token[:-2] + "xx")
        assert forged.value.reason == "unknown"
        await unsubscribe(uow, token)
        await uow.commit()
    async with uow_factory() as uow:
        with pytest.raises(UnsubscribeLinkInvalid) as reused:
            await unsubscribe(uow, token)
        assert reused.value.reason == "used"
        await cases.update_status(uow, APPROVED, "Card Was Mailed To Me")
        await uow.commit()
        rows = await uow.session.scalars(
            select(OutboxMessage).where(OutboxMessage.kind == cases.STATUS_CHANGED)
        )
        assert [m.channel for m in rows] == []


async def test_one_chat_may_have_only_a_few_codes_sent_an_hour(
    uow_factory: UnitOfWorkFactory, clock: FakeClock
) -> None:
    async with uow_factory() as uow:
        for n in range(CODES_PER_HOUR):
            await request_contact(uow, "email", f"p{n}@example.com", locale="en", requester="w:1")
        with pytest.raises(RateLimited) as refused:
            await request_contact(
                uow, "email", "one.more@example.com", locale="en", requester="w:1"
            )
        assert refused.value.retry_after_seconds > 60
        # Another chat is not held back by this one.
        await request_contact(uow, "email", "one.more@example.com", locale="en", requester="w:2")
        await uow.commit()
    clock.advance(timedelta(hours=1))
    async with uow_factory() as uow:
        await request_contact(uow, "email", "later@example.com", locale="en", requester="w:1")
